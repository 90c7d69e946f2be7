"""What the spec says about each webhook/callback: where it goes, how, with what auth and payload.

The reference server (sending deliveries), the contract suite (checking what a server delivers), the
published reference and `apicontract webhooks test-receiver` (checking what a consumer accepts) hold
deliveries to the same facts, so all of them read them here.

- `webhook_operations(doc)` reads the bundle alone: the method, `x-delivery` (the path under the endpoint
  and the receiver's window), the security schemes and the payload's component (whose generated model
  has the same name).
- `webhooks(where, api)` adds the standalone payload schema under `spec/<api>/webhooks/`, the one a
  consumer validates with (the bundle has lifted it into components; the component's name tells which
  file), and the spec's payload samples.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from apicontract.generated import load_bundle
from apicontract.paths import Layout
from apicontract.specs.bundle import component_name
from apicontract.specs.fixtures import Credentials
from apicontract.specs.security import BASIC, Scheme, basic_header, operation_schemes
from apicontract.specs.walk import Operation, deref, iter_operations, parameters

__all__ = [
    "DEFAULT_WINDOW",
    "Delivery",
    "Webhook",
    "WebhookOperation",
    "auth_headers",
    "auth_kind",
    "basic_header",
    "webhook_operation",
    "webhook_operations",
    "webhooks",
]

DEFAULT_WINDOW = 15.0  # seconds, for an `x-delivery` without `timeout_seconds` (lint requires it)
_SCHEMAS = "#/components/schemas/"


@dataclass(frozen=True)
class Delivery:
    """`x-delivery` of a webhook: where a delivery goes under the endpoint, and the receiver's window."""

    path: str  # appended to the endpoint ("" for cpaas: the callback URL itself)
    timeout: float  # `timeout_seconds`: the receiver's window to answer 2xx
    description: str | None = None
    unspecified: str | None = None  # `x-unspecified`: what the source leaves open about it
    parts: tuple[str, ...] = ()  # JSON pointer of the `x-delivery` object
    node: dict = field(default_factory=dict, repr=False, compare=False)  # the spec's object (ruling marks)

    @classmethod
    def of(cls, node: Any, parts: tuple[str, ...] = ()) -> Delivery:
        node = node if isinstance(node, dict) else {}
        return cls(
            path=str(node.get("path", "")),
            timeout=float(node.get("timeout_seconds", DEFAULT_WINDOW)),
            description=node.get("description"),
            unspecified=node.get("x-unspecified"),
            parts=parts,
            node=node,
        )


@dataclass(frozen=True)
class WebhookOperation:
    """One webhook/callback as the bundle declares it."""

    name: str  # as the spec's `webhooks` key: location_update, endCallback, ...
    method: str  # upper case
    path: str  # x-delivery.path, appended to the endpoint ("" for cpaas: the callback URL itself)
    timeout: float  # x-delivery.timeout_seconds: the receiver's window to answer 2xx
    schemes: tuple[Scheme, ...]  # the security schemes a delivery may carry, in the spec's order
    auth_optional: bool  # an empty requirement `{}` is listed: a delivery may carry none
    in_query: bool  # GET callbacks: the payload is the query string, a map of strings
    content_type: str | None  # the body's media type (None: no body)
    payload: str | None  # the payload's component in the bundle, and the name of its generated model
    delivery: Delivery | None  # `x-delivery` (None: the spec leaves it out)
    operation: Operation = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"webhook {self.name}"

    def url(self, endpoint: str) -> str:
        """Where a delivery goes for a configured endpoint (`<endpoint>/location_update`)."""
        if not self.path:
            return endpoint
        base, sep, query = endpoint.partition("?")
        return base.rstrip("/") + self.path + (sep + query if sep else "")

    def headers_for(self, credentials: Credentials) -> dict[str, str]:
        """The headers a delivery carries for these credentials, by the first scheme they fit that travels
        in a header (empty: none fits)."""
        for scheme in self.schemes:
            carried = scheme.encode(credentials) if scheme.location == "header" else None
            if carried is not None:
                return carried.headers
        return {}


