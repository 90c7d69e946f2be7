"""An implementation written independently from the sources and rulings (tests/independent/, not the
reference server: different code, stack, credentials, identifiers, inventories, all SIMs unprovisioned)
passes the whole suite, and the suite catches each of its deliberate faults (`--fault`), running only the
checks of the ruling the fault breaks (a sample here; bench/independent_faults.py runs them all)."""

from __future__ import annotations

from pathlib import Path

import pytest

from independent import IndependentFault, faults, running
from runs import check

# a sample in CI, two per API, across kinds of rule; bench/independent_faults.py runs every one of them
SAMPLE = {
    "v1-update-omitted-keeps",
    "v1-event-on-conflict",
    "v2-msisdn-kept-on-delete",
    "v2-throttle-body-only",
    "v3-alias-null-ignored",
    "v3-usage-end-inclusive",
    "cpaas-order-by-name",
    "cpaas-folder-delete-orphans",
}
FAULTS = [f for f in faults() if f.name in SAMPLE]


def test_the_sample_is_real():
    assert {f.name for f in FAULTS} == SAMPLE


def test_the_independent_implementation_passes_the_whole_suite(tmp_path: Path):
    with running(tmp_path) as target:
        code, output = check(["sim-v1", "sim-v2", "sim-v3", "cpaas"], {}, target_file=target, reference=False)
    assert code == 0, output[-8000:]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_the_suite_catches_an_independent_fault(fault: IndependentFault, tmp_path: Path):
    with running(tmp_path, fault.name) as target:
        code, output = check([fault.api], {}, target_file=target, reference=False, clauses=[fault.ruling], examples=25)
    assert code == 1, f"{fault.name} ({fault.ruling}: {fault.what}) was not caught:\n{output[-3000:]}"
