"""The clause and error-code tables in contracts/README.md are the suite's own account, kept fresh, and
every ruling clause is either exercised by a check or says why no check can exercise it."""

from __future__ import annotations

import shutil
from pathlib import Path

from apicontract.contracts import clauses


def test_the_readme_tables_are_fresh(tmp_path: Path):
    copy = tmp_path / "README.md"
    shutil.copy(clauses.README, copy)
    assert not clauses.refresh(copy), "run `python -m apicontract.contracts.clauses` and commit contracts/README.md"


def test_every_clause_has_a_check_or_a_reason():
    checked = set().union(*clauses.collect().values())
    assert [c.id for c in clauses.catalogue() if c.id not in checked and not c.not_a_check] == []


def test_checks_name_only_catalogued_clauses():
    known = {c.id for c in clauses.catalogue()}
    assert {name: ids - known for name, ids in clauses.collect().items() if ids - known} == {}


def test_every_check_names_its_clauses():
    assert [name for name, ids in clauses.collect().items() if not ids] == []
