"""sim-v3 on the reference server: every documented answer reachable, the rulings' semantics (R8, R9,
R18-R22), the published samples as sent, webhook deliveries, and bad input (R5).

Every (operation, status, code) the spec documents must be produced by a scenario below; a code added to
the spec fails `test_every_documented_code_has_a_scenario` until it has one.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from apicontract.specs.walk import iter_operations

import serverkit
from receiver import Receiver
from serverkit import (
    FORM,
    JSON_TYPE,
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

API = "sim-v3"
BUNDLE = bundle(API)
ONE, TWO = fixtures(API)["accounts"][:2]
KEY, OTHER = ({"Authorization": a["credentials"]["api_key"]} for a in (ONE, TWO))


SAMPLE = "192837465"  # the source's sample SIM: account one's, unprovisioned at start
ALIASED = next(s for s in ONE["sims"] if s["provisioned"] and s["alias"])
TAKEN = ALIASED["alias"]
MINE = ALIASED["id"]
MINE_TOO = pick(ONE, True, "id", (MINE,))["id"]
SPARE = pick(ONE, False, "id", (SAMPLE,))["id"]
OTHERS, OTHERS_SPARE = pick(TWO, True, "id")["id"], pick(TWO, False, "id")["id"]
NOWHERE = "999999999"
USED = ONE["usage"][0]["sim_id"]  # a provisioned SIM with usage records in the fixtures
DAY = {"time_begin": "2018-01-01 00:00:00", "time_end": "2018-01-02 00:00:00"}
BIG = {"id": "a" * MIB}
R5B: set[tuple[str, int, str]] = set()  # sim-v3 documents no code without a trigger

# (operationId, method, path, kwargs, status, code): run in order against one server
SCENARIOS = [
    ("getRoot", "GET", "/", {}, 200, None),
    ("getRoot", "GET", "/", {"auth": {"Authorization": "OUR-API-KEY"}}, 401, "unauthorized"),  # the webhook key
    ("retrieveSim", "GET", "/sim", {"json": {"id": MINE}}, 200, None),
    ("retrieveSim", "GET", "/sim", {"json": {"id": "12345678"}}, 400, "id_invalid"),
    ("retrieveSim", "GET", "/sim", {"json": {"id": int(MINE)}}, 400, "id_invalid"),  # identifiers are strings
    ("retrieveSim", "GET", "/sim", {}, 400, "id_invalid"),  # no body: an empty object without id (R5)
    ("retrieveSim", "GET", "/sim", {"json": {"id": MINE, "alias": TAKEN}}, 400, "body_invalid"),
    ("retrieveSim", "GET", "/sim", {"json": {"id": MINE}, "auth": {}}, 401, "unauthorized"),
    ("retrieveSim", "GET", "/sim", {"json": {"id": OTHERS}}, 403, "id_forbidden"),
    ("retrieveSim", "GET", "/sim", {"json": {"id": SAMPLE}}, 404, "sim_not_found"),  # not provisioned
    ("retrieveSim", "GET", "/sim", {"json": {"id": NOWHERE}}, 404, "sim_not_found"),
    ("retrieveSim", "GET", "/sim", {"json": BIG}, 413, "payload_too_large"),
    ("retrieveSim", "GET", "/sim", {"content": f"id={MINE}", "headers": FORM}, 415, "unsupported_media_type"),
    ("createSim", "POST", "/sim", {"json": {"id": SPARE, "alias": "Spare-1"}}, 200, None),
    ("createSim", "POST", "/sim", {"json": {"id": SPARE}}, 409, "id_conflict"),
    ("createSim", "POST", "/sim", {"json": {"id": SAMPLE, "alias": TAKEN}}, 409, "alias_conflict"),
    ("createSim", "POST", "/sim", {"json": {"id": "1928374650"}}, 400, "id_invalid"),
    ("createSim", "POST", "/sim", {"json": {"id": SAMPLE, "alias": "-dash-first"}}, 400, "alias_invalid"),
    ("createSim", "POST", "/sim", {"json": {"id": SAMPLE, "active": "true"}}, 400, "active_invalid"),
    ("createSim", "POST", "/sim", {"json": {"id": SAMPLE, "colour": "red"}}, 400, "body_invalid"),
    (
        "createSim",
        "POST",
        "/sim",
        {"json": {"id": SAMPLE}, "auth": {"Authorization": "Bearer YOUR-API-KEY"}},
        401,
        "unauthorized",
    ),
    ("createSim", "POST", "/sim", {"json": {"id": OTHERS_SPARE}}, 403, "id_forbidden"),
    ("createSim", "POST", "/sim", {"json": {"id": NOWHERE}}, 403, "id_forbidden"),  # R8: in no inventory
    ("createSim", "POST", "/sim", {"json": BIG}, 413, "payload_too_large"),
    (
        "createSim",
        "POST",
        "/sim",
        {"content": "id=1", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
    ("updateSim", "PUT", "/sim", {"json": {"id": MINE_TOO, "alias": "Renamed"}}, 200, None),
    ("updateSim", "PUT", "/sim", {"json": {}}, 400, "id_invalid"),  # id missing
    ("updateSim", "PUT", "/sim", {"json": {"id": MINE, "alias": ""}}, 400, "alias_invalid"),
    ("updateSim", "PUT", "/sim", {"json": {"id": MINE, "active": 0}}, 400, "active_invalid"),
    ("updateSim", "PUT", "/sim", {}, 400, "id_invalid"),  # no body: an empty object (R5)
    ("updateSim", "PUT", "/sim", {"content": b"{", "headers": JSON_TYPE}, 400, "body_invalid"),
    ("updateSim", "PUT", "/sim", {"json": {"id": MINE}, "auth": {}}, 401, "unauthorized"),
    ("updateSim", "PUT", "/sim", {"json": {"id": OTHERS}}, 403, "id_forbidden"),
    ("updateSim", "PUT", "/sim", {"json": {"id": SAMPLE}}, 404, "sim_not_found"),
    ("updateSim", "PUT", "/sim", {"json": {"id": NOWHERE}}, 404, "sim_not_found"),
    ("updateSim", "PUT", "/sim", {"json": {"id": MINE_TOO, "alias": TAKEN}}, 409, "alias_conflict"),
    ("updateSim", "PUT", "/sim", {"json": BIG}, 413, "payload_too_large"),
    (
        "updateSim",
        "PUT",
        "/sim",
        {"content": "<id/>", "headers": {"Content-Type": "application/xml"}},
        415,
        "unsupported_media_type",
    ),
    ("deleteSim", "DELETE", "/sim", {"json": {"id": None}}, 400, "id_invalid"),
    ("deleteSim", "DELETE", "/sim", {"json": [SPARE]}, 400, "body_invalid"),
    ("deleteSim", "DELETE", "/sim", {"json": {"id": SPARE}, "auth": {}}, 401, "unauthorized"),
    ("deleteSim", "DELETE", "/sim", {"json": {"id": OTHERS}}, 403, "id_forbidden"),
    ("deleteSim", "DELETE", "/sim", {"json": {"id": SAMPLE}}, 404, "sim_not_found"),
    ("deleteSim", "DELETE", "/sim", {"json": {"id": SPARE}}, 200, None),
    ("deleteSim", "DELETE", "/sim", {"json": {"id": SPARE}}, 404, "sim_not_found"),  # already deleted
    ("deleteSim", "DELETE", "/sim", {"json": BIG}, 413, "payload_too_large"),
    ("deleteSim", "DELETE", "/sim", {"content": f"id={SPARE}", "headers": FORM}, 415, "unsupported_media_type"),
    ("createConnector", "POST", "/connector", {"json": {"id": "c-1", "kind": "mqtt"}}, 200, None),
    ("createConnector", "POST", "/connector", {"json": {"id": "c-1"}}, 409, "id_conflict"),
    ("createConnector", "POST", "/connector", {"json": {"id": "a b"}}, 400, "id_invalid"),
    ("createConnector", "POST", "/connector", {}, 400, "id_invalid"),  # no body: an empty object (R5)
    ("createConnector", "POST", "/connector", {"content": b"[", "headers": JSON_TYPE}, 400, "body_invalid"),
    ("createConnector", "POST", "/connector", {"json": {"id": "c-2"}, "auth": {}}, 401, "unauthorized"),
    ("createConnector", "POST", "/connector", {"json": BIG}, 413, "payload_too_large"),
    ("createConnector", "POST", "/connector", {"content": "id=c-2", "headers": FORM}, 415, "unsupported_media_type"),
    ("retrieveConnector", "GET", "/connector", {"json": {"id": "c-1"}}, 200, None),
    ("retrieveConnector", "GET", "/connector", {"json": {"id": ""}}, 400, "id_invalid"),
    ("retrieveConnector", "GET", "/connector", {"json": {"id": "c-1", "kind": "x"}}, 400, "body_invalid"),
    ("retrieveConnector", "GET", "/connector", {"json": {"id": "c-1"}, "auth": {}}, 401, "unauthorized"),
    ("retrieveConnector", "GET", "/connector", {"json": {"id": "c-9"}}, 404, "connector_not_found"),
    ("retrieveConnector", "GET", "/connector", {"json": {"id": "c-1"}, "auth": OTHER}, 404, "connector_not_found"),
    ("retrieveConnector", "GET", "/connector", {"json": BIG}, 413, "payload_too_large"),
    (
        "retrieveConnector",
        "GET",
        "/connector",
        {"content": "c-1", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
    ("updateConnector", "PUT", "/connector", {"json": {"id": "c-1", "kind": "http"}}, 200, None),
    ("updateConnector", "PUT", "/connector", {"json": {"kind": "http"}}, 400, "id_invalid"),
    ("updateConnector", "PUT", "/connector", {"json": "c-1"}, 400, "body_invalid"),
    (
        "updateConnector",
        "PUT",
        "/connector",
        {"json": {"id": "c-1"}, "auth": {"Authorization": "x"}},
        401,
        "unauthorized",
    ),
    ("updateConnector", "PUT", "/connector", {"json": {"id": "c-9"}}, 404, "connector_not_found"),
    ("updateConnector", "PUT", "/connector", {"json": BIG}, 413, "payload_too_large"),
    ("updateConnector", "PUT", "/connector", {"content": "id=c-1", "headers": FORM}, 415, "unsupported_media_type"),
    ("deleteConnector", "DELETE", "/connector", {"json": {"id": "a/b"}}, 400, "id_invalid"),
    (
        "deleteConnector",
        "DELETE",
        "/connector",
        {"content": b"{", "headers": {"Content-Type": "application/json"}},
        400,
        "body_invalid",
    ),
    ("deleteConnector", "DELETE", "/connector", {"json": {"id": "c-1"}, "auth": {}}, 401, "unauthorized"),
    ("deleteConnector", "DELETE", "/connector", {"json": {"id": "c-1"}}, 200, None),
    ("deleteConnector", "DELETE", "/connector", {"json": {"id": "c-1"}}, 404, "connector_not_found"),
    ("deleteConnector", "DELETE", "/connector", {"json": BIG}, 413, "payload_too_large"),
    ("deleteConnector", "DELETE", "/connector", {"content": "c-1", "headers": FORM}, 415, "unsupported_media_type"),
    ("retrieveUsage", "GET", "/usage", {"json": {"sim_id": USED, **DAY}}, 200, None),
    ("retrieveUsage", "GET", "/usage", {"json": {"sim_id": "1", **DAY}}, 400, "sim_id_invalid"),
    (
        "retrieveUsage",
        "GET",
        "/usage",
        {"json": {**DAY, "sim_id": USED, "time_begin": "2018-01-01T00:00:00"}},
        400,
        "time_begin_invalid",
    ),
    (
        "retrieveUsage",
        "GET",
        "/usage",
        {"json": {"sim_id": USED, "time_begin": DAY["time_begin"]}},
        400,
        "time_end_invalid",
    ),  # missing
    (
        "retrieveUsage",
        "GET",
        "/usage",
        {"json": {"sim_id": USED, "time_begin": DAY["time_end"], "time_end": DAY["time_begin"]}},
        400,
        "time_end_invalid",
    ),  # R21
    ("retrieveUsage", "GET", "/usage", {"json": {"sim_id": USED, **DAY, "page": 1}}, 400, "body_invalid"),
    ("retrieveUsage", "GET", "/usage", {"json": {"sim_id": USED, **DAY}, "auth": {}}, 401, "unauthorized"),
    ("retrieveUsage", "GET", "/usage", {"json": {"sim_id": OTHERS, **DAY}}, 403, "sim_id_forbidden"),
    ("retrieveUsage", "GET", "/usage", {"json": {"sim_id": SAMPLE, **DAY}}, 404, "sim_id_not_found"),
    ("retrieveUsage", "GET", "/usage", {"json": {"sim_id": NOWHERE, **DAY}}, 404, "sim_id_not_found"),
    ("retrieveUsage", "GET", "/usage", {"json": {"sim_id": "1" * MIB, **DAY}}, 413, "payload_too_large"),
    ("retrieveUsage", "GET", "/usage", {"content": "sim_id=1", "headers": FORM}, 415, "unsupported_media_type"),
]


def test_every_documented_code_has_a_scenario():
    covered = produced(SCENARIOS)
    assert documented(BUNDLE) - covered - R5B == set()
    assert covered <= documented(BUNDLE)
    operations = {op.node["operationId"] for op in iter_operations(BUNDLE) if not op.is_webhook}
    assert operations == {op for op, *_, status, _ in SCENARIOS if status == 200}  # every success too


def test_no_code_is_exempt_and_none_is_described_as_untriggerable():
    """R5b names no sim-v3 code, so no example may claim to have no trigger."""
    for op in iter_operations(BUNDLE):
        for response in (op.node.get("responses") or {}).values():
            for ex in ((response.get("content") or {}).get("application/json") or {}).get("examples", {}).values():
                assert "R5b" not in ex.get("summary", ""), op.node.get("operationId")


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


# --- the published samples, byte for byte as `request` sends them (design/seed-samples.md) -------------


def wire(base: str, method: str, path: str, body: dict | None = None):
    """One request with exactly the sample's headers: `json:` sends compact JSON and `Accept: application/json`."""
    headers = {"Authorization": KEY["Authorization"]}
    content = None
    if body is not None:
        content = json.dumps(body, separators=(",", ":")).encode()
        headers.update(
            {"accept": "application/json", "content-type": "application/json", "content-length": str(len(content))}
        )
    return exactly(base, method, path, headers, content)


