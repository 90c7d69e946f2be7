"""cpaas on the reference server: every documented answer reachable, media, activation callbacks, bad input.

Every (operation, status, code) the spec documents must be produced by a scenario below; a code added to
the spec fails `test_every_documented_code_has_a_scenario` until it has one. cpaas has no exemptions: the
R5b codes are produced by the fixture accounts marked `prohibited`.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import sqlite3
import time
from urllib.parse import parse_qs

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apicontract.server.apis import cpaas as cpaas_module
from apicontract.server.contract import inline
from apicontract.server.store import FILENAME
from apicontract.specs.walk import iter_operations, response_codes

from receiver import Receiver
from serverkit import ROOT, bundle, documented, fixtures, other_implementations_answers, request, start

API = "cpaas"
BUNDLE = bundle(API)
FIXTURES = fixtures(API)
ACCOUNTS = {account["name"]: account for account in FIXTURES["accounts"]}
MIB = 1024 * 1024


def key(account: str) -> dict[str, str]:
    return {"X-Authorization": f"AccessKey {ACCOUNTS[account]['credentials']['access_key']}"}


KEY, OTHER = key("demo-1"), key("demo-2")
PROHIBITED = {name: key(name) for name, account in ACCOUNTS.items() if account.get("prohibited")}
NO_KEY: dict[str, str] = {}
JSON_TYPE = {"Content-Type": "application/json"}
SCHEMAS = {
    stem: json.loads((ROOT / "spec" / API / "webhooks" / f"{stem}.schema.json").read_text())
    for stem in ("startCallback", "endCallback")
}


def operation(op_id: str) -> dict:
    return next(op.node for op in iter_operations(BUNDLE) if op.node.get("operationId") == op_id)


def request_example(op_id: str, name: str) -> dict:
    return operation(op_id)["requestBody"]["content"]["application/json"]["examples"][name]["value"]


def response_example(op_id: str, name: str) -> dict:
    return operation(op_id)["responses"]["200"]["content"]["application/json"]["examples"][name]["value"]


def multipart(*parts: tuple[str, str | None, bytes, str | None], boundary: str = "cpaas-test-boundary"):
    """A multipart/form-data body built by hand: (field, filename or None, bytes, part Content-Type or None)."""
    chunks = []
    for name, filename, data, ctype in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        head += f"Content-Type: {ctype}\r\n" if ctype else ""
        chunks.append(head.encode("utf-8") + b"\r\n" + data + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return {"content": body, "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"}}


def upload(filename: str | None = "upload.txt", data: bytes = b"hello", ctype: str | None = "text/plain"):
    return multipart(("file", filename, data, ctype))


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
    op = next(op for op in iter_operations(BUNDLE) if op.node.get("operationId") == op_id)
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
    covered = {(op, status, code) for op, _, _, _, status, code in SCENARIOS if code}
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


call = functools.partial(request, default_auth=KEY)


def state(server) -> tuple:
    """Everything a request can change: the media tree, activations, recorded events, files under the data dir."""
    data = server.config.data_dir
    db = sqlite3.connect(f"file:{data / FILENAME}?mode=ro", uri=True)
    try:
        tables = tuple(
            tuple(db.execute(sql).fetchall())
            for sql in (
                "SELECT * FROM cpaas_media ORDER BY id",
                "SELECT * FROM cpaas_activations ORDER BY request_id",
                "SELECT id, api, account, event, payload FROM events ORDER BY id",
            )
        )
    finally:
        db.close()
    files = sorted(
        (p.relative_to(data).as_posix(), p.read_bytes())
        for p in data.rglob("*")
        if p.is_file() and not p.name.startswith(FILENAME)
    )
    return tables, tuple(files)


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


# --- media --------------------------------------------------------------------------------------------


def test_another_accounts_media_is_404_on_every_media_operation(server_factory, client):
    server = server_factory([API], time_scale=0)
    base = server.url(API)
    before = state(server)
    for auth, ids in ((OTHER, (65, 67, 74)), (KEY, (101, 104, 105, 110))):
        for media_id in ids:
            for method, kwargs in (("GET", {}), ("PUT", {"json": {"name": "x"}}), ("DELETE", {}), ("POST", upload())):
                response = call(client, base, method, f"/media/{media_id}", auth=auth, **kwargs)
                assert (response.status_code, response.json()) == (404, {"status": "invalidDataError"})
    assert state(server) == before
    listed = {m["id"] for m in call(client, base, "GET", "/media?disable_pagination=1", auth=OTHER).json()["media"]}
    assert listed == {101, 110}  # the root only, and only the caller's


def test_ids_are_one_sequence_never_reused_and_survive_a_restart(server_factory, client, tmp_path):
    data = tmp_path / "data"
    server = server_factory([API], data, time_scale=0)
    base = server.url(API)
    highest = max(_ids(FIXTURES))
    assert call(client, base, "POST", "/media", json={"name": "a"}).json()["media"]["id"] == highest + 1
    assert call(client, base, "POST", "/media", json={"name": "b"}, auth=OTHER).json()["media"]["id"] == highest + 2
    assert call(client, base, "DELETE", f"/media/{highest + 2}", auth=OTHER).status_code == 200
    file_id = call(client, base, "POST", "/media", **upload("keep.bin", b"\x00kept\xff", None)).json()["media"]["id"]
    assert file_id == highest + 3  # the deleted id is not reused
    assert call(client, base, "DELETE", "/media/74").status_code == 200
    server.stop()

    again = server_factory([API], data, time_scale=0).url(API)
    assert call(client, again, "POST", "/media", json={"name": "c"}).json()["media"]["id"] == highest + 4
    kept = call(client, again, "GET", f"/media/{file_id}")
    assert (kept.content, kept.headers["content-type"]) == (b"\x00kept\xff", "application/octet-stream")
    assert call(client, again, "GET", "/media/74").status_code == 404  # fixtures are seeded once per data dir


def _ids(node) -> list[int]:
    if isinstance(node, dict):
        return ([node["id"]] if "isFolder" in node else []) + [i for v in node.values() for i in _ids(v)]
    if isinstance(node, list):
        return [i for v in node for i in _ids(v)]
    return []


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for tests that only add objects of their own or change nothing."""
    server = start([API], tmp_path_factory.mktemp("cpaas-shared"), time_scale=0)
    yield server
    server.stop()


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='/"\\%'), min_size=1, max_size=40
).filter(lambda name: name.strip() == name and name not in (".", ".."))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=4096),
    name=NAMES,
    ctype=st.sampled_from([None, "audio/mpeg", "text/plain; charset=utf-8", "*/*", "audio/*", "not a type"]),
)
def test_uploads_download_byte_for_byte_from_disk(shared, client, data, name, ctype):
    base = shared.url(API)
    media = call(client, base, "POST", "/media/65", **upload(name, data, ctype)).json()["media"]
    assert (media["name"], media["isFolder"]) == (name, 0)
    download = call(client, base, "GET", f"/media/{media['id']}")
    stored = ctype if ctype in ("audio/mpeg", "text/plain; charset=utf-8") else "application/octet-stream"
    assert (download.status_code, download.content, download.headers["content-type"]) == (200, data, stored)
    on_disk = shared.config.data_dir / "media" / str(media["id"])
    assert on_disk.read_bytes() == data
    assert not [p for p in on_disk.parent.iterdir() if p.name.startswith(".")]  # no temp file left behind


