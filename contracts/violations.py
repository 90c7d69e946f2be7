"""A contract violation as a structured failure: what was checked, expected, seen, and how to replay it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass
class Violation(AssertionError):
    """Raised by a check; pytest shows `str()`, the reporter and JUnit use the fields."""

    api: str
    operation: str  # e.g. "POST /sim/{uuid}" or "webhook xdr"
    check: str  # e.g. "documented_error_code"
    expected: str
    actual: str
    curl: str = ""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"[{self.api}] {self.operation}: {self.check}\n  expected: {self.expected}\n  actual:   {self.actual}"
        return text + (f"\n  reproduce: {self.curl}" if self.curl else "")


def curl(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | str | None = None) -> str:
    """A copy-pasteable curl command for a request."""
    parts = ["curl", "-sS", "-i", "-X", method.upper()]
    for name, value in (headers or {}).items():
        parts += ["-H", f"{name}: {value}"]
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        parts += ["--data-binary", text]
    parts.append(url)
    return shlex.join(parts)


class Violations(AssertionError):
    """Several distinct violations found by one check (a behaviour machine keeps exploring after each)."""

    def __init__(self, items: list[Violation], counts: list[int] | None = None):
        self.items = items
        self.counts = counts or [1] * len(items)
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        for violation, count in zip(self.items, self.counts, strict=True):
            seen = f"  (seen {count} times)" if count > 1 else ""
            parts.append(str(violation) + seen)
        return "\n\n".join(parts)