example = partial(serverkit.example, BUNDLE)  # (operationId, a response status or "request", name)


def test_published_samples_run_in_order_as_sent(server_factory):
    base = server_factory([API]).url(API)
    ok = (200, "application/json", example("createSim", "200", "ok"))
    created = example("createSim", "request", "create")
    assert wire(base, "GET", "/") == (200, "application/json", example("getRoot", "200", "ok"))
    assert wire(base, "POST", "/sim", created) == ok
    assert len(json.dumps(example("retrieveSim", "request", "retrieve"), separators=(",", ":"))) == 18
    retrieved = wire(base, "GET", "/sim", example("retrieveSim", "request", "retrieve"))
    # the printed answer shows alias 4512345678, but the create sample just set My-Lego-Drone01
    assert retrieved == (
        200,
        "application/json",
        {**example("retrieveSim", "200", "retrieve"), "alias": created["alias"]},
    )
    assert wire(base, "PUT", "/sim", example("updateSim", "request", "update")) == ok
    assert wire(base, "GET", "/sim", {"id": SAMPLE})[2]["active"] is False
    assert wire(base, "DELETE", "/sim", example("deleteSim", "request", "delete")) == ok
    assert wire(base, "GET", "/sim", {"id": SAMPLE}) == (404, "application/json", {"message": "sim_not_found"})