def test_upload_limits_are_10_mib_and_json_1_mib(server_factory, client):
    server = server_factory([API], time_scale=0)
    base = server.url(API)
    almost = os.urandom(10 * MIB - 1024)
    media = call(client, base, "POST", "/media", **upload("almost.bin", almost, None)).json()["media"]
    assert call(client, base, "GET", f"/media/{media['id']}").content == almost
    before = state(server)
    too_big = upload("big.bin", almost + b"\0" * 1024, None)
    assert call(client, base, "POST", "/media", **too_big).status_code == 413
    chunked = {
        "content": iter([too_big["content"][i : i + MIB] for i in range(0, len(too_big["content"]), MIB)]),
        "headers": too_big["headers"],
    }  # no Content-Length: the server counts as it reads
    response = call(client, base, "POST", "/media/65", **chunked)
    assert (response.status_code, response.json()) == (413, {"status": "invalidDataError"})
    # a JSON body keeps 1 MiB on the same operation: exactly 1 MiB passes, one byte more does not
    padded = b'{"name": "padded"' + b" " * (MIB - len(b'{"name": "padded"}')) + b"}"
    assert len(padded) == MIB
    response = call(client, base, "POST", "/media", content=padded + b" ", headers=JSON_TYPE)
    assert (response.status_code, response.json()) == (413, {"status": "invalidDataError"})
    assert state(server) == before
    assert call(client, base, "POST", "/media", content=padded, headers=JSON_TYPE).status_code == 200


