"""Running the contract check, in this process, against a reference server made to differ on purpose.

The proof of power (faults: each must be caught) and the conformant variants (each must pass) both start
the reference server in this process, change it, and run the runner behind `apicontract check` against
it, as the CLI would.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from apicontract.checking.run import CheckOptions, run_check
from apicontract.generated import load_bundle
from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer
from apicontract.specs.promises import identifiers
from apicontract.specs.yamlfile import load

ROOT = Path(__file__).resolve().parents[2]
OTHER = Path(__file__).resolve().parent / "other"  # another operator's fixtures: other keys, nothing provisioned


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(
    apis: list[str],
    base_urls: dict[str, str],
    hooks: dict[str, str] | None = None,
    select: str | None = None,
    target_file: Path | None = None,
    examples: int = 10,
    reference: bool = True,
    clauses: list[str] | None = None,
) -> tuple[int, str]:
    """`apicontract check APIS ...`, run in this process (the CLI's own runner)."""
    output = io.StringIO()
    options = CheckOptions(
        layout=layout(ROOT),
        apis=apis,
        base_urls=dict(base_urls),
        webhook_urls=dict(hooks or {}),
        examples=examples,
        seed=7,
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
