"""What a request to an operation carries, as the bundle declares it: its parameters and body fields (each
with the code a bad value answers, `x-error-code`), the size limit of its body (`x-max-body-bytes`), and its
path template as a pattern.

The reference server compiles its checks from these, and the published reference shows them; both read
them here, so the code a field answers and the limit a body has are read in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apicontract.specs.walk import Operation, deref, error_code, inline, merged, parameters

__all__ = [
    "DEFAULT_BODY_BYTES",
    "BodyField",
    "BodyLimits",
    "Parameter",
    "api_body_limit",
    "body_fields",
    "body_limits",
    "operation_parameters",
    "path_pattern",
    "request_body",
]

DEFAULT_BODY_BYTES = 1024 * 1024  # for a bundle without `info.x-max-body-bytes` (lint requires it)


@dataclass(frozen=True)
class Parameter:
    """A path, query or header parameter of an operation (path-level and operation-level merged)."""

    name: str
    location: str  # "path", "query", "header" or "cookie"
    required: bool
    schema: Any  # as written (a `$ref` stays one)
    code: str | None  # the parameter's `x-error-code`, else its schema's
    node: dict = field(repr=False, compare=False)  # the parameter object (description, examples, marks)
    parts: tuple[str, ...] = ()  # its JSON pointer

    @property
    def examples(self) -> dict:
        """The parameter's named examples, as written."""
        return self.node.get("examples") or {}


def parameter_code(doc: dict, node: Any) -> str | None:
    """What a bad value of a parameter answers: its own `x-error-code`, else its schema's."""
    return error_code(node) or error_code(merged(doc, node.get("schema"))) if isinstance(node, dict) else None


def property_code(schema: Any, name: str) -> str | None:
    """What a bad value of body property `name` answers: its `x-error-code`, else the body schema's."""
    props = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
    return error_code(props.get(name)) or error_code(schema)


def operation_parameters(doc: dict, op: Operation) -> list[Parameter]:
    """The operation's parameters, dereferenced, each with its code."""
    found = []
    for node, parts in parameters(doc, op):
        schema = node.get("schema")
        code = parameter_code(doc, node)
        found.append(
            Parameter(
                str(node.get("name", "")),
                str(node.get("in", "")),
                bool(node.get("required")),
                schema,
                code,
                node,
                parts,
            )
        )
    return found


@dataclass(frozen=True)
class BodyField:
    """A top-level property of a request body's schema."""

    name: str
    schema: Any  # self-contained (every `$ref` inlined)
    code: str | None  # its `x-error-code` (what a bad value answers)
    required: bool


def body_fields(doc: dict, schema: Any) -> list[BodyField]:
    """The top-level properties of a body schema (inlined), in the spec's order, with their codes."""
    whole = inline(doc, schema or {})
    if not isinstance(whole, dict):
        return []
    required = set(whole.get("required") or [])
    return [
        BodyField(name, prop, error_code(prop), name in required)
        for name, prop in (whole.get("properties") or {}).items()
    ]


def request_body(doc: dict, op: Operation) -> dict:
    """The operation's request body object, dereferenced ({} when it takes none)."""
    body = deref(doc, op.node.get("requestBody"))
    return body if isinstance(body, dict) else {}


def api_body_limit(doc: dict) -> int:
    """`info.x-max-body-bytes`: the API's body limit, where an operation sets none of its own."""
    return int((doc.get("info") or {}).get("x-max-body-bytes", DEFAULT_BODY_BYTES))


@dataclass(frozen=True)
class BodyLimits:
    """How large an operation's body may be: its own limit, and the media types that set their own."""

    default: int  # the request body's `x-max-body-bytes`, else the API's
    by_type: dict[str, int] = field(default_factory=dict)  # a media type object's own `x-max-body-bytes`
    own: bool = False  # whether the request body sets `default` itself

    def of(self, content_type: str) -> int:
        """The limit of one media type."""
        return self.by_type.get(content_type, self.default)

    @property
    def largest(self) -> int:
        """The most any body of the operation may be: what a server must read before it knows the type."""
        return max([self.default, *self.by_type.values()])


def body_limits(doc: dict, body: Any) -> BodyLimits:
    """The `x-max-body-bytes` cascade of a request body object: the API's, the body's, a media type's."""
    body = body if isinstance(body, dict) else {}
    own = "x-max-body-bytes" in body
    default = int(body["x-max-body-bytes"]) if own else api_body_limit(doc)
    by_type = {
        ctype: int(media["x-max-body-bytes"])
        for ctype, media in (body.get("content") or {}).items()
        if isinstance(media, dict) and "x-max-body-bytes" in media
    }
    return BodyLimits(default, by_type, own)


def path_pattern(template: str) -> tuple[re.Pattern, list[str]]:
    """`/sim/{uuid}` -> a regex with one group per path parameter (one segment each), and their names."""
    pieces = re.split(r"({[^}]+})", template)
    regex = "".join("([^/]+)" if p.startswith("{") else re.escape(p) for p in pieces)
    return re.compile("^" + regex + "$"), [p[1:-1] for p in pieces if p.startswith("{")]
