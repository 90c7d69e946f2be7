"""Behaviour of sim-v1: SIMs by uuid and Send SMS, as a state machine over HTTP, one check per concern.

The model holds, for every SIM of the first account's inventory, whether it is provisioned, its
settings (voice, sms, data) and its PIN and PUK, learned through the API. Each concern is its own check
(a failure in one never stops another), with unchecked rules that provision and deprovision SIMs so
every concern meets both states:

- lifecycle: R8 (create of a provisioned SIM 409 `uuid_conflict`, delete then not found, create again),
  R9 (an omitted create or update setting takes its default, true, not the stored value), R11 (PIN and
  PUK stable per SIM, across delete and create), read back after every write, JSON and form bodies;
- ownership: R8 (another account's SIM 403 on every operation, whatever its state, both ways; a uuid in
  no inventory 404 with each operation's own code: update `uuid_not_found`, retrieve `sim_not_found`);
- input: R5, R5a, R10 (one invalid setting answers its code before any state error and changes nothing);
- sms: R12, R5a (`from`/`text` at both edges of their lengths, checked before the SIM; only to a
  provisioned SIM of ours) and that sending changes no SIM.

Each run starts from, and the test ends with, the state the SIMs were found in.
"""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar, cast

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition

from apicontract.contracts.behaviour import (
    FORM,
    JSON,
    MOVER,
    BehaviourMachine,
    concern_params,
    rule,
    run_machine,
    unknown_identifier,
)
from apicontract.contracts.target import Target
from apicontract.specs.walk import error_code

Sim = dict[str, Any] | None  # the SIM as retrieve answers it, None while not provisioned
SIM_OPS = ["retrieveSim", "createSim", "updateSim", "deleteSim", "sendSms"]


