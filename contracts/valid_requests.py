"""Build a valid request for any operation from the spec's own examples and the target's identifiers.

Security and error-code checks need a request that would succeed but for one thing they change (no
credentials, another account, one bad field); the spec's named examples give the rest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from apicontract.contracts.target import Target
from apicontract.contracts.violations import curl
from apicontract.specs.promises import identifying, subject
from apicontract.specs.walk import Operation, deref, merged, parameters


@dataclass
class Request:
    method: str
    path: str  # with path parameters filled in
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None  # JSON value, or None
    content_type: str | None = None

    def send(self, target: Target, client: Any, headers: dict[str, str] | None = None) -> Any:
        content = json.dumps(self.body).encode() if self.body is not None else None
        all_headers = dict(headers if headers is not None else target.headers())
        if content is not None:
            all_headers["Content-Type"] = self.content_type or "application/json"
        return client.request(
            self.method, target.url(self.path), params=self.query or None, content=content, headers=all_headers
        )

    def curl(self, target: Target, headers: dict[str, str] | None = None) -> str:
        url = target.url(self.path)
        if self.query:
            url += "?" + "&".join(f"{k}={v}" for k, v in self.query.items())
        all_headers = dict(headers if headers is not None else target.headers())
        body = json.dumps(self.body) if self.body is not None else None
        if body is not None:
            all_headers["Content-Type"] = self.content_type or "application/json"
        return curl(self.method, url, all_headers, body)


def json_example(doc: dict, op: Operation) -> Any:
    body = deref(doc, op.node.get("requestBody")) or {}
    media = (body.get("content") or {}).get("application/json")
    if not media:
        return None
    for example in (media.get("examples") or {}).values():
        return deref(doc, example).get("value")
    return {}


def identifier_field(doc: dict, op: Operation) -> tuple[str, str] | None:
    """Where an operation takes the SIM it acts on: ("path", name) or ("body", name) (`x-identifies: Sim`)."""
    found = subject(doc, op)
    return (found.location, found.name) if found is not None and found.resource == "Sim" else None


def valid_request(target: Target, op: Operation, identifier: str | None = None) -> Request:
    """A request the spec would accept, addressing `identifier` where the operation takes one."""
    doc = target.doc
    path = op.key
    where = identifier_field(doc, op)
    for param, _ in parameters(doc, op):
        if param.get("in") != "path":
            continue
        value = identifier if (where == ("path", param["name"]) and identifier) else _example(doc, param)
        path = path.replace("{" + param["name"] + "}", str(value))
    body = json_example(doc, op)
    if isinstance(body, dict) and identifier:  # every body field naming the SIM names this one
        media = ((deref(doc, op.node.get("requestBody")) or {}).get("content") or {}).get("application/json") or {}
        names = identifying(doc, media.get("schema"), "Sim")
        body = {k: (identifier if k in names else v) for k, v in body.items()}
        if where and where[0] == "body":
            body[where[1]] = identifier
    return Request(op.method.upper(), path, body=body)


def _example(doc: dict, param: dict) -> Any:
    for example in (param.get("examples") or {}).values():
        return deref(doc, example).get("value")
    schema = merged(doc, param.get("schema")) or {}
    if "default" in schema:
        return schema["default"]
    if schema.get("type") == "integer":
        return schema.get("minimum", 1)
    pattern = schema.get("pattern", "")
    digits = re.search(r"\{(\d+)\}", pattern)
    return "1" * int(digits.group(1)) if digits else "x"