def test_spec_request_examples_are_accepted(server_factory, client):
    """Every request example of the spec is a valid request, with the state it needs arranged first."""
    base = server_factory([API]).url(API)
    for op in iter_operations(BUNDLE):
        body = op.node.get("requestBody")
        if op.is_webhook or not body:
            continue
        for name, ex in body["content"]["application/json"]["examples"].items():
            op_id = op.node["operationId"]
            if "id" in ex["value"]:  # create finds nothing under the id; the others find it there
                arrange = "DELETE" if op_id.startswith("create") else "POST"
                call(client, base, arrange, op.key, json={"id": ex["value"]["id"]})
            response = call(client, base, op.method.upper(), op.key, json=ex["value"])
            assert response.status_code == 200, (op_id, name, response.text)
            if op_id == "retrieveUsage":  # the illustrative answer shows some of the records
                assert all(r in response.json()["usage"] for r in example(op_id, "200", "usage")["usage"])


# --- the rulings' semantics ---------------------------------------------------------------------------


def sim(client: httpx.Client, base: str, sim_id: str, auth: dict = KEY) -> dict:
    return call(client, base, "GET", "/sim", json={"id": sim_id}, auth=auth).json()


def test_r8_create_defaults_delete_and_create_again(server_factory, client):
    base = server_factory([API]).url(API)
    assert call(client, base, "POST", "/sim", json={"id": SPARE}).status_code == 200
    assert sim(client, base, SPARE) == {"id": SPARE, "alias": None, "active": True}
    assert call(client, base, "DELETE", "/sim", json={"id": MINE}).status_code == 200
    assert sim(client, base, MINE) == {"message": "sim_not_found"}
    assert call(client, base, "POST", "/sim", json={"id": MINE, "active": False}).status_code == 200
    assert sim(client, base, MINE) == {"id": MINE, "alias": None, "active": False}  # the old alias was discarded


