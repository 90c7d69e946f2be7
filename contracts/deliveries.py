"""Hold captured webhook deliveries to the spec: which event each is, and every rule one must follow.

A delivery is found by what it mentions (the SIM or activation reference the check caused), not by
where it arrived, so a server that posts to the wrong path or with the wrong method is told so rather
than reported as silent. Everything checked comes from the spec (`apicontract.specs.webhooks`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from apicontract.contracts.capture import Delivery
from apicontract.contracts.target import Account, Target
from apicontract.contracts.violations import Violation
from apicontract.specs.security import BASIC, Scheme, decode_basic
from apicontract.specs.webhooks import Webhook, auth_headers

SETTLE = 0.3  # seconds to wait after the expected events, for duplicates or strays to show
CLOCK_TOLERANCE = 600  # seconds an R7 event time may differ from the suite's clock (UTC)


@dataclass
class Expected:
    """Deliveries one trigger must cause: webhooks in order, each with payload values it must carry."""

    mention: str  # a value every one of these deliveries carries (SIM id, activation reference)
    hooks: list[str]
    fields: dict[str, dict[str, Any]]  # webhook -> {payload field: value}
    ordered: bool = False  # the deliveries arrive in `hooks` order
    once: bool = False  # each webhook is delivered exactly once
    optional: list[str] = field(default_factory=list)  # webhooks the trigger may also cause, at most once each


class Receiving:
    """What one API's deliveries must look like, at the suite's endpoint."""

    def __init__(self, target: Target, hooks: dict[str, Webhook], account: Account):
        self.target = target
        self.hooks = hooks
        self.account = account
        self.credentials = account.webhook
        self.capture = target.capture
        parts = urlsplit(account.webhook_url or target.webhook_url or "")
        self.base_path = parts.path.rstrip("/")
        self.own_query = parse_qsl(parts.query, keep_blank_values=True)

    def path_of(self, hook: Webhook) -> str:
        return (self.base_path + hook.path) or "/"

    def classify(self, delivery: Delivery) -> Webhook | None:
        """The webhook a delivery is, by its path (and the payload's `const` fields where paths are shared)."""
        candidates = [h for h in self.hooks.values() if self.path_of(h) == delivery.path]
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        payload = self._raw_payload(delivery)
        for hook in candidates:
            if isinstance(payload, dict) and all(payload.get(k) == v for k, v in hook.discriminators().items()):
                return hook
        return None

    # --- waiting ------------------------------------------------------------------------------------

    def arrived(self, expected: Expected, since: float, curl: str) -> tuple[list[Delivery], dict[str, list[Delivery]]]:
        """Deliveries mentioning the expected value, by webhook (see `arrivals`)."""
        return self.arrivals([(expected, since, curl)])[0]

    def arrivals(
        self, waits: list[tuple[Expected, float, str]]
    ) -> list[tuple[list[Delivery], dict[str, list[Delivery]]]]:
        """For each (expected, since, curl): the deliveries mentioning its value, by webhook, once every
        expected webhook came (bounded by the spec's timeout) and after one short settle for strays and
        duplicates. A delivery at an undocumented path is a violation."""
        timeout = max(self.hooks[name].timeout for expected, _, _ in waits for name in expected.hooks)
        first = min(since for _, since, _ in waits)

        def complete(found: list[Delivery], expected: Expected, since: float) -> bool:
            mine = [d for d in found if d.arrived >= since and d.mentions(expected.mention)]
            names = {h.name for d in mine if (h := self.classify(d))}
            return set(expected.hooks) <= names or any(self.classify(d) is None for d in mine)

        self.capture.wait(lambda found: all(complete(found, e, s) for e, s, _ in waits), first, timeout)
        time.sleep(SETTLE)
        results = []
        for expected, since, curl in waits:
            mine = [d for d in self.capture.since(since) if d.mentions(expected.mention)]
            by_hook: dict[str, list[Delivery]] = {}
            for delivery in mine:
                hook = self.classify(delivery)
                if hook is None:
                    raise self._stray(expected, delivery, curl)
                by_hook.setdefault(hook.name, []).append(delivery)
            results.append((mine, by_hook))
        return results

    def collect(self, expected: Expected, since: float, curl: str) -> dict[str, list[Any]]:
        """Wait for the expected deliveries, check each and their order and number, return the payloads."""
        return self.collect_all([(expected, since, curl)])[0]

    def collect_all(self, waits: list[tuple[Expected, float, str]]) -> list[dict[str, list[Any]]]:
        """`collect` for several triggers at once, waiting for all of them together."""
        return [
            self._checked(expected, curl, mine, by_hook)
            for (expected, _, curl), (mine, by_hook) in zip(waits, self.arrivals(waits), strict=True)
        ]

    def _checked(
        self, expected: Expected, curl: str, mine: list[Delivery], by_hook: dict[str, list[Delivery]]
    ) -> dict[str, list[Any]]:
        payloads: dict[str, list[Any]] = {}
        for name in expected.hooks:
            hook = self.hooks[name]
            if name not in by_hook:
                raise Violation(
                    self.target.api,
                    hook.label,
                    f"delivered within {hook.timeout:g} s",
                    f"{hook.method} {self.path_of(hook)} mentioning {expected.mention}",
                    "nothing" if not mine else "only " + ", ".join(f"{d.method} {d.path}" for d in mine),
                    curl,
                )
            if expected.once and len(by_hook[name]) != 1:
                raise Violation(
                    self.target.api, hook.label, "sent once per trigger", "1 delivery", f"{len(by_hook[name])}", curl
                )
            payloads[name] = [self.check(hook, d, expected.fields.get(name, {}), curl) for d in by_hook[name]]
        for name, found in by_hook.items():  # every other delivery about the subject is held to the spec too
            if name in expected.hooks:
                continue
            hook = self.hooks[name]
            if name in expected.optional and len(found) > 1:
                what = "at most one per trigger (R22a)"
                raise Violation(self.target.api, hook.label, what, "0 or 1 delivery", str(len(found)), curl)
            payloads[name] = [self.check(hook, d, expected.fields.get(name, {}), curl) for d in found]
        if expected.ordered:
            firsts = [(by_hook[name][0].arrived, by_hook[name][0].seq) for name in expected.hooks]
            if firsts != sorted(firsts):
                arrived = sorted(expected.hooks, key=lambda n: (by_hook[n][0].arrived, by_hook[n][0].seq))
                raise Violation(
                    self.target.api,
                    self.hooks[expected.hooks[-1]].label,
                    "delivery order",
                    " before ".join(expected.hooks),
                    " before ".join(arrived),
                    curl,
                )
        return payloads

    def by_event(self, mention: str, since: float) -> dict[str, list[Delivery]]:
        """Deliveries mentioning `mention` since `since`, by the event they are (unclassified under their path)."""
        found: dict[str, list[Delivery]] = {}
        for delivery in self.capture.since(since):
            if delivery.mentions(mention):
                hook = self.classify(delivery)
                found.setdefault(hook.name if hook else delivery.path, []).append(delivery)
        return found

    def at_most(self, mention: str, since: float, allowed: int, why: str, curl: str) -> None:
        """Refused requests caused nothing: no more deliveries mentioning `mention` since `since` than
        the `allowed` ones the successful requests in that time account for."""
        found = [d for d in self.capture.since(since) if d.mentions(mention)]
        if len(found) > allowed:
            hook = self.classify(found[0])
            shown = "; ".join(
                f"{d.method} {d.path}{'?' + d.query if d.query else ''} {d.body[:160].decode('utf-8', 'replace')}"
                for d in found
            )
            raise Violation(
                self.target.api,
                hook.label if hook else f"delivery to {found[0].path}",
                "a refused request sends no webhook",
                f"{allowed} deliver{'y' if allowed == 1 else 'ies'} mentioning {mention} ({why} refused)",
                f"{len(found)}: {shown}",
                curl,
            )

    def _stray(self, expected: Expected, delivery: Delivery, curl: str) -> Violation:
        hook = self.hooks[expected.hooks[0]]
        sent = f"{delivery.method} {delivery.path}{'?' + delivery.query if delivery.query else ''}"
        sharing = [h for h in self.hooks.values() if self.path_of(h) == delivery.path]
        if sharing:  # a documented path, but the payload says it is none of the events sent there
            tells = " or ".join(", ".join(f"{k}={v}" for k, v in h.discriminators().items()) for h in sharing)
            return Violation(self.target.api, hook.label, "payload names its event", tells, sent, curl)
        documented = sorted({f"{h.method} {self.path_of(h)}" for h in self.hooks.values()})
        return Violation(
            self.target.api, hook.label, "delivered to a documented path", " or ".join(documented), sent, curl
        )

    # --- one delivery -------------------------------------------------------------------------------

    def check(self, hook: Webhook, delivery: Delivery, fields: dict[str, Any], curl: str) -> Any:
        """Method, content type, payload (schema, times, expected values) and authentication."""

        def fail(check: str, expected: str, actual: str) -> Violation:
            return Violation(self.target.api, hook.label, check, expected, actual, curl)

        if delivery.method != hook.method:
            raise fail("method", hook.method, delivery.method)
        payload = self._payload(hook, delivery, fail)
        problems = hook.problems(payload)
        if problems:
            name = hook.schema_file.name if hook.schema_file else "its schema"
            raise fail(f"payload valid against {name}", "no schema errors", "; ".join(problems[:5]))
        for name in sorted(hook.time_fields()):
            self._recent(payload.get(name), f"{name} is now, in UTC (R7)", fail)
        for name, value in fields.items():
            if payload.get(name) != value:
                raise fail(f"payload {name}", json.dumps(value), json.dumps(payload.get(name)))
        self._auth(hook, delivery, fail)
        return payload

    def _payload(self, hook: Webhook, delivery: Delivery, fail) -> Any:
        if hook.in_query:
            params = delivery.params()
            missing = [p for p in self.own_query if p not in params]
            if missing:
                raise fail("keeps the callback URL's own query", str(self.own_query), delivery.query)
            rest = [p for p in params if p not in self.own_query]
            names = [name for name, _ in rest]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise fail("query is a map of strings", "each parameter once", f"repeated: {', '.join(repeated)}")
            return dict(rest)
        media = (delivery.headers.get("content-type") or "").split(";")[0].strip().lower()
        if media != hook.content_type:
            raise fail("content type", str(hook.content_type), delivery.headers.get("content-type") or "none")
        try:
            return json.loads(delivery.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise fail("payload is JSON", "a JSON body", repr(delivery.body[:200])) from None

    def _raw_payload(self, delivery: Delivery) -> Any:
        try:
            return json.loads(delivery.body) if delivery.body else dict(delivery.params())
        except ValueError:
            return None

    @staticmethod
    def _recent(value: Any, check: str, fail) -> None:
        try:
            sent = datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            raise fail(check, "YYYY-MM-DD HH:MM:SS", repr(value)) from None
        now = datetime.now(UTC)
        if abs((now - sent).total_seconds()) > CLOCK_TOLERANCE:
            raise fail(check, f"within {CLOCK_TOLERANCE // 60} min of {now:%Y-%m-%d %H:%M:%S}", str(value))

    def _auth(self, hook: Webhook, delivery: Delivery, fail) -> None:
        """The documented scheme; the account's exact credentials when the suite knows them."""
        known = self.credentials
        expected = auth_headers(hook, known.basic, known.key) if known else {}
        for name, value in expected.items():
            actual = delivery.headers.get(name.lower())
            if not _same_credentials(actual, value):
                raise fail("documented authentication", f"{name}: {value}", f"{name}: {actual}" if actual else "none")
        if expected:
            return
        for scheme in hook.schemes:
            header = scheme.carrier.lower()
            actual = delivery.headers.get(header)
            if actual is None:
                if hook.auth_optional:
                    continue
                raise fail("documented authentication", f"{header} header ({_describe(scheme)})", "none")
            if not _well_formed(scheme, actual):
                raise fail("documented authentication", _describe(scheme), f"{header}: {actual}")


def _describe(scheme: Scheme) -> str:
    return "HTTP Basic credentials" if scheme.kind == BASIC else f"{scheme.prefix}<key>"


def _well_formed(scheme: Scheme, value: str) -> bool:
    """The value decodes as the scheme's credentials (the spec model decodes), a key not empty."""
    found = scheme.decode({scheme.header_key: value.encode("latin-1", "replace")}, [])
    return found is not None and (found.basic is not None or bool(found.key))


def _same_credentials(actual: str | None, expected: str) -> bool:
    if actual is None:
        return False
    if expected.startswith("Basic "):
        return decode_basic(actual) is not None and decode_basic(actual) == decode_basic(expected)
    return actual == expected
