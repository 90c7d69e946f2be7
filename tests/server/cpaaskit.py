"""What the cpaas server tests share: the fixture accounts' keys, the spec's examples, hand-built multipart
bodies, the server's state as a value, and the module-scoped servers.

The fixtures (`shared`, `paged`, `calling`) are module-scoped: a test module that imports one gets a server
of its own. (A module of its own, not a conftest.py: two conftest modules would shadow each other.)
"""

from __future__ import annotations

import functools
import sqlite3

import httpx
import pytest
from hypothesis import strategies as st

from apicontract.server.store import FILENAME

from receiver import Receiver
from serverkit import bundle, example, find_operation, fixtures, request, start

API = "cpaas"
BUNDLE = bundle(API)
FIXTURES = fixtures(API)
ACCOUNTS = {account["name"]: account for account in FIXTURES["accounts"]}


def key(account: str) -> dict[str, str]:
    return {"X-Authorization": f"AccessKey {ACCOUNTS[account]['credentials']['access_key']}"}


KEY, OTHER = key("demo-1"), key("demo-2")
SCALE = 0.05  # time_scale of the callback server: repeat intervals pass 20 times faster
call = functools.partial(request, default_auth=KEY)


def operation(op_id: str) -> dict:
    return find_operation(BUNDLE, op_id).node


def request_example(op_id: str, name: str) -> dict:
    return example(BUNDLE, op_id, "request", name)


def response_example(op_id: str, name: str) -> dict:
    return example(BUNDLE, op_id, "200", name)


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


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='/"\\%'), min_size=1, max_size=40
).filter(lambda name: name.strip() == name and name not in (".", ".."))


def read_only(server) -> sqlite3.Connection:
    """The server's database, opened read-only (close it when done)."""
    return sqlite3.connect(f"file:{server.config.data_dir / FILENAME}?mode=ro", uri=True)


def state(server) -> tuple:
    """Everything a request can change: the media tree, activations, recorded events, files under the data dir."""
    data = server.config.data_dir
    db = read_only(server)
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


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for tests that only add objects of their own or change nothing."""
    server = start([API], tmp_path_factory.mktemp("cpaas-shared"), time_scale=0)
    yield server
    server.stop()


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


@pytest.fixture(scope="module")
def calling(tmp_path_factory):
    """A server whose callbacks go to a real local receiver at /callbacks."""
    with Receiver() as hook:
        server = start(
            [API], tmp_path_factory.mktemp("cpaas-calling"), time_scale=SCALE, callback_url=hook.url + "/callbacks"
        )
        yield server, hook
        server.stop()
