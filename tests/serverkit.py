"""What the reference server's tests share: fixtures files and a real server on a real socket."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jsonschema

from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer
from apicontract.specs.promises import alternatives
from apicontract.specs.walk import Operation, iter_operations, response_codes
from apicontract.specs.yamlfile import load

from projectkit import ROOT

__all__ = [
    "FORM",
    "JSON_TYPE",
    "MIB",
    "ROOT",
    "bundle",
    "delivered",
    "documented",
    "example",
    "exactly",
    "find_operation",
    "fixtures",
    "other_implementations_answers",
    "oversized",
    "pick",
    "produced",
    "request",
    "settled",
    "simulate",
    "start",
    "webhook_schemas",
]

MIB = 1024 * 1024
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON_TYPE = {"Content-Type": "application/json"}


def fixtures(api: str) -> dict:
    return load(ROOT / "spec" / api / "fixtures.yaml")


def start(apis: list[str], data_dir: Path, **options) -> EmbeddedServer:
    config = ServerConfig(layout(ROOT), data_dir, apis, **options)
    return EmbeddedServer(config).start()


def bundle(api: str) -> dict:
    """The API's bundled spec, as the server reads it."""
    return json.loads((ROOT / "generated" / "openapi" / f"{api}.json").read_text())


def find_operation(doc: dict, op_id: str) -> Operation:
    """The operation with this operationId."""
    return next(op for op in iter_operations(doc) if op.node.get("operationId") == op_id)


def example(doc: dict, op_id: str, where: str, name: str):
    """A named JSON example of an operation: `where` is a response status, or `request`."""
    node = find_operation(doc, op_id).node
    holder = node["requestBody"] if where == "request" else node["responses"][where]
    return holder["content"]["application/json"]["examples"][name]["value"]


def webhook_schemas(api: str, *names: str) -> dict[str, dict]:
    """The API's webhook payload schemas (spec/<api>/webhooks/<name>.schema.json), by name."""
    return {name: json.loads((ROOT / "spec" / api / "webhooks" / f"{name}.schema.json").read_text()) for name in names}


def pick(account: dict, provisioned: bool, key: str, skip: tuple[str, ...] = ()) -> dict:
    """The account's first inventory SIM that is provisioned (or not) and whose `key` is not in `skip`."""
    return next(s for s in account["sims"] if s["provisioned"] is provisioned and s[key] not in skip)


def documented(doc: dict) -> set[tuple[str, int, str]]:
    """Every (operationId, status, code) the spec documents: what the scenario tables must cover."""
    found = set()
    for op in iter_operations(doc):
        if not op.is_webhook:
            for status, codes in response_codes(doc, op).items():
                found.update((op.node["operationId"], int(status), code) for code in codes)
    return found


def produced(scenarios: Iterable[tuple]) -> set[tuple[str, int, str]]:
    """The (operationId, status, code) a scenario table produces: rows are (op, method, path, kwargs, status, code)."""
    return {(op, status, code) for op, _, _, _, status, code in scenarios if code}


def other_implementations_answers(doc: dict) -> set[tuple[str, int, str]]:
    """(operationId, status, code) the spec lists as what another implementation may answer where the
    reference server answers otherwise (x-also-answers, later x-body-errors entries): not always reachable."""
    return {
        (op.node["operationId"], int(status), code)
        for op in iter_operations(doc)
        if not op.is_webhook
        for status, code in alternatives(doc, op)
    }


def simulate(client: httpx.Client, base: str, name: str, payload: dict, auth: dict) -> httpx.Response:
    """Trigger an event through the server's `_simulate` endpoint (outside the documented API)."""
    return client.post(f"{base}/_simulate/{name}", json=payload, headers=auth)


def settled(client: httpx.Client, base: str, auth: dict) -> list[dict]:
    """The account's events once none is pending (the outcome is written after the receiver answers)."""
    deadline = time.monotonic() + 5
    while True:
        events = client.get(f"{base}/_events", headers=auth).json()["events"]
        if all(e["outcome"] != "pending" for e in events) or time.monotonic() > deadline:
            return events
        time.sleep(0.02)


def request(
    session: httpx.Client, base: str, method: str, path: str, *, default_auth: dict, **kwargs
) -> httpx.Response:
    """A request to one API, authenticated as `default_auth` unless the call gives `auth=`; per module:
    `call = functools.partial(request, default_auth=KEY)`."""
    headers = {**kwargs.pop("auth", default_auth), **kwargs.pop("headers", {})}
    return session.request(method, base + path, headers=headers, **kwargs)


def exactly(base: str, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple:
    """One request with exactly these headers (no User-Agent, no Accept unless given): (status, type, JSON)."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.putrequest(method, url.path + path, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    answer = (response.status, response.getheader("content-type"), json.loads(response.read()))
    connection.close()
    return answer


def delivered(delivery, name: str, schema: dict, authorization: str) -> dict:
    """A webhook delivery as the specs describe them: POST JSON to <endpoint>/<name> with this Authorization,
    its payload valid against the event's schema; returns the payload. (Not a test module, so pytest does not
    rewrite these asserts: each says what it saw.)"""
    assert (delivery.method, delivery.path) == ("POST", f"/{name}"), (delivery.method, delivery.path)
    assert delivery.headers["authorization"] == authorization, delivery.headers.get("authorization")
    assert delivery.headers["content-type"] == "application/json", delivery.headers.get("content-type")
    payload = json.loads(delivery.body)
    jsonschema.Draft202012Validator(schema).validate(payload)
    return payload


def oversized(head: bytes, filler: bytes) -> Iterator[bytes]:
    """A body past 1 MiB, streamed without a Content-Length: `head`, then 65 chunks of 16 KiB of `filler`."""
    yield head
    for _ in range(65):
        yield filler * 16384
