"""Turn a raw HTTP request into typed, validated input for a handler, or the documented rejection.

The order of the checks is R5a's precedence: the route is known already; then the body's size and
content type, the path parameters, the query parameters, and the body fields. Within one stage the
violation whose code comes first in the operation's documented enum wins.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header

from apicontract.server.compiled import (
    FORM,
    JSON,
    MISSING,
    MULTIPART,
    Answer,
    BodyShape,
    CompiledOperation,
    Field,
    Limits,
    Rejection,
)
from apicontract.specs.promises import BodyAnswer, body_answers

OVER_LIMIT = type("OverLimit", (), {"__repr__": lambda self: "<over a limit>"})()
"""A JSON value past `x-max-json-depth` or `x-max-number-length`: it fails its field's check (R5)."""


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart body."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """A validated request, as a handler sees it."""

    op: CompiledOperation
    account: Any
    params: dict[str, Any]
    body: dict[str, Any] = field(default_factory=dict)
    given: frozenset[str] = frozenset()  # the body fields the client actually sent
    content_type: str | None = None

    def reject(self, status: int, hint: str | None = None) -> Rejection:
        return self.op.reject(status, hint)


def media_type(header: str | None) -> str | None:
    if not header:
        return None
    return header.split(";", 1)[0].strip().lower() or None


def check_size(op: CompiledOperation, declared_length: int | None) -> None:
    if op.bodies and declared_length is not None and declared_length > op.max_body:
        raise op.reject(413)


def prepare(
    op: CompiledOperation,
    account: Any,
    path_values: dict[str, str],
    query: list[tuple[str, str]],
    content_type_header: str | None,
    body: bytes,
) -> Call:
    """Validate everything about a request that the spec says; raise Rejection with the documented answer."""
    ctype = media_type(content_type_header)
    shape: BodyShape | None = None
    if op.bodies and body:
        shape = op.bodies.get(ctype or "")
        if shape is None:
            raise Rejection(_unsupported(op, ctype))
    params = _params(op, path_values, query)
    if not op.bodies:
        return Call(op, account, params)
    if shape is None:
        missing = body_answers(op.body, "missing")
        if missing:
            raise Rejection(_listed(op, missing[0]))
        shape = op.bodies.get(JSON) or next(iter(op.bodies.values()))  # no body: an empty object
        value: Any = {}
    else:
        if len(body) > shape.max_body:  # a content type may take less than the operation's largest body
            raise op.reject(413)
        value = _parse(op, shape, body, content_type_header or "")
    typed, given = _check_body(op, shape, value)
    return Call(op, account, params, typed, frozenset(given), shape.content_type)


def _listed(op: CompiledOperation, answer: BodyAnswer) -> Answer:
    """The reference server's answer: the first an `x-body-errors` entry lists."""
    return op.answers[(int(answer.status), answer.code)]


def _unsupported(op: CompiledOperation, ctype: str | None) -> Answer:
    chosen = body_answers(op.body, "rejected", ctype or "") or body_answers(op.body, "unsupported")
    return _listed(op, chosen[0]) if chosen else op.answer(415)


