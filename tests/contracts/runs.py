"""Running the contract check, in this process, against a reference server made to differ on purpose.

The proof of power (faults: each must be caught) and the conformant variants (each must pass) both start
the reference server in this process, change it, and run the runner behind `apicontract check` against
it, as the CLI would.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from rich.console import Console

from apicontract.checking.run import CheckOptions, run_check
from apicontract.generated import load_bundle
from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer
from apicontract.specs.promises import identifiers
from apicontract.specs.yamlfile import load

from projectkit import free_port

ROOT = Path(__file__).resolve().parents[2]
OTHER = Path(__file__).resolve().parent / "other"  # another operator's fixtures: other keys, nothing provisioned


def check(
    apis: list[str],
    base_urls: dict[str, str],
    hooks: dict[str, str] | None = None,
    select: str | None = None,
    target_file: Path | None = None,
    examples: int = 10,
    reference: bool = True,
    clauses: list[str] | None = None,
    seed: int | None = 7,
) -> tuple[int, str]:
    """`apicontract check APIS ...`, run in this process (the CLI's own runner)."""
    output = io.StringIO()
    options = CheckOptions(
        layout=layout(ROOT),
        apis=apis,
        base_urls=dict(base_urls),
        webhook_urls=dict(hooks or {}),
        examples=examples,
        seed=seed,
        select=select,
        target_file=target_file,
        reference=reference,
        clauses=list(clauses or []),
    )
    code = run_check(options, Console(file=output, width=200, force_terminal=False))
    return code, output.getvalue()


def serve(
    tmp_path: Path, apis: list[str], fixtures: dict[str, Path] | None = None, wrap: Callable | None = None
) -> tuple[EmbeddedServer, str]:
    """The reference server for `apis` (its hooks to a free port's /hooks and /callbacks), and that port's URL."""
    capture = f"http://127.0.0.1:{free_port()}"
    config = ServerConfig(
        layout(ROOT),
        tmp_path / "data",
        apis,
        fixtures or {},
        webhook_url=capture + "/hooks",
        callback_url=capture + "/callbacks",
        time_scale=0,
    )
    return EmbeddedServer(config, wrap=wrap).start(), capture


@contextmanager
def serve_process(tmp_path: Path, apis: list[str], fixtures: dict[str, Path]):
    """`apicontract serve` started as its own process (as a provider starts a server), on a free port, its
    events to a free port; yields (base URL, capture URL)."""
    port, capture = free_port(), f"http://127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "apicontract", "serve", *apis, "--port", str(port), "--time-scale", "0"]
    command += ["--webhook-url", capture + "/hooks", "--callback-url", capture + "/callbacks"]
    command += ["--data-dir", str(tmp_path / "served")]
    for api, path in fixtures.items():
        command += ["--fixtures", f"{api}={path}"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + f"/{apis[0]}/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"apicontract serve did not start: {process.stderr.read()}") from None
                time.sleep(0.1)
        yield base, capture
    finally:
        process.terminate()
        process.wait(timeout=10)


def hooks_for(capture: str, apis: list[str]) -> dict[str, str]:
    return {api: capture + ("/callbacks" if api == "cpaas" else "/hooks") for api in apis}


def other_target(tmp_path: Path, urls: dict[str, str], capture: str) -> Path:
    """A target file describing a server that runs the other operator's fixtures: only what a provider
    would know (credentials, webhook credentials, identifiers), no state."""
    apis: dict[str, Any] = {}
    for api, url in urls.items():
        accounts = []
        for entry in load(OTHER / f"{api}.fixtures.yaml")["accounts"]:
            account: dict[str, Any] = {"credentials": json.loads(json.dumps(entry["credentials"]))}
            hook = entry.get("webhook") or entry.get("callback")
            if hook and (hook.get("basic") or hook.get("api_key")):
                account["webhook"] = {k: v for k, v in json.loads(json.dumps(hook)).items() if k != "url"}
            names = identifiers(load_bundle(layout(ROOT), api), "Sim")
            if names:
                account["sims"] = [{names[0]: str(s[names[0]])} for s in entry.get("sims") or []]
            if entry.get("app_key"):
                account["app_key"] = str(entry["app_key"])
            accounts.append(account)
        apis[api] = {"base_url": url, "webhook_url": hooks_for(capture, [api])[api], "accounts": accounts}
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump({"apis": apis}, sort_keys=False), encoding="utf-8")
    return path
