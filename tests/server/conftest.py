"""Fixtures for the reference server's tests: a real server on a real socket, a fresh SQLite data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer
from apicontract.specs.yamlfile import load

ROOT = Path(__file__).resolve().parents[2]


def fixtures(api: str) -> dict:
    return load(ROOT / "spec" / api / "fixtures.yaml")


def start(apis: list[str], data_dir: Path, **options) -> EmbeddedServer:
    config = ServerConfig(layout(ROOT), data_dir, apis, **options)
    return EmbeddedServer(config).start()


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
