"""sim-v2 on the reference server: every documented answer reachable, the rulings' semantics, bad input.

Every (operation, status, code) the spec documents must be produced by a scenario below; a code added to
the spec fails `test_every_documented_code_has_a_scenario` until it has one.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apicontract.specs.walk import iter_operations

from serverkit import FORM, bundle, documented, produced, request

API = "sim-v2"
KEY = {"Authorization": "YOUR-API-KEY"}
OTHER = {"Authorization": "OTHER-API-KEY-0002"}
SAMPLE_IMSI, SAMPLE_MSISDN = "238731234567890", "4512345678"
MINE = "238731234567891"  # provisioned, MSISDN 4512345679
MINE_TOO = "238731234567892"
OTHERS = "238732000000001"  # the second account's, provisioned
R5B = {("retrieveSim", 400, "imsi_invalid"), ("deleteSim", 400, "imsi_invalid")}  # no known trigger

BUNDLE = bundle(API)

# (operationId, method, path, kwargs, status, code): run in order against one server
SCENARIOS = [
    ("getRoot", "GET", "/", {}, 200, None),
    ("getRoot", "GET", "/", {"auth": {"Authorization": "nope"}}, 401, "unauthorized"),
    ("retrieveSim", "GET", f"/sim/{MINE}", {}, 200, None),
    ("retrieveSim", "GET", "/sim/12", {}, 400, "msisdn_invalid"),
    ("retrieveSim", "GET", f"/sim/{MINE}", {"auth": {}}, 401, "unauthorized"),
    ("retrieveSim", "GET", f"/sim/{OTHERS}", {}, 403, "imsi_forbidden"),
    ("retrieveSim", "GET", "/sim/999999999999999", {}, 404, "sim_not_found"),
    # the published create sample: MSISDN path, IMSI in a urlencoded body
    (
        "createSim",
        "POST",
        f"/sim/{SAMPLE_MSISDN}",
        {"content": "imsi=238731234567890&voice=true&sms=true&data=true&data_throttling=false", "headers": FORM},
        200,
        None,
    ),
    ("createSim", "POST", f"/sim/{SAMPLE_IMSI}", {"json": {}}, 409, "imsi_conflict"),
    ("createSim", "POST", "/sim/4599999999", {"json": {}}, 400, "imsi_invalid"),
    ("createSim", "POST", "/sim/4599999999", {"json": {"imsi": "123"}}, 400, "imsi_invalid"),
    ("createSim", "POST", "/sim/1", {"json": {}}, 400, "msisdn_invalid"),
    ("createSim", "POST", "/sim/238731234567894", {"json": {"voice": "yes"}}, 400, "voice_invalid"),
    ("createSim", "POST", "/sim/238731234567894", {"json": {"sms": 1}}, 400, "sms_invalid"),
    ("createSim", "POST", "/sim/238731234567894", {"json": {"data": None}}, 400, "data_invalid"),
    (
        "createSim",
        "POST",
        "/sim/238731234567894",
        {"content": "data_throttling=maybe", "headers": FORM},
        400,
        "data_throttling_invalid",
    ),
    ("createSim", "POST", "/sim/238731234567894", {"json": {"colour": "red"}}, 400, "body_invalid"),
    (
        "createSim",
        "POST",
        "/sim/238731234567894",
        {"content": b"{bad", "headers": {"Content-Type": "application/json"}},
        400,
        "body_invalid",
    ),
    ("createSim", "POST", "/sim/238731234567894", {"json": {}, "auth": {}}, 401, "unauthorized"),
    ("createSim", "POST", f"/sim/{OTHERS}", {"json": {}}, 403, "imsi_forbidden"),
    ("createSim", "POST", "/sim/999999999999999", {"json": {}}, 404, "imsi_not_found"),
    ("createSim", "POST", "/sim/238731234567894", {"json": {"msisdn": "4512345679"}}, 409, "msisdn_conflict"),
    (
        "createSim",
        "POST",
        "/sim/238731234567894",
        {"json": {"data": False, "data_throttling": True}},
        409,
        "data_data_throttling_conflict",
    ),
    ("createSim", "POST", "/sim/238731234567894", {"json": {"x": "a" * (1024 * 1024)}}, 413, "payload_too_large"),
    (
        "createSim",
        "POST",
        "/sim/238731234567894",
        {"content": "voice=true", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
    # the published update sample (its body equals the create sample's)
    (
        "updateSim",
        "PUT",
        f"/sim/{SAMPLE_MSISDN}",
        {"content": "imsi=238731234567890&voice=true&sms=true&data=true&data_throttling=false", "headers": FORM},
        200,
        None,
    ),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"imsi": SAMPLE_IMSI}}, 400, "imsi_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"msisdn": "+45"}}, 400, "msisdn_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"voice": "true"}}, 400, "voice_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"sms": []}}, 400, "sms_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"data": 0}}, 400, "data_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"data_throttling": "false"}}, 400, "data_throttling_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": [1]}, 400, "body_invalid"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {}, "auth": OTHER}, 403, "imsi_forbidden"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {}, "auth": {"Authorization": ""}}, 401, "unauthorized"),
    ("updateSim", "PUT", "/sim/238731234567894", {"json": {}}, 404, "sim_not_found"),
    ("updateSim", "PUT", f"/sim/{MINE}", {"json": {"msisdn": SAMPLE_MSISDN}}, 409, "msisdn_conflict"),
    (
        "updateSim",
        "PUT",
        f"/sim/{MINE}",
        {"json": {"data": False, "data_throttling": True}},
        409,
        "data_data_throttling_conflict",
    ),
    (
        "updateSim",
        "PUT",
        f"/sim/{MINE}",
        {"content": b"x" * (1024 * 1024 + 1), "headers": FORM},
        413,
        "payload_too_large",
    ),
    (
        "updateSim",
        "PUT",
        f"/sim/{MINE}",
        {"content": b"<xml/>", "headers": {"Content-Type": "application/xml"}},
        415,
        "unsupported_media_type",
    ),
    ("deleteSim", "DELETE", "/sim/123456", {}, 400, "msisdn_invalid"),
    ("deleteSim", "DELETE", f"/sim/{MINE}", {"auth": {}}, 401, "unauthorized"),
    ("deleteSim", "DELETE", f"/sim/{OTHERS}", {}, 403, "imsi_forbidden"),
    ("deleteSim", "DELETE", "/sim/999999999999999", {}, 404, "sim_not_found"),
    ("deleteSim", "DELETE", f"/sim/{SAMPLE_MSISDN}", {}, 200, None),
    ("createConnector", "POST", "/connector/c-1", {"json": {"kind": "mqtt", "port": 1883}}, 200, None),
    ("createConnector", "POST", "/connector/c-1", {"json": {}}, 409, "id_conflict"),
    ("createConnector", "POST", "/connector/bad%20id", {"json": {}}, 400, "id_invalid"),
    ("createConnector", "POST", "/connector/c-2", {"json": "text"}, 400, "body_invalid"),
    ("createConnector", "POST", "/connector/c-2", {"json": {}, "auth": {}}, 401, "unauthorized"),
    ("createConnector", "POST", "/connector/c-2", {"json": {"x": "a" * (1024 * 1024)}}, 413, "payload_too_large"),
    ("createConnector", "POST", "/connector/c-2", {"content": "a=b", "headers": FORM}, 415, "unsupported_media_type"),
    ("retrieveConnector", "GET", "/connector/c-1", {}, 200, None),
    ("retrieveConnector", "GET", "/connector/%2E%2E", {}, 404, "connector_not_found"),
    ("retrieveConnector", "GET", "/connector/a*b", {}, 400, "id_invalid"),
    ("retrieveConnector", "GET", "/connector/c-1", {"auth": {}}, 401, "unauthorized"),
    ("retrieveConnector", "GET", "/connector/c-1", {"auth": OTHER}, 404, "connector_not_found"),
    ("updateConnector", "PUT", "/connector/c-1", {"json": {"kind": "http"}}, 200, None),
    ("updateConnector", "PUT", "/connector/c-9", {"json": {}}, 404, "connector_not_found"),
    ("updateConnector", "PUT", "/connector/a*b", {"json": {}}, 400, "id_invalid"),
    ("updateConnector", "PUT", "/connector/c-1", {}, 200, None),  # no body: an empty object (R5)
    (
        "updateConnector",
        "PUT",
        "/connector/c-1",
        {"content": b"{", "headers": {"Content-Type": "application/json"}},
        400,
        "body_invalid",
    ),
    ("updateConnector", "PUT", "/connector/c-1", {"json": {}, "auth": {}}, 401, "unauthorized"),
    (
        "updateConnector",
        "PUT",
        "/connector/c-1",
        {"content": b"{" * (1024 * 1024 + 1), "headers": {"Content-Type": "application/json"}},
        413,
        "payload_too_large",
    ),
    (
        "updateConnector",
        "PUT",
        "/connector/c-1",
        {"content": "x", "headers": {"Content-Type": "text/csv"}},
        415,
        "unsupported_media_type",
    ),
    ("deleteConnector", "DELETE", "/connector/a*b", {}, 400, "id_invalid"),
    ("deleteConnector", "DELETE", "/connector/c-1", {"auth": {}}, 401, "unauthorized"),
    ("deleteConnector", "DELETE", "/connector/c-1", {}, 200, None),
    ("deleteConnector", "DELETE", "/connector/c-1", {}, 404, "connector_not_found"),
    # the published send SMS sample (urlencoded with %20-style encoding)
    (
        "sendSms",
        "POST",
        "/sms/4512345678",
        {"content": "from=Onomondo&text=Hello%2C%20World%21", "headers": FORM},
        200,
        None,
    ),
    ("sendSms", "POST", "/sms/+4512345678", {"json": {"from": "A", "text": "b"}}, 400, "to_invalid"),
    ("sendSms", "POST", "/sms/4512345678", {"json": {"from": "Mitto!", "text": "b"}}, 400, "from_invalid"),
    ("sendSms", "POST", "/sms/4512345678", {"json": {"from": "A", "text": ""}}, 400, "text_invalid"),
    ("sendSms", "POST", "/sms/4512345678", {"content": b"from=%FF&text=a", "headers": FORM}, 400, "body_invalid"),
    ("sendSms", "POST", "/sms/4512345678", {"json": {}, "auth": {}}, 401, "unauthorized"),
    (
        "sendSms",
        "POST",
        "/sms/4512345678",
        {"json": {"from": "A", "text": "b" * (1024 * 1024)}},
        413,
        "payload_too_large",
    ),
    (
        "sendSms",
        "POST",
        "/sms/4512345678",
        {"content": "from=A", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
]


def test_every_documented_code_has_a_scenario():
    covered = produced(SCENARIOS)
    assert documented(BUNDLE) - covered - R5B == set()
    assert covered <= documented(BUNDLE)


def test_r5b_exemptions_are_documented_as_such():
    for op in iter_operations(BUNDLE):
        for op_id, status, code in R5B:
            if op.node.get("operationId") == op_id:
                media = op.node["responses"][str(status)]["content"]["application/json"]
                assert "R5b" in media["examples"][code]["summary"]


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


def test_lifecycle_and_update_semantics(server_factory, client):
    base = server_factory([API]).url(API)
    sim = "238731234567894"
    assert call(client, base, "POST", f"/sim/{sim}", json={"msisdn": "4511111111", "sms": False}).status_code == 200
    created = call(client, base, "GET", "/sim/4511111111").json()
    assert created == {
        "imsi": sim,
        "msisdn": "4511111111",
        "voice": True,
        "sms": False,
        "data": True,
        "data_throttling": False,
    }  # R16 defaults
    assert call(client, base, "PUT", f"/sim/{sim}", json={"data_throttling": True}).status_code == 200
    assert call(client, base, "GET", f"/sim/{sim}").json()["sms"] is False  # R9: omitted keeps the stored value
    assert call(client, base, "PUT", f"/sim/{sim}", json={"msisdn": "4522222222"}).status_code == 200
    assert call(client, base, "GET", "/sim/4511111111").status_code == 404  # the old MSISDN is free
    assert call(client, base, "GET", "/sim/4522222222").json()["data_throttling"] is True
    assert call(client, base, "DELETE", "/sim/4522222222").status_code == 200
    assert call(client, base, "GET", f"/sim/{sim}").status_code == 404
    assert call(client, base, "POST", f"/sim/{sim}", json={}).status_code == 200  # created again after delete
    assert call(client, base, "GET", f"/sim/{sim}").json()["msisdn"] is None


def test_second_account_sees_403_on_every_sim_operation(server_factory, client):
    base = server_factory([API]).url(API)
    for method in ("GET", "PUT", "DELETE"):
        kwargs = {"json": {}} if method == "PUT" else {}
        for path in (f"/sim/{MINE}", "/sim/4512345679"):
            response = call(client, base, method, path, auth=OTHER, **kwargs)
            assert (response.status_code, response.json()) == (403, {"message": "imsi_forbidden"})
    response = call(client, base, "POST", f"/sim/{MINE}", auth=OTHER, json={})
    assert response.status_code == 403


def test_published_json_content_type_with_form_body_is_a_clear_400(server_factory, client):
    """seed-samples.md: copying the samples' header into curl sends JSON's type with a form body."""
    base = server_factory([API]).url(API)
    response = call(
        client,
        base,
        "POST",
        f"/sim/{SAMPLE_MSISDN}",
        content="imsi=238731234567890&voice=true",
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (400, {"message": "body_invalid"})
    assert call(client, base, "GET", f"/sim/{SAMPLE_IMSI}").status_code == 404  # nothing changed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["voice", "sms", "data", "data_throttling", "imsi", "msisdn", "zz"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.booleans())),
        min_size=1,
    )
)
def test_rejected_updates_change_nothing(server_factory, client, body):
    if not hasattr(test_rejected_updates_change_nothing, "base"):
        test_rejected_updates_change_nothing.base = server_factory([API]).url(API)
    base = test_rejected_updates_change_nothing.base
    before = call(client, base, "GET", f"/sim/{MINE_TOO}").json()
    response = call(client, base, "PUT", f"/sim/{MINE_TOO}", json=body)
    if response.status_code != 200:
        assert 400 <= response.status_code < 500 and set(response.json()) == {"message"}
        assert call(client, base, "GET", f"/sim/{MINE_TOO}").json() == before


@pytest.mark.parametrize(
    ("content", "ctype", "code"),
    [
        (b"\xff\xfe", "application/json", "body_invalid"),  # invalid UTF-8
        (b'{"voice": NaN}', "application/json", "body_invalid"),  # not JSON
        (b'{"voice": true}', FORM["Content-Type"], "body_invalid"),  # JSON sent as a form
        (b"voice=%ZZ", FORM["Content-Type"], "voice_invalid"),  # a bad escape stays literal (WHATWG): a bad value
        (b"", "application/json", None),  # an empty body is a body with no fields: nothing changes (R9)
    ],
)
def test_malformed_bodies_are_400_and_change_nothing(server_factory, client, content, ctype, code):
    base = server_factory([API]).url(API)
    response = call(client, base, "PUT", f"/sim/{MINE}", content=content, headers={"Content-Type": ctype})
    if code:
        assert (response.status_code, response.json()) == (400, {"message": code})
    else:
        assert response.status_code == 200
    assert call(client, base, "GET", f"/sim/{MINE}").json()["voice"] is True
