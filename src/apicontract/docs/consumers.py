"""What an API page tells someone who calls the API from code: the files to download, the Python package
with its models and typed client, and how to generate a client of their own (openapi-python-client) —
including what a generator cannot do with this spec, and the workaround.

Everything is read from the bundle: the credentials a client takes follow the security schemes, the
example call is the API's first retrieve with its spec example values, and each caveat lists the
operations whose shape causes it (a body on GET/DELETE, a required body in several content types, an
answer that is JSON or bytes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from apicontract.docs.samples import KEY_PLACEHOLDER, SECRET_PLACEHOLDER, Context, _pick, sample_key
from apicontract.specs.clients import snake
from apicontract.specs.security import BASIC, request_schemes
from apicontract.specs.walk import deref, iter_operations, parameters

# the generator we test the spec with (pinned in the `test` extra); the notes below are about this version
OPENAPI_PYTHON_CLIENT = "openapi-python-client 0.29.1"


@dataclass
class Caveat:
    title: str
    text: str  # Markdown
    operations: list[tuple[str, str]] = field(default_factory=list)  # (label, anchor)
    code: str | None = None


@dataclass
class Consumers:
    client_code: str
    generator_config: str
    generator_command: str
    generator_auth: str
    caveats: list[Caveat]
    generator: str = OPENAPI_PYTHON_CLIENT


def consumers(ctx: Context, api: str, module: str, bundle_file: str) -> Consumers:
    doc = ctx.doc
    ops = [op for op in iter_operations(doc) if not op.is_webhook]
    credentials = _credentials(ctx)
    first = next((op for op in ops if op.method == "get" and op.key != "/"), None)
    call = f"client.{snake(first.node['operationId'])}({_arguments(ctx, first)})" if first else "client.get_root()"
    client_code = "\n".join(
        [
            f"from apicontract.clients.{module} import Client",
            "",
            f"client = Client({credentials['ours']}, base_url={json.dumps(ctx.server)})",
            f"print({call})",
        ]
    )
    package = f"{module}_client"
    config = f"project_name_override: {api}-client\npackage_name_override: {package}\n"
    command = f"openapi-python-client generate --path {bundle_file.rsplit('/', 1)[-1]} --config config.yaml"
    auth = f"from {package}.client import {credentials['generated_class']}\n\n"
    auth += f"client = {credentials['generated_class']}({credentials['generated']})"
    return Consumers(client_code, config, command, auth, _caveats(doc, ops, module))


def _credentials(ctx: Context) -> dict[str, str]:
    """The constructor arguments of our client and of openapi-python-client's, by the first scheme."""
    base = json.dumps(ctx.server)
    for scheme in request_schemes(ctx.doc):
        if scheme.kind == BASIC:
            pair = f'("{KEY_PLACEHOLDER}", "{SECRET_PLACEHOLDER}")'
            return {
                "ours": f"auth={pair}",
                "generated_class": "Client",
                "generated": f'base_url={base}, httpx_args={{"auth": {pair}}}',
            }
        token = json.dumps(sample_key(ctx))
        prefix = json.dumps(scheme.prefix.strip())
        return {
            "ours": f"key={token}",
            "generated_class": "AuthenticatedClient",
            "generated": f"base_url={base}, token={token}, prefix={prefix}, "
            f"auth_header_name={json.dumps(scheme.carrier or 'Authorization')}",
        }
    return {"ours": "", "generated_class": "Client", "generated": f"base_url={base}"}


def _arguments(ctx: Context, op: Any) -> str:
    args = []
    for param, _ in parameters(ctx.doc, op):
        picked = _pick(param.get("examples") or {}, None)
        if param.get("in") == "path" and picked:
            args.append(json.dumps(picked[1]["value"]))
    body = deref(ctx.doc, op.node.get("requestBody")) or {}
    for media in (body.get("content") or {}).values():
        examples = (media or {}).get("examples") or {}
        value = next((deref(ctx.doc, e).get("value") for e in examples.values() if "value" in deref(ctx.doc, e)), None)
        if value is not None:
            args.append(json.dumps(value, ensure_ascii=False))
            break
    return ", ".join(args)


def _label(op: Any) -> tuple[str, str]:
    return f"{op.method.upper()} {op.key}", f"op-{op.node.get('operationId')}"


def _caveats(doc: dict, ops: list, module: str) -> list[Caveat]:
    found: list[Caveat] = []
    bodied = [op for op in ops if op.method in ("get", "delete") and op.node.get("requestBody")]
    if bodied:
        op = bodied[0]
        body = deref(doc, op.node.get("requestBody")) or {}
        media: dict[str, Any] = next(iter((body.get("content") or {}).values()), {}) or {}
        example: Any = next((deref(doc, e).get("value") for e in (media.get("examples") or {}).values()), {})
        found.append(
            Caveat(
                "A JSON body on GET and DELETE",
                "These operations take their parameters in a JSON body, also on GET and DELETE. "
                f"{OPENAPI_PYTHON_CLIENT} sends it; other generators drop it without a word (openapi-generator's "
                f"Python client does), and some proxies do too. Use the typed client (`apicontract.clients.{module}`"
                "), or send the body yourself:",
                [_label(op) for op in bodied],
                f'httpx.request("{op.method.upper()}", BASE_URL + "{op.key}", json={json.dumps(example)}, headers=...)',
            )
        )
    several = []
    for op in ops:
        body = deref(doc, op.node.get("requestBody")) or {}
        if body.get("required") and len(body.get("content") or {}) > 1:
            several.append(op)
    if several:
        found.append(
            Caveat(
                "A required body in several content types",
                f"{OPENAPI_PYTHON_CLIENT} writes the module of these operations with `Unset` in the `body` "
                "annotation but not in its imports, so importing it fails with `NameError: name 'Unset' is not "
                "defined` (its issue #1451). Until a fixed version is out, add `Unset` to the module's "
                "`from ...types import` line.",
                [_label(op) for op in several],
            )
        )
    mixed = []
    for op in ops:
        for status, response in (op.node.get("responses") or {}).items():
            content = (deref(doc, response) or {}).get("content") or {}
            kinds = {_is_json(media) for media in content}
            if status.startswith("2") and kinds == {True, False}:
                mixed.append(op)
    if mixed:
        found.append(
            Caveat(
                "One answer, JSON or bytes",
                "These operations answer either JSON or raw bytes, told apart by the Content-Type (see each "
                "operation's responses). A generator that reads one media type per status returns bytes for both "
                f"({OPENAPI_PYTHON_CLIENT} does, since the spec lists `application/octet-stream` first): parse a "
                "JSON answer with its model. The typed client returns the model or the bytes.",
                [_label(op) for op in mixed],
            )
        )
    return found


def _is_json(media: str) -> bool:
    media = media.split(";")[0].strip()
    return media == "application/json" or media.endswith("+json")
