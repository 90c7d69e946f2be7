"""What every API implementation gets: its store, fixtures, accounts, models, and webhook emission."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from apicontract.server.accounts import Account
from apicontract.server.api_server import Reply
from apicontract.server.compiled import CompiledApi
from apicontract.server.delivery import Deliverer, Hook, Planned, auth_headers, hooks_of, now_text
from apicontract.server.request_input import Call
from apicontract.server.store import Store
from apicontract.specs.fixtures import Credentials, delivery_credentials, delivery_endpoint


@dataclass
class ApiContext:
    """One API's share of the running server."""

    name: str
    compiled: CompiledApi
    store: Store
    fixtures: dict
    accounts: list[Account]
    models: ModuleType
    deliverer: Deliverer
    endpoint: str | None = None  # --webhook-url / --callback-url: overrides the fixtures' endpoints
    hooks: dict[str, Hook] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.hooks = hooks_of(self.compiled.doc, self.models)

    def account(self, name: str) -> Account:
        return next(a for a in self.accounts if a.name == name)

    def events(self, account: Account, after: int = 0, limit: int = -1) -> list[dict]:
        """The account's events with an id above `after`, in id order, at most `limit` (-1: all)."""
        rows = self.store.all(
            "SELECT id, event, method, url, payload, created, outcome, status, detail, finished FROM events"
            " WHERE api = ? AND account = ? AND id > ? ORDER BY id LIMIT ?",
            (self.name, account.name, after, limit),
        )
        return [{**dict(row), "payload": json.loads(row["payload"])} for row in rows]

    def endpoint_of(self, account: Account) -> str | None:
        return self.endpoint or delivery_endpoint(account.data)

    @staticmethod
    def credentials_of(account: Account) -> Credentials:
        """The account's webhook/callback credentials (configured out of band, here in the fixtures)."""
        return delivery_credentials(account.data)

    def emit(self, account: Account, steps: list[tuple[str, dict, float]]) -> list[int]:
        """Record and send events in order: each step is (webhook name, payload, delay before it in seconds).

        Each payload goes through the generated model of its schema first, so only what the contract allows
        is ever sent.
        """
        base = self.endpoint_of(account)
        headers_of = {}
        plan = []
        for name, payload, delay in steps:
            hook = self.hooks[name]
            if hook.model is not None:
                payload = hook.model.model_validate(payload).model_dump(mode="json", by_alias=True)
            if name not in headers_of:
                headers_of[name] = auth_headers(hook, self.credentials_of(account))
            url = (base.rstrip("/") + hook.path) if base else None
            plan.append(Planned(hook, url, payload, headers_of[name], delay))
        return self.deliverer.schedule(self.name, account, plan)

    def resume_pending(self) -> None:
        """Send the events an earlier run left pending (the server stopped or was killed before sending them)."""
        accounts = {account.name: account for account in self.accounts}

        def plan(account_name: str, event: str) -> tuple[Hook, dict] | str:
            hook = self.hooks.get(event)
            if hook is None:
                return f"the spec has no {event} webhook any more"
            account = accounts.get(account_name)
            if account is None:
                return f"account {account_name} is not in the fixtures any more"
            return hook, auth_headers(hook, self.credentials_of(account))

        self.deliverer.resume(self.name, plan)


class Implementation:
    """Base of the four API implementations: handlers are methods named by operationId."""

    schema = ""  # SQL for the API's tables

    def __init__(self, ctx: ApiContext):
        self.ctx = ctx
        self.store = ctx.store
        ctx.store.seed_once(ctx.name, self.schema, self.seed)

    def seed(self, db: Any) -> None:
        """Fill the API's tables from its fixtures (first start of a data dir only)."""

    def before(self, call: Call) -> None:
        """A hook run after the spec's checks and before the handler."""

    @staticmethod
    def now() -> str:
        return now_text()

    def serial(self, db: Any, name: str) -> int:
        """The next number of a per-API sequence (event and bill ids): never reused, even across restarts."""
        row = db.execute(
            "INSERT INTO serials (api, name, value) VALUES (?, ?, 1)"
            " ON CONFLICT (api, name) DO UPDATE SET value = value + 1 RETURNING value",
            (self.ctx.name, name),
        ).fetchone()
        return int(row[0])

    def event_problem(self, name: str, payload: dict) -> dict | None:
        """Why webhook `name`'s schema refuses a payload a `simulate_*` trigger was asked for, or None.

        Triggers take partial payloads from consumers; a refusal is their 400, never a server error.
        """
        try:
            self.ctx.hooks[name].model.model_validate(payload)
        except ValidationError as exc:
            return {
                "error": f"the {name} payload does not satisfy its schema",
                "problems": [{"at": list(e["loc"]), "problem": e["msg"]} for e in exc.errors()],
            }
        return None

    def trigger(self, account: Account, name: str, payload: dict) -> tuple[int, dict]:
        """A `simulate_*` answer: send webhook `name` with `payload`, or 400 with why its schema refuses it."""
        problem = self.event_problem(name, payload)
        if problem:
            return 400, problem
        return 200, {"events": self.ctx.emit(account, [(name, payload, 0)]), "payload": payload}

    @staticmethod
    def ok(data: Any = None) -> Reply:
        return Reply(data=data)

    def getRoot(self, call: Call) -> Reply:  # noqa: N802 - handlers are named by operationId
        """R4: valid credentials answer the documented success body."""
        return self.ok()