def test_other_parts_are_ignored_and_files_need_a_file_part(shared, client):
    base = shared.url(API)
    body = multipart(("note", None, b"ignored", None), ("file", "with note.txt", b"x", "text/plain"))
    assert call(client, base, "POST", "/media", **body).json()["media"]["name"] == "with note.txt"
    before = state(shared)
    for body in (multipart(("note", None, b"no file", None)), upload(None), multipart(("file", None, b"t", None))):
        response = call(client, base, "POST", "/media", **body)
        assert (response.status_code, response.json()) == (400, {"status": "invalidDataError"})
    assert state(shared) == before


@pytest.mark.parametrize("name", ["../../etc/passwd", "../x", "/abs", "a/b", "..\u0001", "new\nline", "x" * 256])
def test_path_traversal_and_invalid_names_are_rejected_and_nothing_is_written(shared, client, name):
    base, around = shared.url(API), shared.config.data_dir.parent
    before, files = state(shared), sorted(p for p in around.rglob("*") if p.is_file())
    for path in ("/media", "/media/65"):
        response = call(client, base, "POST", path, **upload(name, b"payload", None))
        assert (response.status_code, response.json()) == (400, {"status": "invalidDataError"})
    response = call(client, base, "PUT", "/media/74", json={"name": name})
    assert (response.status_code, response.json()) == (400, {"status": "invalidDataError"})
    assert state(shared) == before and sorted(p for p in around.rglob("*") if p.is_file()) == files


def test_a_dot_dot_name_is_only_a_name(shared, client):
    """Names are never paths: `..` is a valid name, and the bytes still go to media/<id>."""
    base = shared.url(API)
    media = call(client, base, "POST", "/media", **upload("..", b"dots", None)).json()["media"]
    assert media["name"] == ".."
    assert (shared.config.data_dir / "media" / str(media["id"])).read_bytes() == b"dots"


def test_delete_removes_a_folder_with_its_contents_and_their_files(server_factory, client):
    server = server_factory([API], time_scale=0)
    base = server.url(API)
    media_dir = server.config.data_dir / "media"
    nested = call(client, base, "POST", "/media/104", auth=OTHER, **upload("deep.wav", b"deep", "audio/wav"))
    nested_id = nested.json()["media"]["id"]
    assert {p.name for p in media_dir.iterdir()} >= {"102", "103", "105", "110", str(nested_id)}
    assert call(client, base, "DELETE", "/media/101", auth=OTHER).json() == {"status": "ok"}
    for gone in (101, 102, 103, 104, 105, nested_id):
        assert call(client, base, "GET", f"/media/{gone}", auth=OTHER).status_code == 404
    assert {"102", "103", "105", str(nested_id)}.isdisjoint(p.name for p in media_dir.iterdir())
    assert call(client, base, "GET", "/media/110", auth=OTHER).status_code == 200
    assert call(client, base, "DELETE", "/media/74").status_code == 200 and not (media_dir / "74").exists()


def test_rename_changes_only_the_name(shared, client):
    base = shared.url(API)
    media = call(client, base, "POST", "/media", **upload("before.txt", b"content", "text/plain")).json()["media"]
    renamed = call(client, base, "PUT", f"/media/{media['id']}", json={"name": "after.txt"}).json()["media"]
    assert renamed == {**media, "name": "after.txt"}
    download = call(client, base, "GET", f"/media/{media['id']}")
    assert (download.content, download.headers["content-type"]) == (b"content", "text/plain")
    folder = call(client, base, "PUT", "/media/65", json={"name": "Hymns"}).json()["media"]
    assert folder["isFolder"] == 1 and call(client, base, "GET", "/media/65").json()["pagination"]["totalItems"] >= 2


def test_a_failed_file_write_leaves_no_row_and_no_file(shared, client, monkeypatch):
    """Bytes are written to a temp file and renamed into place before the row commits; a failure undoes both."""
    before = state(shared)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cpaas_module.os, "replace", full_disk)
    response = call(client, shared.url(API), "POST", "/media", **upload("lost.bin", b"lost", None))
    monkeypatch.undo()
    assert response.status_code == 500
    assert state(shared) == before


