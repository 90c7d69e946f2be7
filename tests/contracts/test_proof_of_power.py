"""Proof of power: the contract suite catches each deliberately broken server, and passes the correct one.

Each fault runs the reference server in this process with one small defect, and `apicontract check` as a
user would, in a subprocess, against its URL: exit 1 (a contract violation) is required. The correct
server must pass the full check.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer

from faults import FAULTS, Fault

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(api: str, base_url: str, hooks: str, *extra: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "apicontract",
        "check",
        api,
        "--root",
        str(ROOT),
        "--base-url",
        base_url,
        "--webhook-url",
        hooks,
        "--seed",
        "7",
        "--examples",
        "10",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


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
        done = check(fault.api, server.url(fault.api), hooks, "-k", fault.select)
    finally:
        server.stop()
    assert done.returncode == 1, (
        f"{fault.name} ({fault.what}) was not caught:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    )
    assert "violation" in done.stdout


@pytest.mark.parametrize("api", ["sim-v1", "sim-v2", "sim-v3", "cpaas"])
def test_the_correct_server_passes_the_whole_suite(api: str, tmp_path: Path):
    server, hooks = serve(tmp_path, api)
    try:
        done = check(api, server.url(api), hooks)
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
