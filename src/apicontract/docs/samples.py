"""Sample calls (curl, Python with httpx and the generated models, NodeJS `request`) from the spec's examples.

Each sample is one named request example of an operation, sent to the API's server with the operation's
authentication, the path and query values of its parameters' examples, and the example as the body, so
a sample can never disagree with the spec. The NodeJS form mirrors the sources' "Sample Call in NodeJS
Request" (`request(options, function (error, response, body) {...})`, `form:` / `json:` bodies).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from apicontract.docs.schemas import Mark, marks, named
from apicontract.specs.fixtures import Credentials
from apicontract.specs.security import BASIC, operation_schemes
from apicontract.specs.walk import Operation, deref, parameters

FILE_PLACEHOLDER = "path/to/file"
KEY_PLACEHOLDER = "YOUR-API-KEY"
SECRET_PLACEHOLDER = "YOUR-API-SECRET"
JS_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class Sample:
    title: str
    curl: str
    python: str
    node: str
    marks: list[Mark] = field(default_factory=list)


@dataclass(frozen=True)
class Auth:
    """How a sample authenticates: HTTP Basic (`user`, `secret`) or a key in a header or query parameter."""

    kind: str | None = None  # "basic", "header", "query" or None
    name: str = ""
    user: str = KEY_PLACEHOLDER
    secret: str = SECRET_PLACEHOLDER
    value: str = ""


@dataclass(frozen=True)
class Context:
    """What every sample of one API shares."""

    doc: dict
    module: str  # apicontract.models.<module>
    server: str
    models: frozenset[str]  # class names the generated models module defines
    fixture_credentials: Credentials = field(default_factory=Credentials)  # the first fixture account's


@dataclass
class Call:
    method: str
    url: str
    query: dict[str, Any]
    auth: Auth
    body_kind: str | None = None  # "form", "json", "multipart"
    body: Any = None
    body_model: str | None = None
    response_model: str | None = None


def auth_for(ctx: Context, op: Operation) -> Auth:
    """The first security scheme the operation accepts, with the samples' credentials: placeholders for
    HTTP Basic, the first fixture account's key (else a placeholder) for a key."""
    for scheme in operation_schemes(ctx.doc, op.node):
        if scheme.kind == BASIC:
            return Auth("basic")
        value = scheme.value(Credentials(key=sample_key(ctx))) if scheme.supported else None
        if value is not None:
            return Auth(scheme.location, name=scheme.carrier, value=value)
    return Auth()


def sample_key(ctx: Context) -> str:
    """The key the samples send: the first fixture account's, else a placeholder."""
    return ctx.fixture_credentials.key or KEY_PLACEHOLDER


def operation_samples(ctx: Context, op: Operation) -> list[Sample]:
    """One sample per request example (every content type); one for a body-less call; none without values."""
    body = deref(ctx.doc, op.node.get("requestBody"))
    content = (body.get("content") or {}) if isinstance(body, dict) else {}
    response_model = _success_model(ctx, op)
    samples: list[Sample] = []
    for ctype, media in content.items():
        kind = _body_kind(ctype)
        if kind is None or not isinstance(media, dict):
            continue
        model = named((media.get("schema") or {}).get("$ref")) if isinstance(media.get("schema"), dict) else None
        model = model if model in ctx.models else None
        examples = media.get("examples") or {}
        if kind == "multipart" and not examples:
            call = _call(ctx, op, None, response_model)
            if call:
                call.body_kind, call.body_model = kind, None
                samples.append(_render(ctx, call, f"Upload a file ({ctype})", []))
        for name, example in examples.items():
            example = deref(ctx.doc, example)
            if not isinstance(example, dict) or "value" not in example:
                continue
            call = _call(ctx, op, name, response_model)
            if call is None:
                continue
            call.body_kind, call.body, call.body_model = kind, example["value"], model
            where = (*op.parts, "requestBody", "content", ctype, "examples", name)
            samples.append(_render(ctx, call, example.get("summary") or name, marks(example, where)))
    if not content:
        call = _call(ctx, op, None, response_model)
        if call is not None:
            samples.append(_render(ctx, call, _param_summary(ctx, op) or op.node.get("summary") or op.label, []))
    return samples


def _body_kind(ctype: str) -> str | None:
    if ctype == "application/x-www-form-urlencoded":
        return "form"
    if ctype == "multipart/form-data":
        return "multipart"
    if ctype == "application/json" or ctype.endswith("+json"):
        return "json"
    return None


