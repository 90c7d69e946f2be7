"""Webhooks and callbacks (R13, R13a, R22, R22a, R27): what a documented operation causes reaches the
account's endpoint as the spec says (method, path, content type, payload schema, auth, order), once per
success for the events it must cause and at most once for those it may cause, and refused requests cause
nothing. Which operation causes which event is the spec's `x-caused-by`; events are caused only through
documented operations, never through a server's test hooks, and for each account the suite acts as.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
import pytest

from apicontract.contracts.deliveries import Expected, Receiving
from apicontract.contracts.target import Account, Credentials, Target
from apicontract.contracts.valid_requests import Request, valid_request
from apicontract.contracts.violations import Violation
from apicontract.paths import layout
from apicontract.specs.promises import Cause, causes, listed_by
from apicontract.specs.walk import deref, merged
from apicontract.specs.webhooks import webhooks

TIME = "%Y-%m-%d %H:%M:%S"  # R7
REPEAT_INTERVAL = "#/components/schemas/RepeatInterval"  # activation fields that make the platform wait


@dataclass(frozen=True)
class Trigger:
    """A documented operation and the events it causes (`x-caused-by`)."""

    operation: str
    must: tuple[Cause, ...]  # each success causes exactly one of each
    may: tuple[Cause, ...]  # each success may cause one of each (R22a)

    @property
    def subject(self) -> str:
        return self.must[0].request_subject

    def expected(self, mention: str) -> Expected:
        fields = {c.event: {c.payload_subject: mention, **c.payload} for c in (*self.must, *self.may)}
        ordered = any(c.after for c in self.must)
        names = [c.event for c in self.must]
        return Expected(mention, names, fields, ordered=ordered, once=True, optional=[c.event for c in self.may])


def triggers(target: Target) -> list[Trigger]:
    """The API's operations that cause events, in the spec's order."""
    by_op: dict[str, list[Cause]] = {}
    for cause in causes(target.doc):
        by_op.setdefault(cause.operation, []).append(cause)
    found = []
    for op_id, listed in by_op.items():
        must = sorted((c for c in listed if c.count == "one"), key=lambda c: c.after is not None)
        may = tuple(c for c in listed if c.count != "one")
        if must:
            found.append(Trigger(op_id, tuple(must), may))
    return found


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=20, follow_redirects=False) as session:
        yield session


def _hooks(target: Target) -> dict:
    if "webhooks" not in target.extras:
        target.extras["webhooks"] = webhooks(layout(), target.api, target.bundle)
    return target.extras["webhooks"]


def receiving_for(target: Target, captures, account: Account) -> Receiving:
    """The account's endpoint, as the suite listens there; skips, saying why, where it cannot."""
    if not triggers(target):
        pytest.skip(f"{target.api} documents no operation that causes an event")
    url = account.webhook_url or target.webhook_url
    if not url:
        pytest.skip(
            f"no webhook URL for {target.api} ({account.name}): configure the target to deliver to a URL on this "
            "machine and give it (--webhook-url, or webhook_url in the target file); the suite listens there"
        )
    if not url.startswith("http://"):
        pytest.skip(
            f"webhook URL {url}: the suite's endpoint serves plain HTTP; give an http:// URL "
            "(with a TLS-terminating proxy in front if the target delivers over HTTPS only)"
        )
    target.capture = captures.of(target.api)
    if target.api in captures.problems:
        pytest.fail(captures.problems[target.api], pytrace=False)
    return Receiving(target, _hooks(target), account)


def account_of(target: Target, whose: str) -> tuple[int, Account]:
    index = 0 if whose == "first" else 1
    if index >= len(target.accounts):
        pytest.skip(
            "no second account (give its credentials: --second-account, or a second account in the target file)"
        )
    return index, target.accounts[index]


def request_for(target: Target, operation_id: str, sim: str | None = None, keep_optional: bool = False) -> Request:
    """A valid request from the spec's example addressing `sim`: only its required body fields (an optional
    one such as an alias could clash with the target's state)."""
    op = target.operation(operation_id)
    request = valid_request(target, op, sim)
    if isinstance(request.body, dict) and not keep_optional:
        required = set(_body_schema(target, op).get("required") or [])
        request.body = {k: v for k, v in request.body.items() if k in required}
    return request


def _body_schema(target: Target, op) -> dict:
    body = deref(target.doc, op.node.get("requestBody")) or {}
    media = (body.get("content") or {}).get("application/json") or {}
    return merged(target.doc, media.get("schema")) or {}


