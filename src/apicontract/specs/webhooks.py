"""What the spec says about each webhook/callback: where it goes, how, with what auth and payload.

The contract suite (checking what a server delivers) and `apicontract webhooks test-receiver`
(checking what a consumer accepts) must hold deliveries to the same facts, so both read them here.
The payload schema is the standalone file under `spec/<api>/webhooks/`, the one a consumer validates
with (the bundle has lifted it into components; the component's name tells which file).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from apicontract.generated import load_bundle
from apicontract.paths import Layout
from apicontract.specs.bundle import component_name
from apicontract.specs.walk import Operation, deref, iter_operations, parameters


@dataclass(frozen=True)
class Webhook:
    api: str
    name: str  # as the spec's `webhooks` key: location_update, endCallback, ...
    method: str  # upper case
    path: str  # x-delivery.path, appended to the endpoint ("" for cpaas: the callback URL itself)
    timeout: float  # x-delivery.timeout_seconds: the receiver's window to answer 2xx
    schemes: tuple[dict, ...]  # the security schemes a delivery may carry, in the spec's order
    auth_optional: bool  # an empty requirement `{}` is listed: a delivery may carry none
    schema: dict = field(repr=False)  # the standalone payload schema
    schema_file: Path | None = None
    in_query: bool = False  # GET callbacks: the payload is the query string, a map of strings
    content_type: str | None = None  # the body's media type (None: no body)
    examples: tuple[Any, ...] = ()  # the spec's payload samples, each valid

    @property
    def label(self) -> str:
        return f"webhook {self.name}"

    def url(self, endpoint: str) -> str:
        """Where a delivery goes for a configured endpoint (`<endpoint>/location_update`)."""
        if not self.path:
            return endpoint
        base, sep, query = endpoint.partition("?")
        return base.rstrip("/") + self.path + (sep + query if sep else "")

    def problems(self, payload: Any) -> list[str]:
        """Why the payload does not satisfy the schema, one line per error (empty: valid)."""
        errors = sorted(Draft202012Validator(self.schema).iter_errors(payload), key=lambda e: list(e.absolute_path))
        return [
            f"{'/' + '/'.join(map(str, e.absolute_path)) if e.absolute_path else '(root)'}: {e.message}" for e in errors
        ]

    def time_fields(self) -> set[str]:
        """Payload properties that carry an R7 time (`YYYY-MM-DD HH:MM:SS`, UTC), in any branch."""
        found: set[str] = set()
        for holder in (self.schema, *(self.schema.get("$defs") or {}).values()):
            for name, sub in ((holder or {}).get("properties") or {}).items():
                ruling = sub.get("x-ruling") if isinstance(sub, dict) else None
                if ruling == "R7" or (isinstance(ruling, list) and "R7" in ruling):
                    found.add(name)
        return found

    def discriminators(self) -> dict[str, Any]:
        """Top-level `const` properties: what tells deliveries to one shared path apart (cpaas `type`)."""
        props = self.schema.get("properties") or {}
        return {name: sub["const"] for name, sub in props.items() if isinstance(sub, dict) and "const" in sub}


def webhooks(where: Layout, api: str, doc: dict | None = None) -> dict[str, Webhook]:
    """Every webhook/callback of an API, by name (empty for an API without any)."""
    doc = doc if doc is not None else load_bundle(where, api)
    files = {component_name(path): path for path in sorted((where.spec / api / "webhooks").glob("*.schema.json"))}
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    found: dict[str, Webhook] = {}
    for op in iter_operations(doc):
        if not op.is_webhook:
            continue
        delivery = op.node.get("x-delivery") or {}
        requirements = op.node.get("security") or []
        used = tuple(schemes[name] for req in requirements for name in req if name in schemes)
        schema_file = _payload_file(doc, op, files)
        schema = json.loads(schema_file.read_text(encoding="utf-8")) if schema_file else _bundled_schema(doc, op)
        found[op.key] = Webhook(
            api=api,
            name=op.key,
            method=op.method.upper(),
            path=str(delivery.get("path", "")),
            timeout=float(delivery.get("timeout_seconds", 15)),
            schemes=used,
            auth_optional=any(not req for req in requirements) or not requirements,
            schema=schema,
            schema_file=schema_file,
            in_query=op.node.get("requestBody") is None,
            content_type=next(iter((deref(doc, op.node.get("requestBody")) or {}).get("content") or {}), None),
            examples=tuple(_examples(doc, op, schema)),
        )
    return found


def _payload_file(doc: dict, op: Operation, files: dict[str, Path]) -> Path | None:
    """The standalone schema file the webhook's body or query parameters refer to: the bundle lifted
    each file into `components/schemas/<Name>`, so the component's name tells the file."""
    body = deref(doc, op.node.get("requestBody")) or {}
    refs = [(media.get("schema") or {}).get("$ref") for media in (body.get("content") or {}).values()]
    refs += [(param.get("schema") or {}).get("$ref") for param, _ in parameters(doc, op)]
    for ref in refs:
        parts = ref.split("/") if isinstance(ref, str) else []
        if parts[:3] == ["#", "components", "schemas"] and len(parts) > 3 and parts[3] in files:
            return files[parts[3]]
    return None


