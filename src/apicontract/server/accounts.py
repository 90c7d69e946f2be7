"""Who is calling: fixture accounts and the spec's security schemes.

The schemes (HTTP Basic, a raw key in a header, a prefixed key in a header or the query) come from the
bundle; the credentials from `spec/<api>/fixtures.yaml`. When several schemes are allowed, the first one
whose carrier is present decides (cpaas: the header over the query parameter, R23).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Account:
    api: str
    index: int
    name: str
    data: dict  # the account's fixture entry

    @property
    def key(self) -> str:
        return self.name


def basic_pair(credentials: dict) -> tuple[str, str] | None:
    basic = credentials.get("basic")
    if isinstance(basic, dict):
        user = basic.get("key", basic.get("username"))
        secret = basic.get("secret", basic.get("password"))
        if isinstance(user, str) and isinstance(secret, str):
            return user, secret
    return None


def token(credentials: dict) -> str | None:
    tokens = [v for v in credentials.values() if isinstance(v, str)]
    return tokens[0] if len(tokens) == 1 else None


class Authenticator:
    """Maps a request's credentials to an account, or to None (401)."""

    def __init__(self, security: list[dict[str, Any]], accounts: list[Account]):
        self.security = security
        self._known: dict[tuple, Account | None] = {}
        self._header_carriers = [
            (b"authorization" if s.get("type") == "http" else str(s.get("name", "")).lower().encode())
            for s in security
            if s.get("type") == "http" or s.get("in") == "header"
        ]
        self._query_carriers = {str(s.get("name")) for s in security if s.get("in") == "query"}
        self.basic: dict[tuple[str, str], Account] = {}
        self.tokens: dict[str, Account] = {}
        for account in accounts:
            credentials = account.data.get("credentials") or {}
            pair = basic_pair(credentials)
            if pair:
                self.basic[pair] = account
            value = token(credentials)
            if value:
                self.tokens[value] = account

    def authenticate(self, headers: dict[bytes, bytes], query: list[tuple[str, str]]) -> Account | None:
        """The account the request's credentials name (memoised per carrier value: decoding is pure)."""
        key = (
            tuple(headers.get(name) for name in self._header_carriers),
            tuple(v for k, v in query if k in self._query_carriers) if query else (),
        )
        if key in self._known:
            return self._known[key]
        account = self._authenticate(headers, query)
        if len(self._known) < 1024:
            self._known[key] = account
        return account

    def _authenticate(self, headers: dict[bytes, bytes], query: list[tuple[str, str]]) -> Account | None:
        for scheme in self.security:
            kind = scheme.get("type")
            if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                value = headers.get(b"authorization")
                if value is not None:
                    return self._basic(value)
            elif kind == "apiKey":
                name = str(scheme.get("name", ""))
                if scheme.get("in") == "header":
                    raw = headers.get(name.lower().encode())
                    value = raw.decode("latin-1") if raw is not None else None
                elif scheme.get("in") == "query":
                    value = next((v for k, v in query if k == name), None)
                else:
                    value = None
                if value is not None:
                    return self._token(value, scheme.get("x-value-prefix", ""))
        return None

    def _basic(self, raw: bytes) -> Account | None:
        scheme, _, encoded = raw.decode("latin-1").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        user, sep, secret = decoded.partition(":")
        return self.basic.get((user, secret)) if sep else None

    def _token(self, value: str, prefix: str) -> Account | None:
        if prefix:
            if not value.startswith(prefix):
                return None
            value = value[len(prefix) :]
        return self.tokens.get(value)
