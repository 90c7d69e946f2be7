"""schemathesis, run directly on each bundled spec against the reference server, reports no failure.

All checks, positive and negative generation. The only configuration is derived from the spec itself:
operations whose codes are marked `x-cross-field` may answer 400 to a schema-valid request (rules JSON
Schema cannot state), so schemathesis is told that 400 is an expected answer there.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from apicontract.specs.walk import cross_field_codes, iter_operations

from serverkit import ROOT, fixtures

APIS = ["sim-v1", "sim-v2", "sim-v3", "cpaas"]
# what schemathesis accepts for schema-valid data by default, less 5xx: a server error is never right
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]


def auth_header(api: str) -> str:
    credentials = fixtures(api)["accounts"][0]["credentials"]
    if "basic" in credentials:
        pair = f"{credentials['basic']['key']}:{credentials['basic']['secret']}"
        return "Authorization: Basic " + base64.b64encode(pair.encode()).decode()
    if "access_key" in credentials:
        return f"X-Authorization: AccessKey {credentials['access_key']}"
    return f"Authorization: {credentials['api_key']}"


def config_for(doc: dict) -> str:
    lines = []
    for op in iter_operations(doc):
        statuses = sorted(cross_field_codes(doc, op))
        if statuses and not op.is_webhook:
            expected = sorted({*ACCEPTED, *statuses})
            lines += [
                "[[operations]]",
                f'include-operation-id = "{op.node["operationId"]}"',
                f"checks.positive_data_acceptance.expected-statuses = {json.dumps(expected)}",
                "",
            ]
    return "\n".join(lines)


@pytest.mark.parametrize("api", APIS)
def test_schemathesis_finds_no_failure(api, server_factory, tmp_path: Path):
    bundle = ROOT / "generated" / "openapi" / f"{api}.json"
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_for(json.loads(bundle.read_text())))
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
