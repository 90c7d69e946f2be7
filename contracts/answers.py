"""Every answer the contract allows to a request that is valid but for one value.

The reference server gives one answer (a field's `x-error-code`); the contract may allow more: a body's
shape errors answer `x-shape-error-code` (cpaas, R23a), a value of the wrong JSON type may also answer
what the body root's `x-also-answers` lists (R5), a path or query value may also answer what its
parameter's `x-also-answers` lists for it (R5c, R23a, R24). Behaviour machines and the error-code tests
ask here, so both accept exactly the same answers.
"""

from __future__ import annotations

from typing import Any, cast

from apicontract.contracts.invalid_values import typed
from apicontract.contracts.schemas import inline, is_valid, media_schema
from apicontract.specs.inputs import parameter_code, property_code
from apicontract.specs.promises import UNROUTABLE, WRONG_TYPE, AlsoAnswer, also_answers, shape_code, unroutable
from apicontract.specs.walk import Operation, parameters, response_codes

__all__ = ["MISSING", "field_answers", "param_answers", "status_of"]

JSON = "application/json"
MISSING = object()  # the field is left out
_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}


def status_of(doc: dict, op: Operation, code: str) -> str | None:
    """Where the operation's responses list a code; a field's code answers the lowest such status (400)."""
    statuses = sorted(s for s, codes in response_codes(doc, op).items() if code in codes and s[:1] == "4")
    return statuses[0] if statuses else None


def _with_status(doc: dict, op: Operation, codes: list[str | None]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for code in codes:
        status = status_of(doc, op, code) if code else None
        if status and (status, code) not in found:
            found.append((status, cast(str, code)))  # a status is only found for a code
    return found


def _json_types(schema: dict) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return list(kind)
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
    return sorted({_type_name(v) for v in values})


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return next((n for n, t in _TYPES.items() if isinstance(value, t)), "string")


def right_type(schema: dict, value: Any) -> bool:
    """The value is of a JSON type the schema admits (a value outside its domain may still be)."""
    kinds = _json_types(schema)
    if not kinds:
        return True
    name = _type_name(value)
    return name in kinds or (name == "integer" and "number" in kinds)


def field_answers(
    doc: dict, op: Operation, content_type: str, name: str, value: Any = MISSING
) -> list[tuple[str, str]]:
    """(status, code) the contract allows for a body valid but for property `name` being `value`."""
    root = media_schema(doc, op, content_type)
    props = root.get("properties") or {}
    shape = shape_code(root)
    prop = props.get(name)
    if prop is None or value is MISSING:  # unknown, or a required property left out
        return _with_status(doc, op, [shape or property_code(root, name)])
    codes: list[str | None] = []
    if content_type == JSON and not right_type(prop, value):
        if shape:
            return _with_status(doc, op, [shape])
        codes.append(property_code(root, name))
        codes += [a.code for a in also_answers(root) if a.select == WRONG_TYPE]
        return _with_status(doc, op, codes)
    return _with_status(doc, op, [property_code(root, name)])


def param_answers(doc: dict, op: Operation, name: str, text: str | bytes) -> list[tuple[str, str]]:
    """(status, code) the contract allows for a request valid but for path/query parameter `name`."""
    param = next((p for p, _ in parameters(doc, op) if p.get("name") == name), None)
    if param is None:
        return []
    schema = inline(doc, param.get("schema") or {})
    own = parameter_code(doc, param)
    found = _with_status(doc, op, [own])
    for also in also_answers(param):
        if also.code and applies(also, schema, text) and (also.status, also.code) not in found:
            found.append((also.status, also.code))
    return found


def applies(also: AlsoAnswer, schema: dict, text: str | bytes) -> bool:
    """Whether an `x-also-answers` entry covers this raw path/query value."""
    if also.select == UNROUTABLE:
        return unroutable(text)
    if isinstance(text, bytes):
        return False
    value = typed(schema, text)
    if also.select == WRONG_TYPE:
        return not right_type(schema, value)
    return isinstance(also.select, dict) and is_valid({}, also.select, value)
