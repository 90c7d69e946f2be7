"""Webhook and callback delivery, from a background queue that never blocks or slows API requests.

What is sent is read from the spec's `webhooks`: the method, the path under the endpoint and the time
the receiver has (`x-delivery`), the authentication (the webhook's security scheme, with the account's
webhook credentials from the fixtures), and the payload, validated through the generated model of its
schema before it leaves. Each event is its own task, so a receiver that stalls holds up only its own
event, which is discarded after the timeout; every outcome is recorded and listed by `GET /<api>/_events`.

Events are written (`pending`, with the time they are due) before they are sent, so events still
pending when the server stops, or is killed, are sent after the next start (at least once: one in flight
at a `kill -9` may arrive twice). The queue holds at most `max_pending` events; a batch that would pass
that is recorded as `discarded`, with the reason, and not sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from apicontract.server.accounts import Account
from apicontract.server.store import Store
from apicontract.specs.fixtures import Credentials
from apicontract.specs.webhooks import WebhookOperation, webhook_operations

log = logging.getLogger("apicontract.delivery")


def now_text() -> str:
    """R7: `YYYY-MM-DD HH:MM:SS`, UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


MAX_PENDING = 1000  # events queued (waiting or being sent) at once; beyond that, new ones are discarded


@dataclass(frozen=True)
class Hook:
    """One webhook or callback as the spec describes it (`specs.webhooks`), with the generated model its
    payloads go through before they leave."""

    spec: WebhookOperation
    model: Any

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def method(self) -> str:
        return self.spec.method

    @property
    def path(self) -> str:
        return self.spec.path

    @property
    def timeout(self) -> float:
        return self.spec.timeout


@dataclass(frozen=True)
class Planned:
    """One event to record and send: which webhook, where, what, and the wait before it (after the last one)."""

    hook: Hook
    url: str | None
    payload: dict
    headers: dict
    delay: float


def hooks_of(doc: dict, models: ModuleType) -> dict[str, Hook]:
    """Every webhook of the bundle, with the generated model of its payload (None: the spec names none)."""
    return {
        name: Hook(spec, getattr(models, spec.payload) if spec.payload else None)
        for name, spec in webhook_operations(doc).items()
    }


def auth_headers(hook: Hook, credentials: Credentials) -> dict[str, str]:
    """The documented authentication for a delivery, from the account's webhook/callback credentials."""
    return hook.spec.headers_for(credentials)