def _success_model(ctx: Context, op: Operation) -> str | None:
    for status, response in sorted((op.node.get("responses") or {}).items()):
        response = deref(ctx.doc, response)
        if not status.startswith("2") or not isinstance(response, dict):
            continue
        media = (response.get("content") or {}).get("application/json") or {}
        model = named((media.get("schema") or {}).get("$ref"))
        if model in ctx.models:
            return model
    return None


def _pick(examples: dict, wanted: str | None) -> tuple[str, dict] | None:
    """The parameter example named like the request example, else `sample`, else the first one."""
    for name in (wanted, "sample"):
        if name is not None and name in examples and isinstance(examples[name], dict) and "value" in examples[name]:
            return name, examples[name]
    for name, example in examples.items():
        if isinstance(example, dict) and "value" in example:
            return name, example
    return None


def _param_summary(ctx: Context, op: Operation) -> str | None:
    for param, _ in parameters(ctx.doc, op):
        picked = _pick(param.get("examples") or {}, None)
        if param.get("in") == "path" and picked and picked[1].get("summary"):
            return picked[1]["summary"]
    return None


def _call(ctx: Context, op: Operation, example: str | None, response_model: str | None) -> Call | None:
    """Method, URL and query from the parameters' examples; None when a path value has no example."""
    path, query = op.key, {}
    for param, _ in parameters(ctx.doc, op):
        picked = _pick(param.get("examples") or {}, example)
        if param.get("in") == "path":
            if picked is None:
                return None
            path = path.replace("{" + param["name"] + "}", quote(str(picked[1]["value"]), safe=""))
        elif param.get("in") == "query" and picked is not None:
            query[param["name"]] = picked[1]["value"]
    auth = auth_for(ctx, op)
    if auth.kind == "query":
        query[auth.name] = auth.value
    url = ctx.server.rstrip("/") + path
    return Call(op.method.upper(), url, query, auth, response_model=response_model)


def _render(ctx: Context, call: Call, title: str, found: list[Mark]) -> Sample:
    return Sample(title, curl(call), python(ctx, call), node(call), found)


# curl ---------------------------------------------------------------------------------------------------


def curl(call: Call) -> str:
    url = call.url + ("?" + urlencode(call.query, quote_via=quote) if call.query else "")
    head = "curl"
    if call.method != "GET" or call.body_kind:
        head += f" -X {call.method}"
    lines = [f"{head} {shlex.quote(url)}"]
    if call.auth.kind == "basic":
        lines.append(f"-u {shlex.quote(call.auth.user + ':' + call.auth.secret)}")
    elif call.auth.kind == "header":
        lines.append(f"-H {shlex.quote(call.auth.name + ': ' + call.auth.value)}")
    if call.body_kind == "json":
        lines.append("-H 'Content-Type: application/json'")
        lines.append(f"--data {shlex.quote(json.dumps(call.body, ensure_ascii=False))}")
    elif call.body_kind == "form":
        for key, value in (call.body or {}).items():
            lines.append(f"--data-urlencode {shlex.quote(f'{key}={_form_value(value)}')}")
    elif call.body_kind == "multipart":
        lines.append(f"-F {shlex.quote('file=@' + FILE_PLACEHOLDER)}")
    return " \\\n  ".join(lines)


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# Python -------------------------------------------------------------------------------------------------