@dataclass(frozen=True)
class Webhook(WebhookOperation):
    """A webhook with its standalone payload schema and the spec's samples of it."""

    api: str = ""
    schema: dict = field(default_factory=dict, repr=False)  # the standalone payload schema
    schema_file: Path | None = None
    examples: tuple[Any, ...] = ()  # the spec's payload samples, each valid

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


def webhook_operation(doc: dict, op: Operation) -> WebhookOperation:
    """One webhook/callback operation of the bundle, read."""
    node = op.node.get("x-delivery")
    delivery = Delivery.of(node, (*op.parts, "x-delivery")) if isinstance(node, dict) else None
    requirements = op.node.get("security") or []
    body = deref(doc, op.node.get("requestBody"))
    return WebhookOperation(
        name=op.key,
        method=op.method.upper(),
        path=delivery.path if delivery else "",
        timeout=delivery.timeout if delivery else DEFAULT_WINDOW,
        schemes=tuple(operation_schemes(doc, op.node, inherit=False)),
        auth_optional=any(not req for req in requirements) or not requirements,
        in_query=op.node.get("requestBody") is None,
        content_type=next(iter((body or {}).get("content") or {}), None),
        payload=_payload_component(doc, op),
        delivery=delivery,
        operation=op,
    )


def webhook_operations(doc: dict) -> dict[str, WebhookOperation]:
    """Every webhook/callback of a bundle, by name (empty for an API without any)."""
    return {op.key: webhook_operation(doc, op) for op in iter_operations(doc) if op.is_webhook}


def calls_back(doc: dict) -> bool:
    """The API's deliveries are callbacks (cpaas): sent to the account's callback URL itself (`x-delivery.path`
    empty) rather than to paths under a webhook endpoint; `serve --callback-url` is their default endpoint."""
    hooks = webhook_operations(doc).values()
    return bool(hooks) and all(hook.path == "" for hook in hooks)


def webhooks(where: Layout, api: str, doc: dict | None = None) -> dict[str, Webhook]:
    """Every webhook/callback of an API with its standalone payload schema, by name."""
    doc = doc if doc is not None else load_bundle(where, api)
    files = {component_name(path): path for path in sorted((where.spec / api / "webhooks").glob("*.schema.json"))}
    found: dict[str, Webhook] = {}
    for name, hook in webhook_operations(doc).items():
        schema_file = files.get(hook.payload) if hook.payload else None
        schema = json.loads(schema_file.read_text(encoding="utf-8")) if schema_file else _bundled_schema(doc, hook)
        facts = {f.name: getattr(hook, f.name) for f in dataclasses.fields(hook)}
        found[name] = Webhook(
            **facts,
            api=api,
            schema=schema,
            schema_file=schema_file,
            examples=tuple(_examples(doc, hook.operation, schema)),
        )
    return found


def _payload_component(doc: dict, op: Operation) -> str | None:
    """The component the webhook's body or query parameters refer to (`#/components/schemas/<Name>...`):
    the bundle lifted each payload file there, so it names the file and the generated model."""
    body = deref(doc, op.node.get("requestBody")) or {}
    refs = [(media.get("schema") or {}).get("$ref") for media in (body.get("content") or {}).values()]
    refs += [(param.get("schema") or {}).get("$ref") for param, _ in parameters(doc, op)]
    for ref in refs:
        if isinstance(ref, str) and ref.startswith(_SCHEMAS) and ref[len(_SCHEMAS) :]:
            return ref[len(_SCHEMAS) :].split("/")[0]
    return None


def _bundled_schema(doc: dict, hook: WebhookOperation) -> dict:
    """Fallback when no standalone file is found: the bundled body schema."""
    body = deref(doc, hook.operation.node.get("requestBody")) or {}
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


def auth_headers(
    hook: WebhookOperation, basic: tuple[str, str] | None = None, key: str | None = None
) -> dict[str, str]:
    """The headers a delivery carries for the given webhook credentials, per the hook's first usable scheme."""
    return hook.headers_for(Credentials(basic, key))


def auth_kind(hook: WebhookOperation) -> str | None:
    """`basic` or `key`: which credentials the webhook's first scheme takes (None: no scheme)."""
    for scheme in hook.schemes:
        if scheme.kind == BASIC:
            return "basic"
        if scheme.supported and scheme.location == "header":
            return "key"
    return None
