"""The suite's own checks of one answer, read from the spec: documented codes and bodies, JSON errors.

Schemathesis knows OpenAPI, not this project's conventions: that an error's code sits in
`info.x-error-code-field`, that each response's enum lists the codes it may carry, that a named example
is the exact body, that `x-route-errors` answers requests no operation matches, and that a schema-valid
request may only be refused with a code marked `x-cross-field`. test_conformance runs these on every
generated exchange, test_error_codes on every answer to a deliberately broken request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import unquote, urlsplit

from apicontract.contracts.schemas import first_error
from apicontract.specs.promises import also_answers
from apicontract.specs.walk import (
    Operation,
    cross_field_codes,
    deref,
    error_field,
    iter_operations,
    merged,
    parameters,
    response_codes,
)

JSON = "application/json"


class Mismatch(AssertionError):
    """A check's finding: what the spec expects and what the target answered."""

    def __init__(self, expected: str, actual: str):
        super().__init__(f"expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as the checks see them (whichever client sent it)."""

    doc: dict
    op: Operation  # the operation the request was meant for
    method: str
    raw_path: str  # below the base URL, as sent (percent-encoded)
    status: int
    content_type: str  # the answer's media type, lower-case, without parameters ('' when absent)
    body: bytes
    mode: str | None = None  # "positive" / "negative" for generated requests

    @classmethod
    def of(cls, doc: dict, op: Operation, base_url: str, request: tuple[str, str], answer: tuple, mode=None):
        """From the sent (method, url) and the answer (status, Content-Type header, body bytes)."""
        method, url = request
        status, content_type, body = answer
        base = urlsplit(base_url).path.rstrip("/")
        path = urlsplit(url).path
        path = path[len(base) :] if base and path.startswith(base) else path
        media = (content_type or "").split(";", 1)[0].strip().lower()
        return cls(doc, op, method.lower(), path or "/", status, media, body, mode)

    @cached_property
    def parsed(self) -> Any:
        """The body as JSON, or NOT_JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return NOT_JSON

    def shown(self) -> str:
        text = self.body[:300].decode("utf-8", "replace")
        return f"{self.status} {self.content_type or '(no Content-Type)'} {text}"


NOT_JSON = object()  # what `Exchange.parsed` is for a body that does not parse as JSON
CHECKS: dict[str, Callable[[Exchange], None]] = {}


def check(func: Callable[[Exchange], None]) -> Callable[[Exchange], None]:
    """Register a check; test modules run every registered one on every answer they get."""
    CHECKS[func.__name__] = func
    return func


def run_all(exchange: Exchange) -> tuple[str, Mismatch] | None:
    """The first registered check the exchange fails, with its finding."""
    for name, func in CHECKS.items():
        try:
            func(exchange)
        except Mismatch as found:
            return name, found
    return None


# --- what the spec says about an answer --------------------------------------------------------------


def _template(path: str) -> re.Pattern:
    pieces = re.split(r"({[^}]+})", path)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in pieces))


def reached(doc: dict, method: str, path: str) -> tuple[Operation | None, str | None]:
    """The operation a request reaches by its path template and method, else the route error status."""
    ops = sorted((op for op in iter_operations(doc) if not op.is_webhook), key=lambda op: "{" in op.key)
    path_known = False
    for op in ops:
        if _template(op.key).fullmatch(path):
            path_known = True
            if op.method == method:
                return op, None
    return None, "405" if path_known else "404"


def documented_bodies(doc: dict, op: Operation, status: int) -> dict[str, Any] | None:
    """code -> the exact documented body, for one operation and status (None: the status is undocumented)."""
    codes = response_codes(doc, op).get(str(status))
    if codes is None:
        return None
    field = error_field(doc)
    response = deref(doc, (op.node.get("responses") or {}).get(str(status))) or {}
    media = (response.get("content") or {}).get(JSON) or {}
    examples = [deref(doc, example).get("value") for example in (media.get("examples") or {}).values()]
    bodies = {}
    for code in codes:
        found = [v for v in examples if isinstance(v, dict) and str(v.get(field)) == code]
        bodies[code] = found[0] if found else {field: code}
    return bodies


def route_bodies(doc: dict, status: str) -> dict[str, Any]:
    """The answer `info.x-route-errors` gives a request no operation matches (404) or whose method none takes (405)."""
    code = ((doc.get("info") or {}).get("x-route-errors") or {}).get(status)
    return {code: {error_field(doc): code}} if code else {}


def allowed_bodies(exchange: Exchange) -> tuple[dict[str, Any] | None, str]:
    """code -> documented body for this answer's status, and what the request reached (for messages).

    A path whose decoded form leaves the operation's template (an encoded `/` in a value) may be routed
    on either form, so both readings are allowed.
    """
    doc, status = exchange.doc, exchange.status
    allowed: dict[str, Any] = {}
    undocumented = []
    for path in dict.fromkeys((exchange.raw_path, unquote(exchange.raw_path))):
        op, route = reached(doc, exchange.method, path)
        if status == 401:  # authentication comes before routing (R5a); every operation documents it alike
            op = op or exchange.op
        if op is not None:
            bodies = documented_bodies(doc, op, status)
            if bodies is None:
                undocumented.append(f"{op.label} documents {sorted(response_codes(doc, op))}")
            allowed.update(bodies or {})
        elif str(status) == route:
            allowed.update(route_bodies(doc, route))
        else:
            undocumented.append(f"no operation takes {exchange.method.upper()} {path}: x-route-errors {route}")
    return (allowed or None), "; ".join(undocumented)


def documented_media(doc: dict, op: Operation | None, status: int) -> list[str]:
    if op is None:
        return []
    response = deref(doc, (op.node.get("responses") or {}).get(str(status))) or {}
    return list(response.get("content") or {})


# --- the checks --------------------------------------------------------------------------------------


@check
def error_shape(exchange: Exchange) -> None:
    """R1: every answer is JSON unless its operation documents another media type for that status;
    an error is `application/json` and its body satisfies the API's `Error` schema (R2, R23)."""
    op, _ = reached(exchange.doc, exchange.method, exchange.raw_path)
    declared = documented_media(exchange.doc, op, exchange.status)
    if exchange.status < 400 and any(media.split(";")[0] != JSON for media in declared):
        return
    if exchange.content_type != JSON:
        raise Mismatch(f"Content-Type: {JSON} (R1)", exchange.shown())
    if exchange.parsed is NOT_JSON:
        raise Mismatch("a JSON body (R1)", exchange.shown())
    if exchange.status >= 400:
        error = first_error(exchange.doc, {"$ref": "#/components/schemas/Error"}, exchange.parsed)
        if error:
            raise Mismatch(f"the API's Error body ({error})", exchange.shown())


def open_class(doc: dict, method: str, path: str, status: int) -> bool:
    """The operation leaves this class of status to the implementation (a `4XX` of the contract view):
    any status of the class, with any code in the API's error shape, conforms (R0)."""
    op, _ = reached(doc, method, path)
    return op is not None and f"{status // 100}XX" in (op.node.get("responses") or {})


@check
def documented_error_code(exchange: Exchange) -> None:
    """Every 4xx/5xx carries, in `info.x-error-code-field`, a code the spec documents for that operation
    and status (the response schema's enum), and is exactly that code's documented body; where the
    contract leaves the answer to the implementation, only the error shape is held (`error_shape`)."""
    if exchange.status < 400:
        return
    if open_class(exchange.doc, exchange.method, exchange.raw_path, exchange.status):
        return
    field = error_field(exchange.doc)
    allowed, why = allowed_bodies(exchange)
    if allowed is None:
        raise Mismatch(f"a documented status ({why})", exchange.shown())
    body = exchange.parsed
    code = body.get(field) if isinstance(body, dict) else None
    if not isinstance(code, str) or code not in allowed:
        raise Mismatch(f"{exchange.status} with {field} one of {list(allowed)}", exchange.shown())
    if body != allowed[code]:
        raise Mismatch(f"{exchange.status} {json.dumps(allowed[code])} (the documented body)", exchange.shown())


def value_answers(doc: dict, op: Operation) -> list[tuple[str, str]]:
    """(status, code) the spec's `x-also-answers` allow for some schema-valid values (R24: a page above
    2^63−1 may be refused)."""
    found = [(a.status, a.code) for p, _ in parameters(doc, op) for a in also_answers(p) if a.code]
    body = deref(doc, op.node.get("requestBody")) or {}
    for media in (body.get("content") or {}).values():
        found += [(a.status, a.code) for a in also_answers(merged(doc, media.get("schema"))) if a.code]
    return found


@check
def cross_field_code(exchange: Exchange) -> None:
    """A schema-valid request may be refused 400 only with a code the spec marks `x-cross-field` (a rule
    between fields, or between the path and the body, that JSON Schema cannot state), or one its
    `x-also-answers` allow for some values."""
    if exchange.mode != "positive" or exchange.status != 400:
        return
    if open_class(exchange.doc, exchange.method, exchange.raw_path, exchange.status):
        return
    codes = cross_field_codes(exchange.doc, exchange.op).get("400", [])
    codes += [code for status, code in value_answers(exchange.doc, exchange.op) if status == "400"]
    body = exchange.parsed
    code = body.get(error_field(exchange.doc)) if isinstance(body, dict) else None
    if code not in codes:
        expected = f"a schema-valid request accepted, or refused 400 with one of {codes}" if codes else "acceptance"
        raise Mismatch(f"{expected} (x-cross-field)", exchange.shown())
