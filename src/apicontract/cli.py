"""The `apicontract` command: one entry point for every job the project does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
def lint(apis: ApisArgument = None, root: RootOption = None) -> None:
    """Check the specs: OpenAPI validity, project rules, every example against its schema, fixtures."""
    from apicontract.specs.lint import lint as run_lint

    where = _layout(root)
    selected = _select(where, apis)
    findings = run_lint(where, selected)
    for finding in findings:
        out.print(finding.render(where), markup=False)
    if findings:
        err.print(f"[red]lint: {len(findings)} finding(s)[/red] in {', '.join(selected)}")
        raise typer.Exit(1)
    err.print(f"[green]lint: clean[/green] ({', '.join(selected)})")


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
        err.print(f"[red]error:[/red] {exc}", markup=False)
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


def run() -> None:
    """Console-script entry point: users see a one-line error, never a traceback."""
    import sys

    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the CLI's promise
        err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", markup=False)
        err.print("This is a bug in apicontract; please report it with the command you ran.")
        sys.exit(3)
