"""Behaviour of sim-v3: SIMs by id in JSON bodies, usage records and Connectors, as a state machine over HTTP.

The model holds, for every SIM of the first account's inventory, whether it is provisioned, its alias and
whether it is active, plus the Connectors of a few ids. Rules provision, update, deprovision and read
SIMs (parameters in JSON bodies on every method, R19), query usage, and compare every answer with the
rulings: R8 (create of a provisioned SIM 409 `id_conflict`; an id of another account, or of none, 403
on create; another account's SIM 403 both ways; not provisioned 404), R9/R20 (an omitted `active` is
true, an omitted alias keeps the stored one, `"alias": null` removes it; aliases unique per account and
compared exactly, freed by delete), R21 (`GET /usage` returns the SIM's records in `[time_begin,
time_end)` in any order: every record in the window and of that SIM, the fixtures' records of the window
all present, and a window split in two answers the same records as the whole; `time_end` before
`time_begin` is 400 before any state error), R5 (an invalid field answers its code first and changes
nothing) and R18 (a Connector reads back as stored). SIMs with usage records in the fixtures are never
deprovisioned, so their records stay what the fixtures say. Each run starts from, and the test ends
with, the state the SIMs were found in.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from apicontract.contracts.behaviour import BehaviourMachine, run_machine, unknown_identifier
from apicontract.contracts.target import Target

Sim = dict[str, Any] | None  # the SIM as retrieve answers it, None while not provisioned
TIME = "%Y-%m-%d %H:%M:%S"  # R7
SIM_OPS = ["retrieveSim", "createSim", "updateSim", "deleteSim", "retrieveUsage"]
OMIT = "omit"


class SimV3Machine(BehaviourMachine):
    mine: ClassVar[list[str]]
    theirs: ClassVar[list[str]]
    deletable: ClassVar[list[str]]
    snapshot: ClassVar[dict[str, Sim]]
    aliases: ClassVar[list[str]]
    records: ClassVar[list[dict]]  # the first account's usage records in the fixtures
    times: ClassVar[list[str]]  # window bounds around those records
    connector_ids: ClassVar[list[str]]
    connectors_found: ClassVar[dict[str, Any]]

    # --- reading and restoring ----------------------------------------------------------------------

    @classmethod
    def read(cls, sim_id: str, rule: str, who=None) -> Sim:
        ex = cls.send("retrieveSim", json_body={"id": sim_id}, who=who)
        if ex.status == 200:
            return ex.json
        cls.expect_error(ex, "retrieveSim", 404, cls.facts.code("retrieveSim", 404), rule)
        return None

    @classmethod
    def prepare(cls) -> None:
        target, facts = cls.target, cls.facts
        cls.mine = target.inventory(0, None)
        cls.theirs = target.inventory(1, None)
        cls.unknown = unknown_identifier([*cls.mine, *cls.theirs])
        cls.snapshot = {sim_id: cls.read(sim_id, "read the SIM's current state") for sim_id in cls.mine}
        accounts = target.accounts
        cls.records = list(accounts[0].get("usage") or []) if accounts else []
        with_usage = {str(r.get("sim_id")) for r in cls.records}
        cls.deletable = [s for s in cls.mine if s not in with_usage]
        cls.times = cls.window_bounds([str(r["time"]) for a in accounts for r in a.get("usage") or []])
        alias_schema = {**facts.properties("createSim")["alias"], "type": "string"}
        candidates = [s["alias"] for s in cls.snapshot.values() if s and s.get("alias")]
        candidates += [str(s.get("alias")) for a in accounts[1:2] for s in a.get("sims") or [] if s.get("alias")]
        candidates.append((facts.body_example("createSim") or {}).get("alias"))
        candidates += [c.swapcase() for c in candidates[:1] if c] + ["A" + "b" * 63]
        cls.aliases = [a for a in dict.fromkeys(candidates) if a and facts.valid(alias_schema, a)]
        cls.connector_ids = ["behaviour-connector-1", "behaviour-connector-2"]
        cls.connectors_found = {cid: cls.connector(cid) for cid in cls.connector_ids}

    @staticmethod
    def window_bounds(times: list[str]) -> list[str]:
        """Each record's time, a second before and after, and a day around them all: bounds that split records."""
        moments = [datetime.strptime(t, TIME) for t in times] or [datetime(2018, 1, 1)]
        found = {min(moments) - timedelta(days=1), max(moments) + timedelta(days=1)}
        for moment in moments:
            found |= {moment - timedelta(seconds=1), moment, moment + timedelta(seconds=1)}
        return sorted(m.strftime(TIME) for m in found)

    @classmethod
    def connector(cls, cid: str, who=None) -> Any:
        ex = cls.send("retrieveConnector", json_body={"id": cid}, who=who)
        if ex.status == 200:
            return ex.json
        cls.expect_error(ex, "retrieveConnector", 404, cls.facts.code("retrieveConnector", 404), "read a Connector")
        return None

    @classmethod
    def restore(cls) -> None:
        """Back to the snapshot: free the aliases of what differs (or deprovision it), then set each SIM anew."""
        rule = "restore the state the test found"
        now = {sim_id: cls.read(sim_id, rule) for sim_id in cls.mine}
        differs = [s for s in cls.mine if now[s] != cls.snapshot[s]]
        for sim_id in differs:
            want = cls.snapshot[sim_id]
            if now[sim_id] is not None and want is None:
                cls.expect_ok(cls.send("deleteSim", json_body={"id": sim_id}), "deleteSim", rule)
            elif now[sim_id] is not None:
                body = {"id": sim_id, "alias": None, "active": want["active"]}
                cls.expect_ok(cls.send("updateSim", json_body=body), "updateSim", rule)
        for sim_id in differs:
            want = cls.snapshot[sim_id]
            if want is not None:
                op_id = "createSim" if now[sim_id] is None else "updateSim"
                cls.expect_ok(cls.send(op_id, json_body=dict(want)), op_id, rule)
        for cid, want in cls.connectors_found.items():
            have = cls.connector(cid)
            if have != want:
                op_id = "deleteConnector" if want is None else "createConnector" if have is None else "updateConnector"
                cls.expect_ok(cls.send(op_id, json_body=want or {"id": cid}), op_id, rule)

    @classmethod
    def finish(cls) -> None:
        cls.restore()

    @initialize()
    def start(self) -> None:
        self.restore()
        self.sims: dict[str, Sim] = copy.deepcopy(self.snapshot)
        self.connectors: dict[str, Any] = copy.deepcopy(self.connectors_found)
        self.released: list[str] = []  # aliases of SIMs the machine deleted: free again (R20)

    # --- the model ----------------------------------------------------------------------------------

    def alias_taken(self, alias: str | None, sim_id: str) -> bool:
        """R20: another provisioned SIM of ours has exactly this alias."""
        return alias is not None and any(s and s["alias"] == alias for i, s in self.sims.items() if i != sim_id)

    def verify(self, sim_id: str, rule: str) -> None:
        sim = self.sims[sim_id]
        ex = self.send("retrieveSim", json_body={"id": sim_id})
        self.expect(ex, "retrieveSim", rule, None if sim else (404, self.facts.code("retrieveSim", 404)), sim)

    def draw_alias(self, data: st.DataObject, sim_id: str) -> Any:
        """Omitted, null, one of the pool, or (often) one another SIM has now or a deleted one had (R20)."""
        taken = [s["alias"] for i, s in self.sims.items() if s and s["alias"] and i != sim_id]
        pool = st.sampled_from(self.aliases) | st.sampled_from(taken or self.aliases)
        pool |= st.sampled_from(self.released or self.aliases)
        return data.draw(st.sampled_from([OMIT, None]) | pool, label="alias")

    def draw_active(self, data: st.DataObject) -> Any:
        return data.draw(st.sampled_from([OMIT, True, False]), label="active")

    @staticmethod
    def body(**fields: Any) -> dict[str, Any]:
        return {k: v for k, v in fields.items() if v is not OMIT}

    # --- SIM rules ----------------------------------------------------------------------------------

    @rule(data=st.data())
    def create(self, data: st.DataObject) -> None:
        """R8, R20: provision with the spec's defaults (alias null, active true); 409 id_conflict, alias_conflict."""
        sim_id = self.pick(data, self.mine, [s for s in self.mine if not self.sims[s]], "id")
        alias, active = self.draw_alias(data, sim_id), self.draw_active(data)
        defaults = self.facts.defaults("createSim")
        if self.sims[sim_id] is not None:
            outcome = (409, self.facts.code("createSim", 409, "id"))
        elif self.alias_taken(None if alias is OMIT else alias, sim_id):
            outcome = (409, self.facts.code("createSim", 409, "alias"))
        else:
            outcome = None
        ex = self.send("createSim", json_body=self.body(id=sim_id, alias=alias, active=active))
        if self.expect(ex, "createSim", "create SIM (R8, R20)", outcome, self.ok_body("createSim")):
            chosen = {"alias": alias, "active": active}
            self.sims[sim_id] = {"id": sim_id, **{k: defaults[k] if v is OMIT else v for k, v in chosen.items()}}
        self.verify(sim_id, "read after create")

    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        """R9: an omitted active is true, an omitted alias kept, a null alias removed; R20 alias_conflict."""
        sim_id = self.pick(data, self.mine, [s for s in self.mine if self.sims[s]], "id")
        alias, active = self.draw_alias(data, sim_id), self.draw_active(data)
        sim = self.sims[sim_id]
        if sim is None:
            outcome = (404, self.facts.code("updateSim", 404))
        elif alias is not OMIT and self.alias_taken(alias, sim_id):
            outcome = (409, self.facts.code("updateSim", 409, "alias"))
        else:
            outcome = None
        ex = self.send("updateSim", json_body=self.body(id=sim_id, alias=alias, active=active))
        if self.expect(ex, "updateSim", "update SIM (R9, R20)", outcome, self.ok_body("updateSim")):
            default_active = self.facts.defaults("updateSim")["active"]
            self.sims[sim_id] = {
                "id": sim_id,
                "alias": sim["alias"] if alias is OMIT else alias,
                "active": default_active if active is OMIT else active,
            }
        self.verify(sim_id, "read after update")

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """R8: deprovision (404 when not provisioned); its alias is discarded and free for another SIM."""
        sim_id = self.pick(data, self.deletable, [s for s in self.deletable if self.sims[s]], "id")
        outcome = None if self.sims[sim_id] else (404, self.facts.code("deleteSim", 404))
        ex = self.send("deleteSim", json_body={"id": sim_id})
        if self.expect(ex, "deleteSim", "delete SIM (R8)", outcome, self.ok_body("deleteSim")):
            if self.sims[sim_id]["alias"]:
                self.released.append(self.sims[sim_id]["alias"])
            self.sims[sim_id] = None
        self.verify(sim_id, "not found after delete")

    @rule(data=st.data())
    def retrieve(self, data: st.DataObject) -> None:
        self.verify(data.draw(st.sampled_from(self.mine), label="id"), "retrieve SIM (R8, R20)")

    @rule(data=st.data())
    def usage(self, data: st.DataObject) -> None:
        """R21: the SIM's records in [time_begin, time_end), any order; 400 for an end before the begin first."""
        with_records = sorted({str(r["sim_id"]) for r in self.records if r["sim_id"] in self.mine})
        whose = data.draw(st.sampled_from(["mine", "theirs", "unknown"] if self.theirs else ["mine"]), "SIM")
        sim_id = {"theirs": (self.theirs or [""])[0], "unknown": self.unknown}.get(whose) or self.pick(
            data, self.mine, with_records, "sim_id"
        )
        begin, end = data.draw(st.sampled_from(self.times), "time_begin"), data.draw(st.sampled_from(self.times), "end")
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
        middle = data.draw(st.sampled_from([t for t in self.times if begin <= t <= end]), label="split at")
        halves = (self.window(sim_id, begin, middle, None) or []) + (self.window(sim_id, middle, end, None) or [])
        if Counter(map(_key, halves)) != Counter(map(_key, found)):
            ex = self.send("retrieveUsage", json_body={"sim_id": sim_id, "time_begin": begin, "time_end": end})
            self.fail(ex, "retrieveUsage", "windows split in two answer the same records (R21)", f"{halves}")

    def window(self, sim_id: str, begin: str, end: str, outcome: tuple[int, str] | None) -> list[dict] | None:
        """One usage query; its records checked against the window and the fixtures."""
        ex = self.send("retrieveUsage", json_body={"sim_id": sim_id, "time_begin": begin, "time_end": end})
        if not self.expect(ex, "retrieveUsage", "retrieve usage (R8, R21)", outcome):
            return None
        records = ex.json.get("usage") if isinstance(ex.json, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            self.fail(ex, "retrieveUsage", "usage is a list of records (R21)", '{"usage": [...]}')
        stray = [r for r in records if r.get("sim_id") != sim_id or not begin <= str(r.get("time")) < end]
        if stray:
            self.fail(ex, "retrieveUsage", "only the SIM's records in [time_begin, time_end) (R21)", "none", f"{stray}")
        expected = [r for r in self.records if r.get("sim_id") == sim_id and begin <= r["time"] < end]
        missing = Counter(map(_key, expected)) - Counter(map(_key, records))
        if missing:
            self.fail(ex, "retrieveUsage", "every record of the window (R21)", f"also {sorted(missing)}")
        return records

    @rule(data=st.data())
    def invalid_field_changes_nothing(self, data: st.DataObject) -> None:
        """R5, R5a: one invalid field answers its own code before any state error, and changes nothing."""
        op_id = data.draw(st.sampled_from(["createSim", "updateSim"]), label="operation")
        sim_id = data.draw(st.sampled_from(self.mine), label="id")
        props = self.facts.properties(op_id)
        name = data.draw(st.sampled_from(sorted(n for n, s in props.items() if "x-error-code" in s and n != "id")))
        value = data.draw(st.sampled_from(self.facts.invalid_values(props[name])), label="invalid value")
        ex = self.send(op_id, json_body={"id": sim_id, name: value})
        status, code = self.facts.field_code(op_id, name)
        self.expect_error(ex, op_id, status, code, f"invalid {name} answers {code} first (R5a)")
        self.verify(sim_id, "nothing changes after invalid input (R5)")

    def addressed(self, op_id: str, sim_id: str) -> dict[str, Any]:
        """The spec's example body for `op_id`, addressing `sim_id` (the field whose `_forbidden` it documents)."""
        field = self.facts.code(op_id, 403).removesuffix("_forbidden")
        return {**(self.facts.body_example(op_id) or {}), field: sim_id}

    @precondition(lambda self: bool(self.theirs))
    @rule(data=st.data())
    def their_sim_is_forbidden(self, data: st.DataObject) -> None:
        """R8: another account's SIM is 403 on every operation, usage included."""
        sim_id = data.draw(st.sampled_from(self.theirs), label="their id")
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        ex = self.send(op_id, json_body=self.addressed(op_id, sim_id))
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "another account's SIM is forbidden (R8)")

    @precondition(lambda self: self.target.second is not None)
    @rule(data=st.data())
    def they_cannot_touch_ours(self, data: st.DataObject) -> None:
        """R8: the second account gets 403 for our SIMs, and nothing changes."""
        sim_id = data.draw(st.sampled_from(self.mine), label="id")
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        body = self.addressed(op_id, sim_id)
        if op_id in ("createSim", "updateSim"):
            body.pop("alias", None)
        ex = self.send(op_id, json_body=body, who=self.target.second)
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "our SIM is forbidden to another account (R8)")
        self.verify(sim_id, "nothing changes")

    @rule(data=st.data())
    def unknown_id(self, data: st.DataObject) -> None:
        """R8: an id in no inventory: create 403 (its only documented code for it), the others their 404."""
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        status = 403 if op_id == "createSim" else 404
        ex = self.send(op_id, json_body=self.addressed(op_id, self.unknown))
        self.expect_error(ex, op_id, status, self.facts.code(op_id, status), "an id in no inventory (R8)")

    # --- Connector rules (R18) ----------------------------------------------------------------------

    @rule(data=st.data())
    def connector_lifecycle(self, data: st.DataObject) -> None:
        """R18: create (409 when it exists), update (404 when it does not), delete, each read back as stored."""
        cid = data.draw(st.sampled_from(self.connector_ids), label="id")
        op_id = data.draw(st.sampled_from(["createConnector", "updateConnector", "deleteConnector"]), label="op")
        have = self.connectors[cid]
        extra = st.fixed_dictionaries({}, optional={"type": st.sampled_from(["webhook", "mqtt"]), "n": st.integers()})
        body = {"id": cid, **(data.draw(extra, label="connector") if op_id != "deleteConnector" else {})}
        if op_id == "createConnector":
            outcome = (409, self.facts.code(op_id, 409)) if have is not None else None
        else:
            outcome = (404, self.facts.code(op_id, 404)) if have is None else None
        ex = self.send(op_id, json_body=body)
        if self.expect(ex, op_id, "Connector lifecycle (R18)", outcome, self.ok_body(op_id)):
            self.connectors[cid] = None if op_id == "deleteConnector" else body
        want = self.connectors[cid]
        ex = self.send("retrieveConnector", json_body={"id": cid})
        outcome = None if want is not None else (404, self.facts.code("retrieveConnector", 404))
        self.expect(ex, "retrieveConnector", "a Connector reads back as stored (R18)", outcome, want)


def _key(record: Any) -> str:
    return repr(sorted(record.items())) if isinstance(record, dict) else repr(record)


@pytest.mark.apis("sim-v3")
def test_sim_v3_behaviour(target: Target):
    """sim-v3 SIM, usage and Connector state, compared with the rulings' model after every request."""
    run_machine(SimV3Machine, target)