def _bundled_schema(doc: dict, op: Operation) -> dict:
    """Fallback when no standalone file is found: the bundled body schema."""
    body = deref(doc, op.node.get("requestBody")) or {}
    media: dict[str, Any] = next(iter((body.get("content") or {}).values()), {})
    return dict(deref(doc, media.get("schema")) or {})


def _examples(doc: dict, op: Operation, schema: dict) -> list[Any]:
    """The spec's samples of a payload: the body's named examples, the query parameters' examples
    assembled into one map, and the schema file's own `examples`; only the valid ones, once each."""
    found: list[Any] = []
    body = deref(doc, op.node.get("requestBody")) or {}
    for media in (body.get("content") or {}).values():
        found += [deref(doc, ex).get("value") for ex in (media.get("examples") or {}).values()]
    by_name: dict[str, dict] = {}
    for param, _ in parameters(doc, op):
        for example_name, example in (param.get("examples") or {}).items():
            by_name.setdefault(example_name, {})[param["name"]] = deref(doc, example).get("value")
    found += list(by_name.values())
    found += list(schema.get("examples") or [])
    validator = Draft202012Validator(schema)
    unique: list[Any] = []
    for value in found:
        if validator.is_valid(value) and value not in unique:
            unique.append(value)
    return unique


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def auth_headers(hook: Webhook, basic: tuple[str, str] | None = None, key: str | None = None) -> dict[str, str]:
    """The headers a delivery carries for the given webhook credentials, per the hook's first usable scheme."""
    for scheme in hook.schemes:
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic" and basic:
            return {"Authorization": basic_header(*basic)}
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header" and key is not None:
            return {str(scheme["name"]): str(scheme.get("x-value-prefix", "")) + key}
    return {}


def auth_kind(hook: Webhook) -> str | None:
    """`basic` or `key`: which credentials the webhook's first scheme takes (None: no scheme)."""
    for scheme in hook.schemes:
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            return "basic"
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            return "key"
    return None


def account_credentials(account: dict) -> tuple[tuple[str, str] | None, str | None]:
    """An account's webhook/callback credentials from fixtures (`webhook` or `callback`): (basic, key)."""
    config = account.get("webhook") or account.get("callback") or {}
    basic = config.get("basic")
    pair = None
    if isinstance(basic, dict):
        user = basic.get("username", basic.get("key"))
        password = basic.get("password", basic.get("secret"))
        if user is not None and password is not None:
            pair = (str(user), str(password))
    key = config.get("api_key")
    return pair, (str(key) if key is not None else None)
