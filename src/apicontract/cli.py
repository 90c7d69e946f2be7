"""The `apicontract` command: one entry point for every job the project does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from apicontract import __version__
from apicontract.paths import Layout, layout

app = typer.Typer(
    name="apicontract",
    help="The machine-checkable contract for the sim-v1, sim-v2, sim-v3 and cpaas HTTP APIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help="The project checkout to work on (default: found from the current folder)."),
]
ApisArgument = Annotated[list[str] | None, typer.Argument(help="APIs to work on (default: all).", show_default=False)]


def _version(value: bool) -> None:
    if value:
        out.print(f"apicontract {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """The machine-checkable contract for the sim-v1, sim-v2, sim-v3 and cpaas HTTP APIs."""


def _select(where: Layout, apis: list[str] | None) -> list[str]:
    known = where.apis()
    if not known:
        err.print(f"[red]error:[/red] no specs found under {where.spec}")
        raise typer.Exit(2)
    unknown = [a for a in apis or [] if a not in known]
    if unknown:
        err.print(f"[red]error:[/red] unknown API {', '.join(unknown)} (known: {', '.join(known)})")
        raise typer.Exit(2)
    return list(apis) if apis else known


def _layout(root: Path | None) -> Layout:
    if root is not None and not (root / "spec").is_dir():
        err.print(f"[red]error:[/red] {root} has no spec/ folder")
        raise typer.Exit(2)
    return layout(root)


@app.command()
def lint(
    apis: ApisArgument = None,
    target: Annotated[
        Path | None, typer.Option("--target", help="Validate this target file (for `check --target`) instead.")
    ] = None,
    root: RootOption = None,
) -> None:
    """Check the specs: OpenAPI validity, project rules, every example against its schema, fixtures."""
    from apicontract.specs.lint import lint as run_lint

    where = _layout(root)
    if target is not None:
        _lint_target(where, target)
        return
    selected = _select(where, apis)
    findings = run_lint(where, selected)
    for finding in findings:
        out.print(finding.render(where), markup=False)
    if findings:
        err.print(f"[red]lint: {len(findings)} finding(s)[/red] in {', '.join(selected)}")
        raise typer.Exit(1)
    err.print(f"[green]lint: clean[/green] ({', '.join(selected)})")


def _lint_target(where: Layout, path: Path) -> None:
    from apicontract.contracts.targetfile import TargetFileError, read_target_file
    from apicontract.generated import load_bundle

    try:
        found = read_target_file(path, {api: load_bundle(where, api) for api in where.apis()})
    except TargetFileError as exc:
        for problem in exc.problems:
            out.print(f"{path}: {problem}", markup=False, highlight=False)
        err.print(f"[red]lint: {len(exc.problems)} finding(s)[/red] in target file {escape(str(path))}")
        raise typer.Exit(2 if exc.problems == ["no such file"] else 1) from None
    err.print(f"[green]lint: target file clean[/green] ({', '.join(found)})")


@app.command()
def build(
    check: Annotated[bool, typer.Option("--check", help="Do not write; exit 1 if generated/ is stale.")] = False,
    root: RootOption = None,
) -> None:
    """Write generated/: bundled single-file specs and pydantic v2 models."""
    from apicontract.specs.build import BuildError, write
    from apicontract.specs.build import check as run_check

    where = _layout(root)
    selected = _select(where, None)
    try:
        if check:
            drifts = run_check(where, selected)
        else:
            written = write(where, selected)
    except BuildError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if not check:
        err.print(f"[green]build:[/green] generated/ holds {len(written)} files for {', '.join(selected)}")
        return
    if drifts:
        for drift in drifts:
            out.print(f"{drift.path}: {drift.kind}", markup=False)
            if drift.diff:
                out.print(drift.diff, markup=False)
        err.print(f"[red]build --check: {len(drifts)} file(s) differ from a fresh build; run `apicontract build`[/red]")
        raise typer.Exit(1)
    err.print("[green]build --check: generated/ is fresh[/green]")


@app.command()
def docs(
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write the site into (default: site/ in the checkout, else ./site)."),
    ] = None,
    root: RootOption = None,
) -> None:
    """Build the static, offline API reference (a folder of HTML pages; open index.html)."""
    from apicontract.docs.site import DocsError, build_site

    where = _layout(root)
    target = out_dir if out_dir is not None else (where.root or Path.cwd()) / "site"
    try:
        written = build_site(where, target)
    except DocsError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    index = (target / "index.html").resolve()
    err.print(f"[green]docs:[/green] wrote {len(written)} files to {target}")
    out.print(index.as_uri(), markup=False)


def _pairs(values: list[str] | None, option: str, apis: list[str], single_ok: bool) -> dict[str, str]:
    """`API=VALUE` options; a bare VALUE is allowed when exactly one API is served."""
    found: dict[str, str] = {}
    for value in values or []:
        api, sep, rest = value.partition("=")
        if not sep:
            if not (single_ok and len(apis) == 1):
                err.print(f"[red]error:[/red] {option} {value}: write API=VALUE (serving {', '.join(apis)})")
                raise typer.Exit(2)
            api, rest = apis[0], value
        if api not in apis:
            err.print(f"[red]error:[/red] {option} {value}: {api} is not served ({', '.join(apis)})")
            raise typer.Exit(2)
        found[api] = rest
    return found


@app.command()
def serve(
    apis: ApisArgument = None,
    host: Annotated[str, typer.Option(help="Address to listen on; plain HTTP only on loopback (R6).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port serving every API under its prefix (/sim-v1, ...).")] = 8080,
    api_port: Annotated[
        list[str] | None,
        typer.Option(
            "--api-port",
            help="API=PORT: also serve that API on its own port, at its real base URL's path (cpaas: /api).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep state here across restarts (default: a temporary folder).")
    ] = None,
    fixtures: Annotated[
        list[str] | None, typer.Option(help="[API=]FILE: demo accounts instead of spec/<api>/fixtures.yaml.")
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate: serve HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")] = None,
    tls_self_signed: Annotated[bool, typer.Option(help="Serve HTTPS with a fresh self-signed certificate.")] = False,
    webhook_url: Annotated[
        str | None, typer.Option(help="Endpoint for the SIM APIs' webhooks (e.g. http://127.0.0.1:9000/hooks).")
    ] = None,
    callback_url: Annotated[str | None, typer.Option(help="URL for the cpaas start/end callbacks.")] = None,
    time_scale: Annotated[
        float, typer.Option(help="Multiplies cpaas repeat intervals (0: repeat at once).", min=0.0)
    ] = 1.0,
    root: RootOption = None,
) -> None:
    """Run the stateful reference server of the APIs (all by default) until Ctrl-C."""
    from apicontract.generated import NotBuilt
    from apicontract.server.serve import ServeError, ServeOptions
    from apicontract.server.serve import serve as run_server

    where = _layout(root)
    selected = _select(where, apis)
    ports = {}
    for api, value in _pairs(api_port, "--api-port", selected, single_ok=False).items():
        if not value.isdigit() or not 0 < int(value) < 65536:
            err.print(f"[red]error:[/red] --api-port {api}={value}: not a port number")
            raise typer.Exit(2)
        ports[api] = int(value)
    options = ServeOptions(
        layout=where,
        apis=selected,
        host=host,
        port=port,
        api_ports=ports,
        data_dir=data_dir,
        fixtures={api: Path(v) for api, v in _pairs(fixtures, "--fixtures", selected, single_ok=True).items()},
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_self_signed=tls_self_signed,
        webhook_url=webhook_url,
        callback_url=callback_url,
        time_scale=time_scale,
    )
    try:
        run_server(options, out)
    except (ServeError, NotBuilt) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("stopped")


@app.command()
def check(
    apis: ApisArgument = None,
    base_url: Annotated[
        list[str] | None, typer.Option(help="[API=]URL of the implementation (default: an embedded reference server).")
    ] = None,
    basic: Annotated[list[str] | None, typer.Option(help="[API=]KEY:SECRET for sim-v1.")] = None,
    api_key: Annotated[list[str] | None, typer.Option(help="[API=]KEY for sim-v2 / sim-v3.")] = None,
    access_key: Annotated[list[str] | None, typer.Option(help="[API=]TOKEN for cpaas.")] = None,
    second_account: Annotated[
        list[str] | None, typer.Option(help="[API=]credentials of a second account (cross-account checks).")
    ] = None,
    target: Annotated[
        Path | None,
        typer.Option(help="Target file: the implementation's base URLs, accounts, inventories and webhook URLs."),
    ] = None,
    fixtures: Annotated[
        list[str] | None, typer.Option(help="[API=]FILE: one API's accounts and identifiers (`accounts:` list).")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="Known violations: written by a first run; later runs fail only on new ones."),
    ] = None,
    webhook_url: Annotated[
        list[str] | None, typer.Option(help="[API=]URL the target delivers webhooks to; the suite listens there.")
    ] = None,
    examples: Annotated[int, typer.Option(help="Generated examples per operation and mode.", min=1)] = 25,
    seed: Annotated[int | None, typer.Option(help="Seed: the same seed generates the same requests.")] = None,
    junit_xml: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    require_https: Annotated[bool, typer.Option(help="A plain-HTTP target is a violation (R6).")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Parallel processes, each checking whole APIs [default: one per core, at most one per API].", min=1
        ),
    ] = None,
    select: Annotated[
        str | None, typer.Option("-k", help="Run only checks matching this pytest -k expression.")
    ] = None,
    clause: Annotated[
        list[str] | None,
        typer.Option("--clause", help="Run only the checks of a ruling clause (R9, R24.3; repeatable)."),
    ] = None,
    root: RootOption = None,
) -> None:
    """Check an implementation (by default the embedded reference server) against the contract."""
    from apicontract.checking.run import CheckError, CheckOptions, run_check
    from apicontract.generated import load_bundle
    from apicontract.specs.security import credential_option

    where = _layout(root)
    described: dict = {}
    if target is not None:
        from apicontract.contracts.targetfile import TargetFileError, read_target_file

        try:
            described = read_target_file(target, {api: load_bundle(where, api) for api in where.apis()})
        except TargetFileError as exc:
            err.print(f"[red]error:[/red] target file {escape(str(exc.path))}:")
            for problem in exc.problems:
                err.print(f"  {escape(problem)}", highlight=False)
            raise typer.Exit(2) from None
        if not apis:
            apis = list(described)
        missing = [api for api in apis or [] if api not in described]
        if missing:
            err.print(f"[red]error:[/red] the target file does not describe {', '.join(missing)}")
            raise typer.Exit(2)
    selected = _select(where, apis)
    credentials: dict[str, str] = {}
    given = basic or api_key or access_key
    takes = {api: credential_option(load_bundle(where, api)) for api in where.apis()} if given else {}
    for option, values in (("--basic", basic), ("--api-key", api_key), ("--access-key", access_key)):
        for_apis = {api for api, its in takes.items() if its == option}
        for api, value in _pairs(values, option, [a for a in selected if a in for_apis] or selected, True).items():
            if api not in for_apis:
                err.print(f"[red]error:[/red] {option} is for {', '.join(sorted(for_apis))}, not {api}")
                raise typer.Exit(2)
            credentials[api] = value
    urls = _pairs(base_url, "--base-url", selected, single_ok=True)
    for api, url in urls.items():
        if api in described and described[api].base_url and described[api].base_url != url:
            err.print(f"note: --base-url {api}={url} overrides the target file's {described[api].base_url}")
    for api, entry in described.items():
        if api in selected and entry.base_url:
            urls.setdefault(api, entry.base_url)
    if base_url and set(urls) != set(selected):
        err.print(f"[red]error:[/red] --base-url is needed for every checked API ({', '.join(selected)})")
        raise typer.Exit(2)
    if workers is None:
        workers = max(1, min(os.cpu_count() or 1, len(selected)))
    if workers > 1:
        import importlib.util

        if importlib.util.find_spec("xdist") is None:
            err.print("[red]error:[/red] --workers needs pytest-xdist (`pip install pytest-xdist`)")
            raise typer.Exit(2)
    if junit_xml is not None and junit_xml.is_dir():
        err.print(f"[red]error:[/red] --junit-xml {junit_xml} is a folder")
        raise typer.Exit(2)
    options = CheckOptions(
        layout=where,
        apis=selected,
        base_urls=urls,
        credentials=credentials,
        second=_pairs(second_account, "--second-account", selected, single_ok=True),
        fixtures={a: Path(v) for a, v in _pairs(fixtures, "--fixtures", selected, single_ok=True).items()},
        webhook_urls=_pairs(webhook_url, "--webhook-url", selected, single_ok=True),
        examples=examples,
        seed=seed,
        junit_xml=junit_xml,
        require_https=require_https,
        workers=workers,
        select=select,
        target_file=target,
        baseline=baseline,
        clauses=list(clause or []),
    )
    try:
        code = run_check(options, out)
    except CheckError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    raise typer.Exit(code)


webhooks_app = typer.Typer(
    help="Webhooks and callbacks: test a consumer's receiver.", no_args_is_help=True, pretty_exceptions_enable=False
)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("test-receiver")
def test_receiver(
    url: Annotated[str, typer.Argument(help="The receiver's endpoint (the URL you configure on the platform).")],
    api: Annotated[str, typer.Option(help="Whose webhooks to send: sim-v1, sim-v3 or cpaas.")],
    basic: Annotated[str | None, typer.Option(help="USER:PASS the receiver expects (sim-v1; cpaas if set).")] = None,
    api_key: Annotated[str | None, typer.Option(help="KEY the receiver expects in Authorization (sim-v3).")] = None,
    examples: Annotated[int, typer.Option(help="Valid deliveries per webhook.", min=1)] = 5,
    seed: Annotated[int | None, typer.Option(help="Seed: the same seed sends the same payloads.")] = None,
    root: RootOption = None,
) -> None:
    """Send valid events to URL as the platform would; each must be answered 2xx within the spec's window,
    and deliveries with wrong or no credentials must not be."""
    from apicontract.webhooks.sender import ReceiverError, check_receiver, receiver_apis, render

    where = _layout(root)
    if api not in receiver_apis(where):
        err.print(f"[red]error:[/red] --api {escape(api)}: choose one of {', '.join(receiver_apis(where))}")
        raise typer.Exit(2)
    pair = None
    if basic is not None:
        user, sep, password = basic.partition(":")
        if not sep or not user:
            err.print("[red]error:[/red] --basic takes USER:PASS")
            raise typer.Exit(2)
        pair = (user, password)
    try:
        attempts = check_receiver(where, api, url, basic=pair, key=api_key, examples=examples, seed=seed)
    except ReceiverError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    render(out, api, attempts)
    raise typer.Exit(0 if all(a.passed for a in attempts) else 1)


def run() -> None:
    """Console-script entry point: users see a one-line error, never a traceback."""
    import sys

    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except ModuleNotFoundError as exc:  # an installation problem, not a bug: say how to repair it
        err.print(f"[red]error:[/red] {escape(str(exc))}; reinstall apicontract (`pip install .` in the checkout)")
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the CLI's promise
        err.print(f"[red]error:[/red] {escape(f'{type(exc).__name__}: {exc}')}")
        err.print("This is a bug in apicontract; please report it with the command you ran.")
        sys.exit(3)
