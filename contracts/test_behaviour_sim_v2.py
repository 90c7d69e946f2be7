"""Behaviour of sim-v2: SIMs by IMSI or MSISDN, and Connectors, as a state machine over HTTP, one check per concern.

The model holds, for every SIM of the first account's inventory, whether it is provisioned, its MSISDN and
its four services, and the same for the second account's SIMs (read as that account), all learned through
the API. Each concern is its own check (a failure in one never stops another), with an unchecked rule that
provisions and deprovisions SIMs so every concern meets both states:

- lifecycle: R8 (create of a provisioned SIM 409 `imsi_conflict`, delete then not found, create again, with
  no MSISDN left over), R9 (an omitted update field keeps its stored value), R16 (create defaults from the
  spec; `data` off with `data_throttling` on is 409 after R9), read back after every write, JSON and form;
- identifiers: R14, R15 (every operation by IMSI path and by MSISDN path names the same SIM; MSISDNs are
  globally unique, against the second account's SIMs too: 409 `msisdn_conflict`, or 403 `imsi_forbidden`
  for a path MSISDN of another account's SIM; released by delete and by update; the path and body must
  agree on the IMSI and the MSISDN, 400 before any state error; a path that is neither is 400);
- ownership: R8 (another account's SIM, by IMSI or by MSISDN, 403 on every operation, both ways, and
  nothing changes; an IMSI in no inventory 404 with each operation's code);
- input: R5, R5a (one invalid or unknown body field answers what the contract allows for it, before any
  state error, and changes nothing);
- connectors: R18 as amended (a Connector created by POST reads back by GET with every field it was given;
  after DELETE, GET is not 200; answers are JSON objects). Everything else about Connectors is the
  implementation's choice and is not asserted.

MSISDNs are global, so free ones are found by reading (a number no SIM has answers 404); one the suite has
seen held by a SIM it knows is free for sure once released, while a fresh number that another request then
finds taken (409 `msisdn_conflict`, 403) is learned as held by a SIM the suite does not know. To meet
R15's "path MSISDN of another account's SIM", the second account may give one of its SIMs an MSISDN.
Each run starts from, and the test ends with, the state the SIMs (both accounts') were found in; the
Connectors the suite created are deleted.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any, ClassVar, cast

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition

from apicontract.contracts.answers import param_answers
from apicontract.contracts.behaviour import (
    FORM,
    JSON,
    MOVER,
    Exchange,
    concern_params,
    rule,
    run_machine,
    same,
    unknown_identifier,
)
from apicontract.contracts.connectors import ConnectorMachine
from apicontract.contracts.target import Credentials, Target
from apicontract.specs.walk import error_code

Sim = dict[str, Any] | None  # the SIM as retrieve answers it, None while not provisioned
SIM_OPS = ["retrieveSim", "createSim", "updateSim", "deleteSim"]
WRITES = ("createSim", "updateSim")
UNKNOWN_FIELD = "colour"  # a body field no operation documents (R5: 400 body_invalid)
NOT_IDENTIFIERS = ["123456", "0451234567", "4512345678901234", "45-12345678", "4512345678x"]  # R14, at its edges
ONE_OFF = {"msisdn": ["123456", "4512345678901234"], "imsi": ["23873123456789", "2387312345678901"]}  # R14: one off


def addressable(msisdn: str | None) -> bool:
    """R14: an MSISDN can name its SIM in the path unless it has 15 digits (then the path is an IMSI)."""
    return bool(msisdn and len(msisdn) != 15)


class SimV2Machine(ConnectorMachine):
    CLAUSES: ClassVar[dict[str, tuple[str, ...]]] = {
        "lifecycle": ("R2.1", "R8.2", "R8.5", "R9.1", "R15.2", "R16.1", "R16.2", "R17.1"),
        "identifiers": ("R5a.1", "R14.1", "R15.1", "R15.2", "R15.3"),
        "ownership": ("R3.4", "R8.3", "R8.4"),
        "input": ("R5.1", "R5.5", "R5.6", "R5.7", "R5a.1", "R14.2"),
        "connectors": ("R18.1", "R18.2", "R18.3"),
    }
    mine: ClassVar[list[str]]
    theirs: ClassVar[list[str]]  # the second account's IMSIs (only when its credentials are known)
    snapshot: ClassVar[dict[str, Sim]]
    their_snapshot: ClassVar[dict[str, Sim]]
    flags: ClassVar[list[str]]
    msisdns: ClassVar[list[str]]  # the MSISDNs rules use: held by known SIMs, and fresh ones
    held_once: ClassVar[set[str]]  # seen held by a SIM the suite knows: free for sure when no such SIM has it
    elsewhere: ClassVar[set[str]]  # learned: held by a SIM the suite does not know
    unknown: ClassVar[str]  # an IMSI no inventory holds

    # --- reading and restoring ----------------------------------------------------------------------

    @classmethod
    def read(cls, path: str, rule: str, who: Credentials | None = None) -> Sim:
        """The SIM a path names (None: the documented 404), as `who` sees it."""
        ex = cls.send("retrieveSim", f"/sim/{path}", who=who)
        if ex.status == 200:
            return ex.json
        cls.expect_error(ex, "retrieveSim", 404, cls.facts.code("retrieveSim", 404), rule)
        return None

    @classmethod
    def peek(cls, path: str, who: Credentials | None = None) -> Sim:
        """The SIM as the target holds it now, asserting nothing (state for the other rules)."""
        ex = cls.send("retrieveSim", f"/sim/{path}", who=who)
        return ex.json if ex.status == 200 and isinstance(ex.json, dict) else None

    @classmethod
    def prepare(cls) -> None:
        target = cls.target
        cls.mine = target.inventory(0)
        cls.theirs = target.inventory(1) if target.second is not None else []
        if not cls.mine and cls.concern != "connectors":
            pytest.skip("the target gives its first account no SIMs (list them in the target file)")
        cls.flags = [n for n, s in cls.facts.component("Sim")["properties"].items() if s.get("type") == "boolean"]
        rule = "read the SIM's current state"
        cls.snapshot = {imsi: cls.read(imsi, rule) for imsi in cls.mine}
        cls.their_snapshot = {imsi: cls.read(imsi, rule, target.second) for imsi in cls.theirs}
        every = [*cls.mine, *target.inventory(1)]
        cls.unknown = unknown_identifier(every) if every else "9" * 15
        rng = random.Random(target.seed)  # no seed: the system's randomness
        held = [s["msisdn"] for s in [*cls.snapshot.values(), *cls.their_snapshot.values()] if s and s.get("msisdn")]
        cls.held_once, cls.elsewhere = set(held), set()
        cls.msisdns = list(dict.fromkeys(held)) + cls.fresh_msisdns(rng, set(held), 4)
        cls.prepare_connectors(rng)

    @classmethod
    def fresh_msisdns(cls, rng: random.Random, taken: set[str], count: int) -> list[str]:
        """Random 10- to 12-digit MSISDNs that no SIM has now: reading them answers 404 (R15)."""
        schema = cls.facts.component("Sim")["properties"]["msisdn"]
        found: list[str] = []
        for _ in range(count * 3):
            msisdn = str(rng.randrange(10**9, 10**12))
            if msisdn in taken or msisdn in found or not cls.facts.valid(schema, msisdn):
                continue
            if cls.send("retrieveSim", f"/sim/{msisdn}").status == 404:
                found.append(msisdn)
            if len(found) == count:
                break
        return found

    @classmethod
    def restore(cls) -> None:
        """Bring every SIM (both accounts') back to the snapshot and delete the Connectors the suite created.

        A SIM that differs is deprovisioned if it should not be provisioned or has another MSISDN (an update
        cannot unset an MSISDN); then every SIM that should be provisioned is created or updated as it was.
        """
        rule = "restore the state the test found"
        sides = [(cls.target.first, cls.mine, cls.snapshot), (cls.target.second, cls.theirs, cls.their_snapshot)]
        todo = []
        for who, imsis, snapshot in sides:
            for imsi in imsis:
                have, want = cls.read(imsi, rule, who), snapshot[imsi]
                if have == want:
                    continue
                if have is not None and (want is None or have.get("msisdn") != want.get("msisdn")):
                    cls.expect_ok(cls.send("deleteSim", f"/sim/{imsi}", who=who), "deleteSim", rule)
                    have = None
                if want is not None:
                    todo.append((who, imsi, "createSim" if have is None else "updateSim", want))
        for who, imsi, op_id, want in todo:
            body = {f: want[f] for f in cls.flags} | ({"msisdn": want["msisdn"]} if want.get("msisdn") else {})
            cls.expect_ok(cls.send(op_id, f"/sim/{imsi}", who=who, json_body=body), op_id, rule)
        cls.delete_created_connectors(rule)

    @classmethod
    def finish(cls) -> None:
        cls.restore()

    @initialize()
    def start(self) -> None:
        self.restore()
        self.sims: dict[str, Sim] = copy.deepcopy(self.snapshot)
        self.their: dict[str, Sim] = copy.deepcopy(self.their_snapshot)
        self.start_connectors()

    def resync(self) -> None:
        for imsi in self.mine:
            self.sims[imsi] = self.peek(imsi)
        for imsi in self.theirs:
            self.their[imsi] = self.peek(imsi, self.target.second)
        self.remember()
        self.resync_connectors()

    # --- the model ----------------------------------------------------------------------------------

    def remember(self) -> None:
        """Every MSISDN a known SIM has is one the suite can be sure of once released."""
        for sim in [*self.sims.values(), *self.their.values()]:
            if sim and sim.get("msisdn"):
                self.held_once.add(sim["msisdn"])
                if sim["msisdn"] not in self.msisdns:
                    self.msisdns.append(sim["msisdn"])

    def holder(self, msisdn: str | None) -> tuple[str, str] | None:
        """("mine" | "theirs", IMSI) of the provisioned SIM the model gives `msisdn`, or None."""
        for side, sims in (("mine", self.sims), ("theirs", self.their)):
            for imsi, sim in sims.items():
                if msisdn and sim and sim.get("msisdn") == msisdn:
                    return side, imsi
        return None

    def sure(self, msisdn: str) -> bool:
        """Whether the suite knows every SIM that could hold `msisdn` (so free means free)."""
        return self.target.reference or msisdn in self.held_once

    def free(self, sure: bool = False) -> list[str]:
        return [
            m for m in self.msisdns if m not in self.elsewhere and self.holder(m) is None and (self.sure(m) or not sure)
        ]

    def conflict(self, op_id: str, flags: dict[str, Any]) -> tuple[int, str] | None:
        """R16: data off with throttling on."""
        if flags.get("data") is False and flags.get("data_throttling") is True:
            return 409, self.facts.code(op_id, 409, "data_data_throttling")
        return None

    def expect_write(
        self, ex: Exchange, op_id: str, rule: str, outcome: tuple[int, str] | None, msisdn: str | None, by_path: bool
    ) -> bool:
        """`outcome` (None: success). A free MSISDN the suite cannot be sure of may turn out to be held by a
        SIM it does not know (MSISDNs are global, R15): that answer is learned, not a violation."""
        throttling = self.conflict(op_id, {"data": False, "data_throttling": True})
        if msisdn and self.holder(msisdn) is None and not self.sure(msisdn) and outcome in (None, throttling):
            held = [(409, self.facts.code(op_id, 409, "msisdn"))]
            if by_path:
                held.append((403, self.facts.code(op_id, 403)))
            if any(ex.status == s and ex.json == self.facts.error_body(op_id, s, c) for s, c in held):
                self.elsewhere.add(msisdn)
                return False
        return self.expect(ex, op_id, rule, outcome, self.ok_body(op_id))

    def verify(self, imsi: str, rule: str) -> None:
        """Read the SIM by IMSI and, when it has one, by MSISDN: both answer the model exactly (R14)."""
        sim = self.sims[imsi]
        ex = self.send("retrieveSim", f"/sim/{imsi}")
        self.expect(ex, "retrieveSim", f"{rule}: read by IMSI", None if sim else (404, self.not_found), sim)
        if sim and addressable(sim.get("msisdn")):
            ex = self.send("retrieveSim", f"/sim/{sim['msisdn']}")
            self.expect_ok(ex, "retrieveSim", f"{rule}: read by MSISDN answers the same SIM (R14)", sim)

    def verify_msisdn(self, msisdn: str, rule: str) -> None:
        """An MSISDN names the SIM that has it now: ours (200), another account's (403) or none (404) (R15)."""
        found = self.holder(msisdn)
        ex = self.send("retrieveSim", f"/sim/{msisdn}")
        if found is None:
            if not self.sure(msisdn) and ex.status in (200, 403):
                self.elsewhere.add(msisdn)  # held by a SIM the suite does not know
                return
            self.expect_error(ex, "retrieveSim", 404, self.not_found, f"{rule}: a free MSISDN names no SIM")
        elif found[0] == "theirs":
            code = self.facts.code("retrieveSim", 403)
            self.expect_error(ex, "retrieveSim", 403, code, f"{rule}: another account's MSISDN is forbidden")
        else:
            self.expect_ok(ex, "retrieveSim", f"{rule}: the MSISDN names the SIM that has it", self.sims[found[1]])

    def check_theirs(self, imsi: str, ex: Exchange, op_id: str, rule: str) -> None:
        """The second account's SIM is as the model says: a refused request changed nothing (R5, R8)."""
        now = self.peek(imsi, self.target.second)
        if not same(now, self.their[imsi]):
            expected = f"their SIM still {json.dumps(self.their[imsi])}"
            self.fail(ex, op_id, rule, expected, f"it is now {json.dumps(now)}")

    @property
    def not_found(self) -> str:
        return self.facts.code("retrieveSim", 404)

    def draw_flags(self, data: st.DataObject) -> dict[str, bool]:
        chosen = data.draw(st.lists(st.sampled_from(self.flags), unique=True), label="services given")
        return {name: data.draw(st.booleans(), label=name) for name in chosen}

    def draw_content_type(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([JSON, FORM]), label="content type")

    def draw_msisdn(self, data: st.DataObject, imsi: str, own: bool = False) -> str | None:
        """An MSISDN that is free (often), another SIM's (ours or another account's), or the SIM's own."""
        sim = self.sims[imsi]
        groups = {
            "free": self.free(),
            "ours": [s["msisdn"] for i, s in self.sims.items() if i != imsi and s and s.get("msisdn")],
            "theirs": [s["msisdn"] for s in self.their.values() if s and s.get("msisdn")],
            "own": [sim["msisdn"]] if own and sim and sim.get("msisdn") else [],
        }
        kinds = [k for k, v in groups.items() if v]
        if not kinds:
            return None
        kind = data.draw(st.sampled_from(["free"] * 2 + kinds if groups["free"] else kinds), label="MSISDN kind")
        return data.draw(st.sampled_from(groups[kind]), label="msisdn")

    def path(self, op_id: str, value: str) -> str:
        return self.facts.ops[op_id].key.replace("{sim}", value)

    # --- unchecked: moves the state the other concerns meet ------------------------------------------

    @precondition(lambda self: bool(self.mine))
    @rule(MOVER, data=st.data())
    def provision_or_deprovision(self, data: st.DataObject) -> None:
        imsi = data.draw(st.sampled_from(self.mine), label="imsi")
        if self.sims[imsi] is None:
            body: dict[str, Any] = self.draw_flags(data)
            free = self.free()
            msisdn = data.draw(st.none() | st.sampled_from(free), label="msisdn") if free else None
            if msisdn:
                body["msisdn"] = msisdn
            self.send("createSim", f"/sim/{imsi}", json_body=body)
        else:
            self.send("deleteSim", f"/sim/{imsi}")
        self.sims[imsi] = self.peek(imsi)
        self.remember()

    def lend_them_an_msisdn(self, data: st.DataObject) -> None:
        """Unchecked: the second account gives one of its SIMs a free MSISDN (undone at the end)."""
        free = [m for m in self.free() if addressable(m)]
        if not free:
            return
        imsi = data.draw(st.sampled_from(self.theirs), label="their imsi")
        msisdn = data.draw(st.sampled_from(free), label="msisdn for them")
        op_id = "createSim" if self.their[imsi] is None else "updateSim"
        ex = self.send(op_id, f"/sim/{imsi}", who=self.target.second, json_body={"msisdn": msisdn})
        if ex.status == 409 and ex.json == self.facts.error_body(op_id, 409, self.facts.code(op_id, 409, "msisdn")):
            self.elsewhere.add(msisdn)
        self.their[imsi] = self.peek(imsi, self.target.second)
        self.remember()

    def they_lack_an_msisdn(self) -> bool:
        return bool(self.theirs) and not any(s and addressable(s.get("msisdn")) for s in self.their.values())

    # --- lifecycle ----------------------------------------------------------------------------------

    @rule("lifecycle", data=st.data())
    def create(self, data: st.DataObject) -> None:
        """R8: provision by IMSI (409 imsi_conflict when provisioned); R16: omitted services take the spec's
        defaults, and data off with throttling on is 409 after them; R15: no MSISDN given, none held."""
        imsi = self.pick(data, self.mine, [i for i in self.mine if not self.sims[i]], "imsi")
        flags = self.draw_flags(data)
        content_type = self.draw_content_type(data)
        body: dict[str, Any] = dict(flags)
        if data.draw(st.booleans(), label="IMSI repeated in the body"):
            body["imsi"] = imsi
        final = {f: flags.get(f, self.facts.defaults("createSim")[f]) for f in self.flags}
        outcome: tuple[int, str] | None
        if self.sims[imsi] is not None:
            outcome = (409, self.facts.code("createSim", 409, "imsi"))
        else:
            outcome = self.conflict("createSim", final)
        ex = self.send("createSim", f"/sim/{imsi}", **self.encoded(body, content_type))
        if self.expect(ex, "createSim", "create SIM (R8, R16)", outcome, self.ok_body("createSim")):
            self.sims[imsi] = {"imsi": imsi, "msisdn": None, **final}
        self.verify(imsi, "read after create")

    @rule("lifecycle", data=st.data())
    def update(self, data: st.DataObject) -> None:
        """R9: omitted fields keep their stored values; R16 after R9; R8: not provisioned is 404."""
        imsi = self.pick(data, self.mine, [i for i in self.mine if self.sims[i]], "imsi")
        sim = self.sims[imsi]
        body: dict[str, Any] = self.draw_flags(data)
        if sim and data.draw(st.booleans(), label="one service, against the stored other (R16 after R9)"):
            body = {"data": False} if sim["data_throttling"] else {"data_throttling": not sim["data"]}
        if data.draw(st.booleans(), label="IMSI in the body"):
            body["imsi"] = imsi
        content_type = self.draw_content_type(data)
        final = {f: body.get(f, sim[f]) for f in self.flags} if sim else {}
        outcome = (404, self.facts.code("updateSim", 404)) if sim is None else self.conflict("updateSim", final)
        ex = self.send("updateSim", f"/sim/{imsi}", **self.encoded(body, content_type))
        if self.expect(ex, "updateSim", "update SIM (R9, R16)", outcome, self.ok_body("updateSim")):
            self.sims[imsi] = {**cast(dict, sim), **final}  # succeeded: it was provisioned (outcome None)
        self.verify(imsi, "read after update")

    @rule("lifecycle", data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """R8: deprovision (404 when not provisioned); not found afterwards, and it can be created again."""
        imsi = self.pick(data, self.mine, [i for i in self.mine if self.sims[i]], "imsi")
        outcome = None if self.sims[imsi] else (404, self.facts.code("deleteSim", 404))
        ex = self.send("deleteSim", f"/sim/{imsi}")
        if self.expect(ex, "deleteSim", "delete SIM (R8)", outcome, self.ok_body("deleteSim")):
            self.sims[imsi] = None
        self.verify(imsi, "not found after delete")

    @rule("lifecycle", data=st.data())
    def retrieve(self, data: st.DataObject) -> None:
        self.verify(data.draw(st.sampled_from(self.mine), label="imsi"), "retrieve SIM (R8)")

    # --- identifiers --------------------------------------------------------------------------------

    @rule("identifiers", data=st.data())
    def create_with_msisdn(self, data: st.DataObject) -> None:
        """R15: create by MSISDN path (IMSI in the body) or by IMSI path (MSISDN in the body). MSISDNs are
        global: one another SIM has, ours or another account's, is 409 msisdn_conflict, but a path MSISDN of
        another account's SIM is 403 imsi_forbidden; R5a: 403, then 409 imsi_conflict, then msisdn_conflict."""
        imsi = self.pick(data, self.mine, [i for i in self.mine if not self.sims[i]], "imsi")
        msisdn = self.draw_msisdn(data, imsi)
        if msisdn is None:
            return
        by_path = addressable(msisdn) and data.draw(st.booleans(), label="MSISDN in the path")
        flags = self.draw_flags(data)
        content_type = self.draw_content_type(data)
        body: dict[str, Any] = dict(flags)
        if by_path:
            path, body["imsi"] = msisdn, imsi
            if data.draw(st.booleans(), label="MSISDN repeated in the body"):
                body["msisdn"] = msisdn
        else:
            path, body["msisdn"] = imsi, msisdn
            if data.draw(st.booleans(), label="IMSI repeated in the body"):
                body["imsi"] = imsi
        final = {f: flags.get(f, self.facts.defaults("createSim")[f]) for f in self.flags}
        found = self.holder(msisdn)
        outcome: tuple[int, str] | None
        if by_path and found and found[0] == "theirs":
            outcome = (403, self.facts.code("createSim", 403))
        elif self.sims[imsi] is not None:
            outcome = (409, self.facts.code("createSim", 409, "imsi"))
        elif found is not None:
            outcome = (409, self.facts.code("createSim", 409, "msisdn"))
        else:
            outcome = self.conflict("createSim", final)
        ex = self.send("createSim", f"/sim/{path}", **self.encoded(body, content_type))
        if self.expect_write(ex, "createSim", "create SIM with an MSISDN (R14, R15)", outcome, msisdn, by_path):
            self.sims[imsi] = {"imsi": imsi, "msisdn": msisdn, **final}
            self.remember()
        self.verify(imsi, "read after create")
        if found and found[0] == "mine":
            self.verify(found[1], "the SIM that has the MSISDN keeps it")
        elif found:
            self.check_theirs(found[1], ex, "createSim", "their SIM keeps its MSISDN (R15)")

    @rule("identifiers", data=st.data())
    def update_msisdn(self, data: st.DataObject) -> None:
        """R15: update gives a SIM a new MSISDN, by IMSI or MSISDN path; one another SIM has (of any account)
        is 409 msisdn_conflict; the old one is released; R9: omitted fields keep their values; R16 last."""
        imsi = self.pick(data, self.mine, [i for i in self.mine if self.sims[i]], "imsi")
        sim = self.sims[imsi]
        old = sim.get("msisdn") if sim else None
        path = old if addressable(old) and data.draw(st.booleans(), label="by MSISDN") else imsi
        new = self.draw_msisdn(data, imsi, own=True)
        body: dict[str, Any] = self.draw_flags(data)
        if new:
            body["msisdn"] = new
        if data.draw(st.booleans(), label="IMSI in the body"):
            body["imsi"] = imsi
        content_type = self.draw_content_type(data)
        found = self.holder(new)
        final = {f: body.get(f, sim[f]) for f in self.flags} if sim else {}
        outcome: tuple[int, str] | None
        if sim is None:
            outcome = (404, self.facts.code("updateSim", 404))
        elif found is not None and found[1] != imsi:
            outcome = (409, self.facts.code("updateSim", 409, "msisdn"))
        else:
            outcome = self.conflict("updateSim", final)
        ex = self.send("updateSim", f"/sim/{path}", **self.encoded(body, content_type))
        if self.expect_write(ex, "updateSim", "update SIM's MSISDN (R9, R14, R15, R16)", outcome, new, False):
            self.sims[imsi] = {**cast(dict, sim), **final, "msisdn": new or old}  # succeeded: it was provisioned
            self.remember()
        self.verify(imsi, "read after update")
        if addressable(old) and self.sims[imsi] and cast(dict, self.sims[imsi])["msisdn"] != old:
            self.verify_msisdn(cast(str, old), "the MSISDN an update replaced is released (R15)")

    @rule("identifiers", data=st.data())
    def delete_releases_msisdn(self, data: st.DataObject) -> None:
        """R8, R15: delete by MSISDN path (or by IMSI); the MSISDN is released and names no SIM."""
        imsi = self.pick(
            data, self.mine, [i for i in self.mine if self.sims[i] and cast(dict, self.sims[i]).get("msisdn")], "imsi"
        )
        sim = self.sims[imsi]
        old = sim.get("msisdn") if sim else None
        path = old if addressable(old) and data.draw(st.booleans(), label="by MSISDN") else imsi
        outcome = None if sim else (404, self.facts.code("deleteSim", 404))
        ex = self.send("deleteSim", f"/sim/{path}")
        if self.expect(ex, "deleteSim", "delete SIM (R8, R14)", outcome, self.ok_body("deleteSim")):
            self.sims[imsi] = None
        self.verify(imsi, "not found after delete")
        if addressable(old):
            self.verify_msisdn(cast(str, old), "a deleted SIM's MSISDN is released (R15)")

    @rule("identifiers", data=st.data())
    def look_up_msisdn(self, data: st.DataObject) -> None:
        """R14, R15: an MSISDN names whichever SIM has it now, never the one that had it before."""
        msisdns = [m for m in self.msisdns if addressable(m)]
        if msisdns:
            self.verify_msisdn(data.draw(st.sampled_from(msisdns), label="msisdn"), "retrieve by MSISDN")

    @precondition(lambda self: any(addressable(m) for m in self.free(sure=True)))
    @rule("identifiers", data=st.data())
    def free_msisdn_names_no_sim(self, data: st.DataObject) -> None:
        """R8, R15: update and delete by an MSISDN no SIM has are 404."""
        free = [m for m in self.free(sure=True) if addressable(m)]
        msisdn = data.draw(st.sampled_from(free), label="free msisdn")
        op_id = data.draw(st.sampled_from(["updateSim", "deleteSim"]), label="operation")
        kwargs = {"json_body": {"voice": True}} if op_id == "updateSim" else {}
        ex = self.send(op_id, f"/sim/{msisdn}", **kwargs)
        self.expect_error(ex, op_id, 404, self.facts.code(op_id, 404), "an MSISDN no SIM has names no SIM (R15)")
        self.verify_msisdn(msisdn, "nothing changes")

    @precondition(lambda self: len(self.mine) >= 2)
    @rule("identifiers", data=st.data())
    def update_with_another_imsi(self, data: st.DataObject) -> None:
        """R15, R5a: a body IMSI must be the addressed SIM's: with an IMSI path 400 imsi_invalid before any
        state error; with an MSISDN path after the 403/404 of the SIM it names."""
        imsi, other = data.draw(st.lists(st.sampled_from(self.mine), min_size=2, max_size=2, unique=True), "imsis")
        sim = self.sims[imsi]
        theirs = [s["msisdn"] for s in self.their.values() if s and addressable(s.get("msisdn"))]
        free = [m for m in self.free(sure=True) if addressable(m)]
        kinds = ["imsi", *(["msisdn"] if sim and addressable(sim.get("msisdn")) else [])]
        kinds += [*(["their msisdn"] if theirs else []), *(["free msisdn"] if free else [])]
        kind = data.draw(st.sampled_from(kinds), label="path")
        mismatch = (400, self.facts.code("updateSim", 400, "imsi"))
        path, outcome = {
            "imsi": (imsi, mismatch),
            "msisdn": ((sim or {}).get("msisdn"), mismatch),
            "their msisdn": ((theirs or [""])[0], (403, self.facts.code("updateSim", 403))),
            "free msisdn": ((free or [""])[0], (404, self.facts.code("updateSim", 404))),
        }[kind]
        ex = self.send("updateSim", f"/sim/{path}", json_body={"imsi": other, "voice": True})
        self.expect(ex, "updateSim", "a body IMSI that is not the addressed SIM's (R15, R5a)", outcome)
        self.verify(imsi, "nothing changes")
        self.verify(other, "nothing changes")

    @precondition(lambda self: len(self.mine) >= 2)
    @rule("identifiers", data=st.data())
    def create_with_mismatched_identifiers(self, data: st.DataObject) -> None:
        """R15, R5a: create's path and body must agree on the IMSI and the MSISDN, and an IMSI must be given:
        400 before any state error."""
        imsi, other = data.draw(st.lists(st.sampled_from(self.mine), min_size=2, max_size=2, unique=True), "imsis")
        pool = [m for m in self.msisdns if len(m) != 15] + ["4512340001", "4512340002"]
        first, second = pool[0], next(m for m in pool if m != pool[0])
        case = data.draw(st.sampled_from(["imsi differs", "no imsi", "msisdn differs"]), label="case")
        body: dict[str, Any]
        if case == "imsi differs":
            path, body, hint = imsi, {"imsi": other}, "imsi"
        elif case == "no imsi":
            path, body, hint = first, {"voice": True}, "imsi"
        else:
            path, body, hint = first, {"imsi": imsi, "msisdn": second}, "msisdn"
        content_type = self.draw_content_type(data)
        ex = self.send("createSim", f"/sim/{path}", **self.encoded(body, content_type))
        self.expect_error(ex, "createSim", 400, self.facts.code("createSim", 400, hint), f"create, {case} (R15)")
        self.verify(imsi, "nothing changes")
        self.verify(other, "nothing changes")

    @rule("identifiers", data=st.data())
    def path_neither_imsi_nor_msisdn(self, data: st.DataObject) -> None:
        """R14, R5a: a path value that is neither 15 digits nor an MSISDN is 400 msisdn_invalid, first."""
        value = data.draw(st.sampled_from(NOT_IDENTIFIERS), label="path value")
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        kwargs: dict[str, Any] = (
            {"json_body": {"imsi": self.mine[0], "voice": True}} if op_id in WRITES and self.mine else {}
        )
        ex = self.send(op_id, self.path(op_id, value), **kwargs)
        answers = param_answers(self.facts.doc, self.facts.ops[op_id], "sim", value)
        self.expect_any(ex, op_id, answers, "a path that is neither an IMSI nor an MSISDN (R14)")

    @precondition(lambda self: self.they_lack_an_msisdn())
    @rule("identifiers", data=st.data())
    def their_sim_gets_an_msisdn(self, data: st.DataObject) -> None:
        self.lend_them_an_msisdn(data)

    # --- ownership ----------------------------------------------------------------------------------

    @precondition(lambda self: self.they_lack_an_msisdn())
    @rule("ownership", data=st.data())
    def their_sim_has_an_msisdn(self, data: st.DataObject) -> None:
        self.lend_them_an_msisdn(data)

    @precondition(lambda self: bool(self.theirs))
    @rule("ownership", data=st.data())
    def their_sim_is_forbidden(self, data: st.DataObject) -> None:
        """R8, R15: another account's SIM, by its IMSI or the MSISDN it has, is 403 on every operation, and
        nothing changes (theirs, or ours named in the body)."""
        imsi = data.draw(st.sampled_from(self.theirs), label="their imsi")
        theirs = self.their[imsi]
        by_msisdn = bool(theirs and addressable(theirs.get("msisdn"))) and data.draw(st.booleans(), label="by MSISDN")
        path = cast(dict, theirs)["msisdn"] if by_msisdn else imsi
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        body: dict[str, Any] = {"voice": False}
        if op_id == "createSim" and by_msisdn and self.mine:
            body["imsi"] = data.draw(st.sampled_from(self.mine), label="our imsi in the body")
        ex = self.send(op_id, f"/sim/{path}", **({"json_body": body} if op_id in WRITES else {}))
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "another account's SIM is forbidden (R8, R15)")
        self.check_theirs(imsi, ex, op_id, "a refused request changes nothing (R5, R8)")
        if "imsi" in body:
            self.verify(body["imsi"], "nothing changes")

    @precondition(lambda self: self.target.second is not None)
    @rule("ownership", data=st.data())
    def they_cannot_touch_ours(self, data: st.DataObject) -> None:
        """R8: the second account gets 403 for our SIMs, by IMSI or by the MSISDN they have, and nothing changes."""
        imsi = data.draw(st.sampled_from(self.mine), label="imsi")
        sim = self.sims[imsi]
        by_msisdn = sim is not None and addressable(sim.get("msisdn")) and data.draw(st.booleans(), label="by MSISDN")
        path = cast(dict, sim)["msisdn"] if by_msisdn else imsi
        ops = ["retrieveSim", "updateSim", "deleteSim", *(["createSim"] if path == imsi else [])]
        op_id = data.draw(st.sampled_from(ops), label="operation")
        kwargs = {"json_body": {"data": True}} if op_id in WRITES else {}
        ex = self.send(op_id, f"/sim/{path}", who=self.target.second, **kwargs)
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "our SIM is forbidden to another account (R8)")
        self.verify(imsi, "nothing changes")

    @rule("ownership", data=st.data())
    def unknown_imsi_is_not_found(self, data: st.DataObject) -> None:
        """R8: an IMSI in no inventory: create 404 imsi_not_found, the others 404 sim_not_found."""
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        kwargs = {"json_body": {"sms": True}} if op_id in WRITES else {}
        ex = self.send(op_id, f"/sim/{self.unknown}", **kwargs)
        self.expect_error(ex, op_id, 404, self.facts.code(op_id, 404), "an IMSI in no inventory is not found (R8)")

    # --- input --------------------------------------------------------------------------------------

    @rule("input", data=st.data())
    def invalid_field_changes_nothing(self, data: st.DataObject) -> None:
        """R5, R5a: one invalid body field, or one the operation does not document, answers what the contract
        allows for it (a documented field's code before body_invalid), before any state error (403, 404,
        409), and changes nothing."""
        op_id = data.draw(st.sampled_from(list(WRITES)), label="operation")
        whose = data.draw(st.sampled_from(["mine", "mine", "unknown", *(["theirs"] if self.theirs else [])]), "SIM")
        imsi = {"mine": None, "unknown": self.unknown}.get(whose) or data.draw(
            st.sampled_from(self.mine if whose == "mine" else self.theirs), label="imsi"
        )
        content_type = self.draw_content_type(data)
        props = self.facts.properties(op_id, content_type)
        documented = sorted(n for n, s in props.items() if error_code(s))
        name = data.draw(st.sampled_from([*documented, UNKNOWN_FIELD]), label="field")
        form = content_type == FORM
        if name == UNKNOWN_FIELD:
            value: Any = "red"
        else:
            edges = [v for v in ONE_OFF.get(name, []) if not self.facts.valid(props[name], v)]
            value = data.draw(st.sampled_from([*self.facts.invalid_values(props[name], form=form), *edges]), "value")
        body = {name: value}
        if name != UNKNOWN_FIELD and data.draw(st.booleans(), label="and an unknown field"):
            body[UNKNOWN_FIELD] = "red"  # the documented field's code answers first (R5)
        ex = self.send(op_id, f"/sim/{imsi}", **self.encoded(body, content_type))
        wire = str(value).lower() if form and isinstance(value, bool) else value
        answers = self.invalid(op_id, name, str(wire) if form else wire, content_type)
        self.expect_any(ex, op_id, answers, f"invalid {name} answers its code first (R5, R5a)")
        if whose == "mine":
            self.verify(imsi, "nothing changes after invalid input (R5)")
        elif whose == "theirs":
            self.check_theirs(imsi, ex, op_id, "nothing changes after invalid input (R5)")

    # --- connectors (R18 as amended) ----------------------------------------------------------------

    @classmethod
    def connector_call(cls, op_id: str, cid: str, fields: dict[str, Any] | None = None) -> Exchange:
        """A Connector operation on `id` (in the path), with `fields` as the JSON body."""
        return cls.send(op_id, f"/connector/{cid}", **({"json_body": fields} if fields is not None else {}))


@pytest.mark.check("behaviour: {concern}")
@pytest.mark.parametrize("concern", concern_params(SimV2Machine))
@pytest.mark.apis("sim-v2")
def test_sim_v2_behaviour(target: Target, concern: str):
    """sim-v2 SIM and Connector state, compared with the rulings' model after every request."""
    run_machine(SimV2Machine, target, concern)