class SimV1Machine(BehaviourMachine):
    CLAUSES: ClassVar[dict[str, tuple[str, ...]]] = {
        "lifecycle": ("R2.1", "R8.1", "R8.2", "R8.5", "R9.1", "R10.2", "R11.1"),
        "ownership": ("R3.4", "R5a.1", "R8.3", "R8.4"),
        "input": ("R5.1", "R5.5", "R5a.1", "R10.3"),
        "sms": ("R5a.1", "R12.1", "R12.2"),
    }
    mine: ClassVar[list[str]]
    theirs: ClassVar[list[str]]
    snapshot: ClassVar[dict[str, Sim]]
    flags: ClassVar[list[str]]
    unknown: ClassVar[str]  # a uuid no inventory holds
    codes: ClassVar[dict[str, dict[str, str | None]]]  # uuid -> {pin, puk}: the operator's, stable (R11)

    # --- reading and restoring ----------------------------------------------------------------------

    @classmethod
    def read(cls, uuid: str, rule: str) -> Sim:
        ex = cls.send("retrieveSim", f"/sim/{uuid}")
        if ex.status == 200:
            return ex.json
        cls.expect_error(ex, "retrieveSim", 404, cls.facts.code("retrieveSim", 404), rule)
        return None

    @classmethod
    def prepare(cls) -> None:
        target = cls.target
        cls.mine = target.inventory(0)
        cls.theirs = target.inventory(1)
        if not cls.mine:
            pytest.skip("the target gives its first account no SIMs (list them in the target file)")
        cls.unknown = unknown_identifier([*cls.mine, *cls.theirs])
        cls.flags = [n for n, s in cls.facts.component("Sim")["properties"].items() if s.get("type") == "boolean"]
        cls.snapshot = {uuid: cls.read(uuid, "read the SIM's current state") for uuid in cls.mine}
        stated = {s.identifier: s.known for s in target.accounts[0].sims}
        cls.codes = {}
        for uuid in cls.mine:
            known = cls.snapshot[uuid] or stated.get(uuid) or {}
            if "pin" in known and "puk" in known:
                cls.codes[uuid] = {"pin": str(known["pin"]), "puk": str(known["puk"])}

    @classmethod
    def restore(cls) -> None:
        """Bring every SIM back to the snapshot: update, delete or create what differs."""
        rule = "restore the state the test found"
        for uuid in cls.mine:
            have, want = cls.read(uuid, rule), cls.snapshot[uuid]
            if have == want:
                continue
            settings = {f: want[f] for f in cls.flags} if want else {}
            if want is None:
                cls.expect_ok(cls.send("deleteSim", f"/sim/{uuid}"), "deleteSim", rule)
            elif have is None:
                cls.expect_ok(cls.send("createSim", f"/sim/{uuid}", json_body=settings), "createSim", rule)
            else:
                cls.expect_ok(cls.send("updateSim", f"/sim/{uuid}", json_body=settings), "updateSim", rule)

    @classmethod
    def finish(cls) -> None:
        cls.restore()

    @initialize()
    def start(self) -> None:
        self.restore()
        self.sims: dict[str, Sim] = copy.deepcopy(self.snapshot)

    def resync(self) -> None:
        for uuid in self.mine:
            self.sims[uuid] = self.peek(uuid)

    def peek(self, uuid: str) -> Sim:
        """The SIM as the target holds it now, asserting nothing (state for the other rules)."""
        ex = self.send("retrieveSim", f"/sim/{uuid}")
        if ex.status == 200 and isinstance(ex.json, dict):
            self.codes.setdefault(uuid, {k: ex.json.get(k) for k in ("pin", "puk")})
            return ex.json
        return None

    # --- the model ----------------------------------------------------------------------------------

    def provisioned(self, uuid: str, settings: dict[str, bool]) -> dict[str, Any]:
        return {"uuid": uuid, **self.codes.get(uuid, {}), **settings}

    def verify(self, uuid: str, rule: str) -> None:
        """Read the SIM back: exactly the model, PIN and PUK included (R11)."""
        sim = self.sims[uuid]
        ex = self.send("retrieveSim", f"/sim/{uuid}")
        if sim is None:
            self.expect_error(ex, "retrieveSim", 404, self.facts.code("retrieveSim", 404), rule)
            return
        if uuid not in self.codes:  # PIN and PUK are the operator's: learned once, then held (R11)
            self.expect_ok(ex, "retrieveSim", rule)
            self.codes[uuid] = {"pin": ex.json.get("pin"), "puk": ex.json.get("puk")}
            sim = self.sims[uuid] = {**sim, **self.codes[uuid]}
        self.expect_ok(ex, "retrieveSim", rule, {k: sim[k] for k in ("uuid", "pin", "puk", *self.flags)})

    def draw_settings(self, data: st.DataObject) -> dict[str, bool]:
        chosen = data.draw(st.lists(st.sampled_from(self.flags), unique=True), label="settings given")
        return {name: data.draw(st.booleans(), label=name) for name in chosen}

    def path(self, op_id: str, uuid: str) -> str:
        return self.facts.ops[op_id].key.replace("{uuid}", uuid)

    def valid_body(self, op_id: str) -> dict[str, Any]:
        example = self.facts.body_example(op_id, FORM)
        return {} if example is None else {"form": example}

    # --- unchecked: moves the state the other concerns meet ------------------------------------------

    @rule(MOVER, data=st.data())
    def provision_or_deprovision(self, data: st.DataObject) -> None:
        uuid = data.draw(st.sampled_from(self.mine), label="uuid")
        if self.sims[uuid] is None:
            self.send("createSim", f"/sim/{uuid}", json_body=self.draw_settings(data))
        else:
            self.send("deleteSim", f"/sim/{uuid}")
        self.sims[uuid] = self.peek(uuid)

    # --- lifecycle ----------------------------------------------------------------------------------

    @rule("lifecycle", data=st.data())
    def create(self, data: st.DataObject) -> None:
        """R8: provision (409 when provisioned); R9: omitted settings take their default."""
        uuid = self.pick(data, self.mine, [u for u in self.mine if not self.sims[u]], "uuid")
        given = self.draw_settings(data)
        content_type = data.draw(st.sampled_from([FORM, JSON]), label="content type")
        defaults = self.facts.defaults("createSim")
        outcome = (409, self.facts.code("createSim", 409)) if self.sims[uuid] else None
        ex = self.send("createSim", f"/sim/{uuid}", **self.encoded(given, content_type))
        if self.expect(ex, "createSim", "create SIM (R8, R9)", outcome, self.ok_body("createSim")):
            self.sims[uuid] = self.provisioned(uuid, {f: given.get(f, defaults[f]) for f in self.flags})
        self.verify(uuid, "read after create")

    @rule("lifecycle", data=st.data())
    def update(self, data: st.DataObject) -> None:
        """R9: an omitted setting takes its default, not the stored value; R8: 404 uuid_not_found."""
        uuid = self.pick(data, self.mine, [u for u in self.mine if self.sims[u]], "uuid")
        given = self.draw_settings(data)
        content_type = data.draw(st.sampled_from([FORM, JSON]), label="content type")
        defaults = self.facts.defaults("updateSim")
        outcome = None if self.sims[uuid] else (404, self.facts.code("updateSim", 404))
        ex = self.send("updateSim", f"/sim/{uuid}", **self.encoded(given, content_type))
        if self.expect(ex, "updateSim", "update SIM (R9)", outcome, self.ok_body("updateSim")):
            sim = cast(dict, self.sims[uuid])  # succeeded: it was provisioned (outcome None)
            self.sims[uuid] = {**sim, **{f: given.get(f, defaults[f]) for f in self.flags}}
        self.verify(uuid, "read after update")

    @rule("lifecycle", data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """R8: deprovision; not found afterwards, and it can be created again."""
        uuid = self.pick(data, self.mine, [u for u in self.mine if self.sims[u]], "uuid")
        outcome = None if self.sims[uuid] else (404, self.facts.code("deleteSim", 404))
        ex = self.send("deleteSim", f"/sim/{uuid}")
        if self.expect(ex, "deleteSim", "delete SIM (R8)", outcome, self.ok_body("deleteSim")):
            self.sims[uuid] = None
        self.verify(uuid, "not found after delete")

    @rule("lifecycle", data=st.data())
    def retrieve(self, data: st.DataObject) -> None:
        self.verify(data.draw(st.sampled_from(self.mine), label="uuid"), "retrieve SIM (R8, R11)")

    @precondition(lambda self: any(self.sims.values()))
    @rule("lifecycle", data=st.data())
    def omitted_settings_take_defaults(self, data: st.DataObject) -> None:
        """R9: with every setting turned off, an update, and a create after delete, that omit them all
        answer with the defaults, never the stored values."""
        uuid = data.draw(st.sampled_from([u for u in self.mine if self.sims[u]]), label="uuid")
        content_type = data.draw(st.sampled_from([FORM, JSON]), label="content type")
        off = dict.fromkeys(self.flags, False)
        ex = self.send("updateSim", f"/sim/{uuid}", **self.encoded(off, content_type))
        self.expect_ok(ex, "updateSim", "update SIM (R9)", self.ok_body("updateSim"))
        self.sims[uuid] = {**cast(dict, self.sims[uuid]), **off}  # drawn among the provisioned
        self.verify(uuid, "read after turning every setting off")
        if data.draw(st.booleans(), label="through delete and create"):
            ex = self.send("deleteSim", f"/sim/{uuid}")
            self.expect_ok(ex, "deleteSim", "delete SIM (R8)", self.ok_body("deleteSim"))
            op_id, rule = "createSim", "a re-created SIM takes the defaults, not what it had (R8, R9)"
        else:
            op_id, rule = "updateSim", "an omitted setting takes its default (R9)"
        ex = self.send(op_id, f"/sim/{uuid}", **self.encoded({}, content_type))
        self.expect_ok(ex, op_id, rule, self.ok_body(op_id))
        defaults = self.facts.defaults(op_id)
        self.sims[uuid] = self.provisioned(uuid, {f: defaults[f] for f in self.flags})
        self.verify(uuid, rule)

    @precondition(lambda self: not all(self.sims.values()))
    @rule("lifecycle", data=st.data())
    def unprovisioned_is_not_found(self, data: st.DataObject) -> None:
        """R8, R12: a SIM of ours that is not provisioned is each operation's documented 404 (update says
        `uuid_not_found`, retrieve `sim_not_found`)."""
        uuid = data.draw(st.sampled_from([u for u in self.mine if not self.sims[u]]), label="uuid")
        op_id = data.draw(st.sampled_from(["retrieveSim", "updateSim", "deleteSim", "sendSms"]), label="operation")
        ex = self.send(op_id, self.path(op_id, uuid), **self.valid_body(op_id))
        self.expect_error(ex, op_id, 404, self.facts.code(op_id, 404), "a SIM not provisioned is not found (R8)")

    # --- sms ----------------------------------------------------------------------------------------

    @rule("sms", data=st.data())
    def send_sms(self, data: st.DataObject) -> None:
        """R12: `from`/`text` checked first (in the spec's order), then the SIM: ours and provisioned, else 403/404."""
        props = self.facts.properties("sendSms")
        valid_from = st.from_regex(props["from"]["pattern"], fullmatch=True)  # mostly valid, sometimes anything
        senders = st.integers(0, 12).map(lambda n: "S" * n)  # both edges of 1-11 (R12)
        odd = st.text(max_size=13)
        sender = data.draw(st.sampled_from([valid_from, valid_from, senders, odd]).flatmap(lambda s: s), "from")
        limit = props["text"].get("maxLength", 1600)
        lengths = st.sampled_from([0, 1, limit - 1, limit, limit + 1]).map(lambda n: "é" * n)  # both edges
        text = data.draw(st.sampled_from([st.text(max_size=30)] * 2 + [lengths]).flatmap(lambda s: s), "text")
        kinds = ["mine", "mine", "theirs", "unknown"] if self.theirs else ["mine", "mine", "unknown"]
        whose = data.draw(st.sampled_from(kinds), "SIM")
        uuid = {"mine": None, "theirs": (self.theirs or [""])[0], "unknown": self.unknown}[whose]
        uuid = uuid or data.draw(st.sampled_from(self.mine), "uuid")
        content_type = data.draw(st.sampled_from([FORM, JSON]), label="content type")
        order = self.facts.codes("sendSms")["400"]
        sent = (("from", sender), ("text", text))
        bad = [self.facts.field_code("sendSms", n)[1] for n, v in sent if not self.facts.valid(props[n], v)]
        if bad:
            outcome = (400, min(bad, key=order.index))
        elif whose == "theirs":
            outcome = (403, self.facts.code("sendSms", 403))
        elif whose == "unknown" or not self.sims[uuid]:
            outcome = (404, self.facts.code("sendSms", 404))
        else:
            outcome = None
        fields = {"from": sender, "text": text}
        ex = self.send("sendSms", f"/sms/{uuid}", **self.encoded(fields, content_type))
        self.expect(ex, "sendSms", "send SMS (R12, R5a)", outcome, self.ok_body("sendSms"))
        if whose == "mine":
            self.verify(uuid, "sending an SMS changes no SIM")

    # --- input --------------------------------------------------------------------------------------

    @rule("input", data=st.data())
    def invalid_setting_changes_nothing(self, data: st.DataObject) -> None:
        """R5, R5a, R10: one invalid setting answers its own code before any state error, and changes nothing."""
        op_id = data.draw(st.sampled_from(["createSim", "updateSim"]), label="operation")
        whose = [*self.mine, *self.theirs[:1], self.unknown]  # R5a: body fields before ownership and existence
        uuid = data.draw(st.sampled_from(whose), label="uuid")
        content_type = data.draw(st.sampled_from([FORM, JSON]), label="content type")
        props = self.facts.properties(op_id, content_type)
        name = data.draw(st.sampled_from(sorted(n for n, s in props.items() if error_code(s))), label="field")
        value = data.draw(st.sampled_from(self.facts.invalid_values(props[name], form=content_type == FORM)), "value")
        ex = self.send(op_id, f"/sim/{uuid}", **self.encoded({name: value}, content_type))
        wire = str(value).lower() if content_type == FORM and isinstance(value, bool) else value
        answers = self.invalid(op_id, name, wire if content_type == JSON else str(wire), content_type)
        self.expect_any(ex, op_id, answers, f"invalid {name} answers its code first (R5a)")
        if uuid in self.sims:
            self.verify(uuid, "nothing changes after invalid input (R5)")

    # --- ownership ----------------------------------------------------------------------------------

    @precondition(lambda self: bool(self.theirs))
    @rule("ownership", data=st.data())
    def their_sim_is_forbidden(self, data: st.DataObject) -> None:
        """R8: another account's SIM is 403 on every operation, whatever its state."""
        uuid = data.draw(st.sampled_from(self.theirs), label="their uuid")
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        ex = self.send(op_id, self.path(op_id, uuid), **self.valid_body(op_id))
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "another account's SIM is forbidden (R8)")

    @precondition(lambda self: self.target.second is not None)
    @rule("ownership", data=st.data())
    def they_cannot_touch_ours(self, data: st.DataObject) -> None:
        """R8: the second account gets 403 for our SIMs, provisioned or not, and nothing changes."""
        uuid = data.draw(st.sampled_from(self.mine), label="uuid")
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        ex = self.send(op_id, self.path(op_id, uuid), who=self.target.second, **self.valid_body(op_id))
        self.expect_error(ex, op_id, 403, self.facts.code(op_id, 403), "our SIM is forbidden to another account (R8)")
        if self.peek(uuid) != self.sims[uuid]:
            self.fail(ex, op_id, "a refused request changes nothing (R5, R8)", json.dumps(self.sims[uuid]))

    @rule("ownership", data=st.data())
    def unknown_uuid_is_not_found(self, data: st.DataObject) -> None:
        """R8, R12: a uuid in no inventory is each operation's documented 404."""
        op_id = data.draw(st.sampled_from(SIM_OPS), label="operation")
        ex = self.send(op_id, self.path(op_id, self.unknown), **self.valid_body(op_id))
        self.expect_error(ex, op_id, 404, self.facts.code(op_id, 404), "a uuid in no inventory is not found (R8)")


@pytest.mark.check("behaviour: {concern}")
@pytest.mark.parametrize("concern", concern_params(SimV1Machine))
@pytest.mark.apis("sim-v1")
def test_sim_v1_behaviour(target: Target, concern: str):
    """sim-v1 SIM state and SMS, compared with the rulings' model after every request."""
    run_machine(SimV1Machine, target, concern)
