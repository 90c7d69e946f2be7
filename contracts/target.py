"""What a contract test knows about one API under test: where it is, who to be, what the spec says."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from apicontract.specs.walk import iter_operations


@dataclass(frozen=True)
class Credentials:
    """One account's credentials, as the API's security scheme carries them."""

    basic: tuple[str, str] | None = None  # sim-v1: key, secret
    key: str | None = None  # sim-v2/v3 raw API key, cpaas access token

    @classmethod
    def from_fixture(cls, credentials: dict) -> Credentials:
        basic = credentials.get("basic")
        if isinstance(basic, dict):
            return cls(
                basic=(str(basic.get("key", basic.get("username"))), str(basic.get("secret", basic.get("password"))))
            )
        tokens = [v for v in credentials.values() if isinstance(v, str)]
        return cls(key=tokens[0] if tokens else None)

    @classmethod
    def parse(cls, text: str, kind: str) -> Credentials:
        """`--basic KEY:SECRET`, `--api-key KEY`, `--access-key TOKEN`."""
        if kind == "basic":
            user, sep, secret = text.partition(":")
            if not sep:
                raise ValueError("--basic takes KEY:SECRET")
            return cls(basic=(user, secret))
        return cls(key=text)


@dataclass
class Target:
    """One API of the implementation under test."""

    api: str
    base_url: str  # e.g. http://127.0.0.1:8080/sim-v2 or https://api.onomondo.com
    doc: dict  # the bundled spec
    models: ModuleType
    fixtures: dict  # the target's accounts and identifiers (spec/<api>/fixtures.yaml by default)
    first: Credentials
    second: Credentials | None
    examples: int = 25
    seed: int | None = None
    require_https: bool = False
    webhook_url: str | None = None  # where the target delivers webhooks/callbacks, when the suite controls it
    capture: Any = None  # the webhook capture endpoint, when the suite runs one
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def schemes(self) -> dict[str, dict]:
        return (self.doc.get("components") or {}).get("securitySchemes") or {}

    def security(self) -> list[dict]:
        """The API's security schemes, in the order the spec allows them."""
        return [self.schemes[name] for req in self.doc.get("security") or [] for name in req if name in self.schemes]

    def headers(self, who: Credentials | None = None) -> dict[str, str]:
        """Request headers that authenticate as `who` (the first account by default)."""
        who = who or self.first
        for scheme in self.security():
            if scheme.get("type") == "http" and who.basic:
                encoded = base64.b64encode(f"{who.basic[0]}:{who.basic[1]}".encode()).decode()
                return {"Authorization": f"Basic {encoded}"}
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header" and who.key:
                return {scheme["name"]: scheme.get("x-value-prefix", "") + who.key}
        return {}

    def query_auth(self, who: Credentials | None = None) -> dict[str, str]:
        """Query parameters that authenticate, where the API takes them (cpaas)."""
        who = who or self.first
        for scheme in self.security():
            if scheme.get("type") == "apiKey" and scheme.get("in") == "query" and who.key:
                return {scheme["name"]: scheme.get("x-value-prefix", "") + who.key}
        return {}

    def operations(self) -> list:
        return [op for op in iter_operations(self.doc) if not op.is_webhook]

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @property
    def accounts(self) -> list[dict]:
        return [a for a in self.fixtures.get("accounts") or [] if not a.get("prohibited")]
