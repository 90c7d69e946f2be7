"""cpaas's activation on the reference server: the Start and End callbacks, their schemas and credentials,
the fixtures' outcomes, repeats and their intervals, and the events recorded without a callback URL.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import time
from urllib.parse import parse_qs

import httpx
import jsonschema
import pytest

from cpaaskit import ACCOUNTS, API, FIXTURES, OTHER, SCALE, call, read_only
from cpaaskit import calling as calling  # fixtures: imported for pytest, which finds them by name
from cpaaskit import shared as shared
from receiver import Receiver
from serverkit import webhook_schemas

SCHEMAS = webhook_schemas(API, "startCallback", "endCallback")
OUTCOMES = {entry["suffix"]: entry for entry in FIXTURES["activation_outcomes"]}


def activation(dest: str, reference: str = "ref-1", **repeat) -> dict:
    return {"reference": reference, "sourceAddr": "12025550143", "destAddr": dest, **repeat}


def received(delivery) -> dict[str, str]:
    """A callback's query as the JSON object its payload schema describes."""
    query = parse_qs(delivery.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in query.values()), query
    return {name: values[0] for name, values in query.items()}


def activation_row(server, request_id: str) -> sqlite3.Row:
    db = read_only(server)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM cpaas_activations WHERE request_id = ?", (request_id,)).fetchone()
    finally:
        db.close()


def callbacks_of(hook: Receiver, reference: str, count: int = 2, timeout: float = 5.0) -> list:
    """The callbacks of one activation (told apart by its reference), waiting for `count` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [d for d in list(hook.deliveries) if received(d).get("reference") == reference]
        if len(found) >= count:
            return found
        time.sleep(0.01)
    raise AssertionError(f"expected {count} callbacks for {reference!r}, got {len(found)}")


def expected_end(dest: str) -> dict[str, str]:
    """The fixtures' outcome for a destAddr (their non-empty suffixes are all two digits)."""
    return OUTCOMES.get(dest[-2:], OUTCOMES[""])


@pytest.mark.parametrize("suffix", sorted(OUTCOMES))
def test_activation_sends_start_then_end_callbacks_validated_by_their_schemas(calling, client, suffix):
    server, hook = calling
    dest = "120255501" + (suffix or "00")
    reference = f"ref & more=\u00fc {suffix}"  # carried through the query string intact
    answer = call(client, server.url(API), "POST", "/apps/activate", json=activation(dest, reference))
    assert answer.status_code == 200
    start_call, end_call = callbacks_of(hook, reference)
    credentials = ACCOUNTS["demo-1"]["callback"]["basic"]
    basic = httpx.BasicAuth(credentials["username"], credentials["password"])
    authorization = next(basic.auth_flow(httpx.Request("GET", "http://x"))).headers["Authorization"]
    for delivery, stem in ((start_call, "startCallback"), (end_call, "endCallback")):
        assert (delivery.method, delivery.path) == ("GET", "/callbacks")
        assert delivery.headers["authorization"] == authorization
        jsonschema.Draft202012Validator(SCHEMAS[stem]).validate(received(delivery))
    expected = OUTCOMES[suffix]
    assert received(start_call) == {"type": "startCallback", "reference": reference}
    assert received(end_call) == {
        "type": "endCallback",
        "reference": reference,
        "state": expected["state"],
        "error": expected["error"],
        "duration": expected["duration"],
        "appKey": ACCOUNTS["demo-1"]["app_key"],
    }
    row = activation_row(server, answer.json()["requestId"])
    assert (row["account"], row["reference"], row["dest_addr"], row["outcome"], row["attempts"]) == (
        "demo-1",
        reference,
        dest,
        expected["outcome"],
        "1",
    )


def test_callbacks_without_basic_credentials_carry_no_authorization(calling, client):
    server, hook = calling
    call(client, server.url(API), "POST", "/apps/activate", json=activation("12025550100", "demo-2's"), auth=OTHER)
    deliveries = callbacks_of(hook, "demo-2's")
    assert all("authorization" not in delivery.headers for delivery in deliveries)
    assert received(deliveries[1])["appKey"] == ACCOUNTS["demo-2"]["app_key"]


def test_a_callback_url_with_a_query_gets_the_parameters_appended(server_factory, client):
    with Receiver() as hook:
        server = server_factory([API], time_scale=0, callback_url=hook.url + "/cb?tenant=7")
        call(client, server.url(API), "POST", "/apps/activate", json=activation("12025550100"))
        deliveries = hook.wait(2)
    for delivery, stem in zip(deliveries, ("startCallback", "endCallback"), strict=True):
        query = received(delivery)
        assert delivery.path == "/cb" and query.pop("tenant") == "7"
        jsonschema.Draft202012Validator(SCHEMAS[stem]).validate(query)


