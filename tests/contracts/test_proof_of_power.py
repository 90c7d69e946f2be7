"""Proof of power: the contract suite catches each deliberately broken server, and passes the correct one.

Each fault runs the reference server in this process with one small defect, and the runner behind
`apicontract check` against its URL (in-process, as the CLI calls it): exit 1 (a contract violation) is
required. The correct
server must pass the full check.
"""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from rich.console import Console

from apicontract.checking.run import CheckOptions, run_check
from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer

from faults import FAULTS, Fault

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(api: str, base_url: str, hooks: str, select: str | None = None) -> tuple[int, str]:
    """`apicontract check API --base-url ... [-k select]`, run in this process (the CLI's own runner)."""
    output = io.StringIO()
    options = CheckOptions(
        layout=layout(ROOT),
        apis=[api],
        base_urls={api: base_url},
        webhook_urls={api: hooks},
        examples=10,
        seed=7,
        select=select,
    )
    code = run_check(options, Console(file=output, width=200, force_terminal=False))
    return code, output.getvalue()


def serve(tmp_path: Path, api: str) -> tuple[EmbeddedServer, str]:
    capture = f"http://127.0.0.1:{free_port()}"
    hooks = capture + ("/callbacks" if api == "cpaas" else "/hooks")
    config = ServerConfig(
        layout(ROOT),
        tmp_path / "data",
        [api],
        webhook_url=capture + "/hooks",
        callback_url=capture + "/callbacks",
        time_scale=0,
    )
    return EmbeddedServer(config).start(), hooks


def test_at_least_twenty_distinct_faults():
    assert len({f.name for f in FAULTS}) == len(FAULTS) >= 20
    assert {f.api for f in FAULTS} == {"sim-v1", "sim-v2", "sim-v3", "cpaas"}


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_the_suite_catches(fault: Fault, tmp_path: Path):
    server, hooks = serve(tmp_path, fault.api)
    try:
        fault.apply(server.app)
        code, output = check(fault.api, server.url(fault.api), hooks, fault.select)
    finally:
        server.stop()
    assert code == 1, f"{fault.name} ({fault.what}) was not caught:\n{output[-3000:]}"
    assert "violation" in output


@pytest.mark.parametrize("api", ["sim-v1", "sim-v2", "sim-v3", "cpaas"])
def test_the_correct_server_passes_the_whole_suite(api: str, tmp_path: Path):
    server, hooks = serve(tmp_path, api)
    try:
        code, output = check(api, server.url(api), hooks)
    finally:
        server.stop()
    assert code == 0, output[-5000:]
