"""Webhooks and callbacks (R13, R22, R27): what the documented API causes reaches the suite's endpoint
as the spec says (method, path, content type, payload schema, auth, order), and refused requests cause
nothing. Events are caused only through documented operations, never through a server's test hooks.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from apicontract.contracts.deliveries import Expected, HookCredentials, Receiving
from apicontract.contracts.requests import Request, valid_request
from apicontract.contracts.target import Credentials, Target
from apicontract.contracts.violations import Violation
from apicontract.paths import layout
from apicontract.specs.walk import deref, merged
from apicontract.webhooks.spec import account_credentials, webhooks


@dataclass(frozen=True)
class Trigger:
    """A documented operation and the webhooks it causes: the spec's prose says this, no keyword does."""

    operation: str  # operationId
    hooks: tuple[str, ...]
    sim_field: str | None = None  # the payload field that names the SIM the operation acted on
    fields: dict[str, Any] = field(default_factory=dict)  # further payload values it must carry


SIM_TRIGGERS = {
    "sim-v1": (
        Trigger("createSim", ("location_update",), "imsi"),
        Trigger("sendSms", ("xdr",), "imsi", {"type": "sms"}),
    ),
    "sim-v3": (Trigger("createSim", ("network_registration",), "sim_id"),),
}
DEPROVISION = "deleteSim"
ACTIVATE = Trigger("activateApp", ("startCallback", "endCallback"))
REPEAT_INTERVAL = "#/components/schemas/RepeatInterval"  # activation fields that make the platform wait


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=20, follow_redirects=False) as session:
        yield session


@pytest.fixture
def receiving(target: Target, captures) -> Receiving:
    if "webhooks" not in target.extras:
        target.extras["webhooks"] = webhooks(layout(), target.api, target.doc)
    hooks = target.extras["webhooks"]
    if not hooks:
        pytest.skip(f"{target.api} documents no webhooks or callbacks")
    if not target.webhook_url:
        pytest.skip(
            f"no --webhook-url for {target.api}: configure the target to deliver to a URL on this machine "
            "and pass it, the suite listens there"
        )
    if not target.webhook_url.startswith("http://"):
        pytest.skip(
            f"--webhook-url {target.webhook_url}: the suite's endpoint serves plain HTTP; give an http:// URL "
            "(with a TLS-terminating proxy in front if the target delivers over HTTPS only)"
        )
    if target.api in captures.problems:
        pytest.fail(captures.problems[target.api], pytrace=False)
    return Receiving(target, hooks, known_credentials(target))


def known_credentials(target: Target) -> HookCredentials | None:
    """The account's webhook credentials, when the target runs as the fixtures' first account."""
    accounts = target.accounts
    if not accounts or Credentials.from_fixture(accounts[0].get("credentials") or {}) != target.first:
        return None
    return HookCredentials(*account_credentials(accounts[0]))


def uses_fixture_identity(target: Target) -> bool:
    return known_credentials(target) is not None


def operation(target: Target, operation_id: str):
    for op in target.operations():
        if op.node.get("operationId") == operation_id:
            return op
    pytest.skip(f"{target.api} has no operation {operation_id}")


def request_for(target: Target, operation_id: str, sim: str | None = None, keep_optional: bool = False) -> Request:
    """A valid request from the spec's example: only its required body fields (optional ones such as
    an alias could clash with the target's state), addressing `sim`."""
    op = operation(target, operation_id)
    request = valid_request(target, op, sim)
    if isinstance(request.body, dict) and not keep_optional:
        required = set(_body_schema(target, op).get("required") or [])
        request.body = {k: v for k, v in request.body.items() if k in required}
    return request


def _body_schema(target: Target, op) -> dict:
    body = deref(target.doc, op.node.get("requestBody")) or {}
    media = (body.get("content") or {}).get("application/json") or {}
    return merged(target.doc, media.get("schema")) or {}