@pytest.mark.parametrize(
    ("dest", "repeat", "attempts"),
    [
        ("12025550117", {"isRepeat": 1, "repeatBusy": 1, "repeatBusyCount": 2, "repeatBusyInt": 2}, 3),
        ("12025550117", {"isRepeat": 1, "repeatBusy": 1, "repeatBusyCount": 2}, 3),  # interval omitted: 0 s
        ("12025550117", {"isRepeat": 1, "repeatBusy": 1}, 1),  # count omitted: no repeats
        ("12025550117", {"isRepeat": 0, "repeatBusy": 1, "repeatBusyCount": 2}, 1),
        ("12025550117", {"repeatBusy": 1, "repeatBusyCount": 2}, 1),  # isRepeat omitted: 0
        ("12025550117", {"isRepeat": 1, "repeatBusy": 0, "repeatBusyCount": 2}, 1),
        ("12025550117", {"isRepeat": 1, "repeatNoAnswer": 1, "repeatNoAnswerCount": 5}, 1),  # another outcome's
        ("12025550116", {"isRepeat": 1, "repeatNoAnswer": 1, "repeatNoAnswerCount": 4, "repeatNoAnswerInt": 1}, 5),
        ("12025550119", {"isRepeat": 1, "repeatFailed": 1, "repeatFailedCount": 1, "repeatFailedInt": 1}, 2),
        ("12025550100", {"isRepeat": 1, "repeatAnswered": 1, "repeatAnsweredCount": 1, "repeatAnsweredInt": 1}, 2),
    ],
)
def test_repeats_make_the_documented_attempts(calling, client, dest, repeat, attempts):
    server, hook = calling
    reference = f"repeat {dest} {sorted(repeat.items())}"
    answer = call(client, server.url(API), "POST", "/apps/activate", json=activation(dest, reference, **repeat))
    start_call, end_call = callbacks_of(hook, reference)
    assert activation_row(server, answer.json()["requestId"])["attempts"] == str(attempts)
    assert received(start_call)["type"] == "startCallback"
    assert received(end_call)["error"] == expected_end(dest)["error"]  # the last attempt's result
    time.sleep(0.02)
    assert len(callbacks_of(hook, reference)) == 2  # one Start and one End callback, whatever the repeats


def test_the_end_callback_waits_the_repeat_intervals(calling, client):
    server, hook = calling
    body = activation("12025550117", "timed", isRepeat=1, repeatBusy=1, repeatBusyCount=2, repeatBusyInt=3)
    sent = time.monotonic()
    call(client, server.url(API), "POST", "/apps/activate", json=body)
    callbacks_of(hook, "timed", 1)
    start_seen = time.monotonic()
    callbacks_of(hook, "timed", 2)
    end_seen = time.monotonic()
    assert start_seen - sent < 2 * 3 * SCALE  # the Start callback goes at once
    assert end_seen - sent >= 2 * 3 * SCALE * 0.9  # two waits of 3 s, scaled by time_scale


def test_the_longest_matching_suffix_decides(server_factory, client, tmp_path):
    custom = copy.deepcopy(FIXTURES)
    custom["activation_outcomes"] = [
        {"suffix": "", "outcome": "answered", "state": "2", "error": "0", "duration": "3"},
        {"suffix": "7", "outcome": "failed", "state": "5", "error": "19", "duration": "0"},
        {"suffix": "17", "outcome": "busy", "state": "5", "error": "17", "duration": "0"},
        {"suffix": "117", "outcome": "no_answer", "state": "5", "error": "16", "duration": "0"},
    ]
    path = tmp_path / "fixtures.yaml"
    path.write_text(json.dumps(custom))  # JSON is YAML
    server = server_factory([API], time_scale=0, fixtures={API: path})
    base = server.url(API)
    expected = {"12025550117": "16", "12025550217": "17", "12025550007": "19", "12025550001": "0"}
    for dest in expected:
        assert call(client, base, "POST", "/apps/activate", json=activation(dest, reference=dest)).status_code == 200
    events = call(client, base, "GET", "/_events").json()["events"]
    assert {e["payload"]["reference"]: e["payload"]["error"] for e in events if e["event"] == "endCallback"} == expected


def test_without_a_callback_url_the_activation_still_answers_and_records_its_events(shared, client):
    base = shared.url(API)
    answer = call(client, base, "POST", "/apps/activate", json=activation("12025550100", reference="no-url"))
    assert answer.status_code == 200
    events = [
        e for e in call(client, base, "GET", "/_events").json()["events"] if e["payload"]["reference"] == "no-url"
    ]
    assert [(e["event"], e["outcome"]) for e in events] == [
        ("startCallback", "undeliverable"),
        ("endCallback", "undeliverable"),
    ]
