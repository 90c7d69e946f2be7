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

CACHE_SIZE = 1024  # distinct credentials remembered
CACHED_CREDENTIAL_BYTES = 256  # longer credentials are decoded each time, never remembered


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

    def authenticate(
        self, headers: dict[bytes, bytes], query: list[tuple[str, str]], repeated: frozenset[bytes] = frozenset()
    ) -> Account | None:
        """The account the request's credentials name, or None (401).

        A credential header sent twice (`repeated`), or a credential query parameter given twice without a
        header to decide, names no account: the server never picks one of two by their order. Decoding is
        pure, so answers are memoised, but only for short credentials: a cache keyed by whole header values
        would grow with every large value a client invents.
        """
        if repeated and any(name in repeated for name in self._header_carriers):
            return None
        values = tuple(headers.get(name) for name in self._header_carriers)
        carried = tuple(v for k, v in query if k in self._query_carriers) if query else ()
        if sum(len(v) for v in values if v is not None) + sum(len(v) for v in carried) > CACHED_CREDENTIAL_BYTES:
            return self._authenticate(headers, query)
        key = (values, carried)
        if key in self._known:
            return self._known[key]
        account = self._authenticate(headers, query)
        if len(self._known) < CACHE_SIZE:
            self._known[key] = account
        return account

    def _authenticate(self, headers: dict[bytes, bytes], query: list[tuple[str, str]]) -> Account | None:
        for scheme in self.security:
            kind = scheme.get("type")
            if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                basic = headers.get(b"authorization")
                if basic is not None:
                    return self._basic(basic)
            elif kind == "apiKey":
                name = str(scheme.get("name", ""))
                if scheme.get("in") == "header":
                    raw = headers.get(name.lower().encode())
                    value = raw.decode("latin-1") if raw is not None else None
                elif scheme.get("in") == "query":
                    given = [v for k, v in query if k == name]
                    if len(given) > 1:
                        return None
                    value = given[0] if given else None
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
