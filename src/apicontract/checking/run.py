"""Run the contract suite: pick or start the target, make sure it answers, run pytest, map the outcome.

Exit codes: 0 every check passed, 1 the target violates the contract, 2 a usage or connection problem
(a target that does not answer is never reported as a pass).
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from rich.console import Console

from apicontract.checking.report import Reporter
from apicontract.generated import load_bundle
from apicontract.paths import Layout
from apicontract.specs.security import credential_option

if TYPE_CHECKING:
    from apicontract.server.embedded import EmbeddedServer


@dataclass
class CheckOptions:
    layout: Layout
    apis: list[str]
    base_urls: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)  # api -> KEY:SECRET / KEY / TOKEN
    second: dict[str, str] = field(default_factory=dict)
    fixtures: dict[str, Path] = field(default_factory=dict)
    webhook_urls: dict[str, str] = field(default_factory=dict)
    examples: int = 25
    seed: int | None = None
    junit_xml: Path | None = None
    require_https: bool = False
    workers: int = 1
    select: str | None = None  # a pytest -k expression, to run part of the suite
    target_file: Path | None = None
    baseline: Path | None = None  # known violations: recorded by a first run, then only new ones fail
    clauses: list[str] = field(default_factory=list)  # run only the checks of these ruling clauses
    reference: bool = False  # the target is the reference server with the spec's demo fixtures


class CheckError(Exception):
    """A usage or connection problem: exit 2."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def preflight(options: CheckOptions, console: Console) -> None:
    """Every target must answer before anything is checked."""
    for api, url in options.base_urls.items():
        try:
            httpx.get(url.rstrip("/") + "/", timeout=10, verify=False)
        except httpx.HTTPError as exc:
            raise CheckError(f"{api}: the target at {url} does not answer ({type(exc).__name__}: {exc})") from None


def pytest_args(options: CheckOptions) -> list[str]:
    args = [
        "--pyargs",
        "apicontract.contracts",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        # failures are Violations the reporter prints; assertion rewriting would recompile every module of
        # the pytest plugins (schemathesis, hypothesis) at each start where bytecode is not cached (~10 s)
        "--assert=plain",
        # the project's own pytest addopts (`-ra`) need the terminal plugin disabled above: run from the
        # checkout, they made pytest refuse to start (exit 4)
        "-o",
        "addopts=",
        "--examples",
        str(options.examples),
    ]
    for api in options.apis:
        args += ["--api", api]
        if api in options.base_urls:
            args += ["--base-url", f"{api}={options.base_urls[api]}"]
        if api in options.credentials:
            option = credential_option(load_bundle(options.layout, api))
            args += [option, f"{api}={options.credentials[api]}"]
        if api in options.second:
            args += ["--second-account", f"{api}={options.second[api]}"]
        if api in options.fixtures:
            args += ["--target-fixtures", f"{api}={options.fixtures[api]}"]
        if api in options.webhook_urls:
            args += ["--webhook-url", f"{api}={options.webhook_urls[api]}"]
    if options.seed is not None:
        args += ["--contract-seed", str(options.seed), "-p", "no:randomly"]
    if options.require_https:
        args.append("--require-https")
    if options.reference:
        args.append("--reference-fixtures")
    if options.target_file:
        args += ["--target", str(options.target_file)]
    if options.junit_xml:
        args += [
            "--junit-xml",
            str(options.junit_xml),
            "-o",
            "junit_family=xunit2",
            "-o",
            "junit_suite_name=apicontract",
        ]
    if options.workers > 1:  # each API's stateful checks stay in one process (the plugin groups them)
        args += ["-n", str(options.workers)]
    if options.select:
        args += ["-k", options.select]
    for clause in options.clauses:
        args += ["--clauses", clause]
    return args


def read_baseline(path: Path) -> set[tuple[str, str, str]]:
    """The violations a baseline file records, by (API, operation, check)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {(v["api"], v["operation"], v["check"]) for v in data["violations"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckError(f"--baseline {path}: not a baseline this command wrote ({exc})") from None


def write_baseline(path: Path, violations: list) -> None:
    rows = sorted({(v.api, v.operation, v.check) for v in violations})
    data = {"violations": [{"api": a, "operation": o, "check": c} for a, o, c in rows]}
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CheckError(f"--baseline {path}: cannot write it ({exc})") from None


def run_check(options: CheckOptions, console: Console) -> int:
    embedded = None
    try:
        if options.target_file is not None:
            _urls_from_target(options, options.target_file)
        if not options.base_urls and options.target_file is None:
            embedded = _start_embedded(options)
            console.print(f"checking the embedded reference server at {embedded.base_url}", highlight=False)
        preflight(options, console)
        known = read_baseline(options.baseline) if options.baseline and options.baseline.exists() else None
        reporter = Reporter(console, known)
        code = pytest.main(pytest_args(options), plugins=[reporter])
        reporter.summary()
    finally:
        if embedded is not None:
            embedded.stop()
            shutil.rmtree(embedded.config.data_dir, ignore_errors=True)
    if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and not reporter.errors:
        if options.baseline is not None and known is None:
            write_baseline(options.baseline, reporter.violations())
            console.print(
                f"baseline written to {options.baseline}: {len(reporter.violations())} known violation(s); "
                "later runs with --baseline fail only on new ones"
            )
            return 0
        if reporter.new == 0:
            if reporter.failed:
                console.print(f"[green]contract check passed[/green]: no new violation ({reporter.failed} known)")
            else:
                console.print(f"[green]contract check passed[/green] ({', '.join(options.apis)})")
            return 0
        console.print(f"[red]contract check failed: {reporter.new} violation(s)[/red]")
        return 1
    raise CheckError(
        f"the suite could not run (pytest exit {int(code)}){': ' + reporter.errors[0] if reporter.errors else ''}"
    )


def _urls_from_target(options: CheckOptions, target_file: Path) -> None:
    """Base URLs the target file gives, for the APIs no --base-url names (the file is validated again by the
    suite's plugin; here only what the preflight needs)."""
    from apicontract.contracts.targetfile import TargetFileError, read_target_file
    from apicontract.generated import load_bundle

    try:
        described = read_target_file(
            target_file, {api: load_bundle(options.layout, api) for api in options.layout.apis()}
        )
    except TargetFileError as exc:
        raise CheckError(f"target file {exc.path}: " + "; ".join(exc.problems)) from None
    for api in options.apis:
        base_url = described[api].base_url if api in described else None
        if base_url:
            options.base_urls.setdefault(api, base_url)


def _start_embedded(options: CheckOptions) -> EmbeddedServer:
    from apicontract.server.app import ServerConfig
    from apicontract.server.embedded import EmbeddedServer

    # each API delivers to a port of its own, so each API's checks can run in a process of its own (--workers)
    endpoints = {api: f"http://127.0.0.1:{free_port()}/events" for api in options.apis}
    config = ServerConfig(
        options.layout,
        Path(tempfile.mkdtemp(prefix="apicontract-check-")),
        options.apis,
        {api: path for api, path in options.fixtures.items()},
        endpoints=endpoints,
        time_scale=0,
    )
    server = EmbeddedServer(config).start()
    options.reference = True
    for api in options.apis:
        options.base_urls[api] = server.url(api)
        options.webhook_urls.setdefault(api, endpoints[api])
    return server
