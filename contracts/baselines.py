"""Requests that are valid but for one thing, and the answer the spec assigns to that one thing.

A baseline request comes from `valid_requests.valid_request` (the spec's examples, an identifier of the
target's first account); test_error_codes breaks one field, the body or the route of it. What each
break must answer is read from the spec: the field's `x-error-code`, the body's `x-body-errors`,
`x-max-body-bytes`, `x-route-errors`, and the order of each response's enum (R5a precedence).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote, urlencode

import httpx

from apicontract.contracts.checks import Exchange, run_all
from apicontract.contracts.schemas import is_valid, media_schema
from apicontract.contracts.target import Target
from apicontract.contracts.valid_requests import identifier_field, valid_request
from apicontract.contracts.violations import Violation, curl
from apicontract.specs.promises import identifying
from apicontract.specs.walk import Operation, deref, error_field, merged, parameters, response_codes

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BOUNDARY = "apicontract-boundary"
DEFAULT_LIMIT = 1024 * 1024  # CONVENTIONS: the body limit when the spec names none
UNKNOWN_FIELD = "apicontractUnknownField"
ANY_4XX = "4XX"  # an allowed answer: any 4xx in the API's error shape (the implementation's choice)


@dataclass
class Raw:
    """A request as it goes on the wire."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    content_type: str | None = None

    def headers(self, target: Target, authenticated: bool = True) -> dict[str, str]:
        headers = target.headers() if authenticated else {}
        if self.content_type:
            headers["Content-Type"] = self.content_type
        return headers

    def send(self, target: Target, client: httpx.Client, authenticated: bool = True) -> httpx.Response:
        return client.request(
            self.method,
            target.url(self.path),
            params=self.query or None,
            content=self.content,
            headers=self.headers(target, authenticated),
        )

    def curl(self, target: Target, authenticated: bool = True) -> str:
        url = target.url(self.path) + ("?" + urlencode(self.query) if self.query else "")
        headers = self.headers(target, authenticated)
        body = self.content or b""
        if len(body) > 4096 and body == body[:1] * len(body):  # an oversized body of one repeated byte
            command = curl(self.method, url, headers, "@-")
            return f"head -c {len(body)} /dev/zero | tr '\\0' {shlex.quote(body[:1].decode())} | {command}"
        return curl(self.method, url, headers, body)


def request_body(doc: dict, op: Operation) -> dict:
    return deref(doc, op.node.get("requestBody")) or {}


def identifier_for(target: Target, op: Operation) -> str | None:
    """A SIM of the first account where the operation addresses one: unprovisioned for a create
    (nothing to conflict with), provisioned otherwise."""
    if identifier_field(target.doc, op) is None:
        return None
    creates = op.method == "post" and "409" in response_codes(target.doc, op)
    found = target.inventory(0, provisioned=not creates) or target.inventory(0)
    return found[0] if found else None


def _param_value(doc: dict, param: dict) -> str | None:
    for example in (param.get("examples") or {}).values():
        return str(deref(doc, example).get("value"))
    schema = merged(doc, param.get("schema")) or {}
    return str(schema["default"]) if "default" in schema else None


@dataclass
class Baseline:
    """A request the spec accepts; each test changes one thing of it."""

    op: Operation
    path_values: dict[str, str]
    query: dict[str, str | None]  # None: a required parameter with no known value (left out when sent)
    bodies: dict[str, Any]  # media type -> a valid body value (object media types with a usable example)

    def path(self, values: dict[str, str] | None = None) -> str:
        values = {**self.path_values, **(values or {})}
        return re.sub(r"{([^}]+)}", lambda m: quote(str(values[m.group(1)]), safe=""), self.op.key)

    def request(self, ctype: str | None = None, body: Any = None, **changes: Any) -> Raw:
        """The baseline with `path`/`query` values changed and the body given as a value of `ctype`."""
        query = cast("dict[str, str]", {**self.query, **changes.get("query", {})})  # its None values go below
        raw = Raw(self.op.method.upper(), self.path(changes.get("path")), query)
        raw.query = {k: v for k, v in raw.query.items() if v is not None}
        if ctype is not None:
            raw.content_type = ctype
            raw.content = json.dumps(body).encode() if ctype == JSON else urlencode(body).encode()
        return raw


def baseline(target: Target, op: Operation) -> Baseline:
    doc = target.doc
    identifier = identifier_for(target, op)
    filled = valid_request(target, op, identifier)
    pieces = re.split(r"({[^}]+})", op.key)
    names = [piece[1:-1] for piece in pieces if piece.startswith("{")]
    match = re.fullmatch("".join("([^/]+)" if p.startswith("{") else re.escape(p) for p in pieces), filled.path)
    path_values = dict(zip(names, match.groups(), strict=True)) if match else {}
    query: dict[str, str | None] = {}
    for param, _ in parameters(doc, op):
        if param.get("in") == "query" and param.get("required"):
            query[param["name"]] = _param_value(doc, param)
    bodies: dict[str, Any] = {}
    for ctype, media in (request_body(doc, op).get("content") or {}).items():
        value: Any
        if ctype == JSON and isinstance(filled.body, dict):
            value = filled.body
        else:
            examples = [deref(doc, e).get("value") for e in (media.get("examples") or {}).values()]
            value = examples[0] if examples else ({} if ctype == JSON else None)
            if isinstance(value, dict) and identifier:  # every body field naming the SIM names this one
                names = identifying(doc, media.get("schema"), "Sim")
                value = {k: (identifier if k in names else v) for k, v in value.items()}
        if isinstance(value, dict) and is_valid(doc, media_schema(doc, op, ctype), value):
            bodies[ctype] = value
    return Baseline(op, path_values, query, bodies)


def expect(
    target: Target,
    op: Operation,
    raw: Raw,
    client: httpx.Client,
    answers: list[tuple[str, str]] | tuple[str, str],
    what: str,
    authenticated: bool = True,
    label: str | None = None,
) -> None:
    """Send `raw`: the answer is exactly one of the allowed (status, code), that code's documented body, in
    the API's error shape.

    `op` is the operation whose documented answers apply; `label` names what was called when that is
    not the operation (a route no operation takes)."""
    allowed = [answers] if isinstance(answers, tuple) else list(answers)
    label = label or op.label
    replay = raw.curl(target, authenticated)
    try:
        response = raw.send(target, client, authenticated)
    except httpx.TransportError as exc:
        shown = " or ".join(f"{s} {c}" for s, c in allowed)
        raise Violation(target.api, label, what, shown, f"no answer: {exc!r}", replay) from None
    field_name = error_field(target.doc)
    got_answer = (response.status_code, response.headers.get("content-type"), response.content)
    exchange = Exchange.of(target.doc, op, target.base_url, (raw.method, str(response.request.url)), got_answer)
    body = exchange.parsed
    got = body.get(field_name) if isinstance(body, dict) else None
    open_ok = (ANY_4XX, "") in allowed and 400 <= response.status_code < 500
    if not open_ok and (str(response.status_code), got) not in allowed:
        expected = " or ".join(
            "any 4xx in the error shape" if status == ANY_4XX else f"{status} {json.dumps({field_name: code})}"
            for status, code in allowed
        )
        raise Violation(target.api, label, what, expected, exchange.shown(), replay)
    found = run_all(exchange)
    if found:
        name, mismatch = found
        raise Violation(target.api, label, f"{what}: {name}", mismatch.expected, mismatch.actual, replay)