def test_r8_each_account_is_forbidden_the_other_accounts_sims(server_factory, client):
    base = server_factory([API]).url(API)
    for auth, account in ((OTHER, ONE), (KEY, TWO)):
        for entry in account["sims"]:  # provisioned or not, on every operation
            for method in ("GET", "POST", "PUT", "DELETE"):
                response = call(client, base, method, "/sim", json={"id": entry["id"]}, auth=auth)
                assert (response.status_code, response.json()) == (403, {"message": "id_forbidden"}), method
            response = call(client, base, "GET", "/usage", json={"sim_id": entry["id"], **DAY}, auth=auth)
            assert (response.status_code, response.json()) == (403, {"message": "sim_id_forbidden"})


def test_r9_r20_update_semantics(server_factory, client):
    base = server_factory([API]).url(API)
    assert call(client, base, "PUT", "/sim", json={"id": MINE, "active": False}).status_code == 200
    assert sim(client, base, MINE) == {"id": MINE, "alias": TAKEN, "active": False}  # omitted alias kept
    assert call(client, base, "PUT", "/sim", json={"id": MINE}).status_code == 200
    assert sim(client, base, MINE) == {"id": MINE, "alias": TAKEN, "active": True}  # omitted active: default
    assert call(client, base, "PUT", "/sim", json={"id": MINE, "alias": TAKEN}).status_code == 200  # its own
    assert call(client, base, "PUT", "/sim", json={"id": MINE, "alias": None}).status_code == 200
    assert sim(client, base, MINE)["alias"] is None  # explicit null unsets
    assert call(client, base, "PUT", "/sim", json={"id": MINE_TOO, "alias": TAKEN}).status_code == 200  # freed