def send(target: Target, client, request: Request, who: Credentials | None = None) -> tuple[float, httpx.Response, str]:
    headers = target.headers(who) if who is not None else target.headers()
    since = time.monotonic()
    response = request.send(target, client, headers)
    return since, response, request.curl(target, headers)


def accepted(target: Target, hook_label: str, response: httpx.Response, curl: str) -> None:
    if not response.is_success:
        raise Violation(
            target.api,
            hook_label,
            "the triggering request succeeds",
            "2xx",
            f"{response.status_code} {response.text[:200]}",
            curl,
        )


def wrong(credentials: Credentials) -> Credentials:
    if credentials.basic:
        return Credentials(basic=(credentials.basic[0], credentials.basic[1] + "-wrong"))
    return Credentials(key=(credentials.key or "") + "-wrong")


def spare_sim(target: Target) -> str:
    """The first account's last unprovisioned SIM (the samples use the first), deprovisioned if needed."""
    sims = target.inventory(0, False)
    if not sims:
        pytest.skip(f"the fixtures give {target.api}'s first account no unprovisioned SIM to provision")
    return sims[-1]


def deprovision(target: Target, client, sim: str) -> None:
    request_for(target, DEPROVISION, sim).send(target, client)


# --- SIM APIs -------------------------------------------------------------------------------------


@pytest.mark.apis(*SIM_TRIGGERS)
def test_sim_events_are_delivered_as_documented(target: Target, receiving: Receiving, client):
    """Provisioning a SIM (and sim-v1 sending it an SMS) delivers the documented webhook, once the
    request succeeded: right method and path, JSON, schema-valid payload about that SIM, auth (R13, R22)."""
    sim = spare_sim(target)
    deprovision(target, client, sim)
    try:
        for trigger in SIM_TRIGGERS[target.api]:
            since, response, curl = send(target, client, request_for(target, trigger.operation, sim))
            accepted(target, f"webhook {trigger.hooks[0]}", response, curl)
            fields = {name: {trigger.sim_field: sim, **trigger.fields} for name in trigger.hooks}
            receiving.collect(Expected(sim, list(trigger.hooks), fields), since, curl)
    finally:
        deprovision(target, client, sim)


@pytest.mark.apis(*SIM_TRIGGERS)
def test_refused_sim_requests_send_no_webhook(target: Target, receiving: Receiving, client):
    """No event for a request the target refuses: wrong credentials, another account's SIM (R8), an
    SMS to an unprovisioned SIM, creating a SIM that is provisioned already: state did not change."""
    sim = spare_sim(target)
    provisioned = target.inventory(0, True)[:1]
    first, *others = SIM_TRIGGERS[target.api]
    deprovision(target, client, sim)
    attempts = [(first.operation, sim, wrong(target.first), "wrong credentials")]
    if target.second is not None:
        attempts.append((first.operation, sim, target.second, "another account's SIM"))
    attempts += [(t.operation, sim, None, "an unprovisioned SIM") for t in others]
    attempts += [(first.operation, p, None, "a SIM provisioned already") for p in provisioned]
    since = time.monotonic()
    refused: dict[str, tuple[list[str], str]] = {}
    unclear = False
    try:
        for operation_id, identifier, who, why in attempts:
            _, response, curl = send(target, client, request_for(target, operation_id, identifier), who)
            if not response.is_success:  # whether it should have been refused is other checks' business
                whys, _ = refused.setdefault(identifier, ([], curl))
                whys.append(why)
            elif identifier == sim:  # accepted: its events cannot be told from a refused one's
                deprovision(target, client, sim)
                unclear = True
        barrier, response, curl = send(target, client, request_for(target, first.operation, sim))
        accepted(target, f"webhook {first.hooks[0]}", response, curl)
        receiving.arrived(Expected(sim, list(first.hooks), {}), barrier, curl)
        for identifier, (whys, refused_curl) in refused.items():
            if identifier == sim and unclear:
                continue
            legit = 1 if identifier == sim else 0  # the event of the successful create that followed
            receiving.at_most(identifier, since, legit, ", ".join(whys), refused_curl)
    finally:
        deprovision(target, client, sim)


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


