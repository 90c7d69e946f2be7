"""Read a bundled API document the way every consumer needs: its operations, examples and error codes.

The linter, the model round-trip tests, the reference server, the contract suite and the docs all ask the
same questions of a bundle; they ask them here so the answers cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from apicontract.specs.bundle import is_missing, pointer, resolve

__all__ = [
    "ERROR_CODE",
    "HTTP_METHODS",
    "ExampleSite",
    "Operation",
    "cross_field_codes",
    "declared_error_codes",
    "deref",
    "error_code",
    "error_examples",
    "error_field",
    "inline",
    "iter_examples",
    "iter_operations",
    "merged",
    "parameters",
    "response_codes",
    "schema_codes",
]

ERROR_CODE = "x-error-code"  # on a parameter or a schema: the code a value failing there answers
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    section: str  # "paths" or "webhooks"
    key: str  # the path template, or the webhook name
    method: str
    node: dict
    parts: tuple[str, ...]  # JSON-pointer path of the operation object

    @property
    def is_webhook(self) -> bool:
        return self.section == "webhooks"

    @property
    def label(self) -> str:
        if self.is_webhook:
            return f"webhook {self.key} ({self.method.upper()})"
        return f"{self.method.upper()} {self.key}"


@dataclass(frozen=True)
class ExampleSite:
    """One named example and the schema it must satisfy."""

    operation: Operation | None
    kind: str  # e.g. "request application/json", "response 400 application/json", "parameter uuid"
    name: str
    value: Any
    schema_parts: tuple[str, ...]
    example_parts: tuple[str, ...]

    @property
    def label(self) -> str:
        where = f"{self.operation.label}: " if self.operation else ""
        return f"{where}example {self.name!r} ({self.kind})"


def deref(doc: dict, node: Any) -> Any:
    """Follow local `$ref`s until a node without one (or a dangling reference, returned as is)."""
    seen = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        ref = node["$ref"]
        if ref in seen:
            break
        seen.add(ref)
        target = resolve(doc, ref[1:])
        if is_missing(target):
            break
        node = target
    return node


def merged(doc: dict, node: Any) -> Any:
    """A schema with its `$ref` followed and the keywords written beside the `$ref` laid over the target.

    OpenAPI 3.1 lets a property say `{$ref: FormBoolean, x-error-code: voice_invalid, default: 'true'}`;
    the sibling keywords belong to this use of the schema and must not be lost by dereferencing.
    """
    if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
        return node
    siblings = {k: v for k, v in node.items() if k != "$ref"}
    target = merged(doc, deref(doc, {"$ref": node["$ref"]}))
    if not siblings:
        return target
    return {**target, **siblings} if isinstance(target, dict) else siblings


def inline(doc: dict, schema: Any, seen: frozenset = frozenset()) -> Any:
    """A self-contained copy of a schema: every `$ref` replaced by its target (siblings kept, as `merged`).

    A recursive schema cannot be inlined (ValueError); values (`enum`, `const`, `default`, `examples`)
    are data, copied as they are.
    """
    if isinstance(schema, list):
        return [inline(doc, s, seen) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in seen:
            raise ValueError(f"recursive schema at {ref}")
        return inline(doc, merged(doc, schema), seen | {ref})
    return {
        k: (v if k in ("enum", "const", "default", "examples") else inline(doc, v, seen)) for k, v in schema.items()
    }


def iter_operations(doc: dict) -> Iterator[Operation]:
    for section in ("paths", "webhooks"):
        for key, item in (doc.get(section) or {}).items():
            item = deref(doc, item)
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    yield Operation(section, key, method, op, (section, key, method))


def parameters(doc: dict, op: Operation) -> list[tuple[dict, tuple[str, ...]]]:
    """Path-level and operation-level parameters (operation wins on name+in), dereferenced."""
    item_parts = op.parts[:-1]
    item = deref(doc, resolve(doc, pointer(list(item_parts))))
    found: dict[tuple[str | None, str | None], tuple[dict, tuple[str, ...]]] = {}  # (name, in): None if missing
    for owner, owner_parts in ((item, item_parts), (op.node, op.parts)):
        for index, param in enumerate(owner.get("parameters") or []):
            parts = (*owner_parts, "parameters", str(index))
            if isinstance(param, dict) and "$ref" in param:
                ref = param["$ref"]
                param = deref(doc, param)
                parts = tuple(ref[2:].split("/")) if ref.startswith("#/") else parts
            if isinstance(param, dict):
                found[(param.get("name"), param.get("in"))] = (param, parts)
    return list(found.values())


def iter_examples(doc: dict) -> Iterator[ExampleSite]:
    """Every named example of every operation and webhook, and every `examples` array in a schema."""
    for op in iter_operations(doc):
        for param, parts in parameters(doc, op):
            yield from _named(doc, op, f"parameter {param.get('name')}", param, parts)
        body = deref(doc, op.node.get("requestBody"))
        if isinstance(body, dict):
            for ctype, media in (body.get("content") or {}).items():
                yield from _named(doc, op, f"request {ctype}", media, _media_parts(doc, op, ctype))
        for status, response in (op.node.get("responses") or {}).items():
            ref = response.get("$ref") if isinstance(response, dict) else None
            resp_parts = tuple(ref[2:].split("/")) if ref and ref.startswith("#/") else (*op.parts, "responses", status)
            response = deref(doc, response)
            if isinstance(response, dict):
                for ctype, media in (response.get("content") or {}).items():
                    yield from _named(doc, op, f"response {status} {ctype}", media, (*resp_parts, "content", ctype))
    for name, schema in ((doc.get("components") or {}).get("schemas") or {}).items():
        yield from _schema_examples(schema, ("components", "schemas", name))


def _media_parts(doc: dict, op: Operation, ctype: str) -> tuple[str, ...]:
    body = op.node.get("requestBody")
    if isinstance(body, dict) and isinstance(body.get("$ref"), str):
        return (*body["$ref"][2:].split("/"), "content", ctype)
    return (*op.parts, "requestBody", "content", ctype)


def _named(doc: dict, op: Operation, kind: str, holder: dict, parts: tuple[str, ...]) -> Iterator[ExampleSite]:
    if "schema" not in holder:
        return
    for name, example in (holder.get("examples") or {}).items():
        example_parts = (*parts, "examples", name)
        if isinstance(example, dict) and "$ref" in example:
            example_parts = tuple(example["$ref"][2:].split("/"))
            example = deref(doc, example)
        if isinstance(example, dict) and "value" in example:
            yield ExampleSite(op, kind, name, example["value"], (*parts, "schema"), example_parts)


def _schema_examples(schema: Any, parts: tuple[str, ...]) -> Iterator[ExampleSite]:
    if not isinstance(schema, dict):
        return
    for index, value in enumerate(schema.get("examples") or [] if isinstance(schema.get("examples"), list) else []):
        yield ExampleSite(
            None, f"schema {'/'.join(parts[2:])}", str(index), value, parts, (*parts, "examples", str(index))
        )
    for key in ("properties", "$defs", "patternProperties"):
        for name, sub in (schema.get(key) or {}).items():
            yield from _schema_examples(sub, (*parts, key, name))
    for key in ("items", "additionalProperties", "not"):
        yield from _schema_examples(schema.get(key), (*parts, key))
    for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
        for index, sub in enumerate(schema.get(key) or []):
            yield from _schema_examples(sub, (*parts, key, str(index)))


def error_field(doc: dict) -> str:
    """The body field that carries an error code (`message` in the SIM APIs, `status` in cpaas)."""
    return (doc.get("info") or {}).get("x-error-code-field", "message")


def schema_codes(doc: dict, schema: Any, field: str) -> list[str] | None:
    """The codes a response schema allows in `field`, in the spec's order.

    Under `allOf` every branch applies, so the allowed codes are the intersection of the branches' enums
    (a base `Error` may list every status value while the response narrows it to two).
    """
    found = _field_enums(doc, schema, field, frozenset())
    if not found:
        return None
    narrowest = min(found, key=len)
    return [code for code in narrowest if all(code in other for other in found)]


def _field_enums(doc: dict, schema: Any, field: str, seen: frozenset) -> list[list[str]]:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        if schema["$ref"] in seen:
            return []
        seen = seen | {schema["$ref"]}
    schema = deref(doc, schema)
    if not isinstance(schema, dict):
        return []
    found: list[list[str]] = []
    prop = (schema.get("properties") or {}).get(field)
    if prop is not None:
        found.extend(_value_sets(doc, prop, seen))
    for branch in schema.get("allOf") or []:
        found.extend(_field_enums(doc, branch, field, seen))
    return found


def _value_sets(doc: dict, schema: Any, seen: frozenset) -> list[list[str]]:
    """The enums/consts a property schema imposes, itself and through its own $ref/allOf."""
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        if schema["$ref"] in seen:
            return []
        seen = seen | {schema["$ref"]}
    schema = deref(doc, schema)
    if not isinstance(schema, dict):
        return []
    found: list[list[str]] = []
    if "enum" in schema:
        found.append([str(v) for v in schema["enum"]])
    if "const" in schema:
        found.append([str(schema["const"])])
    for branch in schema.get("allOf") or []:
        found.extend(_value_sets(doc, branch, seen))
    return found


def response_codes(doc: dict, op: Operation) -> dict[str, list[str]]:
    """status -> the error codes the operation documents for it, in precedence order."""
    field = error_field(doc)
    result: dict[str, list[str]] = {}
    for status, response in (op.node.get("responses") or {}).items():
        response = deref(doc, response)
        if not isinstance(response, dict):
            continue
        media = (response.get("content") or {}).get("application/json")
        if isinstance(media, dict) and status[:1] in "45":
            codes = schema_codes(doc, media.get("schema"), field)
            if codes is None:  # a schema open to any code: the codes its named examples document
                codes = _example_codes(doc, media, field) or None
            if codes is not None:
                result[status] = codes
    return result


def error_examples(doc: dict, response: Any) -> dict[str, dict]:
    """The named examples of an error response's JSON body, dereferenced, by name: one per code, named after
    the code it shows (spec/CONVENTIONS.md; lint checks that the name and the value agree)."""
    response = deref(doc, response)
    media = ((response or {}).get("content") or {}).get("application/json") if isinstance(response, dict) else None
    found: dict[str, dict] = {}
    for name, example in ((media or {}).get("examples") or {}).items() if isinstance(media, dict) else ():
        example = deref(doc, example)
        if isinstance(example, dict):
            found[name] = example
    return found


def _example_codes(doc: dict, media: dict, field: str) -> list[str]:
    found = []
    for name, example in (media.get("examples") or {}).items():
        value = (deref(doc, example) or {}).get("value")
        if isinstance(value, dict) and value.get(field) == name:
            found.append(name)
    return found


def error_code(node: Any) -> str | None:
    """`x-error-code` of a parameter or a schema: the code a value failing there answers."""
    code = node.get(ERROR_CODE) if isinstance(node, dict) else None
    return str(code) if code is not None else None


def declared_error_codes(doc: dict, op: Operation) -> list[tuple[str, tuple[str, ...]]]:
    """Every `x-error-code` the operation's parameters and request body schemas carry, with where."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for param, parts in parameters(doc, op):
        if ERROR_CODE in param:
            found.append((param[ERROR_CODE], parts))
    body = deref(doc, op.node.get("requestBody"))
    if isinstance(body, dict):
        for ctype, media in (body.get("content") or {}).items():
            _collect_codes(
                doc, media.get("schema"), (*op.parts, "requestBody", "content", ctype, "schema"), found, set()
            )
    return found