def test_r20_aliases_are_unique_per_account_among_provisioned_sims_compared_exactly(server_factory, client):
    base = server_factory([API]).url(API)
    response = call(client, base, "POST", "/sim", json={"id": SAMPLE, "alias": TAKEN})
    assert (response.status_code, response.json()) == (409, {"message": "alias_conflict"})
    assert call(client, base, "POST", "/sim", json={"id": SAMPLE, "alias": TAKEN.lower()}).status_code == 200
    assert call(client, base, "POST", "/sim", json={"id": OTHERS_SPARE, "alias": TAKEN}, auth=OTHER).status_code == 200
    assert call(client, base, "DELETE", "/sim", json={"id": MINE}).status_code == 200  # frees its alias
    assert call(client, base, "POST", "/sim", json={"id": SPARE, "alias": TAKEN}).status_code == 200
    response = call(client, base, "POST", "/sim", json={"id": MINE, "alias": TAKEN})
    assert (response.status_code, response.json()) == (409, {"message": "alias_conflict"})
    assert sim(client, base, MINE) == {"message": "sim_not_found"}  # nothing changed


def usage(client: httpx.Client, base: str, sim_id: str, begin: str, end: str, auth: dict = KEY) -> httpx.Response:
    return call(client, base, "GET", "/usage", json={"sim_id": sim_id, "time_begin": begin, "time_end": end}, auth=auth)


