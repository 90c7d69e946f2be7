"""Compile a bundled spec into the checks the reference server runs on every request.

Everything a request is held to comes from the spec: routes, parameter and body schemas per content type,
the code each violation produces (`x-error-code`), the precedence of codes (the order of each response's
enum), body limits and malformed-body answers (`x-max-body-bytes`, `x-body-errors`, `x-route-errors`),
and the exact error bodies (the spec's named examples). Editing a pattern in `spec/` and running
`apicontract build` changes what the server accepts, with no Python change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from apicontract.specs.inputs import (
    body_fields,
    body_limits,
    operation_parameters,
    path_pattern,
    request_body,
)
from apicontract.specs.promises import shape_code
from apicontract.specs.security import Scheme, request_schemes
from apicontract.specs.walk import (
    Operation,
    deref,
    error_code,
    error_examples,
    error_field,
    inline,
    iter_operations,
    merged,
    response_codes,
)

__all__ = [
    "FORM",
    "JSON",
    "MULTIPART",
    "Answer",
    "BodyShape",
    "CompiledApi",
    "CompiledOperation",
    "Field",
    "Limits",
    "Rejection",
    "compile_api",
    "inline",
]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
MISSING = object()
ROUTE_CACHE_SIZE = 4096  # distinct (method, path) pairs remembered; beyond that, routes are matched each time
CACHED_PATH_BYTES = 256  # longer paths are matched each time, never remembered: the cache stays under ~1 MiB


@dataclass(frozen=True)
class Limits:
    """What one request may cost (the API's `info.x-max-*` and `x-timeouts`, R5; see spec/CONVENTIONS.md)."""

    header_bytes: int
    header_count: int
    json_depth: int
    number_length: int
    multipart_parts: int
    part_header_bytes: int
    idle_seconds: float
    header_seconds: float
    body_seconds: float

    @classmethod
    def of(cls, info: dict) -> Limits:
        timeouts = info.get("x-timeouts") or {}
        never = 1 << 62  # a key the spec leaves out (lint requires them all) limits nothing
        return cls(
            header_bytes=int(info.get("x-max-header-bytes", never)),
            header_count=int(info.get("x-max-header-count", never)),
            json_depth=int(info.get("x-max-json-depth", never)),
            number_length=int(info.get("x-max-number-length", never)),
            multipart_parts=int(info.get("x-max-multipart-parts", never)),
            part_header_bytes=int(info.get("x-max-part-header-bytes", never)),
            idle_seconds=float(timeouts.get("idle", never)),
            header_seconds=float(timeouts.get("header", never)),
            body_seconds=float(timeouts.get("body", never)),
        )


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer, prebuilt once from the spec."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    content_type: bytes = b"application/json"


class Rejection(Exception):
    """Stop handling a request and send this answer (a documented error)."""

    def __init__(self, answer: Answer):
        super().__init__(f"{answer.status} {answer.body[:80]!r}")
        self.answer = answer


@dataclass
class Field:
    """A parameter or a top-level body property, with what checks it."""

    name: str
    code: str | None
    required: bool
    kind: str  # string, integer, number, boolean, binary, other
    check: Callable[[Any], bool]
    default: Any = MISSING
    types: tuple[str, ...] = ()  # the JSON types the schema allows (empty: any), for R23a's shape errors

    def right_type(self, value: Any) -> bool:
        return not self.types or any(_is_type(value, kind) for kind in self.types)


@dataclass
class BodyShape:
    """What one content type of a request body must look like."""

    content_type: str
    fields: list[Field]
    root_code: str | None
    closed: bool
    shape_code: str | None  # `x-shape-error-code`: what a missing, mistyped or unknown property answers (R23a)
    whole: Callable[[Any], bool]  # the full schema, for anything the per-field checks do not cover
    typed_as: dict[str, str] = field(default_factory=dict)  # form field -> JSON kind, to convert strings
    max_body: int = 1 << 62  # this content type's own `x-max-body-bytes`, below the operation's

    @property
    def names(self) -> set[str]:
        return {f.name for f in self.fields}


@dataclass
class CompiledOperation:
    """One operation, ready to check requests and build its documented answers."""

    api: str
    id: str
    method: str
    template: str
    path_fields: list[Field]
    query_fields: list[Field]
    bodies: dict[str, BodyShape]
    body: dict[str, Any]  # the request body object, for its `x-body-errors`
    max_body: int
    success_status: int
    success_model: str | None
    codes: dict[int, list[str]]
    answers: dict[tuple[int, str], Answer]
    source: Operation
    limits: Limits

    def answer(self, status: int, hint: str | None = None) -> Answer:
        """The documented answer for `status`; `hint` picks among several codes (`msisdn` -> `msisdn_conflict`)."""
        codes = self.codes.get(status, [])
        if hint is None:
            if len(codes) != 1:
                raise LookupError(f"{self.id}: {status} has codes {codes}; name one")
            return self.answers[(status, codes[0])]
        for code in codes:
            if code == hint or code.startswith(hint + "_"):
                return self.answers[(status, code)]
        raise LookupError(f"{self.id}: no {status} code for {hint!r} among {codes}")

    def code_answer(self, code: str) -> Answer:
        """The answer of a documented code, whatever its status."""
        for (_status, known), answer in self.answers.items():
            if known == code:
                return answer
        raise LookupError(f"{self.id}: {code!r} is not documented")

    def reject(self, status: int, hint: str | None = None) -> Rejection:
        return Rejection(self.answer(status, hint))

    def rank(self, status: int, code: str) -> int:
        """Precedence of a code within its status (its place in the spec's enum)."""
        codes = self.codes.get(status, [])
        return codes.index(code) if code in codes else len(codes)


@dataclass
class CompiledApi:
    """All of one API: its operations by route, its security and its route-level answers."""

    name: str
    doc: dict
    field_name: str  # x-error-code-field
    operations: dict[str, CompiledOperation]
    static_routes: dict[str, dict[str, CompiledOperation]]
    templated_routes: list[tuple[re.Pattern, list[str], dict[str, CompiledOperation]]]
    route_answers: dict[int, Answer]
    unauthorized: Answer
    security: list[Scheme]  # alternatives, in order (the spec's top-level `security`)
    limits: Limits
    http_errors: dict[int, Answer]  # `x-http-errors`: answers before any operation (400 framing, 408, 431)
    _routes: dict[tuple[str, str], tuple] = field(default_factory=dict)

    def route(self, method: str, path: str) -> tuple[CompiledOperation | None, dict[str, str], Answer | None]:
        """The operation for a request, its raw path values, or the 404/405 answer (memoised for short paths)."""
        key = (method, path)
        found = self._routes.get(key)
        if found is None:
            found = self._route(method, path)
            if len(path) <= CACHED_PATH_BYTES and len(self._routes) < ROUTE_CACHE_SIZE:
                self._routes[key] = found
        op, values, answer = found
        return op, dict(values), answer

    def _route(self, method: str, path: str) -> tuple[CompiledOperation | None, dict[str, str], Answer | None]:
        methods = self.static_routes.get(path)
        values: dict[str, str] = {}
        if methods is None:
            for pattern, names, candidates in self.templated_routes:
                match = pattern.match(path)
                if match:
                    methods, values = candidates, dict(zip(names, match.groups(), strict=True))
                    break
        if methods is None:
            return None, values, self.route_answers[404]
        op = methods.get(method)
        if op is None:
            return None, values, self._not_allowed(methods)
        return op, values, None

    def _not_allowed(self, methods: dict[str, CompiledOperation]) -> Answer:
        """405 with the `Allow` header RFC 9110 requires, listing what the path takes."""
        base = self.route_answers[405]
        allow = ", ".join(sorted(methods)).encode()
        return Answer(base.status, base.body, (*base.headers, (b"allow", allow)), base.content_type)


def compile_api(name: str, doc: dict) -> CompiledApi:
    """Compile a bundled API document (as written to generated/openapi/<api>.json)."""
    field_name = error_field(doc)
    info = doc.get("info") or {}
    limits = Limits.of(info)
    operations: dict[str, CompiledOperation] = {}
    static: dict[str, dict[str, CompiledOperation]] = {}
    templated: dict[str, tuple[re.Pattern, list[str], dict[str, CompiledOperation]]] = {}
    unauthorized = None
    for op in iter_operations(doc):
        if op.is_webhook:
            continue
        compiled = _compile_operation(name, doc, op, field_name, limits)
        operations[compiled.id] = compiled
        if unauthorized is None and (401, _first(compiled.codes.get(401))) in compiled.answers:
            unauthorized = compiled.answers[(401, compiled.codes[401][0])]
        if "{" in op.key:
            pattern, names = path_pattern(op.key)
            entry = templated.setdefault(op.key, (pattern, names, {}))
            entry[2][op.method.upper()] = compiled
        else:
            static.setdefault(op.key, {})[op.method.upper()] = compiled
    routes = info.get("x-route-errors") or {}
    route_answers = {int(status): _json_answer(int(status), {field_name: code}) for status, code in routes.items()}
    closing = ((b"connection", b"close"),)  # after a refused head or a body too slow, the connection is not reused
    http_errors = {
        int(status): _json_answer(int(status), {field_name: code}, closing)
        for status, code in (info.get("x-http-errors") or {}).items()
    }
    if unauthorized is None:
        raise ValueError(f"{name}: no operation documents its 401 answer")
    return CompiledApi(
        name=name,
        doc=doc,
        field_name=field_name,
        operations=operations,
        static_routes=static,
        templated_routes=list(templated.values()),
        route_answers=route_answers,
        unauthorized=unauthorized,
        security=request_schemes(doc),
        limits=limits,
        http_errors=http_errors,
    )


def _first(items: list[str] | None) -> str | None:
    return items[0] if items else None


def _compile_operation(api: str, doc: dict, op: Operation, field_name: str, limits: Limits) -> CompiledOperation:
    path_fields: list[Field] = []
    query_fields: list[Field] = []
    for param in operation_parameters(doc, op):
        target = {"path": path_fields, "query": query_fields}.get(param.location)
        if target is not None:
            target.append(_field(doc, param.name, param.schema or {}, param.code, param.required))
    body = request_body(doc, op)
    bodies = {ctype: _body_shape(doc, ctype, media) for ctype, media in (body.get("content") or {}).items()}
    sizes = body_limits(doc, body)
    for ctype, shape in bodies.items():
        shape.max_body = sizes.of(ctype)
    json_shape = bodies.get(JSON)
    for shape in bodies.values():
        if shape.content_type in (FORM, MULTIPART) and json_shape is not None:
            shape.typed_as = {f.name: f.kind for f in json_shape.fields}
    codes = {int(status): found for status, found in response_codes(doc, op).items() if status.isdigit()}
    answers = {}
    for status, response in (op.node.get("responses") or {}).items():
        if not status.isdigit() or int(status) not in codes:
            continue
        response = deref(doc, response)
        examples = error_examples(doc, response)
        headers = _fixed_headers(doc, response)
        for code in codes[int(status)]:
            value = (examples.get(code) or {}).get("value", {field_name: code})
            answers[(int(status), code)] = _json_answer(int(status), value, headers)
    success = next((s for s in op.node.get("responses") or {} if s.startswith("2")), "200")
    return CompiledOperation(
        api=api,
        id=op.node["operationId"],
        method=op.method.upper(),
        template=op.key,
        path_fields=path_fields,
        query_fields=query_fields,
        bodies=bodies,
        body=body,
        max_body=max([sizes.default, *(shape.max_body for shape in bodies.values())]),
        success_status=int(success) if success.isdigit() else 200,
        success_model=_success_model(doc, op, success),
        codes=codes,
        answers=answers,
        source=op,
        limits=limits,
    )


def _success_model(doc: dict, op: Operation, status: str) -> str | None:
    response = deref(doc, (op.node.get("responses") or {}).get(status)) or {}
    schema = ((response.get("content") or {}).get(JSON) or {}).get("schema") or {}
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[1] if ref.startswith("#/components/schemas/") and ref.count("/") == 3 else None


def _fixed_headers(doc: dict, response: dict) -> tuple[tuple[bytes, bytes], ...]:
    """Headers whose schema allows exactly one value (e.g. `WWW-Authenticate: Basic realm="sim-v1"`)."""
    found = []
    for name, header in (response.get("headers") or {}).items():
        schema = merged(doc, (deref(doc, header) or {}).get("schema")) or {}
        values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
        if len(values) == 1:
            found.append((name.lower().encode(), str(values[0]).encode()))
    return tuple(found)


def _body_shape(doc: dict, ctype: str, media: dict) -> BodyShape:
    schema = inline(doc, media.get("schema") or {})
    fields = [_field(doc, f.name, f.schema, f.code, f.required) for f in body_fields(doc, schema)]
    return BodyShape(
        content_type=ctype,
        fields=fields,
        root_code=error_code(schema),
        closed=schema.get("additionalProperties") is False,
        shape_code=shape_code(schema),
        whole=_validator(schema),
    )


def _field(doc: dict, name: str, schema: Any, code: str | None, required: bool) -> Field:
    schema = inline(doc, schema)
    if code is None:
        code = error_code(schema)
    return Field(
        name=name,
        code=code,
        required=required,
        kind=_kind(schema),
        check=_validator(schema),
        default=schema.get("default", MISSING) if isinstance(schema, dict) else MISSING,
        types=_json_types(schema),
    )


def _json_types(schema: Any) -> tuple[str, ...]:
    """The JSON types a schema admits, from `type` or its enum/const values (empty: not stated)."""
    if not isinstance(schema, dict):
        return ()
    kind = schema.get("type")
    if isinstance(kind, str):
        return (kind,)
    if isinstance(kind, list):
        return tuple(kind)
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
    return tuple(sorted({_type_of(v) for v in values}))


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "string")


def _is_type(value: Any, kind: str) -> bool:
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        whole = isinstance(value, float) and value.is_integer()
        return (isinstance(value, int) and not isinstance(value, bool)) or whole
    return _type_of(value) == kind


def _kind(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "other"
    if schema.get("format") == "binary" or "contentMediaType" in schema or "contentEncoding" in schema:
        return "binary"
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind in ("string", "integer", "number", "boolean"):
        return kind
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
    if values and all(isinstance(v, bool) for v in values):
        return "boolean"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    return "other"


def _validator(schema: Any) -> Callable[[Any], bool]:
    if schema is True or schema == {}:
        return lambda value: True
    clean = _strip_extensions(schema)
    return jsonschema_rs.validator_for(clean).is_valid


def _strip_extensions(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: (v if k in ("enum", "const", "default", "examples") else _strip_extensions(v))
            for k, v in schema.items()
            if not k.startswith("x-") and k not in ("discriminator", "xml", "externalDocs", "example")
        }
    if isinstance(schema, list):
        return [_strip_extensions(s) for s in schema]
    return schema


def _json_answer(status: int, value: Any, headers: tuple[tuple[bytes, bytes], ...] = ()) -> Answer:
    return Answer(status, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), headers)