def send(target: Target, client, request: Request, who: Credentials | None) -> tuple[float, httpx.Response, str]:
    headers = target.headers(who)
    since = time.monotonic()
    response = request.send(target, client, headers)
    return since, response, request.curl(target, headers)


def accepted(target: Target, what: str, response: httpx.Response, curl: str) -> None:
    if not response.is_success:
        raise Violation(
            target.api,
            what,
            "the triggering request succeeds",
            "2xx",
            f"{response.status_code} {response.text[:200]}",
            curl,
        )


class Sims:
    """One account's SIM for event checks: found unprovisioned (or made so), left as it was found."""

    def __init__(self, target: Target, client, index: int):
        self.target, self.client, self.index = target, client, index
        self.who = target.accounts[index].credentials
        self.found: dict[str, Any] = {}

    def state(self, sim: str) -> Any:
        response = request_for(self.target, "retrieveSim", sim).send(
            self.target, self.client, self.target.headers(self.who)
        )
        return response.json() if response.status_code == 200 else None

    def spare(self) -> str:
        """An unprovisioned SIM of the account (the last one stated unprovisioned, else one deprovisioned now)."""
        sims = self.target.inventory(self.index, provisioned=False) or self.target.inventory(self.index)
        if not sims:
            pytest.skip(f"no SIMs of {self.target.api}'s {self.target.accounts[self.index].name} are known")
        for sim in reversed(sims):
            before = self.found.setdefault(sim, self.state(sim))
            if before is None:
                return sim
        sim = sims[-1]
        self.deprovision(sim)
        return sim

    def deprovision(self, sim: str) -> None:
        request_for(self.target, "deleteSim", sim).send(self.target, self.client, self.target.headers(self.who))

    def restore(self) -> None:
        """Every SIM as found: deprovisioned, or provisioned again with the settings it had."""
        for sim, before in self.found.items():
            self.deprovision(sim)
            if before is not None:
                request = request_for(self.target, "createSim", sim)
                props = _body_schema(self.target, self.target.operation("createSim")).get("properties") or {}
                if isinstance(request.body, dict):
                    request.body.update({k: v for k, v in before.items() if k in props and v is not None})
                request.send(self.target, self.client, self.target.headers(self.who))


def check_listed(target: Target, client, who: Credentials | None, payloads: dict[str, list[Any]], curl: str) -> None:
    """R22a: a delivered record is one the listing operation answers for its subject and time."""
    for listing in listed_by(target.doc):
        for payload in payloads.get(listing.event, []):
            moment = datetime.strptime(str(payload[listing.time]), TIME)
            body = {
                listing.request_subject: payload[listing.payload_subject],
                listing.since: payload[listing.time],
                listing.until: (moment + timedelta(seconds=1)).strftime(TIME),
            }
            request = Request("GET", target.operation(listing.operation).key, body=body)
            response = request.send(target, client, target.headers(who))
            records = (response.json() or {}).get(listing.list) if response.status_code == 200 else None
            if not isinstance(records, list) or payload not in records:
                raise Violation(
                    target.api,
                    f"webhook {listing.event}",
                    f"a delivered record is listed by {listing.operation} (R22a)",
                    f"{payload} among the records of its window",
                    f"{response.status_code} {response.text[:300]}",
                    request.curl(target, target.headers(who)),
                )


# --- SIM APIs -------------------------------------------------------------------------------------


def _sim_triggers(target: Target) -> list[Trigger]:
    found = [t for t in triggers(target) if t.operation != "activateApp"]
    if not found:
        pytest.skip(f"{target.api} documents no SIM operation that causes an event")
    return found


@pytest.mark.check("webhooks: events of the {whose} account")
@pytest.mark.clauses("R7.1", "R13.1", "R13.2", "R13a.1", "R22.1", "R22a.1", "R22a.2", "R22a.4")
@pytest.mark.parametrize("whose", ["first", "second"])
def test_sim_events_are_delivered_as_documented(target: Target, captures, client, whose: str):
    """Provisioning a SIM (and sim-v1 sending it an SMS) delivers the events `x-caused-by` lists, once the
    request succeeded, to that account's endpoint with its credentials: right method and path, JSON,
    a schema-valid payload about that SIM; events an implementation may add at most once (R13a, R22a)."""
    trigger_list = _sim_triggers(target)
    index, account = account_of(target, whose)
    receiving = receiving_for(target, captures, account)
    sims = Sims(target, client, index)
    try:
        sim = sims.spare()
        for trigger in trigger_list:
            since, response, curl = send(
                target, client, request_for(target, trigger.operation, sim), account.credentials
            )
            accepted(target, f"webhook {trigger.must[0].event}", response, curl)
            payloads = receiving.collect(trigger.expected(sim), since, curl)
            check_listed(target, client, account.credentials, payloads, curl)
    finally:
        sims.restore()