def test_r21_usage_is_the_records_in_the_half_open_period(server_factory, client):
    base = server_factory([API]).url(API)
    records = sorted((r for r in ONE["usage"] if r["sim_id"] == USED), key=lambda r: r["time"])
    first, second = records[0]["time"], records[1]["time"]
    assert usage(client, base, USED, "2000-01-01 00:00:00", "2100-01-01 00:00:00").json() == {"usage": records}
    assert usage(client, base, USED, first, second).json() == {"usage": records[:1]}  # begin in, end out
    assert usage(client, base, USED, second, second).json() == {"usage": []}  # equal times: empty
    assert usage(client, base, MINE_TOO, *DAY.values()).json() == {"usage": []}
    response = usage(client, base, OTHERS, second, first)  # R5a: the 400 comes before the 403
    assert (response.status_code, response.json()) == (400, {"message": "time_end_invalid"})
    assert call(client, base, "DELETE", "/sim", json={"id": USED}).status_code == 200
    response = usage(client, base, USED, *DAY.values())
    assert (response.status_code, response.json()) == (404, {"message": "sim_id_not_found"})


def test_r18_connectors_are_stored_as_given_per_account(server_factory, client):
    base = server_factory([API]).url(API)
    given_ = {"id": "mqtt-1", "host": "broker.example", "port": 1883, "tls": {"on": True}}
    assert call(client, base, "POST", "/connector", json=given_).status_code == 200
    assert call(client, base, "GET", "/connector", json={"id": "mqtt-1"}).json() == given_
    assert call(client, base, "PUT", "/connector", json={"id": "mqtt-1", "port": 8883}).status_code == 200
    assert call(client, base, "GET", "/connector", json={"id": "mqtt-1"}).json() == {"id": "mqtt-1", "port": 8883}
    assert call(client, base, "GET", "/connector", json={"id": "mqtt-1"}, auth=OTHER).status_code == 404
    assert call(client, base, "POST", "/connector", json={"id": "mqtt-1"}, auth=OTHER).status_code == 200  # own space


# --- webhooks (R22) -----------------------------------------------------------------------------------

SCHEMAS = webhook_schemas(API, "usage", "network_validation", "network_registration")


def received(delivery, name: str) -> dict:
    """A delivery as the spec describes it: POST JSON to <endpoint>/<name>, the raw webhook key, schema-valid."""
    return serverkit.delivered(delivery, name, SCHEMAS[name], ONE["webhook"]["api_key"])


simulate = partial(serverkit.simulate, auth=KEY)
settled = partial(serverkit.settled, auth=KEY)