def python(ctx: Context, call: Call) -> str:
    models = sorted({m for m in (call.body_model, call.response_model) if m})
    lines = ["import httpx", ""]
    if models:
        lines += [f"from apicontract.models.{ctx.module} import {', '.join(models)}", ""]
    arguments: list[str] = []
    if call.body_kind in ("form", "json") and call.body_model:
        lines.append(f"body = {call.body_model}.model_validate({_py(call.body, 0)})")
        # by alias: a field named after a Python keyword (`from`) is `from_` in the model, `from` on the wire
        dumped = 'body.model_dump(mode="json", by_alias=True, exclude_unset=True)'
        arguments.append(f"{'data' if call.body_kind == 'form' else 'json'}={dumped}")
    elif call.body_kind in ("form", "json"):
        arguments.append(f"{'data' if call.body_kind == 'form' else 'json'}={_py(call.body, 4)}")
    elif call.body_kind == "multipart":
        arguments.append(f'files={{"file": open("{FILE_PLACEHOLDER}", "rb")}}')
    if call.auth.kind == "basic":
        arguments.insert(0, f"auth=({_py(call.auth.user, 0)}, {_py(call.auth.secret, 0)})")
    elif call.auth.kind == "header":
        arguments.insert(0, f"headers={{{_py(call.auth.name, 0)}: {_py(call.auth.value, 0)}}}")
    if call.query:
        arguments.insert(0, f"params={_py(call.query, 4)}")
    if call.body_kind and call.method in ("GET", "DELETE"):
        opener, arguments = "httpx.request(", [_py(call.method, 0), _py(call.url, 0), *arguments]
    else:
        opener, arguments = f"httpx.{call.method.lower()}(", [_py(call.url, 0), *arguments]
    lines.append("response = " + opener)
    lines += [f"    {argument}," for argument in arguments]
    lines += [")", "response.raise_for_status()"]
    if call.response_model:
        lines.append(f"print({call.response_model}.model_validate_json(response.content))")
    else:
        lines.append("print(response.text)")
    return "\n".join(lines)


def _py(value: Any, indent: int) -> str:
    return _pretty(value, indent, lambda k: json.dumps(k, ensure_ascii=False), _py_scalar, " ", 4)


def _py_scalar(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


# NodeJS -------------------------------------------------------------------------------------------------


def node(call: Call) -> str:
    options: list[tuple[str, str]] = [("method", json.dumps(call.method)), ("url", json.dumps(call.url))]
    prelude = ['var request = require("request");']
    if call.body_kind == "multipart":
        prelude.append('var fs = require("fs");')
    if call.auth.kind == "basic":
        prelude += [
            "",
            f"var api_key = {json.dumps(call.auth.user)};",
            f"var api_secret = {json.dumps(call.auth.secret)};",
        ]
        basic = '"Basic " + Buffer.from(api_key + ":" + api_secret).toString("base64")'
        options.append(("headers", f"{{ Authorization: {basic} }}"))
    elif call.auth.kind == "header":
        options.append(("headers", f"{{ {_js_key(call.auth.name)}: {json.dumps(call.auth.value)} }}"))
    if call.query:
        options.append(("qs", _js(call.query, 2)))
    if call.body_kind in ("form", "json"):
        options.append((call.body_kind, _js(call.body, 2)))
    elif call.body_kind == "multipart":
        options.append(("formData", f"{{ file: fs.createReadStream({json.dumps(FILE_PLACEHOLDER)}) }}"))
    width = max(len(key) for key, _ in options) + 2
    body = ",\n".join(f"  {(key + ':').ljust(width)}{value}" for key, value in options)
    return "\n".join(
        [
            *prelude,
            "",
            "var options = {",
            body,
            "};",
            "",
            "request(options, function (error, response, body) {",
            "  if (error) throw new Error(error);",
            "  console.log(body);",
            "});",
        ]
    )


def _js(value: Any, indent: int) -> str:
    return _pretty(value, indent, _js_key, lambda v: json.dumps(v, ensure_ascii=False), " ", 2)


def _js_key(key: str) -> str:
    return key if JS_NAME.match(key) else json.dumps(key)


# shared -------------------------------------------------------------------------------------------------


def _pretty(
    value: Any,
    indent: int,
    key: Callable[[str], str],
    scalar: Callable[[Any], str],
    pad: str,
    step: int,
    width: int = 64,
) -> str:
    """A literal on one line when it fits, else one entry per line; dict keys via `key`, leaves via `scalar`."""
    if isinstance(value, dict):
        items = [f"{key(k)}: {_pretty(v, indent + step, key, scalar, pad, step, width)}" for k, v in value.items()]
        opener, closer = "{", "}"
    elif isinstance(value, list):
        items = [_pretty(v, indent + step, key, scalar, pad, step, width) for v in value]
        opener, closer = "[", "]"
    else:
        return scalar(value)
    if not items:
        return opener + closer
    inner = pad if opener == "{" and step == 2 else ""
    one_line = f"{opener}{inner}{', '.join(items)}{inner}{closer}"
    if len(one_line) + indent <= width and "\n" not in one_line:
        return one_line
    spaces = " " * (indent + step)
    return opener + "\n" + ",\n".join(spaces + item for item in items) + "\n" + " " * indent + closer
