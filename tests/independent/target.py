"""Writes the apicontract target file that describes a running server."""
from __future__ import annotations

import json

from .config import Fixtures, Options, endpoint


def _q(value) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value))


def render(fixtures: Fixtures, options: Options, port: int) -> str:
    host = options.host if ":" not in options.host else f"[{options.host}]"
    root = f"http://{host}:{port}"
    out = ["# apicontract target file",
           "# written by tests/independent/server.py (independent implementation)",
           "apis:"]

    def hook(api, index):
        return endpoint(options, api, index)

    # sim-v1
    out += ["  sim-v1:", f"    base_url: {_q(root + '/mitto')}"]
    if hook("sim-v1", 1):
        out.append(f"    webhook_url: {_q(hook('sim-v1', 1))}")
    out.append("    accounts:")
    for acct in fixtures.v1:
        out.append(f"      - credentials: {{basic: {{key: {_q(acct.key)}, secret: {_q(acct.secret)}}}}}")
        out.append(f"        webhook: {{basic: {{username: {_q(acct.hook_user)}, password: {_q(acct.hook_pass)}}}}}")
        if hook("sim-v1", acct.index):
            out.append(f"        webhook_url: {_q(hook('sim-v1', acct.index))}")
        sims = ", ".join(f"{{uuid: {_q(s.uuid)}, provisioned: false}}" for s in acct.sims)
        out.append(f"        sims: [{sims}]")
    # sim-v2
    out += ["  sim-v2:", f"    base_url: {_q(root + '/onomondo/v2')}", "    accounts:"]
    for acct in fixtures.v2:
        out.append(f"      - credentials: {{api_key: {_q(acct.key)}}}")
        sims = ", ".join(f"{{imsi: {_q(i)}, provisioned: false}}" for i in acct.imsis)
        out.append(f"        sims: [{sims}]")
    # sim-v3
    out += ["  sim-v3:", f"    base_url: {_q(root + '/onomondo/v3')}",
            f"    webhook: {{api_key: {_q(fixtures.v3_hook_key)}}}", "    accounts:"]
    for acct in fixtures.v3:
        out.append(f"      - credentials: {{api_key: {_q(acct.key)}}}")
        if hook("sim-v3", acct.index):
            out.append(f"        webhook_url: {_q(hook('sim-v3', acct.index))}")
        sims = ", ".join(f"{{id: {_q(i)}, provisioned: false}}" for i in acct.ids)
        out.append(f"        sims: [{sims}]")
    # cpaas
    out += ["  cpaas:", f"    base_url: {_q(root + '/voice/api')}", "    accounts:"]
    for acct in fixtures.cpaas:
        out.append(f"      - credentials: {{access_key: {_q(acct.token)}}}")
        if acct.callback_user:
            out.append(f"        callback: {{basic: {{username: {_q(acct.callback_user)}, "
                       f"password: {_q(acct.callback_pass)}}}}}")
        if hook("cpaas", acct.index):
            out.append(f"        webhook_url: {_q(hook('cpaas', acct.index))}")
        out.append(f"        app_key: {_q(acct.app_key)}")
        out.append(f"        personal_account_id: {_q(acct.personal_account_id)}")
    return "\n".join(out) + "\n"
