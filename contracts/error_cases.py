"""The broken requests test_error_codes sends, and the answer the spec assigns to each.

A case names one thing to break: a field (a path/query parameter or a top-level body property with
`x-error-code`) or the body as a whole (unparseable, not an object, an unknown property, missing, an
unlisted content type, oversized). The answers come from the spec alone: the field's code at the status
that lists it, `x-body-errors`, the root schema's code, the operation's 413/415 code, and the order of the
400 enum where several required fields are missing at once (R5a).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast
from urllib.parse import urlencode

import pytest

from apicontract.contracts.answers import field_answers, param_answers, status_of
from apicontract.contracts.baselines import (
    ANY_4XX,
    BOUNDARY,
    DEFAULT_LIMIT,
    FORM,
    JSON,
    MULTIPART,
    UNKNOWN_FIELD,
    Baseline,
    Raw,
    request_body,
)
from apicontract.contracts.invalid_values import violations
from apicontract.contracts.schemas import inline, is_valid, media_schema
from apicontract.contracts.target import Target
from apicontract.specs.inputs import parameter_code, property_code
from apicontract.specs.promises import body_answers, shape_code
from apicontract.specs.walk import Operation, error_code, iter_operations, parameters, response_codes

Answers = list[tuple[str, str]]  # every (status, code) the contract allows

SHORT: dict[str | None, str] = {JSON: "json", FORM: "form", MULTIPART: "multipart"}
UNLISTED = ("text/plain", "application/xml", "application/octet-stream")  # tried in order: the first not listed


@dataclass(frozen=True)
class FieldCase:
    op_id: str
    location: str  # "path", "query", or the body's media type
    name: str


@dataclass(frozen=True)
class BodyCase:
    op_id: str
    kind: str  # oversized, unparseable, not_object, unknown_property, unsupported, missing
    ctype: str | None


def operations(doc: dict) -> list[Operation]:
    return [op for op in iter_operations(doc) if not op.is_webhook]


def field_cases(doc: dict):
    """Fields whose refusal the contract states: their code is documented (in the contract view, a code the
    reference server alone chose is not)."""
    for op in operations(doc):
        op_id = op.node["operationId"]
        documented = {code for codes in response_codes(doc, op).values() for code in codes}
        for param, _ in parameters(doc, op):
            if param.get("in") in ("path", "query") and parameter_code(doc, param) in documented:
                yield f"{op_id}-{param['in']}-{param['name']}", FieldCase(op_id, param["in"], param["name"])
        for ctype in request_body(doc, op).get("content") or {}:
            if ctype in (JSON, FORM):
                for name, prop in (media_schema(doc, op, ctype).get("properties") or {}).items():
                    if error_code(prop) in documented:
                        yield f"{op_id}-{SHORT[ctype]}-{name}", FieldCase(op_id, ctype, name)


def body_cases(doc: dict):
    for op in operations(doc):
        content = request_body(doc, op).get("content") or {}
        if not content:
            continue
        op_id = op.node["operationId"]
        cases = [BodyCase(op_id, kind, ctype) for ctype in content for kind in ("oversized", "unparseable")]
        for ctype in (JSON, FORM):
            schema = media_schema(doc, op, ctype) if ctype in content else {}
            if ctype == JSON and error_code(schema):
                cases.append(BodyCase(op_id, "not_object", ctype))
            if schema.get("additionalProperties") is False and error_code(schema):
                cases.append(BodyCase(op_id, "unknown_property", ctype))
        rejected = (request_body(doc, op).get("x-body-errors") or {}).get("rejected") or {}
        unlisted = next(c for c in UNLISTED if c not in content)
        cases += [BodyCase(op_id, "unsupported", ctype) for ctype in (unlisted, *rejected)]
        if missing_answer(doc, op):
            cases.append(BodyCase(op_id, "missing", None))
        for case in cases:
            yield "-".join(filter(None, (op_id, case.kind, SHORT.get(case.ctype, case.ctype)))), case


def rule(doc: dict, op: Operation, name: str, ctype: str | None) -> Answers:
    """The answers an `x-body-errors` entry allows (one, or a list; per content type where they differ)."""
    return [(a.status, a.code) for a in body_answers(request_body(doc, op), name, ctype)]


def root_answer(doc: dict, op: Operation, ctype: str) -> Answers:
    code = error_code(media_schema(doc, op, ctype))
    status = status_of(doc, op, code) if code else None
    return [(status, cast(str, code))] if status else []  # a status is only found for a code


def only_code(doc: dict, op: Operation, status: str) -> Answers:
    codes = response_codes(doc, op).get(status) or []
    return [(status, codes[0])] if len(codes) == 1 else []


def missing_answer(doc: dict, op: Operation) -> Answers:
    """No body: `x-body-errors.missing`; else it is read as `{}` (R5), and the first required field's code
    in the 400 enum's order answers (R5a), if `{}` is invalid at all."""
    found = rule(doc, op, "missing", None)
    if found:
        return found
    content = request_body(doc, op).get("content") or {}
    ctype = JSON if JSON in content else next(iter(content))
    schema = media_schema(doc, op, ctype)
    if is_valid(doc, schema, {}):
        return []
    shape = shape_code(schema)
    if shape:
        return [(cast(str, status_of(doc, op, shape)), shape)]  # the spec lists the shape code (R23a)
    codes = [property_code(schema, name) for name in schema.get("required") or []]
    order = response_codes(doc, op).get("400") or []
    ranked = sorted((c for c in codes if c in order), key=order.index)
    return [("400", ranked[0])] if ranked else []


