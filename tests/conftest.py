"""Shared fixtures: the checkout under test and its bundled specs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from apicontract.paths import Layout, layout
from apicontract.specs.bundle import bundle

ROOT = Path(__file__).resolve().parents[1]
APIS = layout(ROOT).apis()


@pytest.fixture(scope="session")
def where() -> Layout:
    return layout(ROOT)


@pytest.fixture(scope="session")
def bundles(where: Layout) -> dict[str, dict]:
    """Each API freshly bundled from spec/ (not read from generated/, which has its own freshness test)."""
    return {api: bundle(api, where.entry(api)).doc for api in where.apis()}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed command line as a user would, capturing what it prints."""
    return subprocess.run(
        [sys.executable, "-m", "apicontract", *args], cwd=cwd or ROOT, capture_output=True, text=True, check=False
    )
