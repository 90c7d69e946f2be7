"""Values that break one field's schema, one per kind of violation, each proven invalid with jsonschema.

The kinds come from the keywords the field's schema has (type, pattern, length, range, enum, required),
so a spec edit changes what is sent. `wire` says how the value travels: "json" (a typed JSON value) or
"text" (a path/query/form string, which the server reads as its schema's type).
"""

from __future__ import annotations

import re
from typing import Any

from apicontract.contracts.schemas import is_valid

JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}
# appended to a valid value, or sent alone, to leave a pattern; the last ones only where a path allows
PATTERN_BREAKERS = ("!", " ", "~", "\u0001", "/")


def typed(schema: dict, text: str) -> Any:
    """A path/query/form string as a server reads it: as its schema's type where it can be one."""
    kinds = _types(schema)
    if "integer" in kinds and re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if "number" in kinds and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return float(text)
    if "boolean" in kinds and text in ("true", "false"):
        return text == "true"
    return text


def _types(schema: dict) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return kind
    if isinstance(kind, str):
        return [kind]
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
    return sorted({_json_type(v) for v in values})


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return next(name for name, kind in JSON_TYPES.items() if isinstance(value, kind))


def candidates(schema: dict, valid: Any, wire: str, in_path: bool) -> list[tuple[str, list[Any]]]:
    """(kind, values to try in order) for every keyword of the schema a value can break."""
    kinds = _types(schema)
    sample = valid if valid is not None else schema.get("default")
    found: list[tuple[str, list[Any]]] = []
    if wire == "json":
        stringified = str(sample).lower() if isinstance(sample, bool) else str(sample)
        found.append(("wrong_type", [stringified, 12345, True, [], {}] if "string" not in kinds else [12345, None]))
    elif kinds and "string" not in kinds:
        found.append(("wrong_type", ["x"]))
    if "pattern" in schema:
        base = str(sample) if isinstance(sample, str) else ""
        breakers = PATTERN_BREAKERS[:3] if in_path else PATTERN_BREAKERS
        found.append(("pattern", [base + c for c in breakers] + list(breakers) + ["x"]))
        if base:  # the right characters in the wrong number, at both edges: a 14- and a 16-digit uuid
            shorter = [base[:n] for n in range(len(base) - 1, 0, -1)]
            found.append(("pattern_too_few", shorter + ([""] if not in_path else [])))
            found.append(("pattern_too_many", [base + base[-1] * n for n in range(1, 300)]))
    if schema.get("minLength", 0) > 0 and not in_path:
        found.append(("too_short", ["x" * (schema["minLength"] - 1)]))
    if "maxLength" in schema:
        base = str(sample) if isinstance(sample, str) and sample else "x"
        found.append(("too_long", [(base * (schema["maxLength"] + 1))[: schema["maxLength"] + 1]]))
    if "minimum" in schema:
        found.append(("below_minimum", [schema["minimum"] - 1]))
    if "maximum" in schema:
        found.append(("above_maximum", [schema["maximum"] + 1]))
    values = schema.get("enum")
    if values:
        if all(isinstance(v, str) for v in values):
            found.append(("not_in_enum", ["invalid", str(values[0]) + "x"]))
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            found.append(("not_in_enum", [max(values) + 1, min(values) - 1]))
    return found


def violations(doc: dict, schema: dict, valid: Any, wire: str, in_path: bool = False) -> list[tuple[str, Any]]:
    """One (kind, value) per kind: the first candidate the field's schema rejects, as it travels."""
    chosen = []
    for kind, values in candidates(schema, valid, wire, in_path):
        for value in values:
            on_wire = value if wire == "json" else str(value)
            if in_path and on_wire in ("", ".", ".."):  # would change the route, not the value
                continue
            read = on_wire if wire == "json" else typed(schema, on_wire)
            if not is_valid(doc, schema, read):
                chosen.append((kind, on_wire))
                break
    return chosen
