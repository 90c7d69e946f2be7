"""sim-v1 on the reference server: every documented answer reachable, the rulings' semantics (R8-R13),
the published samples as sent, webhook deliveries, and bad input (R5).

Every (operation, status, code) the spec documents must be produced by a scenario below; a code added to
the spec fails `test_every_documented_code_has_a_scenario` until it has one.
"""

from __future__ import annotations

import base64
import functools
import json
from datetime import UTC, datetime
from functools import partial
from urllib.parse import quote, urlencode

import httpx
import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from apicontract.specs.walk import iter_operations

import serverkit
from receiver import Receiver
from serverkit import (
    FORM,
    MIB,
    bundle,
    documented,
    exactly,
    fixtures,
    oversized,
    pick,
    produced,
    request,
    webhook_schemas,
)

API = "sim-v1"
BUNDLE = bundle(API)
ONE, TWO = fixtures(API)["accounts"][:2]


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def auth_of(account: dict) -> dict[str, str]:
    return basic(account["credentials"]["basic"]["key"], account["credentials"]["basic"]["secret"])


KEY, OTHER = auth_of(ONE), auth_of(TWO)
WRONG_SECRET = basic(ONE["credentials"]["basic"]["key"], "not-the-secret")
SAMPLE = "238991234567890"  # the source's sample SIM: account one's, unprovisioned at start
MINE = pick(ONE, True, "uuid")["uuid"]
MINE_TOO = pick(ONE, True, "uuid", (MINE,))["uuid"]
SPARE = pick(ONE, False, "uuid", (SAMPLE,))["uuid"]
OTHERS, OTHERS_SPARE = pick(TWO, True, "uuid")["uuid"], pick(TWO, False, "uuid")["uuid"]
NOWHERE = "999999999999999"
R5B = {("updateSim", 409, "uuid_conflict")}  # documented, no known trigger

