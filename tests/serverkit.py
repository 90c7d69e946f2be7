"""What the reference server's tests share: fixtures files and a real server on a real socket."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer
from apicontract.specs.promises import alternatives
from apicontract.specs.walk import iter_operations, response_codes
from apicontract.specs.yamlfile import load

from projectkit import ROOT

__all__ = ["ROOT", "bundle", "documented", "fixtures", "settled", "simulate", "start"]


def fixtures(api: str) -> dict:
    return load(ROOT / "spec" / api / "fixtures.yaml")


def start(apis: list[str], data_dir: Path, **options) -> EmbeddedServer:
    config = ServerConfig(layout(ROOT), data_dir, apis, **options)
    return EmbeddedServer(config).start()


def bundle(api: str) -> dict:
    """The API's bundled spec, as the server reads it."""
    return json.loads((ROOT / "generated" / "openapi" / f"{api}.json").read_text())


def documented(doc: dict) -> set[tuple[str, int, str]]:
    """Every (operationId, status, code) the spec documents: what the scenario tables must cover."""
    found = set()
    for op in iter_operations(doc):
        if not op.is_webhook:
            for status, codes in response_codes(doc, op).items():
                found.update((op.node["operationId"], int(status), code) for code in codes)
    return found


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
