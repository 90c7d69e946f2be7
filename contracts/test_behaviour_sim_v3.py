"""Behaviour of sim-v3: SIMs by id in JSON bodies, usage records and Connectors, as a state machine over HTTP,
one check per concern.

The model holds, for every SIM of the first account's inventory, whether it is provisioned, its alias and
whether it is active, and the same for the second account's SIMs (read as that account), all learned through
the API (parameters in JSON bodies on every method, R19). Each concern is its own check (a failure in one
never stops another), with an unchecked rule that provisions and deprovisions SIMs so every concern meets
both states:

- lifecycle: R8 (create of a provisioned SIM 409 `id_conflict`; delete, then not found, and it can be
  created again afresh), R9/R20 (create defaults: no alias, active; an omitted `active` on update is true,
  an omitted alias is kept, `"alias": null` removes it, a given one is set), read back after every write;
- aliases: R20 (an alias is unique among the account's SIMs, compared exactly: 409 `alias_conflict`; another
  account's SIM may have the same alias; an alias is freed by delete, by `null` and by a new alias);
- ownership: R8 (another account's SIM 403 on every operation, usage included, both ways, and nothing
  changes; an id in no inventory: create 403 `id_forbidden`, the others their 404);
- input: R5, R5a (one invalid or unknown body field answers what the contract allows for it, before any
  state error, and changes nothing);
- usage: R21, R7, R22a (`GET /usage` answers only the SIM's records with `time` in `[time_begin, time_end)`;
  a window split in two answers the same records as the whole; `time_end` before `time_begin`, or a time
  that is no real calendar time, is 400 before any state error; another account's SIM 403, not provisioned
  404; years 0001 and 9999 are valid times, equal times give no records). Only against the reference
  server with the spec's demo fixtures (`target.reference`) are the fixtures' records required.
- connectors: R18 as amended (a Connector created by POST reads back by GET with every field it was given,
  its body `id` among them; after DELETE, GET is not 200; answers are JSON objects). Everything else about
  Connectors is the implementation's choice and is not asserted.

Aliases the suite makes up carry a random token, so no SIM the suite does not know can have them; one it has
seen on a SIM of the first account is free for sure once released. An alias borrowed from elsewhere (another
account's SIM, the spec's example) that a request finds taken is learned as held by a SIM the suite does not
know, unless the target is the reference server (whose inventories the suite knows whole), or a SIM the
suite knows has it in another case: then that SIM's alias is freed and the request sent again, and if it now
succeeds the alias was not compared exactly (R20). With the
reference fixtures, SIMs that have usage records are never deprovisioned, so their records stay as stated.
Each run starts from, and the test ends with, the state the SIMs (both accounts') were found in; the
Connectors the suite created are deleted.
"""

from __future__ import annotations

import copy
import json
import random
import re
import string
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition

