"""Webhooks and callbacks as their receiver sees them: delivery rules, payload, and each sample request.

POST webhooks carry their payload as a JSON body, the cpaas callbacks as a GET query whose parameters
point into the payload schema; either way the samples are the requests a receiver gets, built from the
spec's examples (and the payload schema's own `examples`). The delivery facts (`x-delivery`, the security
schemes, the payload's component) are the spec model's (`specs.webhooks`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from apicontract.docs.schemas import TypeRef, marks
from apicontract.docs.views import Delivery, OperationView, Received
from apicontract.specs.bundle import pointer
from apicontract.specs.fixtures import Credentials
from apicontract.specs.security import BASIC
from apicontract.specs.walk import deref, parameters
from apicontract.specs.webhooks import WebhookOperation

CONFIGURED_KEY = "<the configured key>"  # the samples' stand-in for credentials configured out of band
CONFIGURED_BASIC = "Basic <base64 of the configured username:password>"


def describe_webhook(
    doc: dict, hook: WebhookOperation, view: OperationView, module: str, models: frozenset[str]
) -> None:
    """Fill in the delivery rules, the payload schema, the samples as received and a validation snippet."""
    delivery = hook.delivery
    if delivery is not None:
        view.delivery = Delivery(
            path=delivery.path,
            timeout_seconds=f"{delivery.timeout:g}",
            description=delivery.description,
            unspecified=delivery.unspecified,
            marks=marks(delivery.node, delivery.parts),
            at=pointer(list(delivery.parts)),
        )
    target = ("<endpoint>" if hook.method == "POST" else "<callback URL>") + hook.path
    lines = _auth_lines(hook)
    for body in view.bodies:
        view.payload = body.types
        for example in body.examples:
            head = [f"{hook.method} {target} HTTP/1.1", *lines, f"Content-Type: {body.content_type}", ""]
            text = "\n".join(head) + "\n" + example.json
            view.received.append(Received(example.summary or example.name, text, example.marks))
    if hook.in_query and view.params:
        _query_samples(doc, hook, view, target, lines)
    payload = next((t.schema for t in view.payload if t.schema), None)
    if payload and payload in models:
        if hook.in_query:
            call = f"{payload}.model_validate(dict(query_params))  # the received query, as strings"
        else:
            call = f"{payload}.model_validate_json(request_body)  # the received body, as bytes"
        view.receiver_code = f"from apicontract.models.{module} import {payload}\n\nevent = {call}"


def _query_samples(doc: dict, hook: WebhookOperation, view: OperationView, target: str, lines: list[str]) -> None:
    """GET callbacks carry their payload in the query: show each query the receiver gets."""
    by_name: dict[str, dict[str, Any]] = {}
    summaries: dict[str, str] = {}
    for param, _ in parameters(doc, hook.operation):
        for name, example in (param.get("examples") or {}).items():
            if isinstance(example, dict) and "value" in example:
                by_name.setdefault(name, {})[param["name"]] = example["value"]
                summaries.setdefault(name, example.get("summary") or name)
    values = [(summaries[name], query) for name, query in by_name.items()]
    schema = deref(doc, {"$ref": f"#/components/schemas/{hook.payload}"}) if hook.payload else None
    if isinstance(schema, dict) and hook.payload:
        view.payload = [TypeRef(hook.payload, hook.payload)]
        for index, example in enumerate(schema.get("examples") or []):
            if isinstance(example, dict) and example not in [q for _, q in values]:
                values.append((f"Example {index + 1} of {hook.payload}", example))
    for title, query in values:
        text = "\n".join([f"GET {target}?{urlencode(query)} HTTP/1.1", *lines])
        view.received.append(Received(title, text, []))


def _auth_lines(hook: WebhookOperation) -> list[str]:
    """The header a delivery carries, with a placeholder for the credentials configured out of band."""
    for scheme in hook.schemes:
        if scheme.kind == BASIC:
            return [f"{scheme.carrier}: {CONFIGURED_BASIC}"]
        carried = scheme.encode(Credentials(key=CONFIGURED_KEY)) if scheme.location == "header" else None
        if carried is not None:
            return [f"{name}: {value}" for name, value in carried.headers.items()]
    return []
