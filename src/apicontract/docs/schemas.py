"""JSON Schemas as a reader sees them: a type label, the limits, the enum table, and flat field rows.

The reference shows every parameter and body field with its type, pattern, default, limits and the error
code a bad value produces, and every enum with its names and descriptions, all read from the schema
(`x-error-code`, `x-enum-varnames`, `x-enumDescriptions`, `const` + `title` branches), none restated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from apicontract.specs.bundle import pointer
from apicontract.specs.promises import implementation_defined
from apicontract.specs.walk import deref, error_code, merged

SCHEMAS = "#/components/schemas/"


@dataclass(frozen=True)
class Mark:
    """One `x-ruling` id on one element (`at` is the element's JSON pointer in the bundle)."""

    ruling: str
    at: str


@dataclass(frozen=True)
class Also:
    """A further answer that conforms (`x-also-answers`), besides the element's own code, in words."""

    status: str
    code: str | None
    values: str  # which values it answers, as inline markdown ("a value holding `/`, ...")
    stage: str | None  # words for `stage` ("after the body's checks, as an unknown id")
    marks: list[Mark]
    at: str


@dataclass(frozen=True)
class Implementation:
    """`x-implementation-defined`: the reference server's own answer, or its own validation keywords (R18)."""

    ruling: str
    keywords: tuple[str, ...]
    at: str  # the pointer of the `x-implementation-defined` itself
    status: str | None = None  # of a response, or of an error example: its class is what stays promised

    @property
    def marks(self) -> list[Mark]:
        return [Mark(self.ruling, self.at)]

    @property
    def text(self) -> str:
        """What a reader may rely on, as inline markdown."""
        if not self.keywords:
            text = "the reference server's own answer: another implementation may answer otherwise"
            if self.status and self.status[:1] in "2345" and self.status[1:].isdigit():
                shape = "error shape" if self.status[:1] in "45" else "shape"
                text += f", with any {self.status[:1]}xx in the API's {shape}"
            return text
        bounds = [k for k in self.keywords if k.startswith(("min", "max", "exclusive"))]
        nouns = [("bounds" if len(bounds) > 1 else "bound")] if bounds else []
        nouns += ["pattern"] if "pattern" in self.keywords else []
        nouns += ["rule"] if len(bounds) + ("pattern" in self.keywords) < len(self.keywords) else []
        listed = ", ".join(f"`{k}`" for k in self.keywords)
        return (
            f"the reference server's own {'/'.join(nouns)}: {listed}; another implementation may accept more, "
            "or less (refusing with any 4xx in the API's error shape)"
        )


@dataclass(frozen=True)
class TypeRef:
    """One alternative of a type label; `schema` names a component to link to."""

    text: str
    schema: str | None = None
    base: str | None = None  # the named schema's own type when it is a scalar


@dataclass(frozen=True)
class EnumRow:
    value: str
    name: str | None
    description: str | None


@dataclass
class Field:
    """One parameter or body field, flattened (`pagination.totalItems`, `media[].id`)."""

    name: str
    where: str  # path, query, header, body
    types: list[TypeRef]
    required: bool
    at: str
    description: str | None = None
    default: str | None = None
    pattern: str | None = None
    limits: list[str] = field(default_factory=list)
    error_code: str | None = None
    marks: list[Mark] = field(default_factory=list)
    unspecified: str | None = None
    enum: list[EnumRow] = field(default_factory=list)
    also: list[Also] = field(default_factory=list)  # `x-also-answers` of a parameter
    implementation: Implementation | None = None


def marks(node: Any, parts: tuple[str, ...]) -> list[Mark]:
    """The `x-ruling` ids an element carries (a string or a list), each tied to where it is written."""
    value = node.get("x-ruling") if isinstance(node, dict) else None
    ids = [value] if isinstance(value, str) else list(value or [])
    at = pointer(list(parts))
    return [Mark(str(ruling), at) for ruling in ids]


def implementation(doc: dict, node: Any, parts: tuple[str, ...], status: str | None = None) -> Implementation | None:
    """The `x-implementation-defined` of an element, or of the schema its `$ref` names (followed as far as needed);
    `status` is the response's, for a response or an error example."""
    seen: set[str] = set()
    while isinstance(node, dict):
        found = implementation_defined(node)
        if found:
            return Implementation(found.ruling, found.keywords, pointer([*parts, "x-implementation-defined"]), status)
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            return None
        seen.add(ref)
        node, parts = deref(doc, {"$ref": ref}), ref_parts(ref)
    return None


def named(ref: Any) -> str | None:
    """`#/components/schemas/Sim` -> `Sim`; None for any other reference (a property path, say)."""
    if isinstance(ref, str) and ref.startswith(SCHEMAS) and "/" not in ref[len(SCHEMAS) :]:
        return ref[len(SCHEMAS) :]
    return None


def ref_parts(ref: str) -> tuple[str, ...]:
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))


