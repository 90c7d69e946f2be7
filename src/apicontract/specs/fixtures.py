"""Fixture accounts (`spec/<api>/fixtures.yaml`): who they are and the credentials they hold, read once.

An account holds the credentials the API takes (`credentials`: `{basic: {key, secret}}`, `{api_key}` or
`{access_key}`) and, for APIs that deliver events, the credentials and endpoint of its deliveries
(`webhook` or `callback`: `{url?, basic: {username, password}}` or `{api_key}`). The reference server
authenticates with them and signs its deliveries with them, its banner and the published samples show
them; all of them read them here, so they agree on which string is the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "KEY_FIELDS",
    "Credentials",
    "account_name",
    "credentials",
    "delivery_credentials",
    "delivery_endpoint",
    "first_credentials",
]

KEY_FIELDS = ("api_key", "access_key")  # the fixtures schemas' names for a key (the API's, or a delivery's)
DELIVERY_FIELDS = ("webhook", "callback")  # an account's delivery configuration, by the API's word for it


@dataclass(frozen=True)
class Credentials:
    """What one party presents: an HTTP Basic pair, or a key (sent as it is or after the scheme's prefix)."""

    basic: tuple[str, str] | None = None  # (user, password); the fixtures name them key/secret or username/password
    key: str | None = None

    @classmethod
    def read(cls, node: Any) -> Credentials:
        """Credentials as the fixtures write them: `{basic: {...}}` and/or one of KEY_FIELDS."""
        if not isinstance(node, dict):
            return cls()
        basic = node.get("basic")
        pair = None
        if isinstance(basic, dict):
            user = basic.get("key", basic.get("username"))
            password = basic.get("secret", basic.get("password"))
            if isinstance(user, str) and isinstance(password, str):
                pair = (user, password)
        key = next((node[name] for name in KEY_FIELDS if isinstance(node.get(name), str)), None)
        return cls(pair, key)

    def __bool__(self) -> bool:
        return self.basic is not None or self.key is not None


def account_name(entry: Any, index: int) -> str:
    """An account's name: its `name`, else its `id`, else `account-<index>`."""
    entry = entry if isinstance(entry, dict) else {}
    return str(entry.get("name") or entry.get("id") or f"account-{index}")


def credentials(entry: Any) -> Credentials:
    """The credentials an account calls the API with (`credentials`)."""
    return Credentials.read(entry.get("credentials") if isinstance(entry, dict) else None)


def _delivery(entry: Any) -> dict:
    if not isinstance(entry, dict):
        return {}
    return next((entry[name] for name in DELIVERY_FIELDS if isinstance(entry.get(name), dict) and entry[name]), {})


def delivery_credentials(entry: Any) -> Credentials:
    """The credentials the platform presents when it delivers the account's events (`webhook`/`callback`)."""
    return Credentials.read(_delivery(entry))


def delivery_endpoint(entry: Any) -> str | None:
    """Where the account's events go (`webhook.url` or `callback.url`; None: not configured)."""
    if not isinstance(entry, dict):
        return None
    for name in DELIVERY_FIELDS:
        url = (entry.get(name) or {}).get("url") if isinstance(entry.get(name), dict) else None
        if url:
            return str(url)
    return None


def first_credentials(fixtures: Any) -> Credentials:
    """The first account's credentials: the published samples' keys are those (spec/CONVENTIONS.md)."""
    accounts = fixtures.get("accounts") if isinstance(fixtures, dict) else None
    first = accounts[0] if isinstance(accounts, list) and accounts else None
    return credentials(first)