from apicontract.contracts.answers import MISSING
from apicontract.contracts.behaviour import (
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
TIME = "%Y-%m-%d %H:%M:%S"  # R7
TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
EDGES = ["0001-01-01 00:00:00", "9999-12-31 23:59:59"]  # R7: years 0001-9999 are real times
NO_TIMES = ["0000-01-01 00:00:00", "2021-02-30 10:00:00", "2021-01-01 24:00:00", "2021-01-01T00:00:00", "2021-1-1"]
SIM_OPS = ["retrieveSim", "createSim", "updateSim", "deleteSim", "retrieveUsage"]
WRITES = ("createSim", "updateSim")
OMIT = "omit"
UNKNOWN_FIELD = "colour"  # a body field no operation documents (R5: 400 body_invalid)
ONE_OFF = {"alias": ["A" * 65, "-A"], "id": ["12345678", "1234567890"]}  # R20: one off its lengths, its first character


def _key(record: Any) -> str:
    return json.dumps(record, sort_keys=True)


class SimV3Machine(ConnectorMachine):
    CLAUSES: ClassVar[dict[str, tuple[str, ...]]] = {
        "lifecycle": ("R2.1", "R8.2", "R8.5", "R9.1", "R19.1", "R19.2", "R20.2", "R20.3"),
        "aliases": ("R5a.1", "R20.2"),
        "ownership": ("R3.4", "R8.3", "R8.4"),
        "input": ("R5.1", "R5.5", "R5.6", "R5.7", "R5a.1", "R20.1", "R20.2"),
        "usage": ("R5a.1", "R7.1", "R7.2", "R8.2", "R8.4", "R21.1", "R21.2", "R21.3", "R21.4"),
        "connectors": ("R18.1", "R18.2", "R18.3"),
    }
    mine: ClassVar[list[str]]
    theirs: ClassVar[list[str]]  # the second account's ids (only when its credentials are known)
    deletable: ClassVar[list[str]]  # ours, but those whose stated usage records must stay (reference fixtures)
    snapshot: ClassVar[dict[str, Sim]]
    their_snapshot: ClassVar[dict[str, Sim]]
    aliases: ClassVar[list[str]]  # the aliases rules use
    made_up: ClassVar[set[str]]  # aliases with the suite's random token: no unknown SIM has them
    held_once: ClassVar[set[str]]  # seen on a SIM of ours the suite knows: free for sure once released
    elsewhere: ClassVar[set[str]]  # learned: held by a SIM of ours the suite does not know
    token: ClassVar[str]
    records: ClassVar[list[dict]]  # usage records the reference fixtures state for our SIMs
    seen_times: ClassVar[list[str]]  # times of usage records seen, for window bounds
    with_records: ClassVar[set[str]]  # our SIMs usage records were seen for
    explored: ClassVar[set[str]]  # our SIMs whose usage was read over R7's whole range
    unknown: ClassVar[str]  # an id no inventory holds

    # --- reading and restoring ----------------------------------------------------------------------

    @classmethod
    def read(cls, sim_id: str, rule: str, who: Credentials | None = None) -> Sim:
        ex = cls.send("retrieveSim", json_body={"id": sim_id}, who=who)
        if ex.status == 200:
            return ex.json
        cls.expect_error(ex, "retrieveSim", 404, cls.facts.code("retrieveSim", 404), rule)
        return None

    @classmethod
    def peek(cls, sim_id: str, who: Credentials | None = None) -> Sim:
        """The SIM as the target holds it now, asserting nothing (state for the other rules)."""
        ex = cls.send("retrieveSim", json_body={"id": sim_id}, who=who)
        return ex.json if ex.status == 200 and isinstance(ex.json, dict) else None

    @classmethod
    def prepare(cls) -> None:
        target, facts = cls.target, cls.facts
        cls.mine = target.inventory(0)
        cls.theirs = target.inventory(1) if target.second is not None else []
        if not cls.mine and cls.concern != "connectors":
            pytest.skip("the target gives its first account no SIMs (list them in the target file)")
        every = [*cls.mine, *target.inventory(1)]
        cls.unknown = unknown_identifier(every) if every else "9" * 9
        rule = "read the SIM's current state"
        cls.snapshot = {sim_id: cls.read(sim_id, rule) for sim_id in cls.mine}
        cls.their_snapshot = {sim_id: cls.read(sim_id, rule, target.second) for sim_id in cls.theirs}
        stated = target.accounts[0].entry.get("usage") if target.reference else None
        cls.records = [r for r in stated or [] if isinstance(r, dict) and str(r.get("sim_id")) in cls.mine]
        kept = {str(r["sim_id"]) for r in cls.records}
        cls.deletable = [s for s in cls.mine if s not in kept]
        cls.seen_times = sorted({str(r["time"]) for r in cls.records if "time" in r})
        cls.with_records = {str(r["sim_id"]) for r in cls.records}
        cls.explored = set()
        rng = random.Random(target.seed)  # no seed: the system's randomness
        cls.token = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(6))
        made = [f"Al-{cls.token}-1", f"Al-{cls.token}-2", f"Al-{cls.token}-1".swapcase()]  # R20: compared exactly
        made.append((f"L{cls.token}." + "x" * 64)[:64])  # R20: the longest alias
        own = [cls.own_alias(s) for s in cls.mine]
        cls.made_up = {*made, *own, *(a.swapcase() for a in own)}
        ours = [s["alias"] for s in cls.snapshot.values() if s and s.get("alias")]
        borrowed = [s["alias"] for s in cls.their_snapshot.values() if s and s.get("alias")]
        borrowed.append((facts.body_example("createSim") or {}).get("alias"))
        schema = {**facts.properties("createSim")["alias"], "type": "string"}
        cls.aliases = [a for a in dict.fromkeys([*made, *ours, *borrowed]) if a and facts.valid(schema, a)]
        cls.held_once, cls.elsewhere = set(ours), set()
        cls.prepare_connectors(rng)

    @classmethod
    def restore(cls) -> None:
        """Back to the snapshot (both accounts): free the aliases of what differs (or deprovision it), then set
        each SIM anew; delete the Connectors the suite created."""
        rule = "restore the state the test found"
        sides = [(cls.target.first, cls.mine, cls.snapshot), (cls.target.second, cls.theirs, cls.their_snapshot)]
        todo = []
        for who, ids, snapshot in sides:
            for sim_id in ids:
                have, want = cls.read(sim_id, rule, who), snapshot[sim_id]
                if have == want:
                    continue
                if have is not None and want is None:
                    cls.expect_ok(cls.send("deleteSim", json_body={"id": sim_id}, who=who), "deleteSim", rule)
                elif have is not None:
                    body = {"id": sim_id, "alias": None, "active": cast(dict, want)["active"]}  # want != have
                    cls.expect_ok(cls.send("updateSim", json_body=body, who=who), "updateSim", rule)
                if want is not None:
                    todo.append((who, "createSim" if have is None else "updateSim", want))
        for who, op_id, want in todo:
            cls.expect_ok(cls.send(op_id, json_body=dict(want), who=who), op_id, rule)
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
        for sim_id in self.mine:
            self.sims[sim_id] = self.peek(sim_id)
        for sim_id in self.theirs:
            self.their[sim_id] = self.peek(sim_id, self.target.second)
        self.remember()
        self.resync_connectors()

    # --- the model ----------------------------------------------------------------------------------

    def remember(self) -> None:
        """Every alias a SIM of ours has is one the suite can be sure of once released."""
        for sim in self.sims.values():
            if sim and sim.get("alias"):
                self.held_once.add(sim["alias"])
                if sim["alias"] not in self.aliases:
                    self.aliases.append(sim["alias"])

    def sure(self, alias: str) -> bool:
        """Whether no SIM of ours the suite does not know can have `alias` (so free means free)."""
        return self.target.reference or alias in self.made_up or alias in self.held_once

    def alias_taken(self, alias: Any, sim_id: str) -> bool:
        """R20: another provisioned SIM of ours has exactly this alias."""
        return isinstance(alias, str) and any(s and s["alias"] == alias for i, s in self.sims.items() if i != sim_id)

    @classmethod
    def own_alias(cls, sim_id: str) -> str:
        """An alias only this SIM is given in the lifecycle (no conflict there); the suite's, like its case variant."""
        return f"Own-{cls.token}-{sim_id}"

    def verify(self, sim_id: str, rule: str) -> None:
        """Read the SIM back: exactly the model."""
        sim = self.sims[sim_id]
        ex = self.send("retrieveSim", json_body={"id": sim_id})
        self.expect(ex, "retrieveSim", rule, None if sim else (404, self.facts.code("retrieveSim", 404)), sim)

    def check_theirs(self, sim_id: str, ex: Exchange, op_id: str, rule: str) -> None:
        """The second account's SIM is as the model says: a refused request changed nothing (R5, R8)."""
        now = self.peek(sim_id, self.target.second)
        if not same(now, self.their[sim_id]):
            expected = f"their SIM still {json.dumps(self.their[sim_id])}"
            self.fail(ex, op_id, rule, expected, f"it is now {json.dumps(now)}")

    def expect_answer(self, ex: Exchange, op_id: str, rule: str, answers: list[tuple[int, str]] | None) -> bool:
        """Success (answers None) with the documented body, or one of the allowed errors. True on success."""
        if answers is None:
            self.expect_ok(ex, op_id, rule, self.ok_body(op_id))
            return True
        self.expect_any(ex, op_id, answers, rule)
        return False

    def draw_active(self, data: st.DataObject) -> Any:
        return data.draw(st.sampled_from([OMIT, True, False]), label="active")

    @staticmethod
    def body(**fields: Any) -> dict[str, Any]:
        return {k: v for k, v in fields.items() if v is not OMIT}

    def create_sim(self, sim_id: str, alias: Any, active: Any, rule: str) -> None:
        """R8, R20: create with the spec's defaults for what is omitted; 409 id_conflict or alias_conflict."""
        taken = self.alias_taken(alias, sim_id)
        answers: list[tuple[int, str]] | None
        if self.sims[sim_id] is not None:  # R5a orders 409s of identity only as a stage: either may answer
            answers = [(409, self.facts.code("createSim", 409, "id"))]
            answers += [(409, self.facts.code("createSim", 409, "alias"))] if taken else []
        else:
            answers = [(409, self.facts.code("createSim", 409, "alias"))] if taken else None
        body = self.body(id=sim_id, alias=alias, active=active)
        ex = self.send("createSim", json_body=body)
        if self.learned(ex, "createSim", body, answers):
            pass
        elif self.expect_answer(ex, "createSim", rule, answers):
            defaults = self.facts.defaults("createSim")
            chosen = {"alias": alias, "active": active}
            self.sims[sim_id] = {"id": sim_id, **{k: defaults[k] if v is OMIT else v for k, v in chosen.items()}}
            self.remember()
        self.verify(sim_id, "read after create")

    def update_sim(self, sim_id: str, alias: Any, active: Any, rule: str) -> None:
        """R9, R20: an omitted active is true, an omitted alias kept, a null alias removed; 409 alias_conflict."""
        sim = self.sims[sim_id]
        if sim is None:
            answers = [(404, self.facts.code("updateSim", 404))]
        elif self.alias_taken(alias, sim_id):
            answers = [(409, self.facts.code("updateSim", 409, "alias"))]
        else:
            answers = None
        body = self.body(id=sim_id, alias=alias, active=active)
        ex = self.send("updateSim", json_body=body)
        if self.learned(ex, "updateSim", body, answers):
            pass
        elif self.expect_answer(ex, "updateSim", rule, answers):
            default_active = self.facts.defaults("updateSim")["active"]
            self.sims[sim_id] = {
                "id": sim_id,
                "alias": cast(dict, sim)["alias"] if alias is OMIT else alias,  # succeeded: it was provisioned
                "active": default_active if active is OMIT else active,
            }
            self.remember()
        self.verify(sim_id, "read after update")

    def learned(self, ex: Exchange, op_id: str, body: dict[str, Any], answers: list | None) -> bool:
        """An alias the suite cannot be sure of, expected free, found taken: a SIM of ours it does not know has
        it (R20), learned, not a violation. Unless a SIM it knows has the alias in another case: then that SIM's
        alias is freed and the request sent again; if it now succeeds, the alias was not compared exactly."""
        alias = body.get("alias")
        if answers is not None or not isinstance(alias, str) or self.sure(alias):
            return False
        conflict = (409, self.facts.code(op_id, 409, "alias"))
        if not (ex.status == conflict[0] and ex.json == self.facts.error_body(op_id, *conflict)):
            return False
        twins = [
            i for i, s in self.sims.items() if i != body["id"] and s and (s["alias"] or "").lower() == alias.lower()
        ]
        if twins:
            twin, kept = twins[0], cast(dict, self.sims[twins[0]])["alias"]  # twins are provisioned
            self.update_sim(twin, None, cast(dict, self.sims[twin])["active"], "free an alias (R20)")
            again = self.send(op_id, json_body=body)
            if again.status == self.facts.success_status(op_id):
                rule = "aliases are compared exactly (R20)"
                self.fail(
                    ex,
                    op_id,
                    rule,
                    f"success: only {kept!r}, in another case, was taken",
                    f"{ex.seen()}, and once {kept!r} was freed the same request answered {again.seen()}",
                )
            self.update_sim(twin, kept, cast(dict, self.sims[twin])["active"], "give the alias back (R20)")
        self.elsewhere.add(alias)
        return True

    def delete_sim(self, sim_id: str, rule: str) -> None:
        """R8: deprovision (404 when not provisioned); alias and active state are discarded."""
        outcome = None if self.sims[sim_id] else (404, self.facts.code("deleteSim", 404))
        ex = self.send("deleteSim", json_body={"id": sim_id})
        if self.expect(ex, "deleteSim", rule, outcome, self.ok_body("deleteSim")):
            self.sims[sim_id] = None
        self.verify(sim_id, "not found after delete")

    # --- unchecked: moves the state the other concerns meet ------------------------------------------

    @precondition(lambda self: bool(self.mine))
    @rule(MOVER, data=st.data())
    def provision_or_deprovision(self, data: st.DataObject) -> None:
        sim_id = data.draw(st.sampled_from(self.mine), label="id")
        if self.sims[sim_id] is None:
            alias = data.draw(st.sampled_from([OMIT, self.own_alias(sim_id)]), label="alias")
            self.send("createSim", json_body=self.body(id=sim_id, alias=alias, active=self.draw_active(data)))
        elif sim_id in self.deletable:
            self.send("deleteSim", json_body={"id": sim_id})
        self.sims[sim_id] = self.peek(sim_id)
        self.remember()

    # --- lifecycle ----------------------------------------------------------------------------------

    def lifecycle_alias(self, data: st.DataObject, sim_id: str) -> Any:
        """Omitted, null, or an alias only this SIM is given: the lifecycle meets no alias conflict."""
        return data.draw(st.sampled_from([OMIT, None, self.own_alias(sim_id)]), label="alias")

    @rule("lifecycle", data=st.data())
    def create(self, data: st.DataObject) -> None:
        """R8: provision (409 id_conflict when provisioned); R20: omitted alias is none, omitted active true."""
        sim_id = self.pick(data, self.mine, [s for s in self.mine if not self.sims[s]], "id")
        alias = self.lifecycle_alias(data, sim_id)
        self.create_sim(sim_id, alias, self.draw_active(data), "create SIM (R8, R20)")

    @rule("lifecycle", data=st.data())
    def update(self, data: st.DataObject) -> None:
        """R9, R20: an omitted active is true, an omitted alias kept, a null alias removed; R8: 404."""
        sim_id = self.pick(data, self.mine, [s for s in self.mine if self.sims[s]], "id")
        alias = self.lifecycle_alias(data, sim_id)
        self.update_sim(sim_id, alias, self.draw_active(data), "update SIM (R8, R9, R20)")

    @precondition(lambda self: bool(self.deletable))
    @rule("lifecycle", data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """R8: deprovision (404 when not provisioned): not found afterwards; created again it starts afresh."""
        sim_id = self.pick(data, self.deletable, [s for s in self.deletable if self.sims[s]], "id")
        self.delete_sim(sim_id, "delete SIM (R8)")

    @rule("lifecycle", data=st.data())
    def retrieve(self, data: st.DataObject) -> None:
        self.verify(data.draw(st.sampled_from(self.mine), label="id"), "retrieve SIM (R8, R20)")

    # --- aliases ------------------------------------------------------------------------------------

    def draw_alias(self, data: st.DataObject, sim_id: str) -> Any:
        """Omitted, null, another SIM's alias (ours or another account's), a case variant of one (often one the
        suite is sure of: R20 compares exactly), or a free one."""
        taken = [s["alias"] for i, s in self.sims.items() if i != sim_id and s and s["alias"]]
        variants = [a.swapcase() for a in taken if a.swapcase() != a]
        groups = {
            "omitted or null": [OMIT, None],
            "another SIM's": taken,
            "another account's": [s["alias"] for s in self.their.values() if s and s["alias"]],
            "a case variant": sorted(variants, key=lambda a: not self.sure(a)),  # sure ones first
            "free": [a for a in self.aliases if a not in self.elsewhere and not self.alias_taken(a, sim_id)],
        }
        schema = {**self.facts.properties("createSim")["alias"], "type": "string"}
        groups = {k: [a for a in g if a in (OMIT, None) or self.facts.valid(schema, a)] for k, g in groups.items()}
        kinds = [k for k, g in groups.items() if g]
        kind = data.draw(st.sampled_from([k for k in kinds for _ in range(1 if k == "omitted or null" else 2)]), "kind")
        return data.draw(st.sampled_from(groups[kind]), label="alias")

    @rule("aliases", data=st.data())
    def set_alias(self, data: st.DataObject) -> None:
        """R20: an alias another SIM of ours has is 409 alias_conflict; one another account's SIM has, or a case
        variant of a taken one, is free; a new alias frees the old one, null frees it; R9: omitted, it is kept.
        Created when not provisioned, else mostly updated (R8: create is then 409 id_conflict), or deleted:
        a deleted SIM's alias is discarded, and another SIM may take it."""
        sim_id = data.draw(st.sampled_from(self.mine), label="id")
        way = data.draw(st.integers(0, 5), label="update unless 4: create, 5: delete") if self.sims[sim_id] else 4
        if way == 5 and sim_id in self.deletable:
            return self.delete_sim(sim_id, "delete SIM (R8, R20)")
        alias, active = self.draw_alias(data, sim_id), self.draw_active(data)
        if way == 4:
            self.create_sim(sim_id, alias, active, "create SIM with an alias (R8, R20)")
        else:
            self.update_sim(sim_id, alias, active, "update SIM's alias (R9, R20)")

    @precondition(
        lambda self: bool(self.theirs) and not any(s and s["alias"] in self.made_up for s in self.their.values())
    )
    @rule("aliases", data=st.data())
    def their_sim_takes_an_alias(self, data: st.DataObject) -> None:
        """Unchecked: the second account gives one of its SIMs an alias of the suite's (undone at the end), so
        that R20's "per account" meets an alias another account's SIM has."""
        sim_id = data.draw(st.sampled_from(self.theirs), label="their id")
        alias = data.draw(st.sampled_from(sorted(self.made_up)), label="alias for them")
        op_id = "createSim" if self.their[sim_id] is None else "updateSim"
        self.send(op_id, json_body={"id": sim_id, "alias": alias}, who=self.target.second)
        self.their[sim_id] = self.peek(sim_id, self.target.second)

    # --- ownership ----------------------------------------------------------------------------------

    def addressed(self, op_id: str, sim_id: str) -> dict[str, Any]:
        """The spec's example body for `op_id`, addressing `sim_id` (the field whose `_forbidden` it documents)."""
        field = self.facts.code(op_id, 403).removesuffix("_forbidden")
        body = {**(self.facts.body_example(op_id) or {}), field: sim_id}
        if op_id in WRITES:
            body.pop("alias", None)  # no alias conflict can come into it
        return body

    @precondition(lambda self: bool(self.theirs))
    @rule("ownership", data=st.data())
    def their_sim_is_forbidden(self, data: st.DataObject) -> None:
        """R8: another account's SIM is 403 on every operation, usage included, and nothing changes."""
        sim_id = data.draw(st.sampled_from(self.theirs), label="their id")
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        ex = self.send(op_id, json_body=self.addressed(op_id, sim_id))
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "another account's SIM is forbidden (R8)")
        self.check_theirs(sim_id, ex, op_id, "a refused request changes nothing (R5, R8)")

    @precondition(lambda self: self.target.second is not None)
    @rule("ownership", data=st.data())
    def they_cannot_touch_ours(self, data: st.DataObject) -> None:
        """R8: the second account gets 403 for our SIMs, provisioned or not, and nothing changes."""
        sim_id = data.draw(st.sampled_from(self.mine), label="id")
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        ex = self.send(op_id, json_body=self.addressed(op_id, sim_id), who=self.target.second)
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "our SIM is forbidden to another account (R8)")
        self.verify(sim_id, "nothing changes")

    @rule("ownership", data=st.data())
    def unknown_id(self, data: st.DataObject) -> None:
        """R8: an id in no inventory: create 403 id_forbidden (its only documented code for it), the others
        their 404 (usage sim_id_not_found)."""
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        status = 403 if op_id == "createSim" else 404
        ex = self.send(op_id, json_body=self.addressed(op_id, self.unknown))
        self.expect_error(ex, op_id, status, self.facts.code(op_id, status), "an id in no inventory (R8)")

    # --- input --------------------------------------------------------------------------------------

    @rule("input", data=st.data())
    def invalid_field_changes_nothing(self, data: st.DataObject) -> None:
        """R5, R5a: one invalid body field, or one the operation does not document, answers what the contract
        allows for it (a documented field's code before body_invalid), before any state error (403, 404,
        409), and changes nothing."""
        op_id = data.draw(st.sampled_from(["createSim", "updateSim", "retrieveSim", "deleteSim"]), label="operation")
        whose = data.draw(st.sampled_from(["mine", "mine", "unknown", *(["theirs"] if self.theirs else [])]), "SIM")
        sim_id = {"mine": None, "unknown": self.unknown}.get(whose) or data.draw(
            st.sampled_from(self.mine if whose == "mine" else self.theirs), label="id"
        )
        props = self.facts.properties(op_id)
        documented = sorted(n for n, s in props.items() if error_code(s))
        name = data.draw(st.sampled_from([*documented, UNKNOWN_FIELD]), label="field")
        if name == UNKNOWN_FIELD:
            value: Any = "red"
        else:
            edges = [v for v in ONE_OFF.get(name, []) if not self.facts.valid(props[name], v)]
            value = data.draw(st.sampled_from([*self.facts.invalid_values(props[name]), *edges]), label="value")
        body = {"id": sim_id, name: value}
        if name not in ("id", UNKNOWN_FIELD) and data.draw(st.booleans(), label="and an unknown field"):
            body[UNKNOWN_FIELD] = "red"  # the documented field's code answers first (R5)
        ex = self.send(op_id, json_body=body)
        self.expect_any(ex, op_id, self.invalid(op_id, name, value), f"invalid {name} answers its code first (R5a)")
        if whose == "mine":
            self.verify(sim_id, "nothing changes after invalid input (R5)")
        elif whose == "theirs":
            self.check_theirs(sim_id, ex, op_id, "nothing changes after invalid input (R5)")

    # --- usage --------------------------------------------------------------------------------------

    def times(self) -> list[str]:
        """Window bounds: each record time seen, a second before and after, a day around them all (or recent
        days when none is seen), and R7's edges."""
        moments = [datetime.strptime(t, TIME) for t in self.seen_times[-6:] if TIME_SHAPE.fullmatch(t)]
        if not moments:
            today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
            found = {today + timedelta(days=d) for d in (-2, -1, 0, 1)}
        else:
            found = {min(moments) - timedelta(days=1), max(moments) + timedelta(days=1)}
            for moment in moments:
                found |= {moment - timedelta(seconds=1), moment, moment + timedelta(seconds=1)}
        return sorted({*(m.strftime(TIME) for m in found), *EDGES})

    def window(self, sim_id: str, begin: str, end: str, outcome: tuple[int, str] | None) -> list[dict] | None:
        """One usage query; its records checked against the window (and the reference fixtures)."""
        ex = self.send("retrieveUsage", json_body={"sim_id": sim_id, "time_begin": begin, "time_end": end})
        if not self.expect(ex, "retrieveUsage", "retrieve usage (R8, R21)", outcome):
            return None
        records = ex.json.get("usage") if isinstance(ex.json, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            self.fail(ex, "retrieveUsage", "usage is a list of records (R21)", '{"usage": [{...}, ...]}')
        stray = [
            r
            for r in records
            if r.get("sim_id") != sim_id or not TIME_SHAPE.fullmatch(str(r.get("time"))) or not begin <= r["time"] < end
        ]
        if stray:
            self.fail(ex, "retrieveUsage", "only the SIM's records in [time_begin, time_end) (R21)", "none", f"{stray}")
        expected = [r for r in self.records if r.get("sim_id") == sim_id and begin <= str(r.get("time")) < end]
        missing = Counter(map(_key, expected)) - Counter(map(_key, records))
        if missing:
            self.fail(ex, "retrieveUsage", "every record of the window (R21, the reference fixtures)", f"{missing}")
        for record in records:
            if record["time"] not in self.seen_times:
                self.seen_times.append(record["time"])
        if records:
            self.with_records.add(sim_id)
        return records

    @rule("usage", data=st.data())
    def usage(self, data: st.DataObject) -> None:
        """R21, R5a: the SIM's records in [time_begin, time_end), any order; time_end before time_begin is 400
        time_end_invalid before any state error; another account's SIM 403, not provisioned 404; a window split
        in two answers the same records as the whole; R7: an invalid time answers its code first (one in four)."""
        if data.draw(st.integers(0, 3), label="a window unless 3: an invalid time") == 3:
            return self.usage_time_invalid(data)
        whose = data.draw(st.sampled_from(["mine"] * 3 + ["unknown", *(["theirs"] if self.theirs else [])]), "SIM")
        if whose == "mine":
            provisioned = [s for s in self.mine if self.sims[s]]
            with_records = [s for s in provisioned if s in self.with_records]
            sim_id = self.pick(data, self.mine, with_records or provisioned, "sim_id")
        else:
            sim_id = self.unknown if whose == "unknown" else data.draw(st.sampled_from(self.theirs), "their id")
        times = self.times()
        bounds = sorted([data.draw(st.sampled_from(times), "a bound"), data.draw(st.sampled_from(times), "another")])
        backwards = data.draw(st.integers(0, 3), label="time_end before time_begin unless 0-2") == 3
        begin, end = reversed(bounds) if backwards else bounds
        if whose == "mine" and self.sims[sim_id] and sim_id not in self.explored:
            begin, end = EDGES  # first, R7's whole range: the records' times give the later windows their bounds
            self.explored.add(sim_id)
        if end < begin:
            outcome = (400, self.facts.code("retrieveUsage", 400, "time_end"))
        elif whose == "theirs":
            outcome = (403, self.facts.code("retrieveUsage", 403))
        elif whose == "unknown" or not self.sims[sim_id]:
            outcome = (404, self.facts.code("retrieveUsage", 404))
        else:
            outcome = None
        found = self.window(sim_id, begin, end, outcome)
        if found is None or begin == end:
            return
        inside = sorted({r["time"] for r in found if begin < r["time"] < end})  # where [time_begin counts
        between = st.sampled_from([t for t in times if begin <= t <= end])
        middle = data.draw(st.sampled_from(inside) | between if inside else between, label="split at")
        halves = (self.window(sim_id, begin, middle, None) or []) + (self.window(sim_id, middle, end, None) or [])
        if Counter(map(_key, halves)) != Counter(map(_key, found)):
            again = self.window(sim_id, begin, end, None) or []
            if Counter(map(_key, again)) == Counter(map(_key, found)):  # not records arriving meanwhile
                ex = self.send("retrieveUsage", json_body={"sim_id": sim_id, "time_begin": begin, "time_end": end})
                rule = "a window split in two answers the same records as the whole (R21)"
                self.fail(ex, "retrieveUsage", rule, f"{len(found)} records", f"the halves: {halves}")

    def usage_time_invalid(self, data: st.DataObject) -> None:
        """R7, R21, R5a: a time that is missing, of another shape, or of the right shape but no real calendar
        time answers that field's code before any state error."""
        whose = data.draw(st.sampled_from(["mine", "unknown", *(["theirs"] if self.theirs else [])]), "SIM")
        sim_id = (
            self.unknown
            if whose == "unknown"
            else data.draw(st.sampled_from(self.mine if whose == "mine" else self.theirs), label="sim_id")
        )
        name = data.draw(st.sampled_from(["time_begin", "time_end"]), label="field")
        value = data.draw(st.sampled_from([*NO_TIMES, MISSING]), label="value")
        body = {"sim_id": sim_id, "time_begin": EDGES[0], "time_end": EDGES[1], name: value}
        if value is MISSING:
            del body[name]
        ex = self.send("retrieveUsage", json_body=body)
        self.expect_any(ex, "retrieveUsage", self.invalid("retrieveUsage", name, value), f"invalid {name} (R7, R21)")

    # --- connectors (R18 as amended) ----------------------------------------------------------------

    @classmethod
    def connector_call(cls, op_id: str, cid: str, fields: dict[str, Any] | None = None) -> Exchange:
        """A Connector operation on `id` (in the JSON body, with `fields`)."""
        return cls.send(op_id, json_body={"id": cid, **(fields or {})})

    @classmethod
    def connector_sent(cls, cid: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The `id` was sent in the body too: it reads back with the rest."""
        return {"id": cid, **fields}


@pytest.mark.check("behaviour: {concern}")
@pytest.mark.parametrize("concern", concern_params(SimV3Machine))
@pytest.mark.apis("sim-v3")
def test_sim_v3_behaviour(target: Target, concern: str):
    """sim-v3 SIM, usage and Connector state, compared with the rulings' model after every request."""
    run_machine(SimV3Machine, target, concern)
