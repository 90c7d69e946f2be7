"""cpaas on the reference server: every documented answer reachable, the published samples, balance and
authentication, bad input (R5). The media library is in test_cpaas_media.py, activation callbacks in
test_cpaas_activation.py; what they share is in cpaaskit.py.

Every (operation, status, code) the spec documents must be produced by a scenario below; a code added to
the spec fails `test_every_documented_code_has_a_scenario` until it has one. cpaas has no exemptions: the
R5b codes are produced by the fixture accounts marked `prohibited`.
"""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apicontract.server.compiled import inline
from apicontract.specs.walk import iter_operations, response_codes

from cpaaskit import (
    ACCOUNTS,
    API,
    BUNDLE,
    FIXTURES,
    KEY,
    NAMES,
    call,
    key,
    multipart,
    operation,
    request_example,
    response_example,
    state,
    upload,
)
from cpaaskit import shared as shared  # a fixture: imported for pytest, which finds it by name
from receiver import Receiver
from serverkit import JSON_TYPE, MIB, documented, find_operation, other_implementations_answers, produced

PROHIBITED = {name: key(name) for name, account in ACCOUNTS.items() if account.get("prohibited")}
NO_KEY: dict[str, str] = {}

VALID_ACTIVATION = request_example("activateApp", "activate")
# the source's sample as printed, placeholders included (R26: they are placeholders, not valid values)
PRINTED_ACTIVATION = {**VALID_ACTIVATION, "sourceAddr": "XXXXXXXXXXX", "destAddr": "XXXXXXXXXXX", "language": "xx-XX"}

# one request per operation that succeeds for demo-1 on the fixtures (and is refused for the R5b accounts)
VALID = {
    "getRoot": ("GET", "/", {}),
    "listMedia": ("GET", "/media", {}),
    "getMedia": ("GET", "/media/65", {}),
    "createMedia": ("POST", "/media", {"json": {"name": "scenario folder"}}),
    "uploadMedia": ("POST", "/media/65", upload()),
    "renameMedia": ("PUT", "/media/74", {"json": {"name": "So young (renamed).mp3"}}),
    "deleteMedia": ("DELETE", "/media/68", {}),
    "activateApp": ("POST", "/apps/activate", {"json": VALID_ACTIVATION}),
    "getBalance": ("GET", "/balance", {}),
}


def status_of(op_id: str, code: str) -> int:
    """The HTTP status the operation documents a code under (R23's mapping, as the spec states it)."""
    op = find_operation(BUNDLE, op_id)
    return next(int(status) for status, codes in response_codes(BUNDLE, op).items() if code in codes)


def auth_scenarios() -> list[tuple]:
    """401 on every operation, and each R5b account's documented answer on every operation (R5b, R23)."""
    found = []
    for op_id, (method, path, kwargs) in VALID.items():
        found.append((op_id, method, path, {**kwargs, "auth": NO_KEY}, 401, "invalidAccessKeyError"))
        found.append(
            (
                op_id,
                method,
                path,
                {**kwargs, "auth": {"X-Authorization": "AccessKey nope"}},
                401,
                "invalidAccessKeyError",
            )
        )
        for name, auth in PROHIBITED.items():
            code = FIXTURES["prohibited_statuses"][ACCOUNTS[name]["prohibited"]]
            found.append((op_id, method, path, {**kwargs, "auth": auth}, status_of(op_id, code), code))
    return found