def limit(doc: dict, op: Operation, ctype: str) -> int:
    body = request_body(doc, op)
    media = (body.get("content") or {}).get(ctype) or {}
    default = (doc.get("info") or {}).get("x-max-body-bytes", DEFAULT_LIMIT)
    return int(media.get("x-max-body-bytes", body.get("x-max-body-bytes", default)))


def with_boundary(ctype: str) -> str:
    return f"{ctype}; boundary={BOUNDARY}" if ctype == MULTIPART else ctype


def body_request(target: Target, base: Baseline, case: BodyCase) -> tuple[Raw, Answers]:
    """The broken request of a body case and the answers the contract allows for it."""
    doc, op = target.doc, base.op
    raw = base.request()
    ctype = cast(str, case.ctype)  # None only for "missing", which reads no content type
    if case.kind == "oversized":
        raw.content_type, raw.content = with_boundary(ctype), b"a" * (limit(doc, op, ctype) + 1)
        return raw, only_code(doc, op, "413")
    if case.kind == "unsupported":
        raw.content_type, raw.content = ctype, b"{}" if ctype.endswith("json") else b"apicontract"
        return raw, rule(doc, op, "rejected", ctype) or rule(doc, op, "unsupported", None) or only_code(doc, op, "415")
    if case.kind == "missing":
        return raw, missing_answer(doc, op)
    if case.kind == "unknown_property":
        if ctype not in base.bodies:
            pytest.fail(f"{op.label}: the spec has no valid {ctype} example to add an unknown property to")
        answers = field_answers(doc, op, ctype, UNKNOWN_FIELD, "1")
        return base.request(ctype, {**base.bodies[ctype], UNKNOWN_FIELD: "1"}), answers
    if case.kind == "not_object":
        raw.content_type, raw.content = ctype, b"[]"
        shape = shape_code(media_schema(doc, op, ctype))
        if shape:  # R23a names the answer
            return raw, [(cast(str, status_of(doc, op, shape)), shape)]  # the spec lists it (R23a)
        # R5: malformed input is a 4xx in the API's error shape; no ruling names the code of a JSON body
        # that is not an object, so any code the operation documents for 400 conforms (any 4xx where the
        # operation leaves its errors to the implementation)
        if "4XX" in (op.node.get("responses") or {}):
            return raw, [(ANY_4XX, "")]
        return raw, [("400", code) for code in response_codes(doc, op).get("400") or []]
    answers = rule(doc, op, "unparseable", ctype) or root_answer(doc, op, ctype)
    sample = base.bodies.get(FORM) or base.bodies.get(JSON)
    broken = {  # R17: a JSON content type on a urlencoded body; a form whose value is not UTF-8
        JSON: urlencode(sample).encode() if sample else b'{"',
        FORM: f"{UNKNOWN_FIELD}=%FF".encode(),
        MULTIPART: b"this is not a multipart body",
    }
    raw.content_type, raw.content = with_boundary(ctype), broken.get(ctype, b"\xff")
    return raw, answers


def field_schema(doc: dict, op: Operation, case: FieldCase) -> tuple[dict, str | None, bool]:
    """The field's schema, its code, and whether it is required."""
    if case.location in ("path", "query"):
        param = next(p for p, _ in parameters(doc, op) if p["name"] == case.name and p["in"] == case.location)
        return inline(doc, param.get("schema") or {}), parameter_code(doc, param), bool(param.get("required"))
    schema = media_schema(doc, op, case.location)
    prop = schema["properties"][case.name]
    return prop, error_code(prop), case.name in (schema.get("required") or [])


def field_requests(doc: dict, base: Baseline, case: FieldCase) -> list[tuple[str, Raw, Answers]]:
    """One broken request per kind of violation of the field, each checked invalid before it is sent, with
    the answers the contract allows for it."""
    schema, _, required = field_schema(doc, base.op, case)
    op = base.op
    if case.location in ("path", "query"):
        valid = (base.path_values if case.location == "path" else base.query).get(case.name)
        # the rest of the request stays valid, its body included: an answer may come after the body's checks
        ctype, body = next(iter(base.bodies.items()), (None, None))
        found = [
            (
                kind,
                base.request(ctype, body, **{case.location: {case.name: value}}),
                param_answers(doc, op, case.name, value),
            )
            for kind, value in violations(doc, schema, valid, "text", in_path=case.location == "path")
        ]
        if required and case.location == "query":
            missing = base.request(ctype, body, query={case.name: None})
            found.append(("missing", missing, param_answers(doc, op, case.name, "")))
        return found
    if case.location not in base.bodies:
        pytest.fail(f"{base.op.label}: the spec has no valid {case.location} example to break `{case.name}` in")
    body = base.bodies[case.location]
    wire = "json" if case.location == JSON else "text"
    changed = [
        (kind, {**body, case.name: value}, field_answers(doc, op, case.location, case.name, value))
        for kind, value in violations(doc, schema, body.get(case.name), wire)
    ]
    if required:
        rest = {k: v for k, v in body.items() if k != case.name}
        changed.append(("missing", rest, field_answers(doc, op, case.location, case.name)))
    whole = media_schema(doc, base.op, case.location)
    return [
        (kind, base.request(case.location, value), answers)
        for kind, value, answers in changed
        if not is_valid(doc, whole, value)
    ]
