"""No false alarms: the whole suite passes against every deliberately different but conformant variant.

Each variant (`variants.py`) is the reference server changed to take another answer the contract allows,
or to be run and described otherwise (other accounts, another base path, JSON spelled otherwise). The check
runs in full for the APIs the variant touches; any failure is an expectation the contract does not make.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from runs import OTHER, check, hooks_for, other_target, serve, serve_process
from variants import VARIANTS, Variant


def test_at_least_twelve_distinct_variants():
    assert len({v.name for v in VARIANTS}) == len(VARIANTS) >= 12
    assert {api for v in VARIANTS for api in v.apis} == {"sim-v1", "sim-v2", "sim-v3", "cpaas"}


def gateway(prefix: str):
    """An ASGI gateway serving the app below `prefix` (requests outside it: 404 in no API's shape)."""

    def wrap(app: Any):
        async def served(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return await app(scope, receive, send)
            path = scope.get("path", "")
            if not path.startswith(prefix + "/"):
                await send(
                    {"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]}
                )
                return await send({"type": "http.response.body", "body": b"no route"})
            inner = dict(scope, path=path[len(prefix) :], raw_path=scope.get("raw_path", b"")[len(prefix) :])
            return await app(inner, receive, send)

        return served

    return wrap


def respelled(app: Any):
    """JSON answers re-spelled: charset parameter, indentation, keys in reverse order (same JSON values)."""

    async def served(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            if dict(headers).get(b"content-type") == b"application/json":
                body = json.dumps(_reverse(json.loads(body)), indent=2, ensure_ascii=True).encode()
                headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
                headers.append((b"content-type", b"application/json; charset=utf-8"))
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return served


def _reverse(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reverse(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse(v) for v in value]
    return value


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_the_suite_passes_a_conformant_variant(variant: Variant, tmp_path: Path):
    apis = list(variant.apis)
    select = os.environ.get("APICONTRACT_VARIANT_SELECT")  # to narrow a run while working on the suite
    if variant.options.get("fixtures") == "other":  # started as its own process, described by a target file
        fixtures = {api: OTHER / f"{api}.fixtures.yaml" for api in apis}
        with serve_process(tmp_path, apis, fixtures) as (base, capture):
            target = other_target(tmp_path, {api: f"{base}/{api}" for api in apis}, capture)
            code, output = check(apis, {}, target_file=target, reference=False, select=select, examples=8)
        assert code == 0, f"{variant.name} ({variant.reading}) was called a violation:\n{output[-6000:]}"
        return
    prefix = variant.options.get("base_path", "")
    wrap = gateway(prefix) if prefix else respelled if variant.options.get("spelling") else None
    server, capture = serve(tmp_path, apis, None, wrap)
    try:
        variant.apply(server.app)
        urls = {api: f"{server.base_url}{prefix}/{api}" for api in apis}
        code, output = check(apis, urls, hooks_for(capture, apis), examples=8, select=select)
    finally:
        server.stop()
    assert code == 0, f"{variant.name} ({variant.reading}) was called a violation:\n{output[-6000:]}"