def resolve_node(doc: dict, node: Any, parts: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
    """Follow a `$ref` that is not to a named schema (e.g. into a payload's property), keeping its pointer."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and not named(node["$ref"]):
        ref = node["$ref"]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if siblings:
            return merged(doc, node), parts
        target = deref(doc, {"$ref": ref})
        if target is node or not isinstance(target, dict):
            break
        node, parts = target, ref_parts(ref)
    return node, parts


def base_type(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "string" and "contentMediaType" in schema:
        return f"binary ({schema['contentMediaType']})"
    return kind


def type_refs(doc: dict, node: Any) -> list[TypeRef]:
    """The alternatives of a schema's type, with links to the named schemas it uses."""
    if not isinstance(node, dict):
        return [TypeRef("any")]
    name = named(node.get("$ref"))
    if name:
        target = deref(doc, {"$ref": node["$ref"]})
        kind = base_type(target)
        scalar = kind if kind and kind not in ("object", "array") and not _is_union(target) else None
        return [TypeRef(name, name, scalar)]
    schema = merged(doc, node)
    if not isinstance(schema, dict):
        return [TypeRef("any")]
    if schema is not node:
        return type_refs(doc, schema)
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if branches and not all(_is_const_branch(b) or "enum" in b for b in branches if isinstance(b, dict)):
            found: list[TypeRef] = []
            for branch in branches:
                for ref in type_refs(doc, branch):
                    if ref not in found:
                        found.append(ref)
            return found
    kind = base_type(schema)
    if kind == "array":
        items = type_refs(doc, schema.get("items")) if "items" in schema else [TypeRef("any")]
        return [TypeRef(f"array of {items[0].text}", items[0].schema, items[0].base)] + items[1:]
    if kind:
        return [TypeRef(kind)]
    if "const" in schema:
        return [TypeRef(type(schema["const"]).__name__.replace("str", "string"))]
    if _is_union(schema):
        return [TypeRef("enum")]
    return [TypeRef("any")]


def _is_union(schema: Any) -> bool:
    return isinstance(schema, dict) and bool(schema.get("anyOf") or schema.get("oneOf"))


def _is_const_branch(branch: Any) -> bool:
    return isinstance(branch, dict) and "const" in branch and "$ref" not in branch


def limits(schema: Any) -> list[str]:
    """Length, range, size, format and constant, in words."""
    if not isinstance(schema, dict):
        return []
    out: list[str] = []
    for low, high, unit in (("minLength", "maxLength", "length"), ("minItems", "maxItems", "items")):
        text = _range(schema.get(low), schema.get(high), at_least="≥ ", at_most="≤ ")
        if text:
            out.append(f"{unit} {text}")
    lower = schema.get("minimum", schema.get("exclusiveMinimum"))
    upper = schema.get("maximum", schema.get("exclusiveMaximum"))
    if "exclusiveMinimum" in schema or "exclusiveMaximum" in schema:
        if lower is not None:
            out.append(f"> {lower}" if "exclusiveMinimum" in schema else f"≥ {lower}")
        if upper is not None:
            out.append(f"< {upper}" if "exclusiveMaximum" in schema else f"≤ {upper}")
    else:
        text = _range(lower, upper, at_least="≥ ", at_most="≤ ")
        if text:
            out.append(text)
    if "multipleOf" in schema:
        out.append(f"multiple of {schema['multipleOf']}")
    if "format" in schema:
        out.append(f"format {schema['format']}")
    if "const" in schema:
        out.append(f"always {json.dumps(schema['const'], ensure_ascii=False)}")
    return out


def _range(low: Any, high: Any, at_least: str, at_most: str) -> str | None:
    if low is not None and high is not None:
        return f"{low}" if low == high else f"{low}–{high}"
    if low is not None:
        return f"{at_least}{low}"
    if high is not None:
        return f"{at_most}{high}"
    return None


def enum_rows(doc: dict, schema: Any) -> list[EnumRow]:
    """Every value an enum allows, with its symbolic name and description, `anyOf` branches included."""
    schema = merged(doc, schema) if isinstance(schema, dict) and "$ref" not in schema else schema
    if not isinstance(schema, dict) or named(schema.get("$ref")):
        return []
    rows: list[EnumRow] = []
    if isinstance(schema.get("enum"), list):
        names = schema.get("x-enum-varnames") or []
        descriptions = schema.get("x-enumDescriptions") or {}
        for index, value in enumerate(schema["enum"]):
            rows.append(
                EnumRow(
                    display(value),
                    names[index] if index < len(names) else None,
                    descriptions.get(str(value)) if isinstance(descriptions, dict) else None,
                )
            )
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key) or []:
            if _is_const_branch(branch):
                rows.append(EnumRow(display(branch["const"]), branch.get("title"), branch.get("description")))
            elif isinstance(branch, dict) and "$ref" not in branch:
                rows.extend(enum_rows(doc, branch))
    return rows


