"""The specs against a hand-kept inventory written from the source documents alone.

`tests/inventory/<api>.yaml` lists what each source documents; a spec that drops an operation, a parameter,
a status, an error code, a response or webhook field, or an enum value fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from apicontract.specs.walk import Operation, deref, merged, parameters, response_codes

from projectkit import APIS

INVENTORY = Path(__file__).parent / "inventory"


def inventory(api: str) -> dict:
    return yaml.safe_load((INVENTORY / f"{api}.yaml").read_text(encoding="utf-8"))


def operation(doc: dict, method: str, path: str) -> Operation:
    node = ((doc.get("paths") or {}).get(path) or {}).get(method.lower())
    assert isinstance(node, dict), f"{method} {path} is documented by the source but missing from the spec"
    return Operation("paths", path, method.lower(), node, ("paths", path, method.lower()))


def properties(doc: dict, schema, seen=None) -> dict[str, dict]:
    """Every property a schema can carry, through $ref, allOf, anyOf and oneOf."""
    seen = seen or set()
    if isinstance(schema, dict) and "$ref" in schema:
        if schema["$ref"] in seen:
            return {}
        seen = seen | {schema["$ref"]}
    schema = merged(doc, schema)
    if not isinstance(schema, dict):
        return {}
    found = dict(schema.get("properties") or {})
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key) or []:
            for name, sub in properties(doc, branch, seen).items():
                found.setdefault(name, sub)
    return found


def field_present(doc: dict, schema, dotted: str) -> bool:
    """`pagination.totalItems` and `media[].id` name nested fields."""
    for step in dotted.split("."):
        many = step.endswith("[]")
        name = step[:-2] if many else step
        props = properties(doc, schema)
        if name not in props:
            return False
        schema = deref(doc, props[name])
        if many:
            schema = deref(doc, schema.get("items")) if isinstance(schema, dict) else None
    return True


def body_schemas(doc: dict, op: Operation) -> list:
    body = deref(doc, op.node.get("requestBody")) or {}
    return [media.get("schema") for media in (body.get("content") or {}).values()]


def success_schemas(doc: dict, op: Operation, status: str) -> list:
    response = deref(doc, (op.node.get("responses") or {}).get(status)) or {}
    return [media.get("schema") for media in (response.get("content") or {}).values()]


def enum_values(doc: dict, field: str) -> dict[str, set[str]]:
    """value -> symbolic names, for every enum/const reachable under a property or parameter named `field`."""
    found: dict[str, set[str]] = {}

    def collect(schema, seen) -> None:
        if isinstance(schema, dict) and "$ref" in schema:
            if schema["$ref"] in seen:
                return
            seen = seen | {schema["$ref"]}
        schema = deref(doc, schema)
        if not isinstance(schema, dict):
            return
        names = schema.get("x-enum-varnames") or []
        for index, value in enumerate(schema.get("enum") or []):
            found.setdefault(str(value), set()).update([names[index]] if index < len(names) else [])
        if "const" in schema:
            found.setdefault(str(schema["const"]), set()).update([schema["title"]] if schema.get("title") else [])
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in schema.get(key) or []:
                collect(branch, seen)
        if isinstance(schema.get("items"), dict):
            collect(schema["items"], seen)

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict) and field in node["properties"]:
                collect(node["properties"][field], frozenset())
            if node.get("in") in ("query", "path") and node.get("name") == field and "schema" in node:
                collect(node["schema"], frozenset())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    return found


def cases(kind: str):
    for api in APIS:
        items = inventory(api).get(kind) or ([] if kind == "operations" else {})
        if kind == "operations":
            for item in items:
                yield pytest.param(api, item, id=f"{api}:{item['method']} {item['path']}")
        else:
            for name, item in items.items():
                yield pytest.param(api, name, item, id=f"{api}:{name}")


@pytest.mark.parametrize("api", APIS)
def test_inventory_names_its_source(api, bundles):
    assert bundles[api]["info"]["x-source"] == inventory(api)["source"]


@pytest.mark.parametrize(("api", "item"), list(cases("operations")))
def test_documented_operation_is_in_the_spec(api, item, bundles):
    doc = bundles[api]
    op = operation(doc, item["method"], item["path"])
    params = {(p.get("in"), p.get("name")) for p, _ in parameters(doc, op)}
    for name in item.get("path_params") or []:
        assert ("path", name) in params, f"path parameter {name!r} missing"
    for name in item.get("query_params") or []:
        assert ("query", name) in params, f"query parameter {name!r} missing"
    bodies = body_schemas(doc, op)
    for name in item.get("body_params") or []:
        assert any(name in properties(doc, s) for s in bodies), f"body parameter {name!r} missing"
    if "success" in item:
        status = str(item["success"])
        assert status in (op.node.get("responses") or {}), f"success status {status} missing"
        for name in item.get("response_fields") or []:
            assert any(field_present(doc, s, name) for s in success_schemas(doc, op, status)), (
                f"response field {name!r} missing"
            )
    documented = response_codes(doc, op)
    for status, codes in (item.get("errors") or {}).items():
        missing = [c for c in codes if c not in documented.get(str(status), [])]
        assert not missing, f"{status}: error codes {missing} missing (spec has {documented.get(str(status))})"


@pytest.mark.parametrize(("api", "name", "item"), list(cases("webhooks")))
def test_documented_webhook_is_in_the_spec(api, name, item, bundles):
    doc = bundles[api]
    node = ((doc.get("webhooks") or {}).get(name) or {}).get(item["method"].lower())
    assert isinstance(node, dict), f"webhook {name} ({item['method']}) missing"
    op = Operation("webhooks", name, item["method"].lower(), node, ("webhooks", name, item["method"].lower()))
    if item["method"].upper() == "GET":
        carried = {p.get("name") for p, _ in parameters(doc, op) if p.get("in") == "query"}
        branches = []
    else:
        schema = body_schemas(doc, op)[0]
        carried = set(properties(doc, schema))
        resolved = deref(doc, schema)
        branches = [properties(doc, b) for k in ("oneOf", "anyOf") for b in resolved.get(k) or []]
    missing = [f for f in item.get("fields") or [] if f not in carried]
    assert not missing, f"fields {missing} missing"
    for variant, fields in (item.get("variants") or {}).items():
        assert any(set(fields) <= set(b) for b in branches), f"no {variant} record variant carries {fields}"


@pytest.mark.parametrize(("api", "name", "values"), list(cases("enums")))
def test_documented_enum_values_are_in_the_spec(api, name, values, bundles):
    found = enum_values(bundles[api], name)
    missing = [v for v in values if str(v) not in found]
    assert not missing, f"{name}: values {missing} missing"


@pytest.mark.parametrize(("api", "name", "pairs"), list(cases("named_values")))
def test_documented_value_names_are_in_the_spec(api, name, pairs, bundles):
    found = enum_values(bundles[api], name)
    missing = [(v, n) for v, n in pairs if n not in found.get(str(v), set())]
    assert not missing, f"{name}: (value, name) pairs {missing} missing"