def _collect_codes(doc: dict, schema: Any, parts: tuple[str, ...], found: list, seen: set) -> None:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in seen:
            return
        seen = seen | {ref}
        if ERROR_CODE not in schema:
            parts = tuple(ref[2:].split("/"))
        schema = merged(doc, schema)
    if not isinstance(schema, dict):
        return
    if ERROR_CODE in schema:
        found.append((schema[ERROR_CODE], parts))
    for name, sub in (schema.get("properties") or {}).items():
        _collect_codes(doc, sub, (*parts, "properties", name), found, seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(schema.get(key) or []):
            _collect_codes(doc, sub, (*parts, key, str(index)), found, seen)
    if isinstance(schema.get("items"), dict):
        _collect_codes(doc, schema["items"], (*parts, "items"), found, seen)


def cross_field_codes(doc: dict, op: Operation) -> dict[str, list[str]]:
    """status -> codes marked `x-cross-field`: they can answer a request that satisfies every schema
    (a rule between fields, or between the path and the body, that JSON Schema cannot state)."""
    found: dict[str, list[str]] = {}
    for status, response in (op.node.get("responses") or {}).items():
        response = deref(doc, response)
        media = ((response or {}).get("content") or {}).get("application/json") or {}
        for name, example in (media.get("examples") or {}).items():
            if (deref(doc, example) or {}).get("x-cross-field"):
                found.setdefault(status, []).append(name)
    return found
