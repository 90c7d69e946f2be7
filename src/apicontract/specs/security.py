"""Security schemes: how a request (or a delivery) carries credentials, read once from `securitySchemes`.

A `Scheme` is HTTP Basic or an API key in a header or the query, with the key's `x-value-prefix` (cpaas:
`AccessKey `). It *encodes* credentials into the headers or query parameters a request carries (the
reference server's deliveries, the generated clients, the samples, the banner, the webhook test-receiver)
and *decodes* them back (the reference server's authentication). Which schemes apply is the spec's
`security`: alternatives in order, the first whose carrier is present deciding (R23).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from apicontract.specs.fixtures import Credentials

__all__ = [
    "API_KEY",
    "AUTHORIZATION",
    "BASIC",
    "UNSUPPORTED",
    "Carried",
    "Scheme",
    "basic_header",
    "decode_basic",
    "operation_schemes",
    "request_schemes",
    "scheme",
    "security_schemes",
]

BASIC = "basic"  # HTTP Basic (`type: http`, `scheme: basic`)
API_KEY = "apiKey"  # a key, as it is or after `x-value-prefix`, in a header or a query parameter
UNSUPPORTED = "unsupported"
AUTHORIZATION = "Authorization"


class Presented(Protocol):
    """What `Scheme.value`/`encode` read of credentials (the fixtures' and the contract suite's Credentials)."""

    @property
    def basic(self) -> tuple[str, str] | None: ...

    @property
    def key(self) -> str | None: ...


@dataclass(frozen=True)
class Carried:
    """Where encoded credentials go on a request: header fields and query parameters."""

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scheme:
    """One security scheme of `components/securitySchemes`."""

    name: str  # its key in `securitySchemes` (`basicAuth`, `accessKeyQuery`, ...)
    kind: str  # BASIC, API_KEY, or UNSUPPORTED (another HTTP scheme, a key in a cookie, OAuth, ...)
    location: str  # "header" or "query" (Basic: "header")
    carrier: str  # the header or query parameter that carries it (Basic: `Authorization`)
    prefix: str = ""  # `x-value-prefix`: what comes before the key (`AccessKey `)
    description: str | None = None
    node: dict = field(default_factory=dict, repr=False, compare=False)  # the spec's object (marks, ruling)

    @classmethod
    def of(cls, name: str, node: Any) -> Scheme:
        node = node if isinstance(node, dict) else {}
        description = node.get("description")
        if node.get("type") == "http" and str(node.get("scheme", "")).lower() == BASIC:
            return cls(name, BASIC, "header", AUTHORIZATION, "", description, node)
        if node.get("type") == "apiKey" and node.get("in") in ("header", "query"):
            prefix = str(node.get("x-value-prefix") or "")
            return cls(name, API_KEY, str(node["in"]), str(node.get("name", "")), prefix, description, node)
        where, carrier = str(node.get("in", "")), str(node.get("name", ""))
        return cls(name, UNSUPPORTED, where, carrier, "", description, node)

    @property
    def supported(self) -> bool:
        """HTTP Basic, or an API key in a header or the query: the schemes the readers here handle."""
        return self.kind != UNSUPPORTED

    @property
    def carried_as(self) -> str:
        """`basic`, `header` or `query`: how a client sends it (the generated clients' `Credential.kind`)."""
        return BASIC if self.kind == BASIC else self.location

    def get(self, keyword: str, default: Any = None) -> Any:
        """A keyword as the spec writes it (for readers that still take a scheme as the spec's object)."""
        return self.node.get(keyword, default)

    def value(self, credentials: Presented) -> str | None:
        """The carrier's value for these credentials (None: they do not fit this scheme)."""
        if self.kind == BASIC:
            return basic_header(*credentials.basic) if credentials.basic else None
        if self.kind == API_KEY and credentials.key is not None:
            return self.prefix + credentials.key
        return None

    def encode(self, credentials: Presented) -> Carried | None:
        """The header or query parameter these credentials travel in (None: they do not fit this scheme)."""
        value = self.value(credentials)
        if value is None:
            return None
        if self.location == "query":
            return Carried(query={self.carrier: value})
        return Carried(headers={self.carrier: value})

    def present(self, headers: Mapping[bytes, bytes], query: Sequence[tuple[str, str]]) -> bool:
        """Whether a request carries this scheme's header or query parameter (`headers`: ASGI, lower-case names)."""
        if self.location == "query":
            return any(name == self.carrier for name, _ in query)
        return self.header_key in headers

    def decode(self, headers: Mapping[bytes, bytes], query: Sequence[tuple[str, str]]) -> Credentials | None:
        """The credentials a request carries for this scheme, or None: absent, malformed, given twice in the
        query, or without the scheme's prefix. `headers` as ASGI gives them (lower-case names, bytes)."""
        if self.location == "query":
            given = [value for name, value in query if name == self.carrier]
            raw = given[0] if len(given) == 1 else None
        else:
            found = headers.get(self.header_key)
            raw = found.decode("latin-1") if found is not None else None
        if raw is None:
            return None
        if self.kind == BASIC:
            pair = decode_basic(raw)
            return Credentials(basic=pair) if pair else None
        if self.kind == API_KEY:
            if self.prefix and not raw.startswith(self.prefix):
                return None
            return Credentials(key=raw[len(self.prefix) :])
        return None

    @property
    def header_key(self) -> bytes:
        """The carrier header's name as ASGI gives it (lower case, bytes)."""
        return self.carrier.lower().encode("latin-1")


def basic_header(user: str, password: str) -> str:
    """`Basic <base64 of user:password>` (UTF-8, as httpx and curl send it)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def decode_basic(value: str) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic ...` value, or None when it is not one."""
    kind, _, encoded = value.strip().partition(" ")
    if kind.lower() != BASIC:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def security_schemes(doc: dict) -> dict[str, Scheme]:
    """Every scheme of `components/securitySchemes`, by name, in the spec's order."""
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    return {name: Scheme.of(name, node) for name, node in schemes.items()}


def scheme(doc: dict, name: str) -> Scheme | None:
    """The scheme `name` of the bundle (None: not declared)."""
    return security_schemes(doc).get(name)


def _requirements(doc: dict, requirements: Any) -> list[Scheme]:
    schemes = security_schemes(doc)
    return [schemes[name] for requirement in requirements or [] for name in requirement or {} if name in schemes]


def request_schemes(doc: dict) -> list[Scheme]:
    """The schemes the API's requests may use (top-level `security`), alternatives in order."""
    return _requirements(doc, doc.get("security"))


def operation_schemes(doc: dict, node: dict, inherit: bool = True) -> list[Scheme]:
    """The schemes one operation (or webhook) names in its `security`, in order; with `inherit`, an
    operation without its own `security` takes the API's."""
    requirements = node.get("security", doc.get("security") if inherit else None)
    return _requirements(doc, requirements)


def credential_kind(doc: dict) -> str:
    """How a tester gives this API's credentials, named as target files and `apicontract check` name them:
    `basic` (KEY:SECRET), `access_key` (a key sent after a prefix, cpaas's `AccessKey`) or `api_key`."""
    for scheme in request_schemes(doc):
        if scheme.kind == BASIC:
            return "basic"
        if scheme.kind == API_KEY:
            return "access_key" if scheme.prefix else "api_key"
    return "api_key"


def credential_option(doc: dict) -> str:
    """The `apicontract check` option (and pytest plugin option) that carries these credentials."""
    return "--" + credential_kind(doc).replace("_", "-")
