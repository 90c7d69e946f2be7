"""What the reference server's tests share: fixtures files and a real server on a real socket."""

from __future__ import annotations

from pathlib import Path

from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer
from apicontract.specs.yamlfile import load

from projectkit import ROOT

__all__ = ["ROOT", "fixtures", "start"]


def fixtures(api: str) -> dict:
    return load(ROOT / "spec" / api / "fixtures.yaml")


def start(apis: list[str], data_dir: Path, **options) -> EmbeddedServer:
    config = ServerConfig(layout(ROOT), data_dir, apis, **options)
    return EmbeddedServer(config).start()
