"""Webhooks and callbacks as their receiver sees them: delivery rules, payload, and each sample request.

POST webhooks carry their payload as a JSON body, the cpaas callbacks as a GET query whose parameters
point into the payload schema; either way the samples are the requests a receiver gets, built from the
spec's examples (and the payload schema's own `examples`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from apicontract.docs.schemas import TypeRef, marks, named
from apicontract.docs.views import Delivery, OperationView, Received
from apicontract.specs.bundle import pointer
from apicontract.specs.walk import Operation, deref, parameters


def describe_webhook(doc: dict, op: Operation, view: OperationView, module: str, models: frozenset[str]) -> None:
    """Fill in the delivery rules, the payload schema, the samples as received and a validation snippet."""
    delivery = op.node.get("x-delivery")
    delivery_parts = (*op.parts, "x-delivery")
    if isinstance(delivery, dict):
        view.delivery = Delivery(
            path=delivery.get("path"),
            timeout_seconds=delivery.get("timeout_seconds"),
            description=delivery.get("description"),
            unspecified=delivery.get("x-unspecified"),
            marks=marks(delivery, delivery_parts),
            at=pointer(list(delivery_parts)),
        )
    path = delivery.get("path") if isinstance(delivery, dict) else None
    target = ("<endpoint>" if op.method == "post" else "<callback URL>") + (path or "")
    lines = _auth_lines(doc, view.security)
    for body in view.bodies:
        view.payload = body.types
        for example in body.examples:
            head = [f"{op.method.upper()} {target} HTTP/1.1", *lines, f"Content-Type: {body.content_type}", ""]
            text = "\n".join(head) + "\n" + example.json
            view.received.append(Received(example.summary or example.name, text, example.marks))
    if op.method == "get" and view.params:
        _query_samples(doc, op, view, target, lines)
    payload = next((t.schema for t in view.payload if t.schema), None)
    if payload and payload in models:
        if op.method == "get":
            call = f"{payload}.model_validate(dict(query_params))  # the received query, as strings"
        else:
            call = f"{payload}.model_validate_json(request_body)  # the received body, as bytes"
        view.receiver_code = f"from apicontract.models.{module} import {payload}\n\nevent = {call}"


def _query_samples(doc: dict, op: Operation, view: OperationView, target: str, lines: list[str]) -> None:
    """GET callbacks carry their payload in the query: show each query the receiver gets."""
    by_name: dict[str, dict[str, Any]] = {}
    summaries: dict[str, str] = {}
    payload: str | None = None
    for param, _ in parameters(doc, op):
        ref = (param.get("schema") or {}).get("$ref", "")
        if "/properties/" in ref:
            payload = payload or ref.split("/properties/")[0]
        for name, example in (param.get("examples") or {}).items():
            if isinstance(example, dict) and "value" in example:
                by_name.setdefault(name, {})[param["name"]] = example["value"]
                summaries.setdefault(name, example.get("summary") or name)
    values = [(summaries[name], query) for name, query in by_name.items()]
    schema = deref(doc, {"$ref": payload}) if payload else None
    if isinstance(schema, dict):
        name = named(payload)
        view.payload = [TypeRef(name, name)] if name else view.payload
        for index, example in enumerate(schema.get("examples") or []):
            if isinstance(example, dict) and example not in [q for _, q in values]:
                values.append((f"Example {index + 1} of {name or 'the payload schema'}", example))
    for title, query in values:
        text = "\n".join([f"GET {target}?{urlencode(query)} HTTP/1.1", *lines])
        view.received.append(Received(title, text, []))


def _auth_lines(doc: dict, security: list[list[str]]) -> list[str]:
    """The header a delivery carries, with a placeholder for the credentials configured out of band."""
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    for requirement in security:
        for name in requirement:
            scheme = schemes.get(name) or {}
            if scheme.get("type") == "http" and scheme.get("scheme") == "basic":
                return ["Authorization: Basic <base64 of the configured username:password>"]
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                return [f"{scheme.get('name')}: <the configured key>"]
    return []
