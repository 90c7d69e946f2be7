"""Proof of power: the contract suite catches each deliberately broken server, and passes the correct one.

Each fault (faults.py) runs the reference server in this process with one small defect, written from a
ruling, and the runner behind `apicontract check` against its URL, running only the checks that exercise
the clauses the fault breaks (`--clause`): exit 1 (a contract violation) is required. Every clause some
check exercises has a fault; a clause without one is a gap. The correct server must pass the full check.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from apicontract.checking.run import CheckOptions, run_check
from apicontract.contracts.clauses import catalogue, collect
from apicontract.paths import layout

from faults import FAULTS, Fault
from runs import ROOT, check, hooks_for, serve

SEED = 7


def check_fault(fault: Fault, url: str, hooks: dict[str, str], seed: int = SEED) -> tuple[int, str]:
    """`apicontract check API --clause ...` against the faulty server (with `--require-https` where it says)."""
    if not fault.require_https:
        return check(
            [fault.api], {fault.api: url}, hooks, clauses=list(fault.clauses), examples=fault.examples, seed=seed
        )
    output = io.StringIO()
    options = CheckOptions(
        layout=layout(ROOT),
        apis=[fault.api],
        base_urls={fault.api: url},
        webhook_urls=hooks,
        examples=fault.examples,
        seed=seed,
        reference=True,
        clauses=list(fault.clauses),
        require_https=True,
    )
    code = run_check(options, Console(file=output, width=200, force_terminal=False))
    return code, output.getvalue()


def test_faults_are_distinct_and_cover_every_api():
    assert len({f.name for f in FAULTS}) == len(FAULTS) >= 90
    assert {f.api for f in FAULTS} == {"sim-v1", "sim-v2", "sim-v3", "cpaas"}
    assert all(f.clauses for f in FAULTS)


def test_faults_name_real_clauses():
    known = {c.id for c in catalogue()}
    unknown = {f.name: [c for c in f.clauses if c not in known] for f in FAULTS}
    assert not {name: ids for name, ids in unknown.items() if ids}


def test_every_checked_clause_has_a_fault():
    """A clause some check exercises, with no fault that breaks it, is a gap in the proof of power."""
    checked = set().union(*collect().values())
    broken = {c for f in FAULTS for c in f.clauses}
    assert sorted(checked - broken) == []


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_the_suite_catches(fault: Fault, tmp_path: Path):
    server, capture = serve(tmp_path, [fault.api])
    try:
        fault.apply(server.app)
        code, output = check_fault(fault, server.url(fault.api), hooks_for(capture, [fault.api]))
    finally:
        server.stop()
    assert code == 1, f"{fault.name} ({fault.what}; {', '.join(fault.clauses)}) was not caught:\n{output[-3000:]}"
    assert "violation" in output


@pytest.mark.parametrize("api", ["sim-v1", "sim-v2", "sim-v3", "cpaas"])
def test_the_correct_server_passes_the_whole_suite(api: str, tmp_path: Path):
    server, capture = serve(tmp_path, [api])
    try:
        code, output = check([api], {api: server.url(api)}, hooks_for(capture, [api]))
    finally:
        server.stop()
    assert code == 0, output[-5000:]
