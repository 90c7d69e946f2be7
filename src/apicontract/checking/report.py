"""The check's reporter: a live progress line, then a summary per API and check, then each failure.

It is a pytest plugin handed to `pytest.main`, replacing pytest's own terminal output, so the user
sees what was checked and what failed in the project's terms (API, operation, check, expected, actual,
curl) rather than tracebacks.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from apicontract.contracts.plugin import META
from apicontract.contracts.violations import Violation


@dataclass
class Outcome:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


PLAIN_EVERY = 15  # seconds between progress lines in a log


class Reporter:
    def __init__(self, console: Console, known: set[tuple[str, str, str]] | None = None):
        self.console = console
        self.known = known or set()
        self.outcomes: dict[tuple[str, str], Outcome] = defaultdict(Outcome)
        self.failures: list[tuple[str, str, Violation | None, str]] = []
        self.errors: list[str] = []
        self.progress = Progress(
            TextColumn("[bold]checking[/bold] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None
        self.total = self.done = 0
        self.started = self.last_line = time.monotonic()

    # --- pytest hooks ------------------------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        self.started = self.last_line = time.monotonic()
        if self.console.is_terminal:  # a live display; CI logs get a plain line now and then instead
            self.progress.start()
            self.task = self.progress.add_task("", total=self.total)
        else:
            self.console.print(f"checking: {self.total} checks", highlight=False)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"collecting {report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        """With --workers the items are collected in the workers: count them once (they are the same)."""
        if not self.total:
            self.total = len(ids)
            if self.task is not None:
                self.progress.update(self.task, total=self.total)
            else:
                self.console.print(f"checking: {self.total} checks, in parallel processes", highlight=False)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # the suite's plugin fills it (in every worker); user_properties hold any object, this one is a dict
        meta = cast(dict[str, Any], dict(report.user_properties).get(META, {}))
        api: str | None = meta.get("api")
        check: str = meta.get("check", report.nodeid)
        if report.when == "teardown":
            self.done += 1
            self._plain_progress(api, check)
        if api is None:  # a check that does not apply here
            if self.task is not None and report.when == "setup":
                self.progress.update(self.task, advance=1)
            return
        key = (api, check)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = self.outcomes[key]
            if report.passed:
                outcome.passed += 1
            elif report.skipped:
                outcome.skipped += 1
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
                outcome.notes.append(reason.removeprefix("Skipped: "))
            else:
                found: list[Violation | None] = [Violation(**v) for v in meta.get("violations") or []] or [None]
                outcome.failed += len(found)
                for item in found:
                    self.failures.append((key[0], report.nodeid, item, report.longreprtext[-3000:]))
            if self.task is not None:
                self.progress.update(self.task, advance=1, description=f"{key[0]} {key[1]}")

    def _plain_progress(self, api: str | None, check: str) -> None:
        """In a log (no terminal): a line every PLAIN_EVERY seconds, saying how far the check is and where."""
        now = time.monotonic()
        if self.console.is_terminal or now - self.last_line < PLAIN_EVERY:
            return
        self.last_line = now
        where = f"{api or ''} {check}".strip()
        failed = f", {self.failed} violation(s) so far" if self.failed else ""
        self.console.print(
            f"[{int(now - self.started) // 60}:{int(now - self.started) % 60:02d}] {self.done}/{self.total} checks "
            f"done{failed}; now: {where}",
            highlight=False,
            markup=False,
        )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.task is not None:
            self.progress.stop()

    # --- output ------------------------------------------------------------------------------------

    def summary(self) -> None:
        table = Table(title="contract check", show_lines=False)
        for column in ("API", "check", "passed", "failed", "skipped"):
            numeric = column in ("passed", "failed", "skipped")
            # fold long check names rather than cut them: CI logs are often 80 columns wide
            table.add_column(column, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric)
        for (api, check), outcome in sorted(self.outcomes.items()):
            status = "[red]" if outcome.failed else "[green]"
            table.add_row(
                api,
                check,
                f"{status}{outcome.passed}",
                f"{'[red]' if outcome.failed else ''}{outcome.failed}",
                str(outcome.skipped),
            )
        self.console.print(table)
        skipped = [(api, check, note) for (api, check), o in sorted(self.outcomes.items()) for note in o.notes]
        for api, check, note in dict.fromkeys(skipped):
            self.console.print(f"skipped: [{api}] {check}: {note}", markup=False, highlight=False)
        for _api, nodeid, violation, text in self.failures:
            if self._known(violation):
                self.console.rule(f"[yellow]KNOWN[/yellow] {nodeid} (in the baseline)")
            else:
                self.console.rule(f"[red]FAILED[/red] {nodeid}")
            if violation is not None:
                self.console.print(str(violation), markup=False, highlight=False)
            else:
                self.console.print(text, markup=False, highlight=False)
        for error in self.errors:
            self.console.print(f"[red]error:[/red] {error}", highlight=False)

    @property
    def failed(self) -> int:
        return sum(o.failed for o in self.outcomes.values())

    def violations(self) -> list[Violation]:
        return [v for _, _, v, _ in self.failures if v is not None]

    def _known(self, violation: Violation | None) -> bool:
        return violation is not None and (violation.api, violation.operation, violation.check) in self.known

    @property
    def new(self) -> int:
        """Failures not recorded in the baseline (every failure without one)."""
        return sum(1 for _, _, v, _ in self.failures if not self._known(v))
