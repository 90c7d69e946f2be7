"""What a contract test knows about one API under test: where it is, as whom to call it, what it holds.

A target is read from a target file (`targetfile.py`), from `--fixtures`-style account lists, or, for the
embedded reference server, from the spec's own fixtures; all three are read into the same `Account`s, so
every check sees one reading of credentials and inventories. The spec the checks hold the target to is the
*contract view* of its bundle (`apicontract.specs.promises.contract_view`): nothing the spec marks as the
reference server's own choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from apicontract.specs.promises import contract_view, identifiers
from apicontract.specs.security import request_schemes
from apicontract.specs.walk import iter_operations

__all__ = ["Account", "Credentials", "HookCredentials", "Item", "Target"]


@dataclass(frozen=True)
class Credentials:
    """One account's credentials, as the API's security scheme carries them."""

    basic: tuple[str, str] | None = None  # sim-v1: key, secret
    key: str | None = None  # sim-v2/v3 raw API key, cpaas access token

    @classmethod
    def from_entry(cls, credentials: dict | None) -> Credentials | None:
        """`{basic: {key, secret}}`, `{api_key: K}` or `{access_key: T}` (fixture and target-file form)."""
        credentials = credentials or {}
        basic = credentials.get("basic")
        if isinstance(basic, dict):
            user, secret = basic.get("key", basic.get("username")), basic.get("secret", basic.get("password"))
            return cls(basic=(str(user), str(secret))) if user is not None and secret is not None else None
        for name in ("api_key", "access_key"):
            if credentials.get(name) is not None:
                return cls(key=str(credentials[name]))
        return None

    @classmethod
    def parse(cls, text: str, kind: str) -> Credentials:
        """`--basic KEY:SECRET`, `--api-key KEY`, `--access-key TOKEN`."""
        if kind == "basic":
            user, sep, secret = text.partition(":")
            if not sep:
                raise ValueError("--basic takes KEY:SECRET")
            return cls(basic=(user, secret))
        return cls(key=text)

    def wrong(self) -> Credentials:
        """The same credentials with a wrong secret or key: must be refused (R3)."""
        if self.basic:
            return Credentials(basic=(self.basic[0], self.basic[1] + "-wrong"))
        return Credentials(key=(self.key or "") + "-wrong")

    def shown(self) -> str:
        return f"{self.basic[0]}:…" if self.basic else f"{(self.key or '')[:6]}…"


@dataclass(frozen=True)
class HookCredentials:
    """The credentials an account's webhooks or callbacks carry (configured out of band, R13, R22, R27)."""

    basic: tuple[str, str] | None = None
    key: str | None = None

    @classmethod
    def from_entry(cls, entry: dict | None) -> HookCredentials | None:
        entry = entry or {}
        basic = entry.get("basic")
        pair = None
        if isinstance(basic, dict):
            user, password = basic.get("username", basic.get("key")), basic.get("password", basic.get("secret"))
            if user is not None and password is not None:
                pair = (str(user), str(password))
        key = entry.get("api_key")
        if pair is None and key is None:
            return None
        return cls(pair, str(key) if key is not None else None)


@dataclass(frozen=True)
class Item:
    """One resource of an account's inventory (a SIM): its identifiers and, when known, its state."""

    identifier: str  # the primary identifier (`x-identifier` of the resource schema: uuid, imsi, id)
    others: dict[str, Any] = field(default_factory=dict)  # further identifiers (sim-v2 msisdn)
    provisioned: bool | None = None  # None: learned through the API
    known: dict[str, Any] = field(default_factory=dict)  # anything else the entry states (pin, puk, alias)


@dataclass
class Account:
    name: str
    credentials: Credentials | None
    webhook: HookCredentials | None = None  # what its webhooks/callbacks carry; None: not known
    webhook_url: str | None = None  # where the target delivers its events
    sims: list[Item] = field(default_factory=list)
    entry: dict[str, Any] = field(default_factory=dict)  # the entry as written (app_key, usage, media, ...)

    @classmethod
    def from_entry(
        cls, doc: dict, entry: dict, index: int, shared_hook: HookCredentials | None, shared_url: str | None
    ) -> Account:
        names = identifiers(doc, "Sim")
        sims = []
        for sim in entry.get("sims") or []:
            if not names or sim.get(names[0]) is None:
                continue
            others = {n: sim.get(n) for n in names[1:] if n in sim}
            rest = {k: v for k, v in sim.items() if k not in names and k != "provisioned"}
            provisioned = sim.get("provisioned")
            sims.append(Item(str(sim[names[0]]), others, provisioned if isinstance(provisioned, bool) else None, rest))
        hook_entry = entry.get("webhook") or entry.get("callback")
        return cls(
            name=str(entry.get("name") or entry.get("id") or f"account {index + 1}"),
            credentials=Credentials.from_entry(entry.get("credentials")),
            webhook=HookCredentials.from_entry(hook_entry) or shared_hook,
            webhook_url=entry.get("webhook_url") or ((hook_entry or {}).get("url")) or shared_url,
            sims=sims,
            entry=entry,
        )

    def inventory(self, provisioned: bool | None = None) -> list[str]:
        """Primary identifiers of this account's SIMs, optionally only those stated (un)provisioned."""
        return [s.identifier for s in self.sims if provisioned is None or s.provisioned is provisioned]


@dataclass
class Target:
    """One API of the implementation under test."""

    api: str
    base_url: str  # e.g. http://127.0.0.1:8080/sim-v2 or https://api.onomondo.com
    bundle: dict  # the full bundled spec (the reference server's description)
    models: ModuleType
    accounts: list[Account]  # the first is the one the suite acts as; the second, when given, for cross-account
    fixtures: dict = field(default_factory=dict)  # the reference server's own fixtures, when it is the target
    examples: int = 25
    seed: int | None = None
    require_https: bool = False
    webhook_url: str | None = None  # where the suite listens for the target's deliveries
    reference: bool = False  # the target runs with the spec's demo fixtures: their stated outcomes hold
    capture: Any = None  # the webhook capture endpoint, when the suite runs one
    extras: dict[str, Any] = field(default_factory=dict)
    doc: dict = field(init=False)  # the contract view: what every check holds the target to

    def __post_init__(self) -> None:
        self.doc = contract_view(self.bundle)

    @property
    def first(self) -> Credentials:
        return self.accounts[0].credentials  # type: ignore[return-value]  # the plugin refuses a target without

    @property
    def second(self) -> Credentials | None:
        return self.accounts[1].credentials if len(self.accounts) > 1 else None

    def inventory(self, account: int = 0, provisioned: bool | None = None) -> list[str]:
        return self.accounts[account].inventory(provisioned) if account < len(self.accounts) else []

    def _carried(self, who: Credentials | None, location: str) -> dict[str, str]:
        """The first of the API's schemes at `location` that `who` fits, encoded (the spec model encodes)."""
        who = who or self.first
        for scheme in request_schemes(self.doc):
            carried = scheme.encode(who) if scheme.location == location else None
            if carried is not None:
                return carried.headers if location == "header" else carried.query
        return {}

    def headers(self, who: Credentials | None = None) -> dict[str, str]:
        """Request headers that authenticate as `who` (the first account by default)."""
        return self._carried(who, "header")

    def query_auth(self, who: Credentials | None = None) -> dict[str, str]:
        """Query parameters that authenticate, where the API takes them (cpaas)."""
        return self._carried(who, "query")

    def operations(self) -> list:
        return [op for op in iter_operations(self.doc) if not op.is_webhook]

    def operation(self, operation_id: str):
        return next(op for op in self.operations() if op.node.get("operationId") == operation_id)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path