class Deliverer:
    """Sends events in the background and records what became of each."""

    def __init__(self, store: Store, time_scale: float = 1.0, concurrency: int = 64, max_pending: int = MAX_PENDING):
        self.store = store
        self.time_scale = time_scale
        self.concurrency = concurrency
        self.max_pending = max_pending
        self.pending = 0  # events this process has queued and not finished
        self.client: Any = None  # an httpx.AsyncClient, made on the first delivery
        self.tasks: set[asyncio.Task] = set()
        self.semaphore: asyncio.Semaphore | None = None

    async def start(self) -> None:
        self.semaphore = asyncio.Semaphore(self.concurrency)

    async def stop(self) -> None:
        """Stop sending; what has not been sent stays `pending` in the store, for the next start."""
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.client is not None:
            await self.client.aclose()

    def schedule(self, api: str, account: Account, plan: list[Planned]) -> list[int]:
        """Record a batch of events in order, in one transaction, and send them in order; their ids.

        An event without a URL is `undeliverable`; a batch that does not fit in the queue is `discarded`.
        """
        sendable = sum(1 for step in plan if step.url)
        full = sendable and self.pending + sendable > self.max_pending
        due = time.time()
        ids: list[int] = []
        steps: list[tuple[float, int, Hook, str, dict, dict]] = []
        with self.store.write() as db:
            for step in plan:
                due += step.delay * self.time_scale
                if not step.url:
                    outcome, detail = (
                        "undeliverable",
                        "no endpoint configured for this account (see --webhook-url / --callback-url)",
                    )
                elif full:
                    outcome = "discarded"
                    detail = (
                        f"not sent: the delivery queue was full ({self.pending} of {self.max_pending} events pending)"
                    )
                else:
                    outcome, detail = "pending", None
                cursor = db.execute(
                    "INSERT INTO events (api, account, event, method, url, payload, created, outcome, detail, due,"
                    " sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        api,
                        account.name,
                        step.hook.name,
                        step.hook.method,
                        step.url or "",
                        json.dumps(step.payload),
                        now_text(),
                        outcome,
                        detail,
                        due,
                        ids[0] if ids else None,
                    ),
                )
                assert cursor.lastrowid is not None  # set by the INSERT
                event_id = int(cursor.lastrowid)
                if not ids:
                    db.execute("UPDATE events SET sequence = ? WHERE id = ?", (event_id, event_id))
                ids.append(event_id)
                if outcome == "pending" and step.url:  # (pending: it has a URL)
                    steps.append((due, event_id, step.hook, step.url, step.payload, step.headers))
            if full:
                log.warning("%s: delivery queue full (%d pending); %d events discarded", api, self.pending, sendable)
        self.send(steps)
        return ids

    def resume(self, api: str, plan: Callable[[str, str], tuple[Hook, dict] | str]) -> None:
        """Send `api`'s events left `pending` by an earlier run, in order, each when it is due (at once if late).

        `plan(account, event)` gives the hook and the auth headers for an event, or why it cannot be sent
        any more (recorded as `discarded`).
        """
        rows = self.store.all(
            "SELECT id, account, event, url, payload, due, sequence FROM events WHERE api = ? AND outcome = 'pending'"
            " ORDER BY id",
            (api,),
        )
        sequences: dict[int, list[tuple[float, int, Hook, str, dict, dict]]] = {}
        dropped: list[tuple[int, str]] = []
        for row in rows:
            found = plan(row["account"], row["event"])
            if isinstance(found, str):
                dropped.append((row["id"], f"not sent after a restart: {found}"))
            elif self.pending + sum(len(s) for s in sequences.values()) >= self.max_pending:
                dropped.append(
                    (row["id"], f"not sent after a restart: the delivery queue was full ({self.max_pending})")
                )
            else:
                hook, headers = found
                due = row["due"] if row["due"] is not None else time.time()
                step = (due, row["id"], hook, row["url"], json.loads(row["payload"]), headers)
                sequences.setdefault(row["sequence"] or row["id"], []).append(step)
        if dropped:
            with self.store.write() as db:
                for event_id, detail in dropped:
                    db.execute(
                        "UPDATE events SET outcome = 'discarded', detail = ?, finished = ? WHERE id = ?",
                        (detail, now_text(), event_id),
                    )
            log.warning("%s: %d pending events could not be sent after the restart", api, len(dropped))
        for steps in sequences.values():
            self.send(steps)
        if sequences:
            log.info("%s: %d pending events resumed", api, sum(len(s) for s in sequences.values()))

    def send(self, steps: list[tuple[float, int, Hook, str, dict, dict]]) -> None:
        """Deliver events in order: each step is (due time, event id, hook, url, payload, headers)."""
        if not steps:
            return
        self.pending += len(steps)
        task = asyncio.get_running_loop().create_task(self._sequence(steps))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _sequence(self, steps: list[tuple[float, int, Hook, str, dict, dict]]) -> None:
        left = len(steps)
        try:
            for due, event_id, hook, url, payload, headers in steps:
                wait = due - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._deliver(event_id, hook, url, payload, headers)
                left -= 1
                self.pending -= 1
        finally:
            self.pending -= left  # stopped: they stay pending in the store, for the next start

    async def _deliver(self, event_id: int, hook: Hook, url: str, payload: dict, headers: dict) -> None:
        import httpx  # imported on the first delivery: most runs never send one, and start-up stays short

        if self.client is None:
            self.client = httpx.AsyncClient(follow_redirects=False)
        assert self.semaphore is not None
        started = time.monotonic()
        detail: str | None
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