@pytest.mark.check("webhooks: refused requests cause none")
@pytest.mark.clauses("R13a.2", "R22a.3")
def test_refused_sim_requests_send_no_webhook(target: Target, captures, client):
    """No event for a request the target refuses (R13a, R22a): wrong credentials, another account's SIM (R8),
    an SMS to an unprovisioned SIM, creating a SIM that is provisioned already. Around one successful
    create, each event about the SIM arrives at most once: only that create caused any."""
    trigger_list = _sim_triggers(target)
    receiving = receiving_for(target, captures, target.accounts[0])
    sims = Sims(target, client, 0)
    first, *others = trigger_list
    try:
        sim = sims.spare()
        attempts = [(first.operation, target.first.wrong(), "wrong credentials")]
        if target.second is not None:
            attempts.append((first.operation, target.second, "another account's SIM"))
        attempts += [(t.operation, target.first, "an SMS to an unprovisioned SIM") for t in others]
        since = time.monotonic()
        refused = []
        for operation_id, who, why in attempts:
            _, response, curl = send(target, client, request_for(target, operation_id, sim), who)
            if response.is_success:  # whether it should have been refused is other checks' business
                pytest.skip(f"the target accepted a request it should refuse ({why}): other checks report it")
            refused.append((why, curl))
        barrier, response, curl = send(target, client, request_for(target, first.operation, sim), target.first)
        accepted(target, f"webhook {first.must[0].event}", response, curl)
        receiving.arrived(Expected(sim, [c.event for c in first.must], {}), barrier, curl)
        _, response, conflict = send(target, client, request_for(target, first.operation, sim), target.first)
        if not response.is_success:
            refused.append(("a SIM provisioned already", conflict))
        time.sleep(1.0)  # late duplicates or strays
        for name, found in receiving.by_event(sim, since).items():
            if len(found) > 1:
                whys = ", ".join(why for why, _ in refused)
                raise Violation(
                    target.api,
                    f"webhook {name}",
                    "a refused request sends no webhook (R13a, R22a)",
                    f"one {name} about {sim}, from the one successful create (refused: {whys})",
                    f"{len(found)}: " + "; ".join(d.body[:120].decode("utf-8", "replace") for d in found),
                    refused[-1][1] if refused else curl,
                )
    finally:
        sims.restore()


# --- cpaas ----------------------------------------------------------------------------------------


def references(target: Target):
    """Activation references no other delivery can contain: 12 digits, from the contract seed."""
    rng = target.extras.setdefault("references", random.Random(target.seed))
    return lambda: "9" + "".join(rng.choice("0123456789") for _ in range(11))


def destination_for(entry: dict, outcomes: list[dict], base: str) -> str:
    """A number like `base` whose longest matching suffix among the fixtures' outcomes is `entry`'s."""
    suffix = str(entry["suffix"])
    for digit in "0123456789":
        number = base[: len(base) - len(suffix) - 1] + digit + suffix
        if (
            max((o for o in outcomes if number.endswith(str(o["suffix"]))), key=lambda o: len(str(o["suffix"])))
            is entry
        ):
            return number
    pytest.skip(f"no destination number selects the outcome with suffix {suffix!r}")


def outcome_of(destination: str, outcomes: list[dict]) -> dict | None:
    matching = [o for o in outcomes if destination.endswith(str(o["suffix"]))]
    return max(matching, key=lambda o: len(str(o["suffix"]))) if matching else None


def activation(target: Target) -> Trigger:
    found = [t for t in triggers(target) if t.operation == "activateApp"]
    if not found:
        pytest.skip(f"{target.api} has no activation")
    return found[0]


def callback_fields(trigger: Trigger, account: Account, reference: str, outcome: dict | None) -> Expected:
    """Start and end carry the activation's reference; the end also carries the account's appKey where the
    target states it, and, with the reference server's demo fixtures, the destination's outcome."""
    expected = trigger.expected(reference)
    last = trigger.must[-1].event
    if account.entry.get("app_key"):
        expected.fields[last]["appKey"] = str(account.entry["app_key"])
    if outcome is not None:
        expected.fields[last].update({name: str(outcome[name]) for name in ("state", "error", "duration")})
    return expected


