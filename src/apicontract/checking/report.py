"""The check's reporter: a live progress line, then a summary per API and check, then each failure.

It is a pytest plugin handed to `pytest.main`, replacing pytest's own terminal output, so the user
sees what was checked and what failed in the project's terms (API, operation, check, expected, actual,
curl) rather than tracebacks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from apicontract.contracts.violations import Violation, Violations


@dataclass
class Outcome:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


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
        self.task = None

    # --- pytest hooks ------------------------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.progress.start()
        self.task = self.progress.add_task("", total=len(session.items))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"collecting {report.nodeid}: {report.longreprtext[-2000:]}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        api = item.callspec.params.get("api") if hasattr(item, "callspec") else None
        report.api = api if isinstance(api, str) else None  # None: a check that does not apply here
        report.check = item.originalname if hasattr(item, "originalname") else item.name
        if call.excinfo is not None and isinstance(call.excinfo.value, (Violation, Violations)):
            report.violation = call.excinfo.value

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if getattr(report, "api", None) is None:
            if self.task is not None and report.when == "setup":
                self.progress.update(self.task, advance=1)
            return
        key = (report.api, getattr(report, "check", report.nodeid))
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = self.outcomes[key]
            if report.passed:
                outcome.passed += 1
            elif report.skipped:
                outcome.skipped += 1
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
                outcome.notes.append(reason.removeprefix("Skipped: "))
            else:
                violation = getattr(report, "violation", None)
                found = violation.items if isinstance(violation, Violations) else [violation]
                outcome.failed += len(found)
                for item in found:
                    self.failures.append((key[0], report.nodeid, item, report.longreprtext[-3000:]))
            if self.task is not None:
                self.progress.update(self.task, advance=1, description=f"{key[0]} {key[1]}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
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