# (operationId, method, path, kwargs, status, code): run in order against one fresh server
SCENARIOS = [
    *auth_scenarios(),
    # R5a: input validation comes before the R5b answer, and the R5b answer before existence
    (
        "createMedia",
        "POST",
        "/media",
        {"json": {"name": ""}, "auth": PROHIBITED["prohibited-app"]},
        400,
        "invalidDataError",
    ),
    ("getMedia", "GET", "/media/999999", {"auth": PROHIBITED["prohibited-service"]}, 403, "prohibitedForServiceError"),
    ("getRoot", "GET", "/", {}, 200, None),
    ("listMedia", "GET", "/media", {}, 200, None),
    ("listMedia", "GET", "/media?page=0", {}, 400, "invalidDataError"),
    ("listMedia", "GET", "/media?per_page=101", {}, 400, "invalidDataError"),
    ("listMedia", "GET", "/media?per_page=abc", {}, 400, "invalidDataError"),
    ("listMedia", "GET", "/media?disable_pagination=yes", {}, 400, "invalidDataError"),
    ("getMedia", "GET", "/media/65", {}, 200, None),
    ("getMedia", "GET", "/media/74", {}, 200, None),
    ("getMedia", "GET", "/media/abc", {}, 400, "invalidDataError"),
    ("getMedia", "GET", "/media/0", {}, 400, "invalidDataError"),
    ("getMedia", "GET", "/media/65?page=-1", {}, 400, "invalidDataError"),
    ("getMedia", "GET", "/media/999999", {}, 404, "invalidDataError"),
    ("getMedia", "GET", "/media/101", {}, 404, "invalidDataError"),  # another account's id (R23)
    ("getMedia", "GET", f"/media/{2**64}", {}, 404, "invalidDataError"),  # beyond any id
    ("createMedia", "POST", "/media", {"json": {"name": "asdasd"}}, 200, None),
    ("createMedia", "POST", "/media", upload("test", b"bytes", "text/plain"), 200, None),
    ("createMedia", "POST", "/media", {}, 400, "requiredJsonError"),  # no body
    (
        "createMedia",
        "POST",
        "/media",
        {"content": b"name=x", "headers": {"Content-Type": "text/plain"}},
        400,
        "requiredJsonError",
    ),
    ("createMedia", "POST", "/media", {"content": b'{"name": "x"', "headers": JSON_TYPE}, 400, "requiredJsonError"),
    (
        "createMedia",
        "POST",
        "/media",
        {"content": b'{"name": "\xff"}', "headers": JSON_TYPE},
        400,
        "requiredJsonError",
    ),  # invalid UTF-8
    (
        "createMedia",
        "POST",
        "/media",
        {"content": b'{"name": "\\ud800"}', "headers": JSON_TYPE},
        400,
        "requiredJsonError",
    ),  # a lone surrogate escape is not text
    ("createMedia", "POST", "/media", {"json": ["asdasd"]}, 400, "invalidSchemeError"),
    ("createMedia", "POST", "/media", {"json": {"name": "x", "parent": 65}}, 400, "invalidSchemeError"),
    ("createMedia", "POST", "/media", {"json": {}}, 400, "invalidSchemeError"),  # R23a: a missing property
    ("createMedia", "POST", "/media", {"json": {"name": 5}}, 400, "invalidSchemeError"),  # R23a: a wrong type
    ("createMedia", "POST", "/media", {"json": {"name": "a/b"}}, 400, "invalidDataError"),
    ("createMedia", "POST", "/media", {"json": {"name": "tab\there"}}, 400, "invalidDataError"),
    ("createMedia", "POST", "/media", {"json": {"name": "x" * 256}}, 400, "invalidDataError"),
    ("createMedia", "POST", "/media", multipart(("name", None, b"just text", None)), 400, "invalidDataError"),
    ("createMedia", "POST", "/media", upload(None), 400, "invalidDataError"),  # a file part without a file name
    ("createMedia", "POST", "/media", upload("../../etc/passwd"), 400, "invalidDataError"),
    ("createMedia", "POST", "/media", upload(""), 400, "invalidDataError"),
    (
        "createMedia",
        "POST",
        "/media",
        {"content": b"not multipart", "headers": {"Content-Type": "multipart/form-data; boundary=zz"}},
        400,
        "invalidDataError",
    ),
    (
        "createMedia",
        "POST",
        "/media",
        {"content": b"--x", "headers": {"Content-Type": "multipart/form-data"}},
        400,
        "invalidDataError",
    ),  # no boundary
    ("createMedia", "POST", "/media", {"json": {"name": "n" * MIB}}, 413, "invalidDataError"),  # JSON: 1 MiB
    ("createMedia", "POST", "/media", upload("big.bin", b"\0" * (10 * MIB), None), 413, "invalidDataError"),
    ("uploadMedia", "POST", "/media/65", upload("into Hymns.txt"), 200, None),
    ("uploadMedia", "POST", "/media/65", {"json": {"name": "x"}}, 400, "invalidSchemeError"),
    ("uploadMedia", "POST", "/media/0", upload(), 400, "invalidDataError"),
    ("uploadMedia", "POST", "/media/74", upload(), 400, "invalidDataError"),  # a file, not a folder
    ("uploadMedia", "POST", "/media/65", multipart(("other", None, b"x", None)), 400, "invalidDataError"),
    ("uploadMedia", "POST", "/media/65", upload("a/b.txt"), 400, "invalidDataError"),
    ("uploadMedia", "POST", "/media/101", upload("x/y"), 400, "invalidDataError"),  # the body before existence
    ("uploadMedia", "POST", "/media/999999", upload(), 404, "invalidDataError"),
    ("uploadMedia", "POST", "/media/101", upload(), 404, "invalidDataError"),  # another account's folder
    ("uploadMedia", "POST", "/media/65", upload("big.bin", b"\0" * (10 * MIB), None), 413, "invalidDataError"),
    (
        "uploadMedia",
        "POST",
        "/media/65",
        {"content": b"hello", "headers": {"Content-Type": "text/plain"}},
        415,
        "invalidDataError",
    ),
    ("uploadMedia", "POST", "/media/65", {"content": b"hello"}, 415, "invalidDataError"),  # no Content-Type
    ("renameMedia", "PUT", "/media/74", {"json": {"name": "So young.mp3"}}, 200, None),
    ("renameMedia", "PUT", "/media/74", {}, 400, "requiredJsonError"),
    (
        "renameMedia",
        "PUT",
        "/media/74",
        {"content": b"name=x", "headers": {"Content-Type": "text/plain"}},
        400,
        "requiredJsonError",
    ),
    ("renameMedia", "PUT", "/media/74", {"json": {"name": "x", "isFolder": 1}}, 400, "invalidSchemeError"),
    ("renameMedia", "PUT", "/media/74", {"json": "x"}, 400, "invalidSchemeError"),
    ("renameMedia", "PUT", "/media/abc", {"json": {"name": "x"}}, 400, "invalidDataError"),
    ("renameMedia", "PUT", "/media/74", {"json": {"name": "bell\u0007"}}, 400, "invalidDataError"),
    ("renameMedia", "PUT", "/media/74", {"json": {"name": None}}, 400, "invalidSchemeError"),  # R23a
    ("renameMedia", "PUT", "/media/101", {"json": {"name": "x"}}, 404, "invalidDataError"),
    ("renameMedia", "PUT", "/media/74", {"json": {"name": "n" * MIB}}, 413, "invalidDataError"),
    ("deleteMedia", "DELETE", "/media/-1", {}, 400, "invalidDataError"),
    ("deleteMedia", "DELETE", "/media/101", {}, 404, "invalidDataError"),
    ("deleteMedia", "DELETE", "/media/68", {}, 200, None),
    ("deleteMedia", "DELETE", "/media/68", {}, 404, "invalidDataError"),  # deleted
    ("activateApp", "POST", "/apps/activate", {"json": VALID_ACTIVATION}, 200, None),
    (
        "activateApp",
        "POST",
        "/apps/activate",
        {"json": request_example("activateApp", "activate_with_repeats")},
        200,
        None,
    ),
    (
        "activateApp",
        "POST",
        "/apps/activate",
        {"content": b"reference=1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        400,
        "requiredJsonError",
    ),
    ("activateApp", "POST", "/apps/activate", {}, 400, "requiredJsonError"),
    ("activateApp", "POST", "/apps/activate", {"json": {**VALID_ACTIVATION, "priority": 1}}, 400, "invalidSchemeError"),
    ("activateApp", "POST", "/apps/activate", {"json": [VALID_ACTIVATION]}, 400, "invalidSchemeError"),
    ("activateApp", "POST", "/apps/activate", {"json": PRINTED_ACTIVATION}, 400, "invalidDataError"),
    ("activateApp", "POST", "/apps/activate", {"json": {**VALID_ACTIVATION, "gender": 3}}, 400, "invalidDataError"),
    ("activateApp", "POST", "/apps/activate", {"json": {**VALID_ACTIVATION, "volume": "1"}}, 400, "invalidSchemeError"),
    (
        "activateApp",
        "POST",
        "/apps/activate",
        {"json": {**VALID_ACTIVATION, "reference": 123456789}},
        400,
        "invalidSchemeError",  # R23a: a wrong JSON type
    ),
    (
        "activateApp",
        "POST",
        "/apps/activate",
        {"json": {**VALID_ACTIVATION, "isRepeat": True}},
        400,
        "invalidSchemeError",  # R23a: a wrong JSON type
    ),
    (
        "activateApp",
        "POST",
        "/apps/activate",
        {"json": {**VALID_ACTIVATION, "scenarioData": "no pairs"}},
        400,
        "invalidDataError",
    ),
    (
        "activateApp",
        "POST",
        "/apps/activate",
        {"json": {"reference": "1", "sourceAddr": "12025550143"}},
        400,
        "invalidSchemeError",
    ),  # destAddr missing (R23a)
    (
        "activateApp",
        "POST",
        "/apps/activate",
        {"json": {**VALID_ACTIVATION, "reference": "r" * MIB}},
        413,
        "invalidDataError",
    ),
    ("getBalance", "GET", "/balance", {}, 200, None),
]


def test_every_documented_code_has_a_scenario():
    covered = produced(SCENARIOS)
    # R5b codes come from the prohibited accounts; answers listed only for other implementations are exempt
    assert documented(BUNDLE) - covered <= other_implementations_answers(BUNDLE)
    assert covered <= documented(BUNDLE)
    operations = {op.node["operationId"] for op in iter_operations(BUNDLE) if not op.is_webhook}
    assert {op for op, *_, status, code in SCENARIOS if status == 200} == operations


def test_r5b_codes_are_described_as_such_in_the_spec():
    """The codes with no known trigger stay documented, say so, and the fixtures give each a trigger."""
    for response, codes in (
        ("Prohibited", ("prohibitedForAppError", "prohibitedForServiceError")),
        ("RpcError", ("rpcError",)),
    ):
        examples = BUNDLE["components"]["responses"][response]["content"]["application/json"]["examples"]
        for code in codes:
            assert examples[code]["x-ruling"] == "R5b" and "No known trigger" in examples[code]["summary"]
            assert code in FIXTURES["prohibited_statuses"].values()
    assert {a["prohibited"] for a in FIXTURES["accounts"] if "prohibited" in a} == set(FIXTURES["prohibited_statuses"])


def success_schema(op_id: str) -> dict:
    ref = operation(op_id)["responses"]["200"]["content"]["application/json"]["schema"]
    return inline(BUNDLE, ref)


def test_scenarios(server_factory, client):
    server = server_factory([API], time_scale=0)
    base = server.url(API)
    for op_id, method, path, kwargs, status, code in SCENARIOS:
        before = state(server)
        response = call(client, base, method, path, **copy.deepcopy(kwargs))
        where = f"{op_id}: {method} {path} {str(kwargs)[:100]}"
        assert response.status_code == status, f"{where}: {response.status_code} {response.text[:200]}"
        if code:
            assert response.headers["content-type"] == "application/json", where
            assert response.json() == {"status": code}, where
            assert state(server) == before, f"{where}: an error changed state"
        elif response.headers["content-type"] == "application/json":
            jsonschema.validate(response.json(), success_schema(op_id))
        else:
            assert op_id == "getMedia", where  # a file download


# --- the published samples ---------------------------------------------------------------------------


def test_published_samples_answer_as_printed(server_factory, client):
    """The source's samples in its order, JSON bodies as printed (placeholders replaced, R26)."""
    with Receiver() as hook:
        server = server_factory([API], time_scale=0, callback_url=hook.url)
        base = server.url(API)
        token = ACCOUNTS["demo-1"]["credentials"]["access_key"]
        # Authorization: the header, and the query parameter as the published call sends it
        assert call(client, base, "GET", "/").json() == {"status": "ok"}
        by_query = client.get(f"{base}/?X-Authorization=AccessKey%20{token}")
        assert (by_query.status_code, by_query.json()) == (200, {"status": "ok"})
        assert call(client, base, "GET", "/media").json() == response_example("listMedia", "root_listing")
        paged = call(client, base, "GET", "/media?page=1&per_page=10").json()
        assert paged == response_example("listMedia", "pagination")
        assert call(client, base, "GET", "/media/65").json() == response_example("getMedia", "folder_listing")
        download = call(client, base, "GET", "/media/74")
        assert download.headers["content-type"] == "audio/mpeg"
        assert download.content == b"So young.mp3: demo content of the media library sample."

        created = call(client, base, "POST", "/media", json=request_example("createMedia", "create_folder")).json()
        printed = response_example("createMedia", "create_folder")
        assert created["media"] == {**printed["media"], "name": "asdasd", "createdDateTime": ANY_TIME}
        uploaded = call(client, base, "POST", "/media", **upload("test", b"sample upload", "audio/mpeg")).json()
        assert uploaded == {
            **response_example("createMedia", "upload"),
            "media": {**response_example("createMedia", "upload")["media"], "createdDateTime": ANY_TIME},
        }
        renamed = call(client, base, "PUT", "/media/111", json=request_example("renameMedia", "rename")).json()
        assert renamed == {
            **response_example("renameMedia", "rename"),
            "media": {
                **response_example("renameMedia", "rename")["media"],
                "createdDateTime": created["media"]["createdDateTime"],
            },
        }
        assert call(client, base, "DELETE", "/media/111").json() == response_example("deleteMedia", "delete")

        # the activation sample as published: query authorization, no header
        activated = client.post(f"{base}/apps/activate?X-Authorization=AccessKey%20{token}", json=VALID_ACTIVATION)
        assert activated.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", activated.json()["requestId"])
        repeated = call(
            client, base, "POST", "/apps/activate", json=request_example("activateApp", "activate_with_repeats")
        )
        assert repeated.json()["status"] == "ok" and repeated.json()["requestId"] != activated.json()["requestId"]
        assert len(hook.wait(4)) == 4
        assert call(client, base, "GET", "/balance").json() == response_example("getBalance", "balance")


class _AnyTime:
    """Equal to any R7 time (`YYYY-MM-DD HH:MM:SS`), for objects created during a test."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", other) is not None

    def __repr__(self) -> str:
        return "<any R7 time>"


ANY_TIME = _AnyTime()


def test_the_printed_activation_sample_is_rejected_without_effect(server_factory, client):
    server = server_factory([API], time_scale=0)
    before = state(server)
    response = call(client, server.url(API), "POST", "/apps/activate", json=PRINTED_ACTIVATION)
    assert (response.status_code, response.json()) == (400, {"status": "invalidDataError"})
    assert state(server) == before


# --- balance and authentication -----------------------------------------------------------------------


@pytest.mark.parametrize("account", ["demo-1", "demo-2"])
def test_balance_is_the_accounts_own(shared, client, account):
    fixture = ACCOUNTS[account]
    assert call(client, shared.url(API), "GET", "/balance", auth=key(account)).json() == {
        "status": "ok",
        "personalAccountId": fixture["personal_account_id"],
        "balance": fixture["balance"],
    }


def test_the_header_decides_over_the_query_parameter(shared, client):
    base = shared.url(API)
    token = ACCOUNTS["demo-1"]["credentials"]["access_key"]
    good_query, bad_query = f"?X-Authorization=AccessKey%20{token}", "?X-Authorization=AccessKey%20nope"
    assert client.get(f"{base}/balance{good_query}", headers={"X-Authorization": "AccessKey nope"}).status_code == 401
    assert client.get(f"{base}/balance{bad_query}", headers=KEY).status_code == 200
    for value in (token, f"accesskey {token}", f"AccessKey  {token}", f"Bearer {token}", "AccessKey", ""):
        response = client.get(f"{base}/balance", headers={"X-Authorization": value})
        assert (response.status_code, response.json()) == (401, {"status": "invalidAccessKeyError"}), value


# --- bad input (R5) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("POST", "/apps/activate", {"content": b"{not json", "headers": JSON_TYPE}, 400, "requiredJsonError"),
        ("POST", "/apps/activate", {"content": b'{"reference": NaN}', "headers": JSON_TYPE}, 400, "requiredJsonError"),
        (
            "POST",
            "/apps/activate",
            {"content": b'{"reference": "\xc3\x28"}', "headers": JSON_TYPE},
            400,
            "requiredJsonError",
        ),
        (
            "POST",
            "/apps/activate",
            {"content": b"reference=1", "headers": {"Content-Type": "text/plain"}},
            400,
            "requiredJsonError",
        ),
        ("POST", "/apps/activate", {"json": {**VALID_ACTIVATION, "rate": 4.5}}, 400, "invalidSchemeError"),  # R23a
        ("POST", "/apps/activate", {"json": {**VALID_ACTIVATION, "gender": True}}, 400, "invalidSchemeError"),
        ("POST", "/apps/activate", {"json": {**VALID_ACTIVATION, "destAddr": 12025550188}}, 400, "invalidSchemeError"),
        ("POST", "/apps/activate", {"content": b"null", "headers": JSON_TYPE}, 400, "invalidSchemeError"),
        (
            "PUT",
            "/media/74",
            {"content": b'{"name": "x"}', "headers": {"Content-Type": "application/xml"}},
            400,
            "requiredJsonError",
        ),
        (
            "POST",
            "/media/65",
            {"content": b'{"name": "x"}', "headers": {"Content-Type": "application/xml"}},
            415,
            "invalidDataError",
        ),
        ("POST", "/apps/activate", {"json": {"reference": "r" * (2 * MIB)}}, 413, "invalidDataError"),
        ("GET", "/nowhere", {}, 404, "invalidDataError"),
        ("GET", "/media/65/children", {}, 404, "invalidDataError"),
        ("PATCH", "/media", {"json": {"name": "x"}}, 405, "invalidDataError"),
        ("DELETE", "/balance", {}, 405, "invalidDataError"),
    ],
)
def test_bad_input_is_a_4xx_in_the_envelope_and_changes_nothing(shared, client, method, path, kwargs, status, code):
    before = state(shared)
    response = call(client, shared.url(API), method, path, **kwargs)
    assert (response.status_code, response.headers["content-type"]) == (status, "application/json")
    assert response.json() == {"status": code}
    if status == 405:
        assert response.headers["allow"]
    assert state(shared) == before


def _request_schema(op_id: str) -> dict:
    return inline(BUNDLE, operation(op_id)["requestBody"]["content"]["application/json"]["schema"])


ACTIVATION_FIELDS = sorted(_request_schema("activateApp")["properties"])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["12025550188", "en-US", "xx-XX", "k=v&a=b", "", "1"]),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {name: st.sampled_from([VALID_ACTIVATION[name]]) for name in ("reference", "sourceAddr", "destAddr")},
            optional={
                name: VALUES
                for name in [*ACTIVATION_FIELDS, "zz"]
                if name not in ("reference", "sourceAddr", "destAddr")
            },
        ),
        st.dictionaries(st.sampled_from([*ACTIVATION_FIELDS, "zz"]), VALUES, max_size=6),
        VALUES,
    )
)
def test_activation_answers_200_exactly_when_the_schema_accepts_and_rejections_change_nothing(shared, client, body):
    before = state(shared)
    response = call(client, shared.url(API), "POST", "/apps/activate", content=json.dumps(body), headers=JSON_TYPE)
    if jsonschema.Draft202012Validator(_request_schema("activateApp")).is_valid(body):
        assert response.status_code == 200, (body, response.text)
    else:
        assert response.status_code == 400, (body, response.text)
        assert response.json()["status"] in response_codes(BUNDLE, find_operation(BUNDLE, "activateApp"))["400"]
        assert state(shared) == before


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.dictionaries(
            st.sampled_from(["name", "id", "isFolder"]), st.one_of(VALUES, NAMES, st.text(max_size=300)), max_size=2
        ),
        VALUES,
    )
)
def test_rename_answers_200_exactly_when_the_schema_accepts_and_rejections_change_nothing(shared, client, body):
    before = state(shared)
    response = call(client, shared.url(API), "PUT", "/media/67", content=json.dumps(body), headers=JSON_TYPE)
    if jsonschema.Draft202012Validator(_request_schema("renameMedia")).is_valid(body):
        assert response.status_code == 200 and response.json()["media"]["name"] == body["name"]
    else:
        assert response.status_code == 400 and response.json()["status"] in ("invalidSchemeError", "invalidDataError")
        assert state(shared) == before


@pytest.mark.parametrize("value", ["³", "٣", "-", "1.5", " 7"])
def test_non_ascii_or_malformed_integers_are_400_not_500(server_factory, client, value):
    """Found by the contract suite: Python's isdigit() accepts '³', which int() then refuses."""
    base = server_factory([API]).url(API)
    for method in ("GET", "DELETE"):
        response = client.request(method, f"{base}/media/{value}", headers=KEY)
        assert (response.status_code, response.json()) == (400, {"status": "invalidDataError"})