@pytest.fixture(scope="module")
def paged(tmp_path_factory):
    """demo-1 with 25 objects in the root (the 2 fixture ones, then 23 folders) and 7 in the folder 65."""
    server = start([API], tmp_path_factory.mktemp("cpaas-paged"), time_scale=0)
    with httpx.Client(timeout=10) as session:
        for index in range(23):
            call(session, server.url(API), "POST", "/media", json={"name": f"folder {index}"})
        for index in range(5):
            call(session, server.url(API), "POST", "/media/65", **upload(f"track {index}.mp3", b"x", "audio/mpeg"))
    yield server
    server.stop()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    page=st.one_of(st.none(), st.integers(1, 8), st.just(10**30)),
    per_page=st.one_of(st.none(), st.integers(1, 100)),
    disable=st.sampled_from([None, "0", "1", "true", "false"]),
    folder=st.booleans(),
)
def test_pagination_follows_r24(paged, client, page, per_page, disable, folder):
    path = "/media/65" if folder else "/media"
    everything = [65, 74, *range(111, 134)] if not folder else [67, 68, *range(134, 139)]
    query = {k: v for k, v in (("page", page), ("per_page", per_page), ("disable_pagination", disable)) if v}
    listing = call(client, paged.url(API), "GET", path, params=query).json()
    if disable in ("1", "true"):
        expected = {"totalItems": len(everything), "currentPage": 1, "totalPages": 1}, everything
    else:
        size, number = per_page or 20, page or 1
        pages = max(1, -(-len(everything) // size))
        expected = (
            {"totalItems": len(everything), "currentPage": number, "totalPages": pages},
            everything[(number - 1) * size : number * size],
        )
    assert (listing["pagination"], [m["id"] for m in listing["media"]]) == expected


def test_pagination_parameters_are_checked_for_files_too_but_change_nothing(shared, client):
    base = shared.url(API)
    whole = call(client, base, "GET", "/media/74").content
    assert call(client, base, "GET", "/media/74?page=3&per_page=1").content == whole
    response = call(client, base, "GET", "/media/74?per_page=0")
    assert (response.status_code, response.json()) == (400, {"status": "invalidDataError"})


# --- activation and callbacks -------------------------------------------------------------------------


def activation(dest: str, reference: str = "ref-1", **repeat) -> dict:
    return {"reference": reference, "sourceAddr": "12025550143", "destAddr": dest, **repeat}


def received(delivery) -> dict[str, str]:
    """A callback's query as the JSON object its payload schema describes."""
    query = parse_qs(delivery.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in query.values()), query
    return {name: values[0] for name, values in query.items()}


def activation_row(server, request_id: str) -> sqlite3.Row:
    db = sqlite3.connect(f"file:{server.config.data_dir / FILENAME}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM cpaas_activations WHERE request_id = ?", (request_id,)).fetchone()
    finally:
        db.close()


OUTCOMES = {entry["suffix"]: entry for entry in FIXTURES["activation_outcomes"]}
SCALE = 0.05  # time_scale of the callback server: repeat intervals pass 20 times faster


@pytest.fixture(scope="module")
def calling(tmp_path_factory):
    """A server whose callbacks go to a real local receiver at /callbacks."""
    with Receiver() as hook:
        server = start(
            [API], tmp_path_factory.mktemp("cpaas-calling"), time_scale=SCALE, callback_url=hook.url + "/callbacks"
        )
        yield server, hook
        server.stop()


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
        assert response.json()["status"] in response_codes(BUNDLE, _op("activateApp"))["400"]
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


def _op(op_id: str):
    return next(op for op in iter_operations(BUNDLE) if op.node.get("operationId") == op_id)


def test_download_reads_the_bytes_from_disk_not_memory(shared, client):
    """The bytes live in the data dir: what is on disk is what is served."""
    base = shared.url(API)
    media = call(client, base, "POST", "/media", **upload("disk.txt", b"original", "text/plain")).json()["media"]
    (shared.config.data_dir / "media" / str(media["id"])).write_bytes(b"changed on disk")
    assert call(client, base, "GET", f"/media/{media['id']}").content == b"changed on disk"
