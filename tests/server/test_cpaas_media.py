"""cpaas's media library on the reference server: ids, uploads and downloads, the size limits, names,
delete, rename and pagination (R24).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apicontract.server.apis import cpaas as cpaas_module

from cpaaskit import API, FIXTURES, KEY, NAMES, OTHER, call, multipart, state, upload
from cpaaskit import paged as paged  # fixtures: imported for pytest, which finds them by name
from cpaaskit import shared as shared
from serverkit import JSON_TYPE, MIB


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


def test_download_reads_the_bytes_from_disk_not_memory(shared, client):
    """The bytes live in the data dir: what is on disk is what is served."""
    base = shared.url(API)
    media = call(client, base, "POST", "/media", **upload("disk.txt", b"original", "text/plain")).json()["media"]
    (shared.config.data_dir / "media" / str(media["id"])).write_bytes(b"changed on disk")
    assert call(client, base, "GET", f"/media/{media['id']}").content == b"changed on disk"
