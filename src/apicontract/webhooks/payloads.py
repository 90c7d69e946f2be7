"""Valid payloads of a webhook: the spec's samples first, then hypothesis-generated variants.

Generated from the standalone JSON Schema itself (the keywords the payload files use: type, const,
enum, pattern, lengths, bounds, properties/required/additionalProperties, items, local $ref, anyOf,
oneOf), and every value is re-validated against the whole schema, so `oneOf` exclusivity and any
keyword this reader does not know can only make it generate less, never something invalid.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from jsonschema import Draft202012Validator

from apicontract.specs.webhooks import Webhook

# printable text: a real platform does not put control characters in these fields
TEXT = st.characters(blacklist_categories=("Cs", "Cc"))


class Unsupported(Exception):
    """A schema construct the generator does not handle: only the spec's samples are used."""


def strategy(schema: dict, root: dict | None = None, *, query: bool = False) -> st.SearchStrategy:
    """A strategy of values meant to satisfy `schema` (filtered against it by the caller)."""
    root = root if root is not None else schema
    if schema is True or schema == {}:
        return st.just("x") if query else st.none()
    if not isinstance(schema, dict):
        raise Unsupported(f"schema {schema!r}")
    if "$ref" in schema:
        return strategy(_resolve(root, schema["$ref"]), root, query=query)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            rest = {k: v for k, v in schema.items() if k != key}
            branches = [{**rest, **branch} if isinstance(branch, dict) else branch for branch in schema[key]]
            return st.one_of([strategy(b, root, query=query) for b in branches])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([strategy({**schema, "type": k}, root, query=query) for k in kind])
    if kind == "string" or (kind is None and "pattern" in schema):
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(strategy(schema.get("items", {}), root, query=query), max_size=3)
    if kind == "object" or "properties" in schema:
        return _object(schema, root, query)
    raise Unsupported(f"schema without a type the generator knows: {json.dumps(schema)[:80]}")


def _string(schema: dict) -> st.SearchStrategy:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if "pattern" in schema:
        values = st.from_regex(schema["pattern"], fullmatch=True, alphabet=TEXT)
        return values.filter(lambda s: len(s) >= low and (high is None or len(s) <= high))
    return st.text(TEXT, min_size=low, max_size=high if high is not None else max(low, 24))


def _object(schema: dict, root: dict, query: bool) -> st.SearchStrategy:
    props = schema.get("properties") or {}
    required = [name for name in schema.get("required") or [] if name in props]
    optional = [name for name in props if name not in required]
    if schema.get("additionalProperties") not in (False, None) or schema.get("patternProperties"):
        raise Unsupported("open objects")
    fixed = st.fixed_dictionaries(
        {name: strategy(props[name], root, query=query) for name in required},
        optional={name: strategy(props[name], root, query=query) for name in optional},
    )
    return fixed


def _resolve(root: dict, ref: str) -> Any:
    if not ref.startswith("#"):
        raise Unsupported(f"$ref {ref}")
    node: Any = root
    for part in [p for p in ref[1:].split("/") if p]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def payloads(hook: Webhook, count: int, seed: int | None = None) -> list[tuple[str, Any]]:
    """`count` valid payloads, each with where it came from: the spec's samples, then generated ones."""
    chosen: list[tuple[str, Any]] = [(f"sample {i + 1}", value) for i, value in enumerate(hook.examples)][:count]
    seen = {json.dumps(value, sort_keys=True) for _, value in chosen}
    wanted = count - len(chosen)
    if wanted <= 0:
        return chosen
    validator = Draft202012Validator(hook.schema)
    try:
        values = strategy(hook.schema, query=hook.in_query).filter(validator.is_valid)
    except Unsupported:
        return chosen
    drawn: list[Any] = []

    @settings(
        max_examples=max(wanted * 4, 10),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(values)
    def collect(value: Any) -> None:
        key = json.dumps(value, sort_keys=True)
        if key not in seen and len(drawn) < wanted:
            seen.add(key)
            drawn.append(value)

    if seed is not None:
        collect = seeded(seed)(collect)
    with suppress(HypothesisException, re.error, ValueError):  # a pattern hypothesis cannot draw from
        collect()
    return chosen + [(f"generated {i + 1}", value) for i, value in enumerate(drawn)]
