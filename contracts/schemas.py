"""JSON Schema validation of values against pieces of a bundled spec.

The checks and the invalid-value generator must agree with the spec on what is valid, so both validate
with jsonschema against the spec's own schemas, `$ref`s inlined with the keywords written beside them
(`{$ref: FormBoolean, x-error-code: voice_invalid}`): the copy is self-contained, so no base URI or
lifted `$id` can change what a reference means.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from apicontract.specs.walk import Operation, deref, merged

KEEP = ("enum", "const", "default", "examples")  # values, not schemas: copied as they are


def inline(doc: dict, schema: Any, seen: frozenset = frozenset()) -> Any:
    """A self-contained copy of `schema`: every `$ref` replaced by its target, sibling keywords kept."""
    if isinstance(schema, list):
        return [inline(doc, item, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return {} if ref in seen else inline(doc, merged(doc, schema), seen | {ref})
    return {key: (value if key in KEEP else inline(doc, value, seen)) for key, value in schema.items()}


_validators: dict[str, jsonschema.protocols.Validator] = {}


def validator(doc: dict, schema: Any) -> jsonschema.protocols.Validator:
    """A draft 2020-12 validator of an (inlined) spec schema, cached by its text."""
    plain = inline(doc, schema)
    key = json.dumps(plain, sort_keys=True, default=str)
    if key not in _validators:
        _validators[key] = jsonschema.Draft202012Validator(plain)
    return _validators[key]


def is_valid(doc: dict, schema: Any, value: Any) -> bool:
    return validator(doc, schema).is_valid(value)


def first_error(doc: dict, schema: Any, value: Any) -> str | None:
    error = next(iter(validator(doc, schema).iter_errors(value)), None)
    return None if error is None else f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"


def media_schema(doc: dict, op: Operation, content_type: str) -> dict:
    """An operation's request body schema for one media type, inlined (empty when it takes none)."""
    body = deref(doc, op.node.get("requestBody")) or {}
    return inline(doc, ((body.get("content") or {}).get(content_type) or {}).get("schema") or {})
