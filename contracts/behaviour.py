"""What the behaviour state machines share: spec facts, an HTTP session that can replay itself, the base machine.

Each `test_behaviour_<api>.py` is a hypothesis `RuleBasedStateMachine` holding a Python model of the
rulings; everything the model needs from the contract (error codes, defaults, patterns, success bodies)
is read here from the target's bundled spec, so a spec edit changes what the machines expect.
"""

from __future__ import annotations

import contextlib
import json
import urllib.parse
from collections import deque
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import httpx
import jsonschema_rs
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from apicontract.contracts.target import Credentials, Target
from apicontract.contracts.violations import Violation, curl
from apicontract.specs.walk import Operation, deref, error_field, merged, parameters, response_codes

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
ANY = object()  # "any body": only the status is compared
BOUNDARY = "apicontract-behaviour-boundary"


def resolved(doc: dict, schema: Any, seen: frozenset = frozenset()) -> Any:
    """A self-contained copy of a schema: every `$ref` replaced by its target, sibling keywords kept."""
    if isinstance(schema, list):
        return [resolved(doc, item, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return {} if ref in seen else resolved(doc, merged(doc, schema), seen | {ref})
    keep = ("enum", "const", "default", "examples")
    return {k: (v if k in keep else resolved(doc, v, seen)) for k, v in schema.items()}


def _plain(schema: Any) -> Any:
    """A schema without the spec's `x-` extensions, as a validator takes it."""
    if isinstance(schema, dict):
        return {
            k: (v if k in ("enum", "const", "default", "examples") else _plain(v))
            for k, v in schema.items()
            if not k.startswith("x-")
        }
    if isinstance(schema, list):
        return [_plain(item) for item in schema]
    return schema


class Facts:
    """The spec's answers to what a behaviour model needs, looked up by operationId."""

    def __init__(self, doc: dict, operations: list[Operation]):
        self.doc = doc
        self.field = error_field(doc)
        self.ops = {op.node["operationId"]: op for op in operations}
        self._validators: dict[str, Any] = {}

    def label(self, op_id: str) -> str:
        op = self.ops[op_id]
        return f"{op.method.upper()} {op.key}"

    def codes(self, op_id: str) -> dict[str, list[str]]:
        return response_codes(self.doc, self.ops[op_id])

    def code(self, op_id: str, status: int, hint: str | None = None) -> str:
        """The documented code of `status`; `hint` names a field (`msisdn` -> `msisdn_conflict`)."""
        codes = self.codes(op_id).get(str(status), [])
        if hint is None and len(codes) == 1:
            return codes[0]
        found = [c for c in codes if hint is not None and (c == hint or c.startswith(hint + "_"))]
        if not found:
            raise LookupError(f"{op_id}: no documented {status} code for {hint!r} among {codes}")
        return min(found, key=len)

    def error_body(self, op_id: str, status: int, code: str) -> Any:
        """The exact body the spec documents for `code` (its named example), else `{<field>: code}`."""
        response = deref(self.doc, (self.ops[op_id].node.get("responses") or {}).get(str(status)))
        examples = (((response or {}).get("content") or {}).get(JSON) or {}).get("examples") or {}
        return deref(self.doc, examples[code]).get("value") if code in examples else {self.field: code}

    def success_status(self, op_id: str) -> int:
        responses = self.ops[op_id].node.get("responses") or {}
        return int(next((s for s in responses if s.startswith("2") and s.isdigit()), "200"))

    def success_example(self, op_id: str) -> Any:
        """The first named example of the success response (`{"message": "OK"}`)."""
        response = deref(self.doc, (self.ops[op_id].node.get("responses") or {}).get(str(self.success_status(op_id))))
        media = ((response or {}).get("content") or {}).get(JSON) or {}
        for example in (media.get("examples") or {}).values():
            return deref(self.doc, example).get("value")
        return None

    def body_schema(self, op_id: str, content_type: str = JSON) -> dict:
        body = deref(self.doc, self.ops[op_id].node.get("requestBody")) or {}
        media = (body.get("content") or {}).get(content_type) or {}
        return resolved(self.doc, media.get("schema") or {})

    def body_example(self, op_id: str, content_type: str = JSON) -> Any:
        body = deref(self.doc, self.ops[op_id].node.get("requestBody")) or {}
        media = (body.get("content") or {}).get(content_type) or {}
        for example in (media.get("examples") or {}).values():
            return deref(self.doc, example).get("value")
        return None

    def properties(self, op_id: str, content_type: str = JSON) -> dict[str, dict]:
        return self.body_schema(op_id, content_type).get("properties") or {}

    def defaults(self, op_id: str, content_type: str = JSON) -> dict[str, Any]:
        """Body fields the spec gives a default: what an omitted field becomes (R9)."""
        return {name: s["default"] for name, s in self.properties(op_id, content_type).items() if "default" in s}

    def field_code(self, op_id: str, name: str, content_type: str = JSON) -> tuple[int, str]:
        """(status, code) a violation of body property or parameter `name` answers (its `x-error-code`)."""
        code = None
        for param, _ in parameters(self.doc, self.ops[op_id]):
            if param.get("name") == name:
                code = param.get("x-error-code") or (merged(self.doc, param.get("schema")) or {}).get("x-error-code")
        if code is None:
            schema = self.body_schema(op_id, content_type)
            code = (schema.get("properties") or {}).get(name, {}).get("x-error-code") or schema.get("x-error-code")
        for status, codes in self.codes(op_id).items():
            if code in codes:
                return int(status), code
        raise LookupError(f"{op_id}: {name}'s code {code!r} is not documented")

    def param(self, op_id: str, name: str) -> dict:
        for param, _ in parameters(self.doc, self.ops[op_id]):
            if param.get("name") == name:
                return {**param, "schema": resolved(self.doc, param.get("schema") or {})}
        raise LookupError(f"{op_id} has no parameter {name}")

    def component(self, name: str) -> dict:
        return resolved(self.doc, {"$ref": f"#/components/schemas/{name}"})

    def success_schema(self, op_id: str) -> dict:
        response = deref(self.doc, (self.ops[op_id].node.get("responses") or {}).get(str(self.success_status(op_id))))
        media = ((response or {}).get("content") or {}).get(JSON) or {}
        return resolved(self.doc, media.get("schema") or {})

    def valid(self, schema: dict, value: Any) -> bool:
        """JSON Schema validity with ECMA-262 patterns (Python's `re` would let `$` match before a final newline)."""
        key = json.dumps(schema, sort_keys=True, default=str)
        if key not in self._validators:
            self._validators[key] = jsonschema_rs.validator_for(_plain(schema))
        return self._validators[key].is_valid(value)

    def invalid_values(self, schema: dict, form: bool = False) -> list[Any]:
        """Values a property schema refuses, from a fixed list of suspects (wrong types, edge strings)."""
        suspects: list[Any] = ["", "yes", "TRUE", "1", "0", "x" * 300, "a/b", "-1", " true", "1.5"]
        if not form:
            suspects += [None, 1, 0, 1.5, True, False, [], {}, "true"]
        return [v for v in suspects if not self.valid(schema, v)]


@dataclass
class Exchange:
    """One request and its answer, replayable as curl."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    response: httpx.Response
    curl_body: str | None = None  # how curl should send the body, when --data-binary would not do

    @property
    def status(self) -> int:
        return self.response.status_code

    @cached_property
    def json(self) -> Any:
        try:
            return self.response.json()
        except ValueError:
            return None

    @property
    def curl(self) -> str:
        if self.curl_body is not None:
            return curl(self.method, self.url, self.headers) + " " + self.curl_body
        return curl(self.method, self.url, self.headers, self.body)

    def seen(self) -> str:
        text = self.response.text if self.response.headers.get("content-type", "").startswith(JSON) else None
        shown = text[:300] if text is not None else f"<{len(self.response.content)} bytes>"
        return f"{self.status} {shown}"


@dataclass
class Upload:
    """One multipart `file` part; content_type None sends the part without a Content-Type."""

    filename: str
    data: bytes
    content_type: str | None = None

    def encode(self) -> bytes:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{self.filename}"\r\n'
        if self.content_type:
            head += f"Content-Type: {self.content_type}\r\n"
        return head.encode() + b"\r\n" + self.data + f"\r\n--{BOUNDARY}--\r\n".encode()

    def curl(self) -> str:
        kind = f";type={self.content_type}" if self.content_type else ""
        return f"-F 'file=@{self.filename}{kind}'  # the file's {len(self.data)} bytes"


class Http:
    """Requests as one account or another, each kept as an `Exchange`."""

    def __init__(self, target: Target):
        self.target = target
        self.client = httpx.Client(timeout=20, follow_redirects=False)
        self.history: deque[str] = deque(maxlen=10)  # the last requests, to show what led to a failure

    def close(self) -> None:
        self.client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        who: Credentials | None = None,
        json_body: Any = ANY,
        form: dict[str, str] | None = None,
        upload: Upload | None = None,
        params: dict[str, str] | None = None,
    ) -> Exchange:
        headers = dict(self.target.headers(who))
        body, curl_body = None, None
        if json_body is not ANY:
            body, headers["Content-Type"] = json.dumps(json_body).encode(), JSON
        elif form is not None:
            body, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), FORM
        elif upload is not None:
            body, headers["Content-Type"] = upload.encode(), f"{MULTIPART}; boundary={BOUNDARY}"
            curl_body = upload.curl()
        url = self.target.url(path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        response = self.client.request(method, url, content=body, headers=headers)
        shown = {k: v for k, v in headers.items() if not (upload and k == "Content-Type")}
        exchange = Exchange(method, url, shown, body, response, curl_body)
        as_whom = "" if who in (None, self.target.first) else " (as the second account)"
        sent = f" {upload.curl() if upload else body.decode('utf-8', 'replace')[:120]}" if body else ""
        self.history.append(
            f"{method} {url.removeprefix(self.target.base_url)}{as_whom}{sent} -> {exchange.seen()[:120]}"
        )
        return exchange


class BehaviourMachine(RuleBasedStateMachine):
    """Base of the four machines: sending by operationId and comparing answers with the model."""

    target: ClassVar[Target]
    http: ClassVar[Http]
    facts: ClassVar[Facts]

    @classmethod
    def prepare(cls) -> None:
        """Once per test, before the first example: read what the machine starts from."""

    @classmethod
    def finish(cls) -> None:
        """Once per test, after the last example: leave the target as `prepare` found it."""

    @classmethod
    def send(cls, op_id: str, path: str | None = None, **kwargs: Any) -> Exchange:
        op = cls.facts.ops[op_id]
        return cls.http.call(op.method.upper(), path or op.key, **kwargs)

    @classmethod
    def fail(cls, ex: Exchange, op_id: str, rule: str, expected: str, actual: str | None = None) -> None:
        before = list(cls.http.history)[:-1]
        context = ("\n  after: " + "\n         ".join(before)) if before else ""
        raise Violation(
            cls.target.api,
            cls.facts.label(op_id),
            f"behaviour: {rule}",
            expected,
            (actual or ex.seen()) + context,
            ex.curl,
        )

    @classmethod
    def expect_error(cls, ex: Exchange, op_id: str, status: int, code: str, rule: str) -> None:
        """`status` with exactly the body the spec documents for `code`."""
        body = cls.facts.error_body(op_id, status, code)
        if ex.status != status or ex.json != body:
            cls.fail(ex, op_id, rule, f"{status} {json.dumps(body)}")

    @classmethod
    def expect_ok(cls, ex: Exchange, op_id: str, rule: str, body: Any = ANY) -> Any:
        """The success status, and exactly `body` when one is given."""
        status = cls.facts.success_status(op_id)
        if ex.status != status:
            cls.fail(ex, op_id, rule, f"{status} (success)" if body is ANY else f"{status} {json.dumps(body)}")
        if body is not ANY and ex.json != body:
            cls.fail(ex, op_id, rule, f"{status} {json.dumps(body)}")
        return ex.json

    @classmethod
    def expect(cls, ex: Exchange, op_id: str, rule: str, outcome: tuple[int, str] | None, body: Any = ANY) -> bool:
        """`outcome` None: success (with `body`); else (status, code). True when it succeeded."""
        if outcome is None:
            cls.expect_ok(ex, op_id, rule, body)
            return True
        cls.expect_error(ex, op_id, outcome[0], outcome[1], rule)
        return False

    @classmethod
    def ok_body(cls, op_id: str) -> Any:
        """The spec's success example (`{"message": "OK"}`), compared exactly where it has no data."""
        return cls.facts.success_example(op_id)

    @staticmethod
    def pick(data: Any, items: list[Any], preferred: list[Any], label: str) -> Any:
        """One of `items`, often one of `preferred`: keeps lifecycles moving instead of piling up conflicts."""
        return data.draw(st.sampled_from(preferred or items) | st.sampled_from(items), label=label)

    @staticmethod
    def encoded(fields: dict[str, Any], content_type: str) -> dict[str, Any]:
        """`Http.call` keywords sending `fields` as JSON or as a form (booleans `true`/`false`, R5)."""
        if content_type == FORM:
            return {"form": {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in fields.items()}}
        return {"json_body": fields}


def machine_settings(target: Target) -> settings:
    """Volume scales with --examples (25 by default: 25 runs of 40 steps); --contract-seed makes it repeatable."""
    scale = max(1, target.examples)
    return settings(
        max_examples=max(2, scale),
        stateful_step_count=max(5, min(60, round(scale * 1.6))),
        deadline=None,
        database=None,
        derandomize=target.seed is not None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),  # no shrinking: every replay is HTTP against a live target
        print_blob=False,
        report_multiple_bugs=False,
    )


def first_violation(exc: BaseException) -> Violation | None:
    if isinstance(exc, Violation):
        return exc
    for inner in getattr(exc, "exceptions", None) or []:
        found = first_violation(inner)
        if found is not None:
            return found
    return None


def run_machine(machine: type[BehaviourMachine], target: Target) -> None:
    """Run `machine` against `target`, restoring the state it found; a failure raises its `Violation`."""
    http = Http(target)
    bound = type(
        machine.__name__, (machine,), {"target": target, "http": http, "facts": Facts(target.doc, target.operations())}
    )
    if target.seed is not None:
        bound = seed(target.seed)(bound)
    try:
        bound.prepare()
        try:
            run_state_machine_as_test(bound, settings=machine_settings(target))
        except BaseException as exc:
            with contextlib.suppress(Exception):  # tidy up, but the first failure is the one to report
                bound.finish()
            found = first_violation(exc)
            if found is None:
                raise
            raise found from None
        bound.finish()
    finally:
        http.close()


def unknown_identifier(known: list[str]) -> str:
    """An identifier shaped like the known ones (same length, digits) that no inventory holds."""
    width = len(known[0])
    for digit in "987654321":
        candidate = digit * width
        if candidate not in known:
            return candidate
    raise LookupError("no free identifier")
