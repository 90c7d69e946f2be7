"""Webhook and callback delivery, from a background queue that never blocks or slows API requests.

What is sent is read from the spec's `webhooks`: the method, the path under the endpoint and the time
the receiver has (`x-delivery`), the authentication (the webhook's security scheme, with the account's
webhook credentials from the fixtures), and the payload, validated through the generated model of its
schema before it leaves. Each event is its own task, so a receiver that stalls holds up only its own
event, which is discarded after the timeout; every outcome is recorded and listed by `GET /<api>/_events`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from apicontract.server.accounts import Account, basic_pair, token
from apicontract.server.store import Store
from apicontract.specs.walk import deref

log = logging.getLogger("apicontract.delivery")


def now_text() -> str:
    """R7: `YYYY-MM-DD HH:MM:SS`, UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Hook:
    """One webhook or callback as the spec describes it."""

    name: str
    method: str
    path: str
    timeout: float
    schemes: list[dict]
    model: Any


def hooks_of(doc: dict, models: ModuleType) -> dict[str, Hook]:
    found = {}
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    for name, item in (doc.get("webhooks") or {}).items():
        for method, op in item.items():
            delivery = op.get("x-delivery") or {}
            body = deref(doc, op.get("requestBody")) or {}
            refs = [m.get("schema", {}).get("$ref", "") for m in (body.get("content") or {}).values()]
            refs += [p.get("schema", {}).get("$ref", "") for p in op.get("parameters") or []]
            component = next((r.split("/")[3] for r in refs if r.startswith("#/components/schemas/")), None)
            used = [schemes[s] for requirement in op.get("security") or [] for s in requirement if s in schemes]
            found[name] = Hook(
                name=name,
                method=method.upper(),
                path=str(delivery.get("path", "")),
                timeout=float(delivery.get("timeout_seconds", 15)),
                schemes=used,
                model=getattr(models, component) if component else None,
            )
    return found


def auth_headers(hook: Hook, credentials: dict) -> dict[str, str]:
    """The documented authentication for a delivery, from the account's webhook/callback credentials."""
    for scheme in hook.schemes:
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            pair = basic_pair(credentials)
            if pair:
                encoded = base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
                return {"Authorization": f"Basic {encoded}"}
        elif scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            value = token(credentials)
            if value:
                return {str(scheme["name"]): str(scheme.get("x-value-prefix", "")) + value}
    return {}


class Deliverer:
    """Sends events in the background and records what became of each."""

    def __init__(self, store: Store, time_scale: float = 1.0, concurrency: int = 64):
        self.store = store
        self.time_scale = time_scale
        self.concurrency = concurrency
        self.client: Any = None  # an httpx.AsyncClient, made on the first delivery
        self.tasks: set[asyncio.Task] = set()
        self.semaphore: asyncio.Semaphore | None = None

    async def start(self) -> None:
        self.semaphore = asyncio.Semaphore(self.concurrency)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.client is not None:
            await self.client.aclose()

    def record(self, api: str, account: Account, hook: Hook, url: str | None, payload: dict) -> int:
        """Write the event as pending (or undeliverable when no endpoint is configured)."""
        with self.store.write() as db:
            cursor = db.execute(
                "INSERT INTO events (api, account, event, method, url, payload, created, outcome, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    api,
                    account.name,
                    hook.name,
                    hook.method,
                    url or "",
                    json.dumps(payload),
                    now_text(),
                    "pending" if url else "undeliverable",
                    None if url else "no endpoint configured for this account (see --webhook-url / --callback-url)",
                ),
            )
            return int(cursor.lastrowid)

    def send(self, steps: list[tuple[float, int, Hook, str, dict, dict]]) -> None:
        """Deliver events in order: each step is (delay seconds, event id, hook, url, payload, headers)."""
        task = asyncio.get_running_loop().create_task(self._sequence(steps))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _sequence(self, steps: list[tuple[float, int, Hook, str, dict, dict]]) -> None:
        for delay, event_id, hook, url, payload, headers in steps:
            if delay > 0 and self.time_scale > 0:
                await asyncio.sleep(delay * self.time_scale)
            await self._deliver(event_id, hook, url, payload, headers)

    async def _deliver(self, event_id: int, hook: Hook, url: str, payload: dict, headers: dict) -> None:
        import httpx  # imported on the first delivery: most runs never send one, and start-up stays short

        if self.client is None:
            self.client = httpx.AsyncClient(follow_redirects=False)
        assert self.semaphore is not None
        started = time.monotonic()
        async with self.semaphore:
            try:
                if hook.method == "GET":
                    target = url + ("&" if "?" in url else "?") + urlencode(payload)
                    request = self.client.get(target, headers=headers, timeout=hook.timeout)
                else:
                    request = self.client.request(hook.method, url, json=payload, headers=headers, timeout=hook.timeout)
                response = await asyncio.wait_for(request, timeout=hook.timeout)
            except (TimeoutError, httpx.TimeoutException):
                outcome, status, detail = "discarded", None, f"no answer within {hook.timeout:g} s"
            except httpx.HTTPError as exc:
                outcome, status, detail = "failed", None, f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    outcome, detail = "delivered", None
                else:
                    outcome, detail = "discarded", f"the receiver answered {status}"
        elapsed = time.monotonic() - started
        if outcome != "delivered":
            log.warning("%s event %s to %s %s: %s", hook.name, event_id, hook.method, url, detail)
        with self.store.write() as db:
            db.execute(
                "UPDATE events SET outcome = ?, status = ?, detail = ?, finished = ? WHERE id = ?",
                (outcome, status, detail if detail else f"answered in {elapsed:.3f} s", now_text(), event_id),
            )
