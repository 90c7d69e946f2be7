"""schemathesis, run directly on each bundled spec against the reference server, reports no failure.

All checks, positive and negative generation, with the configuration `apicontract build` ships for plain
schemathesis users (generated/schemathesis/<api>.toml, derived from the spec alone).
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from serverkit import ROOT, fixtures

APIS = ["sim-v1", "sim-v2", "sim-v3", "cpaas"]


def auth_header(api: str) -> str:
    credentials = fixtures(api)["accounts"][0]["credentials"]
    if "basic" in credentials:
        pair = f"{credentials['basic']['key']}:{credentials['basic']['secret']}"
        return "Authorization: Basic " + base64.b64encode(pair.encode()).decode()
    if "access_key" in credentials:
        return f"X-Authorization: AccessKey {credentials['access_key']}"
    return f"Authorization: {credentials['api_key']}"


@pytest.mark.parametrize("api", APIS)
def test_schemathesis_finds_no_failure(api, server_factory, tmp_path: Path):
    bundle = ROOT / "generated" / "openapi" / f"{api}.json"
    config = ROOT / "generated" / "schemathesis" / f"{api}.toml"  # shipped, generated from the spec
    server = server_factory([api], time_scale=0)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        str(bundle),
        "--url",
        server.url(api),
        "-H",
        auth_header(api),
        "--checks",
        "all",
        "--mode",
        "all",
        "--max-examples",
        "25",
        "--seed",
        "20261122",
        "--workers",
        "1",
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