def callback_fields(target: Target, reference: str, outcome: dict | None) -> dict[str, dict]:
    """Start and end both carry the activation's reference; with the fixtures' identity, the end also
    carries the account's appKey and the result its destination's outcome gives."""
    end: dict[str, Any] = {"reference": reference}
    if uses_fixture_identity(target):
        if target.accounts[0].get("app_key"):
            end["appKey"] = str(target.accounts[0]["app_key"])
        if outcome is not None:
            end.update({name: str(outcome[name]) for name in ("state", "error", "duration")})
    return {ACTIVATE.hooks[0]: {"reference": reference}, ACTIVATE.hooks[1]: end}


def activation_outcomes(target: Target) -> list[dict]:
    """The fixtures' outcomes, when the target runs as the fixtures say (else none can be expected)."""
    return list(target.fixtures.get("activation_outcomes") or []) if uses_fixture_identity(target) else []


@pytest.mark.apis("cpaas")
def test_cpaas_activation_sends_start_then_end_callback(target: Target, receiving: Receiving, client):
    """Each activation: one startCallback, then one endCallback, same reference, valid queries (R27); with
    the demo fixtures, the end carries the result the destination's `activation_outcomes` entry gives."""
    outcomes = activation_outcomes(target)
    new_reference = references(target)
    sent = []
    for entry in outcomes or [None]:
        request = request_for(target, ACTIVATE.operation, keep_optional=True)
        reference = new_reference()
        request.body["reference"] = reference
        if entry is not None:
            request.body["destAddr"] = destination_for(entry, outcomes, str(request.body["destAddr"]))
        since, response, curl = send(target, client, request)
        accepted(target, f"webhook {ACTIVATE.hooks[0]}", response, curl)
        sent.append((reference, entry, since, curl))
    receiving.collect_all(
        [
            (
                Expected(reference, list(ACTIVATE.hooks), callback_fields(target, reference, entry), True, True),
                since,
                curl,
            )
            for reference, entry, since, curl in sent
        ]
    )


@pytest.mark.apis("cpaas")
def test_cpaas_repeats_still_send_one_start_and_one_end(target: Target, receiving: Receiving, client):
    """With repeats, still one startCallback and one endCallback, after the last attempt (R27); the
    sample's repeat intervals are set to their minimum so the check does not wait."""
    op = operation(target, ACTIVATE.operation)
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
    since, response, curl = send(target, client, request)
    accepted(target, f"webhook {ACTIVATE.hooks[0]}", response, curl)
    entry = outcome_of(str(body["destAddr"]), activation_outcomes(target))
    expected = Expected(reference, list(ACTIVATE.hooks), callback_fields(target, reference, entry), True, True)
    receiving.collect(expected, since, curl)


@pytest.mark.apis("cpaas")
def test_refused_activation_sends_no_callback(target: Target, receiving: Receiving, client):
    """An activation the target refuses (wrong access key, a body missing required fields) starts nothing."""
    new_reference = references(target)
    since = time.monotonic()
    refused = []
    bad_key = request_for(target, ACTIVATE.operation)
    bad_key.body["reference"] = new_reference()
    incomplete = Request(bad_key.method, bad_key.path, body={"reference": new_reference()})
    for request, who, why in ((bad_key, wrong(target.first), "wrong access key"), (incomplete, None, "missing fields")):
        _, response, curl = send(target, client, request, who)
        if not response.is_success:
            refused.append((request.body["reference"], why, curl))
    barrier = request_for(target, ACTIVATE.operation)
    reference = barrier.body["reference"] = new_reference()
    at, response, curl = send(target, client, barrier)
    accepted(target, f"webhook {ACTIVATE.hooks[0]}", response, curl)
    receiving.arrived(Expected(reference, list(ACTIVATE.hooks), {}), at, curl)
    for mention, why, refused_curl in refused:
        receiving.at_most(mention, since, 0, why, refused_curl)
