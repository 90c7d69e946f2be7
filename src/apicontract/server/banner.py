"""The startup banner: where each API is, how to authenticate, what to curl first.

Plain aligned lines, so it reads the same in a terminal and in a CI log.
"""

from __future__ import annotations

import json
import shlex
import socket
from pathlib import Path
from typing import Any

from apicontract.specs.fixtures import Credentials, credentials
from apicontract.specs.security import BASIC, Scheme

FIRST_CALLS = ("retrieveSim", "listMedia")  # what a newcomer most likely wants to see first


def curl_auth(security: list[Scheme], presented: Credentials) -> list[str]:
    """curl arguments that authenticate as an account, by the API's first scheme its credentials fit
    that travels in a header (HTTP Basic as `-u`, which curl encodes)."""
    for scheme in security:
        if scheme.kind == BASIC and presented.basic:
            key, secret = presented.basic
            return ["-u", f"{key}:{secret}"]
        carried = scheme.encode(presented) if scheme.supported and scheme.location == "header" else None
        if carried is not None:
            return [arg for name, value in carried.headers.items() for arg in ("-H", f"{name}: {value}")]
    return []


def sim_ids(account: dict) -> list[tuple[str, bool]]:
    return [
        (next((str(v) for v in sim.values() if isinstance(v, str)), "?"), bool(sim.get("provisioned")))
        for sim in account.get("sims") or []
    ]


def first_call(ctx: Any, account: dict, url: str) -> list[str]:
    """A curl of the first retrieve the API has, on an identifier the account has provisioned."""
    provisioned = [ident for ident, ready in sim_ids(account) if ready]
    for op_id in FIRST_CALLS:
        op = ctx.compiled.operations.get(op_id)
        if op is None:
            continue
        path, extra = op.template, []
        for field in op.path_fields:
            path = path.replace("{" + field.name + "}", provisioned[0] if provisioned else "")
        body_fields = [f for shape in op.bodies.values() for f in shape.fields if f.required]
        if body_fields and provisioned:
            extra = ["-X", op.method, "--json", json.dumps({body_fields[0].name: provisioned[0]})]
        return [*extra, url + path]
    return [url + "/"]


def banner(
    options: Any,
    app: Any,
    listeners: list[tuple[socket.socket, Any, str | None]],
    tls: Any,
    data_dir: Path,
    temporary: bool,
) -> str:
    scheme = "https" if tls else "http"
    host, port = listeners[0][0].getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    base = f"{scheme}://{shown}:{port}"
    own = {api: f"{sock.getsockname()[1]}{getattr(app, 'base', '')}" for sock, app, api in listeners[1:]}
    security = f"HTTPS, certificate SHA-256 {tls.fingerprint}" if tls else "plain HTTP on loopback, R6"
    lines = [f"apicontract reference server on {base} ({security})", ""]
    insecure = ["-k"] if tls else []
    for name, ctx in app.contexts.items():
        url = f"{base}/{name}"
        accounts = [a.data for a in ctx.accounts if not a.data.get("prohibited")]
        lines.append(f"{name:<8}{url}" + (f"  and {scheme}://{shown}:{own[name]}" if name in own else ""))
        for label, account in zip(("account", "second"), accounts[:2], strict=False):
            auth = curl_auth(ctx.compiled.security, credentials(account))
            ids = ", ".join(i + ("" if ready else " (not provisioned)") for i, ready in sim_ids(account)[:4])
            media = ", ".join(f"{m['id']} {m['name']}" for m in (account.get("media") or [])[:3])
            lines.append(f"  {label:<9}{shlex.join(auth)}" + (f"   SIMs {ids}" if ids else f"   media {media}"))
        if accounts:
            auth = curl_auth(ctx.compiled.security, credentials(accounts[0]))
            lines.append(
                "  try      " + shlex.join(["curl", "-s", *insecure, *auth, *first_call(ctx, accounts[0], url)])
            )
        lines.append("")
    target = options.webhook_url or "the fixtures' endpoints (none set: events are recorded, not sent)"
    lines += [
        f"events    GET {base}/<api>/_events  (outside the documented APIs)",
        f"webhooks  {target}" + (f"; callbacks {options.callback_url}" if options.callback_url else ""),
        f"data      {data_dir}"
        + ("  (temporary; --data-dir keeps state)" if temporary else "  (kept across restarts)"),
    ]
    if tls:
        lines.append(f"tls       {tls.cert}")
    lines.append("Ctrl-C stops the server.")
    return "\n".join(lines)
