"""Fixtures for every test: the checkout, its bundled specs, and reference servers on real sockets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apicontract.paths import Layout, layout
from apicontract.server.embedded import EmbeddedServer
from apicontract.specs.bundle import bundle

from projectkit import ROOT
from serverkit import start


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (the project's default): half again as many processes as cores, since most tests wait on
    sockets, subprocesses and webhook windows rather than compute."""
    return max(2, (os.cpu_count() or 1) * 3 // 2)


@pytest.fixture(scope="session")
def where() -> Layout:
    return layout(ROOT)


@pytest.fixture(scope="session")
def bundles(where: Layout) -> dict[str, dict]:
    """Each API freshly bundled from spec/ (not read from generated/, which has its own freshness test)."""
    return {api: bundle(api, where.entry(api)).doc for api in where.apis()}


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Start servers with options; all are stopped at the end of the test."""
    started: list[EmbeddedServer] = []

    def make(apis: list[str], data_dir: Path | None = None, **options) -> EmbeddedServer:
        server = start(apis, data_dir or tmp_path / f"data-{len(started)}", **options)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as session:
        yield session
