"""The peers' linters agree: Spectral (spectral:oas) and Redocly (recommended) find no error in the bundles.

Both are npm packages pinned in tools/peers/package-lock.json; the first test run installs them with
`npm ci` (Node and the npm registry are part of the supported machine), as `.ci/run` does.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from projectkit import APIS, ROOT, peers_installed

PEERS = ROOT / "tools" / "peers"
ENV = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}


@pytest.fixture(scope="session")
def peers() -> dict[str, str]:
    modules = peers_installed()
    bins = {name: modules / ".bin" / name for name in ("spectral", "redocly")}
    return {name: str(b) for name, b in bins.items()}


@pytest.mark.parametrize("api", APIS)
def test_spectral_oas_finds_no_error(api, peers):
    bundle = ROOT / "generated" / "openapi" / f"{api}.json"
    done = subprocess.run(
        [
            peers["spectral"],
            "lint",
            "--ruleset",
            str(PEERS / ".spectral.yaml"),
            "--format",
            "json",
            "--quiet",
            "--fail-severity",
            "error",
            str(bundle),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    results = json.loads(done.stdout or "[]")
    errors = [r for r in results if r.get("severity") == 0]
    assert done.returncode == 0 and not errors, [f"{r['code']}: {r['message']} at {r['path']}" for r in errors]


@pytest.mark.parametrize("api", APIS)
def test_redocly_recommended_finds_no_error(api, peers):
    bundle = ROOT / "generated" / "openapi" / f"{api}.json"
    done = subprocess.run(
        [peers["redocly"], "lint", "--config", str(PEERS / "redocly.yaml"), "--format", "json", str(bundle)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    start = done.stdout.find("{")
    report = json.loads(done.stdout[start:]) if start >= 0 else {}
    errors = [p for p in report.get("problems", []) if p.get("severity") == "error"]
    assert done.returncode == 0 and not errors, errors or done.stdout[-2000:] + done.stderr[-2000:]
    assert report.get("totals", {}).get("errors", 0) == 0