def display(value: Any) -> str:
    """A value as written on the wire: strings bare, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def describe(
    doc: dict,
    node: Any,
    parts: tuple[str, ...],
    name: str,
    where: str,
    required: bool,
    description: str | None = None,
) -> Field:
    """One field row from a schema written at `parts` (a property, or a parameter's `schema`)."""
    own = node if isinstance(node, dict) else {}
    target, target_parts = resolve_node(doc, own, parts)
    full = merged(doc, target) if isinstance(target, dict) else {}
    full = full if isinstance(full, dict) else {}
    found_marks = marks(own, parts) or (marks(target, target_parts) if target_parts != parts else [])
    unspecified = own.get("x-unspecified") or (target.get("x-unspecified") if isinstance(target, dict) else None)
    return Field(
        name=name,
        where=where,
        types=type_refs(doc, target),
        required=required,
        at=pointer(list(parts if own.get("x-ruling") or own.get("x-unspecified") else target_parts)),
        description=description if description is not None else full.get("description"),
        default=json.dumps(full["default"], ensure_ascii=False) if "default" in full else None,
        pattern=full.get("pattern"),
        limits=limits(full),
        error_code=error_code(full),
        marks=found_marks,
        unspecified=str(unspecified) if unspecified else None,
        enum=[] if named(target.get("$ref") if isinstance(target, dict) else None) else enum_rows(doc, full),
        implementation=implementation(doc, own, parts),
    )


def fields(doc: dict, node: Any, parts: tuple[str, ...], where: str = "body", prefix: str = "") -> list[Field]:
    """The properties of an object schema as rows; inline nested objects and arrays of them are flattened.

    Named schemas used by a property are linked, not expanded, so a row never repeats another schema.
    """
    if isinstance(node, dict) and named(node.get("$ref")):
        parts = ref_parts(node["$ref"])
        node = deref(doc, node)
    node, parts = resolve_node(doc, node, parts)
    schema = merged(doc, node)
    if not isinstance(schema, dict):
        return []
    rows: list[Field] = []
    required = set(schema.get("required") or [])
    for key, prop in (schema.get("properties") or {}).items():
        prop_parts = (*parts, "properties", key)
        rows.append(describe(doc, prop, prop_parts, prefix + key, where, key in required))
        rows.extend(_nested(doc, prop, prop_parts, where, prefix + key))
    for key in ("allOf",):
        for index, branch in enumerate(schema.get(key) or []):
            if not (isinstance(branch, dict) and named(branch.get("$ref"))):
                rows.extend(fields(doc, branch, (*parts, key, str(index)), where, prefix))
    return rows


def _nested(doc: dict, prop: Any, parts: tuple[str, ...], where: str, name: str) -> list[Field]:
    if not isinstance(prop, dict) or named(prop.get("$ref")):
        return []
    prop, parts = resolve_node(doc, prop, parts)
    if not isinstance(prop, dict):
        return []
    if isinstance(prop.get("properties"), dict):
        return fields(doc, prop, parts, where, name + ".")
    items = prop.get("items")
    if isinstance(items, dict) and not named(items.get("$ref")) and isinstance(items.get("properties"), dict):
        return fields(doc, items, (*parts, "items"), where, name + "[].")
    return []