def _params(op: CompiledOperation, path_values: dict[str, str], query: list[tuple[str, str]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for stage, values in ((op.path_fields, path_values), (op.query_fields, dict(query))):
        failures = []
        for spec in stage:
            raw = values.get(spec.name)
            if raw is None:  # (the values are strings)
                if spec.required:
                    failures.append(spec)
                elif spec.default is not MISSING:
                    result[spec.name] = spec.default
                continue
            typed = _from_text(spec, raw, op.limits.number_length)
            if typed is MISSING or not spec.check(typed):
                failures.append(spec)
            else:
                result[spec.name] = typed
        if failures:
            raise _worst(op, [f.code for f in failures])
    return result


def _from_text(spec: Field, raw: str, max_length: int) -> Any:
    """A path/query/form value as the type its schema declares, or MISSING if it cannot be one.

    A number longer than `x-max-number-length` is MISSING too: outside any domain the server takes (R5),
    and never handed to `int()`, whose time grows with the square of the digits.
    """
    if spec.kind in ("integer", "number") and len(raw) > max_length:
        return MISSING
    if spec.kind == "integer":
        text = raw
        digits = text[1:] if text[:1] == "-" else text
        if not (digits.isascii() and digits.isdigit()):  # "³".isdigit() is True, but it is no number
            return MISSING
        return int(text)
    if spec.kind == "number":
        try:
            value = float(raw)
        except ValueError:
            return MISSING
        return value if math.isfinite(value) else MISSING
    if spec.kind == "boolean":
        return {"true": True, "false": False}.get(raw, MISSING)
    return raw


def _worst(op: CompiledOperation, codes: list[str | None]) -> Rejection:
    known = [c for c in codes if c is not None]
    if not known:
        return op.reject(400)
    best = min(known, key=lambda code: op.rank(400, code))
    return Rejection(op.code_answer(best))


def _parse(op: CompiledOperation, shape: BodyShape, body: bytes, header: str) -> Any:
    try:
        if shape.content_type == JSON:
            value = load_json(body.decode("utf-8"), op.limits)
            # a lone surrogate escape is not text either
            json.dumps(value, ensure_ascii=False, default=repr).encode("utf-8")
            return bounded(value, op.limits.json_depth)
        if shape.content_type == FORM:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, errors="strict")
            return dict(pairs)
        if shape.content_type == MULTIPART:
            return parse_multipart(header, body, op.limits)
    except RecursionError:  # well-formed, but nested deeper than the parser goes: far past x-max-json-depth
        raise _worst(op, [shape.root_code]) from None
    except (ValueError, UnicodeDecodeError):
        pass
    else:
        return body.decode("utf-8", errors="replace")
    unparseable = body_answers(op.body, "unparseable", shape.content_type)
    if unparseable:
        raise Rejection(_listed(op, unparseable[0]))
    raise _worst(op, [shape.root_code])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(text: str, limits: Limits) -> Any:
    """JSON as Python, with every number past `x-max-number-length` (or beyond a float) read as OVER_LIMIT.

    The parser hands each number's text to these hooks before converting it, so a 5,000-digit integer is
    never converted at all.
    """
    longest = limits.number_length

    def integer(text: str) -> Any:
        return int(text) if len(text) <= longest else OVER_LIMIT

    def real(text: str) -> Any:
        if len(text) > longest:
            return OVER_LIMIT
        value = float(text)
        return value if math.isfinite(value) else OVER_LIMIT  # 1e400 overflows to infinity

    return json.loads(text, parse_constant=_reject_constant, parse_int=integer, parse_float=real)


def bounded(value: Any, max_depth: int) -> Any:
    """`value` with each top-level member that nests deeper than `max_depth` (the root is 1) or holds a number
    over the limit replaced by OVER_LIMIT, so it fails as its field (or, unknown, as the body); a root that
    is no object is returned as it is (its shape is the root's code anyway)."""
    if not isinstance(value, dict):
        return value
    return {key: member if _within(member, 2, max_depth) else OVER_LIMIT for key, member in value.items()}


def within_limits(value: Any, limits: Limits) -> bool:
    """A parsed JSON value (`load_json`) nests no deeper than `x-max-json-depth` and has no number over the limit."""
    return _within(value, 1, limits.json_depth)


def _within(value: Any, depth: int, max_depth: int) -> bool:
    """No container in `value` (itself at `depth`) deeper than `max_depth`, and no OVER_LIMIT; iteratively."""
    pending = [(value, depth)]
    while pending:
        item, level = pending.pop()
        if item is OVER_LIMIT:
            return False
        if isinstance(item, dict | list):
            if level > max_depth:
                return False
            for child in item.values() if isinstance(item, dict) else item:
                if child is OVER_LIMIT or isinstance(child, dict | list):
                    pending.append((child, level + 1))
    return True


def _check_body(op: CompiledOperation, shape: BodyShape, value: Any) -> tuple[dict[str, Any], set[str]]:
    if not isinstance(value, dict):
        raise _worst(op, [shape.shape_code or shape.root_code])
    failures: list[str | None] = []
    typed: dict[str, Any] = {}
    for spec in shape.fields:
        if spec.name not in value:
            if spec.required:
                failures.append(shape.shape_code or spec.code or shape.root_code)
            elif spec.default is not MISSING:
                typed[spec.name] = spec.default
            continue
        raw = value[spec.name]
        if raw is OVER_LIMIT:
            failures.append(spec.code or shape.root_code)
            continue
        if spec.kind == "binary":
            if isinstance(raw, Upload):
                typed[spec.name] = raw
            else:
                failures.append(spec.code or shape.root_code)
            continue
        if shape.shape_code and shape.content_type == JSON and raw is not OVER_LIMIT and not spec.right_type(raw):
            failures.append(shape.shape_code)
        elif isinstance(raw, Upload) or not spec.check(raw):
            failures.append(spec.code or shape.root_code)
        else:
            typed[spec.name] = raw
    if shape.closed and set(value) - shape.names:
        failures.append(shape.shape_code or shape.root_code)
    elif any(member is OVER_LIMIT for key, member in value.items() if key not in shape.names):
        failures.append(shape.root_code)  # an open body's (R18 connectors) undeclared member past a limit
    if failures:
        raise _worst(op, failures)
    if not shape.closed:  # an open body (R18 connectors) is kept as sent, beyond its declared fields
        typed.update({k: v for k, v in value.items() if k not in shape.names and not isinstance(v, Upload)})
    plain = {k: v for k, v in value.items() if not isinstance(v, Upload)}
    if len(plain) == len(value) and not shape.whole(plain):
        raise _worst(op, [shape.root_code])
    for name, kind in shape.typed_as.items():  # form strings -> the JSON types of the same fields
        if name in typed and isinstance(typed[name], str) and kind in ("boolean", "integer", "number"):
            converted = _from_text(Field(name, None, False, kind, bool), typed[name], op.limits.number_length)
            if converted is not MISSING:
                typed[name] = converted
    return typed, set(value)


def parse_multipart(header: str, body: bytes, limits: Limits) -> dict[str, Any]:
    """Parts of a multipart/form-data body: file parts as Upload, others as text.

    Parsing stops (ValueError: unparseable) at the part past `x-max-multipart-parts`, or at a part whose
    headers pass `x-max-part-header-bytes`, so a body of 150,000 tiny parts costs no more than 17.
    """
    _, options = parse_options_header(header)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ValueError("multipart body without a boundary")
    parts: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    header_name: list[bytes] = []
    header_value: list[bytes] = []
    counted = {"parts": 0, "header_bytes": 0}

    def on_part_begin() -> None:
        counted["parts"] += 1
        if counted["parts"] > limits.multipart_parts:
            raise ValueError(f"more than {limits.multipart_parts} parts")
        counted["header_bytes"] = 0
        current.clear()
        current.update(headers={}, data=[])

    def header_bytes(size: int) -> None:
        counted["header_bytes"] += size
        if counted["header_bytes"] > limits.part_header_bytes:
            raise ValueError(f"a part's headers pass {limits.part_header_bytes} bytes")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_bytes(end - start)
        header_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_bytes(end - start)
        header_value.append(data[start:end])

    def on_header_end() -> None:
        current["headers"][b"".join(header_name).lower()] = b"".join(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current["data"].append(data[start:end])

    def on_part_end() -> None:
        parts.append(dict(current))

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    parser.write(body)
    parser.finalize()
    if not parts:
        raise ValueError("multipart body without parts")
    result: dict[str, Any] = {}
    for part in parts:
        disposition, params = parse_options_header(part["headers"].get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in params:
            raise ValueError("multipart part without a form-data name")
        name = params[b"name"].decode("utf-8")
        data = b"".join(part["data"])
        if b"filename" in params:
            ctype = part["headers"].get(b"content-type", b"application/octet-stream").decode("latin-1").strip()
            result[name] = Upload(params[b"filename"].decode("utf-8"), ctype or "application/octet-stream", data)
        else:
            result[name] = data.decode("utf-8")
    return result