# (operationId, method, path, kwargs, status, code): run in order against one server
SCENARIOS = [
    ("getRoot", "GET", "/", {}, 200, None),
    ("getRoot", "GET", "/", {"auth": WRONG_SECRET}, 401, "unauthorized"),
    ("retrieveSim", "GET", f"/sim/{MINE}", {}, 200, None),
    ("retrieveSim", "GET", "/sim/23899123456789", {}, 400, "uuid_invalid"),
    ("retrieveSim", "GET", f"/sim/{MINE}", {"auth": {}}, 401, "unauthorized"),
    ("retrieveSim", "GET", f"/sim/{OTHERS}", {}, 403, "uuid_forbidden"),
    ("retrieveSim", "GET", f"/sim/{SPARE}", {}, 404, "sim_not_found"),  # in the inventory, not provisioned
    ("retrieveSim", "GET", f"/sim/{NOWHERE}", {}, 404, "sim_not_found"),
    ("createSim", "POST", f"/sim/{SPARE}", {"json": {"sms": False}}, 200, None),
    ("createSim", "POST", f"/sim/{SPARE}", {}, 409, "uuid_conflict"),
    ("createSim", "POST", "/sim/abc", {}, 400, "uuid_invalid"),
    ("createSim", "POST", f"/sim/{SAMPLE}", {"content": "voice=yes", "headers": FORM}, 400, "voice_invalid"),
    ("createSim", "POST", f"/sim/{SAMPLE}", {"json": {"sms": "true"}}, 400, "sms_invalid"),
    ("createSim", "POST", f"/sim/{SAMPLE}", {"content": "data=TRUE", "headers": FORM}, 400, "data_invalid"),
    ("createSim", "POST", f"/sim/{SAMPLE}", {"json": {"roaming": True}}, 400, "body_invalid"),
    ("createSim", "POST", f"/sim/{SAMPLE}", {"content": b"voice=\xff", "headers": FORM}, 400, "body_invalid"),
    ("createSim", "POST", f"/sim/{SAMPLE}", {"auth": {}}, 401, "unauthorized"),
    ("createSim", "POST", f"/sim/{OTHERS_SPARE}", {}, 403, "uuid_forbidden"),
    ("createSim", "POST", f"/sim/{NOWHERE}", {}, 404, "uuid_not_found"),
    ("createSim", "POST", f"/sim/{SAMPLE}", {"json": {"voice": "a" * MIB}}, 413, "payload_too_large"),
    (
        "createSim",
        "POST",
        f"/sim/{SAMPLE}",
        {"content": "voice=true", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
    ("updateSim", "PUT", f"/sim/{MINE}", {"content": "voice=true&sms=true&data=false", "headers": FORM}, 200, None),
    ("updateSim", "PUT", "/sim/2389912345678901", {"json": {}}, 400, "uuid_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"voice": 1}}, 400, "voice_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"content": "sms=", "headers": FORM}, 400, "sms_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"data": "false"}}, 400, "data_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": [True]}, 400, "body_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"auth": {"Authorization": "Bearer x"}}, 401, "unauthorized"),
    ("updateSim", "PUT", f"/sim/{OTHERS}", {}, 403, "uuid_forbidden"),
    ("updateSim", "PUT", f"/sim/{SAMPLE}", {}, 404, "uuid_not_found"),  # not provisioned: update's own 404 code
    ("updateSim", "PUT", f"/sim/{NOWHERE}", {}, 404, "uuid_not_found"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"content": b"x" * (MIB + 1), "headers": FORM}, 413, "payload_too_large"),
    (
        "updateSim",
        "PUT",
        f"/sim/{MINE}",
        {"content": "<a/>", "headers": {"Content-Type": "application/xml"}},
        415,
        "unsupported_media_type",
    ),
    ("deleteSim", "DELETE", "/sim/x", {}, 400, "uuid_invalid"),
    ("deleteSim", "DELETE", f"/sim/{MINE}", {"auth": {}}, 401, "unauthorized"),
    ("deleteSim", "DELETE", f"/sim/{OTHERS}", {}, 403, "uuid_forbidden"),
    ("deleteSim", "DELETE", f"/sim/{SAMPLE}", {}, 404, "sim_not_found"),
    ("deleteSim", "DELETE", f"/sim/{SPARE}", {}, 200, None),
    ("deleteSim", "DELETE", f"/sim/{SPARE}", {}, 404, "sim_not_found"),
    ("sendSms", "POST", f"/sms/{MINE}", {"content": "from=Mitto&text=Hello%2C%20World%21", "headers": FORM}, 200, None),
    ("sendSms", "POST", "/sms/1", {"json": {"from": "A", "text": "b"}}, 400, "uuid_invalid"),
    ("sendSms", "POST", f"/sms/{MINE}", {"json": {"from": "Mitto!", "text": "b"}}, 400, "from_invalid"),
    ("sendSms", "POST", f"/sms/{MINE}", {}, 400, "from_invalid"),  # no body: `from` is missing
    ("sendSms", "POST", f"/sms/{MINE}", {"json": {"from": "A", "text": "b" * 1601}}, 400, "text_invalid"),
    ("sendSms", "POST", f"/sms/{MINE}", {"json": {"from": "A", "text": "b", "to": "c"}}, 400, "body_invalid"),
    ("sendSms", "POST", f"/sms/{MINE}", {"json": {"from": "A", "text": "b"}, "auth": {}}, 401, "unauthorized"),
    ("sendSms", "POST", f"/sms/{OTHERS}", {"json": {"from": "A", "text": "b"}}, 403, "uuid_forbidden"),
    ("sendSms", "POST", f"/sms/{SPARE}", {"json": {"from": "A", "text": "b"}}, 404, "sim_not_found"),  # deleted
    ("sendSms", "POST", f"/sms/{NOWHERE}", {"json": {"from": "A", "text": "b"}}, 404, "sim_not_found"),
    ("sendSms", "POST", f"/sms/{MINE}", {"json": {"from": "A", "text": "b" * MIB}}, 413, "payload_too_large"),
    (
        "sendSms",
        "POST",
        f"/sms/{MINE}",
        {"content": "from=A", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
]


def test_every_documented_code_has_a_scenario():
    covered = produced(SCENARIOS)
    assert documented(BUNDLE) - covered - R5B == set()
    assert covered <= documented(BUNDLE)
    operations = {op.node["operationId"] for op in iter_operations(BUNDLE) if not op.is_webhook}
    assert operations == {op for op, *_, status, _ in SCENARIOS if status == 200}  # every success too


def test_r5b_exemptions_are_documented_as_such():
    for op in iter_operations(BUNDLE):
        for op_id, status, code in R5B:
            if op.node.get("operationId") == op_id:
                response = op.node["responses"][str(status)]
                assert "R5b" in response["description"]
                assert "R5b" in response["content"]["application/json"]["examples"][code]["summary"]


call = functools.partial(request, default_auth=KEY)


def test_scenarios(server_factory, client):
    base = server_factory([API]).url(API)
    for op_id, method, path, kwargs, status, code in SCENARIOS:
        response = call(client, base, method, path, **dict(kwargs))
        where = f"{op_id}: {method} {path} {kwargs.get('json', kwargs.get('content', ''))!r:.80}"
        assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
        assert response.headers["content-type"] == "application/json", where
        if code:
            assert response.json() == {"message": code}, where
        if status == 401:
            assert response.headers["www-authenticate"] == 'Basic realm="sim-v1"', where  # R3


# --- the published samples, byte for byte as `request` sends them (design/seed-samples.md) -------------


def wire(base: str, method: str, path: str, body: bytes | None = None, ctype: str | None = None):
    """One request with exactly the sample's headers: no User-Agent, no Accept; DELETE sends Content-Length 0."""
    headers = {"Authorization": KEY["Authorization"]}
    if ctype:
        headers["content-type"] = ctype
    if body is not None or method == "DELETE":
        headers["content-length"] = str(len(body or b""))
    return exactly(base, method, path, headers, body)


example = partial(serverkit.example, BUNDLE)  # (operationId, status, name)


def test_published_samples_run_in_order_as_sent(server_factory):
    base = server_factory([API]).url(API)
    ok = (200, "application/json", example("createSim", "200", "ok"))
    form = FORM["Content-Type"]
    assert wire(base, "GET", "/") == (200, "application/json", example("getRoot", "200", "ok"))
    assert wire(base, "POST", f"/sim/{SAMPLE}", b"voice=true&sms=true&data=true", form) == ok
    assert wire(base, "GET", f"/sim/{SAMPLE}") == (200, "application/json", example("retrieveSim", "200", "retrieve"))
    assert wire(base, "PUT", f"/sim/{SAMPLE}", b"voice=true&sms=true&data=false", form) == ok
    assert wire(base, "GET", f"/sim/{SAMPLE}")[2]["data"] is False
    assert wire(base, "POST", f"/sms/{SAMPLE}", b"from=Mitto&text=Hello%2C%20World%21", form) == ok
    assert wire(base, "DELETE", f"/sim/{SAMPLE}") == ok
    assert wire(base, "GET", f"/sim/{SAMPLE}") == (404, "application/json", {"message": "sim_not_found"})


def test_spec_request_examples_are_accepted(server_factory, client):
    """Every request example of the spec (form and JSON) is a valid request; run on fresh SIMs."""
    base = server_factory([API]).url(API)
    for op in iter_operations(BUNDLE):
        body = op.node.get("requestBody")
        if op.is_webhook or not body:
            continue
        for ctype, media in body["content"].items():
            for name, ex in media["examples"].items():
                payload = ex["value"]
                content = urlencode(payload, quote_via=quote) if ctype == FORM["Content-Type"] else json.dumps(payload)
                # create finds the SIM unprovisioned, the others provisioned
                call(client, base, "DELETE" if op.node["operationId"] == "createSim" else "POST", f"/sim/{SAMPLE}")
                path = op.key.replace("{uuid}", SAMPLE)
                response = call(client, base, op.method.upper(), path, content=content, headers={"Content-Type": ctype})
                assert response.status_code == 200, (op.node["operationId"], ctype, name, response.text)


# --- the rulings' semantics ---------------------------------------------------------------------------


def test_r8_lifecycle_delete_then_create_again(server_factory, client):
    base = server_factory([API]).url(API)
    assert call(client, base, "DELETE", f"/sim/{MINE}").status_code == 200
    assert call(client, base, "GET", f"/sim/{MINE}").json() == {"message": "sim_not_found"}
    assert call(client, base, "PUT", f"/sim/{MINE}").json() == {"message": "uuid_not_found"}
    assert call(client, base, "POST", f"/sms/{MINE}", json={"from": "A", "text": "b"}).status_code == 404
    assert call(client, base, "POST", f"/sim/{MINE}", json={"voice": False}).status_code == 200
    retrieved = call(client, base, "GET", f"/sim/{MINE}").json()
    assert (retrieved["voice"], retrieved["sms"], retrieved["data"]) == (False, True, True)  # create defaults


def test_r8_each_account_is_forbidden_the_other_accounts_sims(server_factory, client):
    base = server_factory([API]).url(API)
    for auth, account in ((OTHER, ONE), (KEY, TWO)):
        for sim in account["sims"]:  # provisioned or not, on every operation
            for method, path, kwargs in (
                ("GET", "/sim/", {}),
                ("POST", "/sim/", {}),
                ("PUT", "/sim/", {"json": {}}),
                ("DELETE", "/sim/", {}),
                ("POST", "/sms/", {"json": {"from": "A", "text": "b"}}),
            ):
                response = call(client, base, method, path + sim["uuid"], auth=auth, **kwargs)
                assert (response.status_code, response.json()) == (403, {"message": "uuid_forbidden"}), (method, path)


def test_r9_an_omitted_flag_takes_its_default_not_the_stored_value(server_factory, client):
    base = server_factory([API]).url(API)
    stored = call(client, base, "GET", f"/sim/{MINE_TOO}").json()
    assert not (stored["sms"] and stored["data"])  # the fixture has something to reset
    assert call(client, base, "PUT", f"/sim/{MINE_TOO}", content="voice=false", headers=FORM).status_code == 200
    flags = call(client, base, "GET", f"/sim/{MINE_TOO}").json()
    assert (flags["voice"], flags["sms"], flags["data"]) == (False, True, True)
    assert call(client, base, "PUT", f"/sim/{MINE_TOO}", json={"sms": False}).status_code == 200
    flags = call(client, base, "GET", f"/sim/{MINE_TOO}").json()
    assert (flags["voice"], flags["sms"], flags["data"]) == (True, False, True)
    assert call(client, base, "PUT", f"/sim/{MINE_TOO}").status_code == 200  # no body at all: every default
    flags = call(client, base, "GET", f"/sim/{MINE_TOO}").json()
    assert (flags["voice"], flags["sms"], flags["data"]) == (True, True, True)


def test_r11_pin_and_puk_come_from_the_inventory_and_are_stable(server_factory, client):
    base = server_factory([API]).url(API)
    for sim in ONE["sims"]:
        if not sim["provisioned"]:
            assert call(client, base, "POST", f"/sim/{sim['uuid']}").status_code == 200
        expected = {k: sim[k] for k in ("uuid", "pin", "puk")}
        retrieved = call(client, base, "GET", f"/sim/{sim['uuid']}").json()
        assert {k: retrieved[k] for k in expected} == expected
        call(client, base, "DELETE", f"/sim/{sim['uuid']}")
        call(client, base, "POST", f"/sim/{sim['uuid']}")
        assert call(client, base, "GET", f"/sim/{sim['uuid']}").json()["pin"] == sim["pin"]


def test_state_survives_a_restart(server_factory, client, tmp_path):
    server = server_factory([API], data_dir=tmp_path / "data")
    assert call(client, server.url(API), "POST", f"/sim/{SPARE}", json={"data": False}).status_code == 200
    server.stop()
    again = server_factory([API], data_dir=tmp_path / "data").url(API)
    assert call(client, again, "GET", f"/sim/{SPARE}").json()["data"] is False


# --- webhooks (R13) -----------------------------------------------------------------------------------

SCHEMAS = webhook_schemas(API, "location_update", "xdr")
WEBHOOK_AUTH = basic(ONE["webhook"]["basic"]["username"], ONE["webhook"]["basic"]["password"])["Authorization"]


def received(delivery, name: str) -> dict:
    """A delivery as the spec describes it: POST JSON to <endpoint>/<name>, HTTP Basic, schema-valid."""
    payload = serverkit.delivered(delivery, name, SCHEMAS[name], WEBHOOK_AUTH)
    stamp = datetime.strptime(payload["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 120  # R7: now, in UTC
    return payload


simulate = partial(serverkit.simulate, auth=KEY)
settled = partial(serverkit.settled, auth=KEY)


def test_webhooks_are_delivered_with_basic_auth_and_valid_payloads(server_factory, client):
    with Receiver() as hook:
        base = server_factory([API], webhook_url=hook.url).url(API)
        assert call(client, base, "POST", f"/sim/{SPARE}").status_code == 200
        location = received(hook.wait(1)[0], "location_update")
        assert location["imsi"] == SPARE and location["type"] in ("cs", "ps")
        for text in ("one", "two"):
            assert call(client, base, "POST", f"/sms/{SPARE}", json={"from": "Mitto", "text": text}).status_code == 200
        xdrs = [received(d, "xdr") for d in hook.wait(3)[1:]]
        assert [x["type"] for x in xdrs] == ["sms", "sms"]
        assert all(x["imsi"] == SPARE and x["caller"] == "Mitto" and x["called"] == SPARE for x in xdrs)
        assert xdrs[0]["event_id"] != xdrs[1]["event_id"]
        outcomes = settled(client, base)
        assert [(e["event"], e["outcome"]) for e in outcomes] == [
            ("location_update", "delivered"),
            *[("xdr", "delivered")] * 2,
        ]
        assert client.get(f"{base}/_events", headers=OTHER).json()["events"] == []  # per account


def test_triggers_provoke_every_event_kind(server_factory, client):
    with Receiver() as hook:
        base = server_factory([API], webhook_url=hook.url).url(API)
        answer = simulate(client, base, "location_update", {"imsi": MINE, "type": "ps", "country_code": "se"})
        assert answer.status_code == 200, answer.text
        location = received(hook.wait(1)[0], "location_update")
        assert (location["imsi"], location["type"], location["country_code"]) == (MINE, "ps", "se")
        for kind in ("voice", "sms", "data"):
            assert simulate(client, base, "xdr", {"imsi": MINE, "type": kind}).status_code == 200
        assert simulate(client, base, "xdr", {"imsi": MINE, "type": "voice", "duration": "61"}).status_code == 200
        xdrs = [received(d, "xdr") for d in hook.wait(5)[1:]]  # each event is its own delivery: any order
        assert sorted(x["type"] for x in xdrs) == ["data", "sms", "voice", "voice"]
        assert sorted(x.get("duration") for x in xdrs if x["type"] == "voice") == ["30", "61"]
        assert len({x["event_id"] for x in xdrs}) == 4


REFUSED_TRIGGERS = [
    ("location_update", {"imsi": NOWHERE}, 404),
    ("location_update", {"imsi": [MINE]}, 404),
    ("location_update", {"imsi": SPARE}, 404),  # not provisioned
    ("location_update", {"imsi": OTHERS}, 404),  # another account's
    ("location_update", {"imsi": MINE, "country_code": "DK"}, 400),  # the schema refuses it
    ("location_update", {"imsi": MINE, "extra": 1}, 400),
    ("xdr", {"imsi": MINE}, 400),  # no type
    ("xdr", {"imsi": MINE, "type": "fax"}, 400),
    ("xdr", {"imsi": MINE, "type": ["sms"]}, 400),
    ("xdr", {"imsi": MINE, "type": "data", "upload": 12}, 400),  # numbers are decimal strings (R13)
    ("nothing", {"imsi": MINE}, 404),
]


def test_triggers_refuse_what_the_contract_does_not_allow(server_factory, client):
    base = server_factory([API]).url(API)
    for name, payload, status in REFUSED_TRIGGERS:
        answer = simulate(client, base, name, payload)
        assert (answer.status_code, "error" in answer.json()) == (status, True), (name, payload, answer.text)
    assert client.get(f"{base}/_events", headers=KEY).json()["events"] == []


# --- bad input (R5) -----------------------------------------------------------------------------------


def snapshot(client: httpx.Client, base: str) -> tuple:
    """Everything observable: every SIM as its owner sees it, and every account's events."""
    sims = {}
    for account in (ONE, TWO):
        for sim in account["sims"]:
            response = call(client, base, "GET", f"/sim/{sim['uuid']}", auth=auth_of(account))
            sims[sim["uuid"]] = (response.status_code, response.json())
    events = [client.get(f"{base}/_events", headers=auth_of(a)).json()["events"] for a in (ONE, TWO)]
    return sims, events


def bad_input() -> list[tuple]:
    return [
        (
            "POST",
            f"/sim/{SPARE}",
            {"content": b'{"voice": tru', "headers": {"Content-Type": "application/json"}},
            400,
            "body_invalid",
        ),
        (
            "POST",
            f"/sim/{SPARE}",
            {"content": b'{"voice": NaN}', "headers": {"Content-Type": "application/json"}},
            400,
            "body_invalid",
        ),
        (
            "POST",
            f"/sim/{SPARE}",
            {"content": b'{"voice": "\xff"}', "headers": {"Content-Type": "application/json"}},
            400,
            "body_invalid",
        ),
        (
            "POST",
            f"/sim/{SPARE}",
            {"content": b"voice=true", "headers": {"Content-Type": "application/json"}},
            400,
            "body_invalid",
        ),  # a urlencoded body with JSON's content type (seed-samples.md)
        ("POST", f"/sim/{SPARE}", {"content": b'{"voice": true}', "headers": FORM}, 400, "body_invalid"),
        ("POST", f"/sim/{SPARE}", {"json": "voice"}, 400, "body_invalid"),
        ("POST", f"/sim/{SPARE}", {"json": {"voice": "true"}}, 400, "voice_invalid"),  # JSON booleans are booleans
        ("POST", f"/sim/{SPARE}", {"content": "voice=1", "headers": FORM}, 400, "voice_invalid"),
        ("POST", f"/sim/{SPARE}", {"json": {"sms": 0, "voice": None}}, 400, "voice_invalid"),  # first in the table
        ("POST", f"/sim/{SPARE}", {"json": {"zz": 1, "data": "x"}}, 400, "data_invalid"),  # a field before body_invalid
        ("POST", "/sim/abc", {"json": {"voice": 1}}, 400, "uuid_invalid"),  # the path before the body
        (
            "POST",
            "/sim/abc",
            {"content": "x", "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ("POST", f"/sim/{OTHERS_SPARE}", {"json": {"voice": 1}}, 400, "voice_invalid"),  # 400 before 403
        ("POST", f"/sim/{SPARE}", {"content": oversized(b"voice=", b"t"), "headers": FORM}, 413, "payload_too_large"),
        ("POST", f"/sim/{SPARE}", {"files": {"voice": ("v", b"true")}}, 415, "unsupported_media_type"),
        ("PUT", f"/sim/{MINE_TOO}", {"content": b"sms=%FF", "headers": FORM}, 400, "body_invalid"),
        ("POST", f"/sms/{MINE}", {"content": b"from=A&text=%E2%82", "headers": FORM}, 400, "body_invalid"),
        ("GET", "/sims", {}, 404, "not_found"),
        ("GET", "/sim/", {}, 404, "not_found"),
        ("GET", f"/sim/{MINE}/pin", {}, 404, "not_found"),
        ("PATCH", f"/sim/{MINE}", {"json": {}}, 405, "method_not_allowed"),
        ("GET", f"/sms/{MINE}", {}, 405, "method_not_allowed"),
        ("POST", "/", {}, 405, "method_not_allowed"),
        ("GET", "/sims", {"auth": {}}, 401, "unauthorized"),  # authentication before the route (R5a)
    ]


def test_bad_input_is_a_4xx_in_the_error_shape_and_changes_nothing(server_factory, client):
    base = server_factory([API]).url(API)
    before = snapshot(client, base)
    for method, path, kwargs, status, code in bad_input():
        response = call(client, base, method, path, **dict(kwargs))
        where = f"{method} {path} {kwargs}"[:120]
        assert (response.status_code, response.json()) == (status, {"message": code}), where
        assert response.headers["content-type"] == "application/json", where
        if status == 405:
            assert response.headers["allow"], where
    assert snapshot(client, base) == before


SETTINGS_SCHEMAS = {
    "application/json": BUNDLE["components"]["schemas"]["SimSettings"],
    FORM["Content-Type"]: BUNDLE["components"]["schemas"]["SimSettingsForm"],
}
SMS_SCHEMAS = {
    "application/json": BUNDLE["components"]["schemas"]["SendSms"],
    FORM["Content-Type"]: BUNDLE["components"]["schemas"]["SendSmsForm"],
}
FIELDS = ["voice", "sms", "data", "from", "text", "zz"]
json_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.lists(st.booleans(), max_size=2)
)
form_values = st.one_of(st.sampled_from(["true", "false", "True", "1", "", "Mitto"]), st.text(max_size=12))


def test_any_body_the_schema_rejects_changes_nothing(server_factory, client):
    base = server_factory([API]).url(API)
    before = snapshot(client, base)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(
        target=st.sampled_from(
            [
                ("POST", f"/sim/{SPARE}", SETTINGS_SCHEMAS),
                ("PUT", f"/sim/{MINE_TOO}", SETTINGS_SCHEMAS),
                ("POST", f"/sms/{MINE}", SMS_SCHEMAS),
            ]
        ),
        as_form=st.booleans(),
        data=st.data(),
    )
    def rejected_bodies_change_nothing(target, as_form, data):
        method, path, schemas = target
        ctype = FORM["Content-Type"] if as_form else "application/json"
        values = form_values if as_form else json_values
        body = data.draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=4))
        if jsonschema.Draft202012Validator(schemas[ctype]).is_valid(body):
            return  # a valid body may change state; the property is about rejected ones
        content = urlencode(body, quote_via=quote) if as_form else json.dumps(body)
        response = call(client, base, method, path, content=content, headers={"Content-Type": ctype})
        assert 400 <= response.status_code < 500 and set(response.json()) == {"message"}, (body, response.text)
        assert snapshot(client, base) == before

    rejected_bodies_change_nothing()
