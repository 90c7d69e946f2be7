"""Behaviour of sim-v2: SIMs by IMSI or MSISDN, and Connectors, as a state machine over HTTP.

The model holds, for every SIM of the first account's inventory, whether it is provisioned, its MSISDN
and its four services, plus the MSISDNs of the second account's SIMs and the Connectors of a few ids.
Rules provision, update, deprovision and read SIMs addressed by IMSI or by MSISDN (JSON and form
bodies), and compare every answer with the rulings: R8 (create of a provisioned SIM 409, another
account's SIM 403 both ways, an IMSI in no inventory 404), R9 (an omitted update field keeps its stored
value; create defaults from the spec), R14/R15 (IMSI and MSISDN paths name the same SIM and must agree;
MSISDNs globally unique, released by delete; a body IMSI must be the addressed SIM's), R16
(data off with throttling on is 409 after R9), R5 (an invalid field answers its code before any state
error and changes nothing) and R18 (a Connector is stored and returned as given). After every write the
SIMs involved are read back by IMSI and by MSISDN, so a lost or stale update fails at once. Each run
starts from, and the test ends with, the state the SIMs were found in.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from apicontract.contracts.behaviour import FORM, JSON, BehaviourMachine, run_machine, unknown_identifier
from apicontract.contracts.target import Target

Sim = dict[str, Any] | None  # the SIM as retrieve answers it, None while not provisioned


class SimV2Machine(BehaviourMachine):
    mine: ClassVar[list[str]]
    theirs: ClassVar[dict[str, Sim]]  # the second account's SIMs, read once (the machine never changes them)
    snapshot: ClassVar[dict[str, Sim]]
    flags: ClassVar[list[str]]
    msisdns: ClassVar[list[str]]  # the MSISDNs rules use: held by our SIMs, by theirs, and free ones
    connector_ids: ClassVar[list[str]]
    connectors_found: ClassVar[dict[str, Any]]
    their_connectors: ClassVar[dict[str, Any]]

    # --- reading and restoring ----------------------------------------------------------------------

    @classmethod
    def read(cls, path: str, rule: str, who=None) -> Sim:
        """The SIM a path names (None: 404), as `who` sees it."""
        ex = cls.send("retrieveSim", f"/sim/{path}", who=who)
        if ex.status == 200:
            return ex.json
        cls.expect_error(ex, "retrieveSim", 404, cls.facts.code("retrieveSim", 404), rule)
        return None

    @classmethod
    def prepare(cls) -> None:
        target, facts = cls.target, cls.facts
        cls.mine = target.inventory(0, None)
        cls.flags = [n for n, s in facts.component("Sim")["properties"].items() if s.get("type") == "boolean"]
        cls.snapshot = {imsi: cls.current(imsi) for imsi in cls.mine}
        cls.theirs = {}
        for sim in target.accounts[1].get("sims") or [] if len(target.accounts) > 1 else []:
            imsi = str(sim["imsi"])
            if target.second is not None:
                cls.theirs[imsi] = cls.read(imsi, "read the second account's SIM", target.second)
            else:
                cls.theirs[imsi] = {"imsi": imsi, "msisdn": sim.get("msisdn")} if sim.get("provisioned") else None
        held = [s["msisdn"] for s in [*cls.snapshot.values(), *cls.theirs.values()] if s and s.get("msisdn")]
        cls.msisdns = list(dict.fromkeys(held)) + cls.free_msisdns(set(held), 3)
        every = [*cls.mine, *cls.theirs, *target.inventory(1, None)]
        cls.unknown = unknown_identifier(every)
        connectors = (target.accounts[0].get("connectors") or {}) if target.accounts else {}
        cls.connector_ids = [*list(connectors)[:1], "behaviour-connector-1", "behaviour-connector-2"]
        cls.connectors_found = {cid: cls.connector(cid) for cid in cls.connector_ids}
        cls.their_connectors = {}
        if target.second is not None:
            cls.their_connectors = {cid: cls.connector(cid, target.second) for cid in cls.connector_ids}

    @classmethod
    def current(cls, imsi: str) -> Sim:
        return cls.read(imsi, "read the SIM's current state")

    @classmethod
    def free_msisdns(cls, taken: set[str], count: int) -> list[str]:
        """`count` MSISDNs no SIM has, near the spec's sample MSISDN (an example of the `sim` path parameter)."""
        schema = cls.facts.component("Sim")["properties"]["msisdn"]
        samples = [e.get("value") for e in cls.facts.param("retrieveSim", "sim").get("examples", {}).values()]
        start = next((int(v) for v in samples if cls.facts.valid(schema, v) and len(v) != 15), 10**9)
        found: list[str] = []
        while len(found) < count:
            if str(start) not in taken and cls.facts.valid(schema, str(start)):
                found.append(str(start))
            start += 7
        return found

    @classmethod
    def connector(cls, cid: str, who=None) -> Any:
        ex = cls.send("retrieveConnector", f"/connector/{cid}", who=who)
        if ex.status == 200:
            return ex.json
        cls.expect_error(ex, "retrieveConnector", 404, cls.facts.code("retrieveConnector", 404), "read a Connector")
        return None

    @classmethod
    def restore(cls) -> None:
        """Bring every SIM and Connector back to the snapshot: deprovision what differs, then provision it anew."""
        rule = "restore the state the test found"
        now = {imsi: cls.read(imsi, rule) for imsi in cls.mine}
        differs = [imsi for imsi in cls.mine if now[imsi] != cls.snapshot[imsi]]
        for imsi in differs:
            if now[imsi] is not None:
                cls.expect_ok(cls.send("deleteSim", f"/sim/{imsi}"), "deleteSim", rule)
        for imsi in differs:
            want = cls.snapshot[imsi]
            if want is not None:
                body = {f: want[f] for f in cls.flags} | ({"msisdn": want["msisdn"]} if want.get("msisdn") else {})
                cls.expect_ok(cls.send("createSim", f"/sim/{imsi}", json_body=body), "createSim", rule)
        for cid, want in cls.connectors_found.items():
            have = cls.connector(cid)
            if have == want:
                continue
            if want is None:
                cls.expect_ok(cls.send("deleteConnector", f"/connector/{cid}"), "deleteConnector", rule)
            elif have is None:
                cls.expect_ok(cls.send("createConnector", f"/connector/{cid}", json_body=want), "createConnector", rule)
            else:
                cls.expect_ok(cls.send("updateConnector", f"/connector/{cid}", json_body=want), "updateConnector", rule)

    @classmethod
    def finish(cls) -> None:
        cls.restore()

    @initialize()
    def start(self) -> None:
        self.restore()
        self.sims: dict[str, Sim] = copy.deepcopy(self.snapshot)
        self.connectors: dict[str, Any] = copy.deepcopy(self.connectors_found)

    # --- the model ----------------------------------------------------------------------------------

    def holder(self, msisdn: str | None) -> tuple[str, str] | None:
        """("mine" | "theirs", IMSI) of the provisioned SIM that has `msisdn`, or None."""
        for side, sims in (("mine", self.sims), ("theirs", self.theirs)):
            for imsi, sim in sims.items():
                if msisdn and sim and sim.get("msisdn") == msisdn:
                    return side, imsi
        return None

    def conflict(self, op_id: str, flags: dict[str, bool]) -> tuple[int, str] | None:
        """R16: data off with throttling on."""
        if flags.get("data") is False and flags.get("data_throttling") is True:
            return 409, self.facts.code(op_id, 409, "data_data_throttling")
        return None

    def verify(self, imsi: str, rule: str) -> None:
        """Read the SIM by IMSI and, when it has one, by MSISDN: both answer the model (no stale reads)."""
        sim = self.sims[imsi]
        ex = self.send("retrieveSim", f"/sim/{imsi}")
        self.expect(ex, "retrieveSim", f"{rule}: read by IMSI", None if sim else (404, self.not_found), sim)
        if sim and sim.get("msisdn"):
            ex = self.send("retrieveSim", f"/sim/{sim['msisdn']}")
            self.expect_ok(ex, "retrieveSim", f"{rule}: read by MSISDN answers the same SIM (R14)", sim)

    def verify_msisdn(self, msisdn: str, rule: str) -> None:
        """An MSISDN names the SIM that has it now: ours (200), theirs (403) or none (404) (R15)."""
        found = self.holder(msisdn)
        ex = self.send("retrieveSim", f"/sim/{msisdn}")
        if found is None:
            self.expect_error(ex, "retrieveSim", 404, self.not_found, f"{rule}: a free MSISDN names no SIM")
        elif found[0] == "theirs":
            self.expect_error(ex, "retrieveSim", 403, self.facts.code("retrieveSim", 403), f"{rule}: their MSISDN")
        else:
            self.expect_ok(ex, "retrieveSim", f"{rule}: the MSISDN names the SIM that has it", self.sims[found[1]])

    @property
    def not_found(self) -> str:
        return self.facts.code("retrieveSim", 404)

    def draw_msisdn(self, data: st.DataObject, label: str) -> str | None:
        """None, any MSISDN of the pool, or (often) one no SIM has now: released ones must be reusable (R15)."""
        free = [m for m in self.msisdns if self.holder(m) is None]
        return data.draw(st.none() | st.sampled_from(self.msisdns) | st.sampled_from(free or self.msisdns), label)

    def draw_flags(self, data: st.DataObject) -> dict[str, bool]:
        chosen = data.draw(st.lists(st.sampled_from(self.flags), unique=True), label="services given")
        return {name: data.draw(st.booleans(), label=name) for name in chosen}

    # --- SIM rules ----------------------------------------------------------------------------------

    @rule(data=st.data())
    def create(self, data: st.DataObject) -> None:
        """R8, R15, R16: provision by IMSI path (MSISDN in the body or none) or by MSISDN path (IMSI in the body)."""
        imsi = self.pick(data, self.mine, [i for i in self.mine if not self.sims[i]], "imsi")
        msisdn = self.draw_msisdn(data, "msisdn")
        by_msisdn = msisdn is not None and data.draw(st.booleans(), label="MSISDN in the path")
        flags = self.draw_flags(data)
        content_type = data.draw(st.sampled_from([JSON, FORM]), label="content type")
        body: dict[str, Any] = dict(flags)
        if by_msisdn:
            path, body["imsi"] = msisdn, imsi
        else:
            path = imsi
            if msisdn:
                body["msisdn"] = msisdn
            if data.draw(st.booleans(), label="IMSI repeated in the body"):
                body["imsi"] = imsi
        final = {f: flags.get(f, self.facts.defaults("createSim")[f]) for f in self.flags}
        found = self.holder(msisdn)
        if by_msisdn and found and found[0] == "theirs":
            outcome = (403, self.facts.code("createSim", 403))  # R15: a path MSISDN of another account's SIM
        elif self.sims[imsi] is not None:
            outcome = (409, self.facts.code("createSim", 409, "imsi"))
        elif found is not None and found[1] != imsi:
            outcome = (409, self.facts.code("createSim", 409, "msisdn"))
        else:
            outcome = self.conflict("createSim", final)
        ex = self.send("createSim", f"/sim/{path}", **self.encoded(body, content_type))
        if self.expect(ex, "createSim", "create SIM (R8, R15, R16)", outcome, self.ok_body("createSim")):
            self.sims[imsi] = {"imsi": imsi, "msisdn": msisdn, **final}
        self.verify(imsi, "read after create")

    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        """R9: omitted fields keep their stored values; a new MSISDN must be free (R15); R16 after R9."""
        imsi = self.pick(data, self.mine, [i for i in self.mine if self.sims[i]], "imsi")
        sim = self.sims[imsi]
        old = sim.get("msisdn") if sim else None
        path = old if old and data.draw(st.booleans(), label="by MSISDN") else imsi
        body: dict[str, Any] = self.draw_flags(data)
        new = self.draw_msisdn(data, "new msisdn")
        if new:
            body["msisdn"] = new
        if data.draw(st.booleans(), label="IMSI in the body"):
            body["imsi"] = imsi
        content_type = data.draw(st.sampled_from([JSON, FORM]), label="content type")
        found = self.holder(new)
        final = {f: body.get(f, sim[f]) for f in self.flags} if sim else {}
        if sim is None:
            outcome = (404, self.facts.code("updateSim", 404))
        elif found is not None and found[1] != imsi:
            outcome = (409, self.facts.code("updateSim", 409, "msisdn"))
        else:
            outcome = self.conflict("updateSim", final)
        ex = self.send("updateSim", f"/sim/{path}", **self.encoded(body, content_type))
        if self.expect(ex, "updateSim", "update SIM (R9, R15, R16)", outcome, self.ok_body("updateSim")):
            self.sims[imsi] = {**sim, **final, "msisdn": new or old}
        self.verify(imsi, "read after update")
        if old and new and old != new:
            self.verify_msisdn(old, "the MSISDN an update replaced is free again")

    @rule(data=st.data())
    def update_with_another_imsi(self, data: st.DataObject) -> None:
        """R15: a body IMSI must be the addressed SIM's: 400 (after 403/404 when the path is an MSISDN)."""
        imsi, other = data.draw(st.lists(st.sampled_from(self.mine), min_size=2, max_size=2, unique=True), "imsis")
        sim = self.sims[imsi]
        free = [m for m in self.msisdns if self.holder(m) is None]
        kinds = ["imsi", *(["msisdn"] if sim and sim.get("msisdn") else []), *(["free msisdn"] if free else [])]
        kind = data.draw(st.sampled_from(kinds), label="path")
        if kind == "imsi":
            path, outcome = imsi, (400, self.facts.code("updateSim", 400, "imsi"))
        elif kind == "msisdn":
            path, outcome = sim["msisdn"], (400, self.facts.code("updateSim", 400, "imsi"))
        else:
            path, outcome = free[0], (404, self.facts.code("updateSim", 404))
        ex = self.send("updateSim", f"/sim/{path}", json_body={"imsi": other, "voice": True})
        self.expect(ex, "updateSim", "a body IMSI that is not the addressed SIM's (R15, R5a)", outcome)
        self.verify(imsi, "nothing changes")
        self.verify(other, "nothing changes")

    @rule(data=st.data())
    def create_with_mismatched_identifiers(self, data: st.DataObject) -> None:
        """R15: create's path and body must agree on the IMSI and the MSISDN: 400 before any state error."""
        imsi, other = data.draw(st.lists(st.sampled_from(self.mine), min_size=2, max_size=2, unique=True), "imsis")
        first, second = self.msisdns[0], self.msisdns[-1]
        case = data.draw(st.sampled_from(["imsi differs", "no imsi", "msisdn differs"]), label="case")
        if case == "imsi differs":
            path, body, hint = imsi, {"imsi": other}, "imsi"
        elif case == "no imsi":
            path, body, hint = first, {"voice": True}, "imsi"
        else:
            path, body, hint = first, {"imsi": imsi, "msisdn": second}, "msisdn"
        ex = self.send("createSim", f"/sim/{path}", json_body=body)
        self.expect_error(ex, "createSim", 400, self.facts.code("createSim", 400, hint), f"create, {case} (R15)")
        self.verify(imsi, "nothing changes")
        self.verify(other, "nothing changes")

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """R8: deprovision; R15: the MSISDN is released."""
        imsi = self.pick(data, self.mine, [i for i in self.mine if self.sims[i]], "imsi")
        sim = self.sims[imsi]
        old = sim.get("msisdn") if sim else None
        path = old if old and data.draw(st.booleans(), label="by MSISDN") else imsi
        outcome = None if sim else (404, self.facts.code("deleteSim", 404))
        ex = self.send("deleteSim", f"/sim/{path}")
        if self.expect(ex, "deleteSim", "delete SIM (R8)", outcome, self.ok_body("deleteSim")):
            self.sims[imsi] = None
        self.verify(imsi, "not found after delete")
        if old:
            self.verify_msisdn(old, "a deleted SIM's MSISDN is released (R15)")

    @rule(data=st.data())
    def retrieve(self, data: st.DataObject) -> None:
        """R14: by IMSI and by MSISDN, the same SIM as the model."""
        self.verify(data.draw(st.sampled_from(self.mine), label="imsi"), "retrieve SIM")

    @rule(data=st.data())
    def look_up_msisdn(self, data: st.DataObject) -> None:
        """R15: an MSISDN names whichever SIM has it now, never the one that had it before."""
        self.verify_msisdn(data.draw(st.sampled_from(self.msisdns), label="msisdn"), "retrieve by MSISDN")

    @rule(data=st.data())
    def invalid_field_changes_nothing(self, data: st.DataObject) -> None:
        """R5, R5a: one invalid body field answers its own code before any state error, and changes nothing."""
        op_id = data.draw(st.sampled_from(["createSim", "updateSim"]), label="operation")
        imsi = data.draw(st.sampled_from(self.mine), label="imsi")
        content_type = data.draw(st.sampled_from([JSON, FORM]), label="content type")
        props = self.facts.properties(op_id, content_type)
        name = data.draw(st.sampled_from(sorted(n for n, s in props.items() if "x-error-code" in s)), label="field")
        bad = self.facts.invalid_values(props[name], form=content_type == FORM)
        value = data.draw(st.sampled_from(bad), label="invalid value")
        ex = self.send(op_id, f"/sim/{imsi}", **self.encoded({name: value}, content_type))
        status, code = self.facts.field_code(op_id, name, content_type)
        self.expect_error(ex, op_id, status, code, f"invalid {name} answers {code} first (R5a)")
        self.verify(imsi, "nothing changes after invalid input (R5)")

    @precondition(lambda self: bool(self.theirs))
    @rule(data=st.data())
    def their_sim_is_forbidden(self, data: st.DataObject) -> None:
        """R8, R15: another account's SIM, by its IMSI or its MSISDN, is 403 on every operation."""
        imsi = data.draw(st.sampled_from(sorted(self.theirs)), label="their imsi")
        theirs = self.theirs[imsi]
        path = theirs["msisdn"] if theirs and theirs.get("msisdn") and data.draw(st.booleans(), "by MSISDN") else imsi
        op_id = data.draw(st.sampled_from(["retrieveSim", "updateSim", "deleteSim", "createSim"]), label="op")
        body: dict[str, Any] = {"voice": False}
        if op_id == "createSim" and path != imsi:
            body["imsi"] = data.draw(st.sampled_from(self.mine), label="our imsi in the body")
        ex = self.send(op_id, f"/sim/{path}", **({"json_body": body} if op_id in ("createSim", "updateSim") else {}))
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "another account's SIM is forbidden (R8)")
        if "imsi" in body:
            self.verify(body["imsi"], "nothing changes")

    @precondition(lambda self: self.target.second is not None)
    @rule(data=st.data())
    def they_cannot_touch_ours(self, data: st.DataObject) -> None:
        """R8: the second account gets 403 for our SIMs, by IMSI or by the MSISDN they have now."""
        imsi = data.draw(st.sampled_from(self.mine), label="imsi")
        sim = self.sims[imsi]
        path = sim["msisdn"] if sim and sim.get("msisdn") and data.draw(st.booleans(), label="by MSISDN") else imsi
        ops = ["retrieveSim", "updateSim", "deleteSim", *(["createSim"] if path == imsi else [])]
        op_id = data.draw(st.sampled_from(ops), label="op")
        kwargs = {"json_body": {"data": False}} if op_id in ("createSim", "updateSim") else {}
        ex = self.send(op_id, f"/sim/{path}", who=self.target.second, **kwargs)
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "our SIM is forbidden to another account (R8)")
        self.verify(imsi, "nothing changes")

    @rule(data=st.data())
    def unknown_imsi_is_not_found(self, data: st.DataObject) -> None:
        """R8: an IMSI in no inventory: create 404 imsi_not_found, the others their 404."""
        op_id = data.draw(st.sampled_from(["retrieveSim", "updateSim", "deleteSim", "createSim"]), label="op")
        kwargs = {"json_body": {"sms": True}} if op_id in ("createSim", "updateSim") else {}
        ex = self.send(op_id, f"/sim/{self.unknown}", **kwargs)
        self.expect_error(ex, op_id, 404, self.facts.code(op_id, 404), "an IMSI in no inventory is not found (R8)")

    # --- Connector rules (R18) ----------------------------------------------------------------------

    def connector_body(self, data: st.DataObject) -> dict[str, Any]:
        return data.draw(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["webhook", "mqtt"]), "n": st.integers(0, 9)},
                optional={"tags": st.lists(st.sampled_from(["a", "ä", "b"]), max_size=2), "on": st.booleans()},
            ),
            label="connector",
        )

    @rule(data=st.data())
    def connector_lifecycle(self, data: st.DataObject) -> None:
        """R18: create (409 when it exists), update (404 when it does not), delete, each read back as stored."""
        cid = data.draw(st.sampled_from(self.connector_ids), label="id")
        op_id = data.draw(st.sampled_from(["createConnector", "updateConnector", "deleteConnector"]), label="op")
        have = self.connectors[cid]
        body = self.connector_body(data) if op_id != "deleteConnector" else None
        if op_id == "createConnector":
            outcome = (409, self.facts.code(op_id, 409)) if have is not None else None
        else:
            outcome = (404, self.facts.code(op_id, 404)) if have is None else None
        kwargs = {"json_body": body} if body is not None else {}
        ex = self.send(op_id, f"/connector/{cid}", **kwargs)
        if self.expect(ex, op_id, "Connector lifecycle (R18)", outcome, self.ok_body(op_id)):
            self.connectors[cid] = body
        self.check_connector(cid)

    @rule(data=st.data())
    def read_connector(self, data: st.DataObject) -> None:
        self.check_connector(data.draw(st.sampled_from(self.connector_ids), label="id"))

    def check_connector(self, cid: str) -> None:
        """R18: a Connector reads back exactly as stored; another account sees only its own."""
        want = self.connectors[cid]
        ex = self.send("retrieveConnector", f"/connector/{cid}")
        outcome = None if want is not None else (404, self.facts.code("retrieveConnector", 404))
        self.expect(ex, "retrieveConnector", "a Connector reads back as stored (R18)", outcome, want)
        if self.target.second is not None:
            theirs = self.their_connectors[cid]
            ex = self.send("retrieveConnector", f"/connector/{cid}", who=self.target.second)
            outcome = None if theirs is not None else (404, self.facts.code("retrieveConnector", 404))
            self.expect(ex, "retrieveConnector", "Connectors are per account (R18)", outcome, theirs)


@pytest.mark.apis("sim-v2")
def test_sim_v2_behaviour(target: Target):
    """sim-v2 SIM and Connector state, compared with the rulings' model after every request."""
    run_machine(SimV2Machine, target)