def test_provisioning_reports_a_network_registration(server_factory, client):
    with Receiver() as hook:
        base = server_factory([API], webhook_url=hook.url).url(API)
        assert call(client, base, "POST", "/sim", json={"id": SPARE}).status_code == 200
        payload = received(hook.wait(1)[0], "network_registration")
        assert payload["sim_id"] == SPARE
        stamp = datetime.strptime(payload["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=2)  # R7: now, in UTC
        assert [(e["event"], e["outcome"]) for e in settled(client, base)] == [("network_registration", "delivered")]
        assert client.get(f"{base}/_events", headers=OTHER).json()["events"] == []  # per account


def test_triggers_deliver_and_usage_is_stored(server_factory, client):
    with Receiver() as hook:
        base = server_factory([API], webhook_url=hook.url).url(API)
        answer = simulate(client, base, "usage", {"sim_id": MINE_TOO, "download": "2048"})
        assert answer.status_code == 200, answer.text
        now = received(hook.wait(1)[0], "usage")
        assert (now["sim_id"], now["download"]) == (MINE_TOO, "2048")
        assert simulate(client, base, "usage", {"sim_id": MINE_TOO, "time": "2018-01-01 12:00:00"}).status_code == 200
        past = received(hook.wait(2)[1], "usage")
        assert past["bill_id"] != now["bill_id"]
        assert usage(client, base, MINE_TOO, *DAY.values()).json() == {"usage": [past]}  # stored: GET /usage has it
        later = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
        assert usage(client, base, MINE_TOO, now["time"], later).json() == {"usage": [now]}
        validation = simulate(client, base, "network_validation", {"sim_id": MINE, "country_code": "se"})
        assert validation.status_code == 200
        assert received(hook.wait(3)[2], "network_validation")["country_code"] == "se"
        assert simulate(client, base, "network_registration", {"sim_id": MINE}).status_code == 200
        assert received(hook.wait(4)[3], "network_registration")["sim_id"] == MINE
        assert {e["outcome"] for e in settled(client, base)} == {"delivered"}


REFUSED_TRIGGERS = [
    ("usage", {"sim_id": NOWHERE}, 404),
    ("usage", {"sim_id": SAMPLE}, 404),  # not provisioned
    ("usage", {"sim_id": OTHERS}, 404),  # another account's
    ("usage", {"sim_id": int(MINE)}, 400),  # identifiers are strings
    ("usage", {"sim_id": MINE, "upload": 5}, 400),  # numbers are decimal strings
    ("usage", {"sim_id": MINE, "time": "yesterday"}, 400),
    ("network_validation", {"sim_id": MINE, "imei": "12"}, 400),
    ("network_registration", {"sim_id": MINE, "roaming": True}, 400),
    ("nothing", {"sim_id": MINE}, 404),
]


def test_triggers_refuse_what_the_contract_does_not_allow(server_factory, client):
    base = server_factory([API]).url(API)
    before = snapshot(client, base)
    for name, payload, status in REFUSED_TRIGGERS:
        answer = simulate(client, base, name, payload)
        assert (answer.status_code, "error" in answer.json()) == (status, True), (name, payload, answer.text)
    assert snapshot(client, base) == before  # no usage stored, no event


# --- bad input (R5) -----------------------------------------------------------------------------------

EVER = ("2000-01-01 00:00:00", "2100-01-01 00:00:00")


def snapshot(client: httpx.Client, base: str) -> tuple:
    """Everything observable: every SIM and its usage as its owner sees them, and every account's events."""
    seen = {}
    for account in (ONE, TWO):
        auth = {"Authorization": account["credentials"]["api_key"]}
        for entry in account["sims"]:
            seen[entry["id"]] = (
                sim(client, base, entry["id"], auth),
                usage(client, base, entry["id"], *EVER, auth).json(),
            )
        seen[account["name"]] = client.get(f"{base}/_events", headers=auth).json()["events"]
    return seen


def bad_input() -> list[tuple]:
    return [
        ("POST", "/sim", {"content": b'{"id": "192837468"', "headers": JSON_TYPE}, 400, "body_invalid"),
        ("POST", "/sim", {"content": b'{"id": "192837468", "active": NaN}', "headers": JSON_TYPE}, 400, "body_invalid"),
        ("POST", "/sim", {"content": b'{"id": "19283746\xff"}', "headers": JSON_TYPE}, 400, "body_invalid"),
        ("POST", "/sim", {"content": b"", "headers": JSON_TYPE}, 400, "id_invalid"),  # an empty object (R5)
        ("POST", "/sim", {"json": {"id": int(SPARE)}}, 400, "id_invalid"),
        ("POST", "/sim", {"json": {"id": SPARE, "active": "false"}}, 400, "active_invalid"),
        ("POST", "/sim", {"json": {"id": SPARE, "alias": 7}}, 400, "alias_invalid"),
        ("POST", "/sim", {"json": {"id": SPARE, "alias": "a" * 65}}, 400, "alias_invalid"),
        ("POST", "/sim", {"json": {"active": 1, "alias": 2}}, 400, "id_invalid"),  # first in the error table
        ("POST", "/sim", {"json": {"id": SPARE, "zz": 1, "active": None}}, 400, "active_invalid"),  # before body_
        ("POST", "/sim", {"json": {"id": OTHERS_SPARE, "active": None}}, 400, "active_invalid"),  # 400 before 403
        ("POST", "/sim", {"content": f"id={SPARE}", "headers": FORM}, 415, "unsupported_media_type"),
        ("POST", "/sim", {"content": f'{{"id": "{SPARE}"}}'.encode()}, 415, "unsupported_media_type"),  # no type
        ("POST", "/sim", {"files": {"id": ("id", SPARE.encode())}}, 415, "unsupported_media_type"),
        ("POST", "/sim", {"content": oversized(b'{"id": "', b"1"), "headers": JSON_TYPE}, 413, "payload_too_large"),
        ("DELETE", "/sim", {}, 400, "id_invalid"),  # no body: an empty object without id (R5)
        ("DELETE", "/sim", {"json": {"id": MINE, "force": True}}, 400, "body_invalid"),
        ("PUT", "/sim", {"json": {"id": MINE, "active": "no"}}, 400, "active_invalid"),
        (
            "GET",
            "/usage",
            {"json": {"sim_id": USED, "time_begin": "2018-02-30 00:00:00x", "time_end": "x"}},
            400,
            "time_begin_invalid",
        ),
        ("GET", "/sims", {}, 404, "not_found"),
        ("GET", f"/sim/{MINE}", {}, 404, "not_found"),
        ("PATCH", "/sim", {"json": {"id": MINE}}, 405, "method_not_allowed"),
        ("POST", "/usage", {"json": {}}, 405, "method_not_allowed"),
        ("DELETE", "/", {}, 405, "method_not_allowed"),
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


REQUESTS = {
    name: BUNDLE["components"]["schemas"][name] for name in ("CreateSimRequest", "UpdateSimRequest", "SimIdRequest")
}
junk = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=70), st.lists(st.integers(), max_size=2))


def test_any_body_the_schema_rejects_changes_nothing(server_factory, client):
    base = server_factory([API]).url(API)
    before = snapshot(client, base)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(
        target=st.sampled_from(
            [("POST", SPARE, "CreateSimRequest"), ("PUT", MINE, "UpdateSimRequest"), ("DELETE", MINE, "SimIdRequest")]
        ),
        data=st.data(),
    )
    def rejected_bodies_change_nothing(target, data):
        method, sim_id, schema = target
        body = data.draw(
            st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "id": st.one_of(st.just(sim_id), junk),
                        "alias": st.one_of(st.sampled_from(["Fresh-1", TAKEN]), junk),
                        "active": junk,
                        "zz": junk,
                    },
                ),
                junk,
            )
        )
        if jsonschema.Draft202012Validator(REQUESTS[schema]).is_valid(body):
            return  # a valid body may change state; the property is about rejected ones
        response = call(client, base, method, "/sim", json=body)
        assert 400 <= response.status_code < 500 and set(response.json()) == {"message"}, (body, response.text)
        assert snapshot(client, base) == before

    rejected_bodies_change_nothing()