def activation_outcomes(target: Target) -> list[dict]:
    """The demo fixtures' outcomes, when the target is the reference server running them."""
    return list(target.fixtures.get("activation_outcomes") or []) if target.reference else []


@pytest.mark.check("callbacks: start then end ({whose} account)")
@pytest.mark.clauses("R27.1")
@pytest.mark.apis("cpaas")
@pytest.mark.parametrize("whose", ["first", "second"])
def test_cpaas_activation_sends_start_then_end_callback(target: Target, captures, client, whose: str):
    """Each activation: one startCallback, then one endCallback, same reference, valid queries (R27), to
    the account's callback URL with its credentials; with the demo fixtures, the end carries the result
    the destination's `activation_outcomes` entry gives."""
    trigger = activation(target)
    _, account = account_of(target, whose)
    receiving = receiving_for(target, captures, account)
    outcomes = activation_outcomes(target) if whose == "first" else []
    new_reference = references(target)
    sent = []
    for entry in cast("list[dict | None]", outcomes) or [None]:
        request = request_for(target, trigger.operation, keep_optional=True)
        reference = new_reference()
        request.body["reference"] = reference
        if entry is not None:
            request.body["destAddr"] = destination_for(entry, outcomes, str(request.body["destAddr"]))
        since, response, curl = send(target, client, request, account.credentials)
        accepted(target, f"webhook {trigger.must[0].event}", response, curl)
        sent.append((callback_fields(trigger, account, reference, entry), since, curl))
    receiving.collect_all(sent)


@pytest.mark.check("callbacks: one start and one end with repeats")
@pytest.mark.clauses("R26.1", "R27.1")
@pytest.mark.apis("cpaas")
def test_cpaas_repeats_still_send_one_start_and_one_end(target: Target, captures, client):
    """With repeats, still one startCallback and one endCallback, after the last attempt (R27); the
    sample's repeat intervals are set to their minimum so the check does not wait."""
    trigger = activation(target)
    account = target.accounts[0]
    receiving = receiving_for(target, captures, account)
    op = target.operation(trigger.operation)
    props = _body_schema(target, op).get("properties") or {}
    waits = {name for name, sub in props.items() if isinstance(sub, dict) and sub.get("$ref") == REPEAT_INTERVAL}
    media = (deref(target.doc, op.node["requestBody"])["content"]).get("application/json") or {}
    samples = [deref(target.doc, ex).get("value") for ex in (media.get("examples") or {}).values()]
    sample = next((s for s in samples if isinstance(s, dict) and waits & set(s)), None)
    if sample is None:
        pytest.skip("no activation sample with repeats")
    shortest = (merged(target.doc, {"$ref": REPEAT_INTERVAL}) or {}).get("minimum", 0)
    reference = references(target)()
    body = {**sample, "reference": reference, **{name: shortest for name in waits if name in sample}}
    request = Request(op.method.upper(), op.key, body=body)
    since, response, curl = send(target, client, request, account.credentials)
    accepted(target, f"webhook {trigger.must[0].event}", response, curl)
    entry = outcome_of(str(body["destAddr"]), activation_outcomes(target))
    receiving.collect(callback_fields(trigger, account, reference, entry), since, curl)


@pytest.mark.check("callbacks: refused activations cause none")
@pytest.mark.clauses("R27.1")
@pytest.mark.apis("cpaas")
def test_refused_activation_sends_no_callback(target: Target, captures, client):
    """An activation the target refuses (wrong access key, a body missing required fields) starts nothing."""
    trigger = activation(target)
    receiving = receiving_for(target, captures, target.accounts[0])
    new_reference = references(target)
    since = time.monotonic()
    refused = []
    bad_key = request_for(target, trigger.operation)
    bad_key.body["reference"] = new_reference()
    incomplete = Request(bad_key.method, bad_key.path, body={"reference": new_reference()})
    for request, who, why in (
        (bad_key, target.first.wrong(), "wrong access key"),
        (incomplete, target.first, "missing fields"),
    ):
        _, response, curl = send(target, client, request, who)
        if not response.is_success:
            refused.append((request.body["reference"], why, curl))
    barrier = request_for(target, trigger.operation)
    reference = barrier.body["reference"] = new_reference()
    at, response, curl = send(target, client, barrier, target.first)
    accepted(target, f"webhook {trigger.must[0].event}", response, curl)
    receiving.arrived(Expected(reference, [c.event for c in trigger.must], {}), at, curl)
    for mention, why, refused_curl in refused:
        receiving.at_most(mention, since, 0, why, refused_curl)
