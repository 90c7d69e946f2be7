"""`apicontract webhooks test-receiver`: deliver valid events to a consumer's endpoint as the platform
would, and check it accepts them in time and refuses deliveries with bad credentials.

A consumer's receiver is the other half of the webhook contract: it must answer 2xx within the spec's
window (else the platform discards the event) and must not accept events anybody could forge.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from apicontract.paths import Layout
from apicontract.specs.webhooks import Webhook, auth_headers, auth_kind, webhooks
from apicontract.webhooks.payloads import payloads

PAYLOAD_SHOWN = 36  # characters of a payload in the table; the full one is in the failure lines


class ReceiverError(Exception):
    """A usage or connection problem (exit 2): nothing about the receiver's behaviour was learnt."""


@dataclass
class Attempt:
    """One delivery and what became of it."""

    webhook: str
    label: str  # "sample 1", "generated 3", "wrong credentials", "no credentials"
    url: str
    payload: Any
    should_accept: bool
    status: int | None = None
    elapsed: float = 0.0
    error: str | None = None  # no answer in time, connection dropped
    passed: bool = False

    @property
    def answer(self) -> str:
        if self.status is None:
            return self.error or "no answer"
        late = f" (after the {self.error})" if self.error else ""
        return f"{self.status} in {self.elapsed:.2f} s{late}"


def receiver_apis(where: Layout) -> list[str]:
    """The APIs whose spec documents webhooks or callbacks."""
    return [api for api in where.apis() if webhooks(where, api)]


def check_receiver(
    where: Layout,
    api: str,
    url: str,
    basic: tuple[str, str] | None = None,
    key: str | None = None,
    examples: int = 5,
    seed: int | None = None,
    timeout: float | None = None,  # tests only: overrides the spec's window; the CLI never sets it
) -> list[Attempt]:
    """Deliver `examples` valid events of every webhook of `api`, then bad-credential ones."""
    hooks = webhooks(where, api)
    if not hooks:
        raise ReceiverError(
            f"{api} documents no webhooks or callbacks (those that do: {', '.join(receiver_apis(where))})"
        )
    _check_usage(api, url, hooks, basic, key)
    attempts: list[Attempt] = []
    with httpx.Client(follow_redirects=False) as client:
        for hook in hooks.values():
            window = hook.timeout if timeout is None else timeout
            good = auth_headers(hook, basic, key)
            chosen = payloads(hook, examples, seed)
            for label, payload in chosen:
                attempts.append(_deliver(client, hook, url, label, payload, good, True, window))
            if good and chosen:
                for label, headers in _bad_credentials(hook, basic, key):
                    attempts.append(_deliver(client, hook, url, label, chosen[0][1], headers, False, window))
    return attempts


def _check_usage(api: str, url: str, hooks: dict[str, Webhook], basic: tuple[str, str] | None, key: str | None) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ReceiverError(f"{url}: give the receiver's endpoint as an http:// or https:// URL")
    kinds = {auth_kind(hook) for hook in hooks.values()} - {None}
    optional = all(hook.auth_optional for hook in hooks.values())
    if basic and "basic" not in kinds:
        raise ReceiverError(
            f"{api} deliveries do not use HTTP Basic: use --api-key"
            if kinds
            else f"{api} deliveries carry no credentials"
        )
    if key is not None and "key" not in kinds:
        raise ReceiverError(
            f"{api} deliveries do not carry an API key: use --basic"
            if kinds
            else f"{api} deliveries carry no credentials"
        )
    if kinds and not optional and not basic and key is None:
        option = "--basic USER:PASS" if "basic" in kinds else "--api-key KEY"
        raise ReceiverError(
            f"{api} deliveries are authenticated: give the credentials your receiver expects ({option})"
        )


def _bad_credentials(hook: Webhook, basic: tuple[str, str] | None, key: str | None) -> list[tuple[str, dict[str, str]]]:
    wrong = auth_headers(hook, (basic[0], basic[1] + "-wrong") if basic else None, (key + "-wrong") if key else None)
    return [("wrong credentials", wrong), ("no credentials", {})]


def _deliver(
    client: httpx.Client,
    hook: Webhook,
    endpoint: str,
    label: str,
    payload: Any,
    headers: dict[str, str],
    should_accept: bool,
    window: float,
) -> Attempt:
    url = hook.url(endpoint)
    if hook.in_query:
        url += ("&" if "?" in url else "?") + urlencode(payload)
        content = None
    else:
        headers = {**headers, "Content-Type": "application/json"}
        content = json.dumps(payload).encode()
    attempt = Attempt(hook.name, label, url, payload, should_accept)
    started = time.monotonic()
    try:
        response = client.request(hook.method, url, content=content, headers=headers, timeout=window)
    except httpx.TimeoutException:
        attempt.error = f"no answer within {window:g} s"
    except (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise ReceiverError(f"cannot reach the receiver at {url}: {exc}") from None
    except httpx.HTTPError as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"
    else:
        attempt.status = response.status_code
    attempt.elapsed = time.monotonic() - started
    if attempt.status is not None and attempt.elapsed > window:
        attempt.error = f"{window:g} s window"
    accepted = attempt.status is not None and 200 <= attempt.status < 300 and attempt.error is None
    attempt.passed = accepted if should_accept else not (attempt.status is not None and 200 <= attempt.status < 300)
    return attempt


def render(console: Console, api: str, attempts: list[Attempt]) -> None:
    """One table per webhook, then a summary line."""
    for name in dict.fromkeys(a.webhook for a in attempts):
        table = Table(title=f"{api} {name}", title_justify="left")
        for column in ("delivery", "expected", "answer", "result", "payload"):
            table.add_column(column, overflow="fold")
        for a in (a for a in attempts if a.webhook == name):
            text = json.dumps(a.payload, ensure_ascii=False, separators=(",", ":"))
            table.add_row(
                escape(a.label),
                "2xx in time" if a.should_accept else "not 2xx",
                escape(a.answer),
                "[green]pass[/green]" if a.passed else "[red]FAIL[/red]",
                escape(text if len(text) <= PAYLOAD_SHOWN else text[: PAYLOAD_SHOWN - 1] + "…"),
            )
        console.print(table)
    failed = [a for a in attempts if not a.passed]
    if failed:
        console.print(f"[red]receiver check failed:[/red] {len(failed)} of {len(attempts)} deliveries")
        for a in failed:
            wanted = "accepted (2xx) in time" if a.should_accept else "refused (not 2xx)"
            console.print(
                f"  {escape(a.webhook)} {escape(a.label)}: expected {wanted}, got {escape(a.answer)}", highlight=False
            )
            console.print(f"    sent {escape(json.dumps(a.payload, ensure_ascii=False))}", highlight=False)
    else:
        console.print(f"[green]receiver check passed[/green]: {len(attempts)} deliveries")
