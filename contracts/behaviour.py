"""What the behaviour state machines share: spec facts, an HTTP session that can replay itself, the base machine.

Each `test_behaviour_<api>.py` is a hypothesis `RuleBasedStateMachine` holding a Python model of the
rulings; everything the model needs from the contract (error codes, defaults, patterns, success bodies)
is read here from the target's bundled spec, so a spec edit changes what the machines expect.
"""

from __future__ import annotations

import contextlib
import functools
import json
import urllib.parse
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, NoReturn, cast

import httpx
import hypothesis.errors
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, run_state_machine_as_test
from hypothesis.stateful import rule as hypothesis_rule

from apicontract.contracts.answers import field_answers
from apicontract.contracts.schemas import inline
from apicontract.contracts.target import Credentials, Target
from apicontract.contracts.violations import Violation, Violations, curl
from apicontract.specs.inputs import parameter_code, property_code
from apicontract.specs.walk import Operation, deref, error_field, iter_operations, parameters, response_codes

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
ANY = object()  # "any body": only the status is compared
BOUNDARY = "apicontract-behaviour-boundary"
MAX_FINDINGS = 25  # distinct violations one machine reports before it stops exploring


class Deviation(Exception):  # noqa: N818 - not an error of the suite: a finding, recorded where it is raised
    """A target's answer differed from the model: recorded by `fail`, then the machine resyncs and goes on."""


class Enough(Exception):  # noqa: N818
    """The machine has found enough distinct violations, or cannot go on (its state cannot be read)."""


MOVER = "state"  # the concern of unchecked rules that only change the target's state for the others


def rule(concern: str, **strategies: Any):
    """hypothesis's `rule`, for one concern, that keeps exploring after a finding.

    A rule that finds a deviation stops there; the machine re-reads what it models from the target
    (`resync`) and the run goes on, so later rules test other things against the target's real state:
    one deviation never hides another. A machine runs once per concern (`run_machine(..., concern)`),
    with that concern's rules and the unchecked state movers, so each concern is its own check.
    """

    def decorate(func):
        @functools.wraps(func)
        def guarded(self, **data: Any) -> None:
            try:
                func(self, **data)
            except Deviation:
                try:
                    self.resync()
                except Deviation:
                    raise Enough from None

        guarded.concern = concern  # type: ignore[attr-defined]  # read back by concerns()
        wrapped = hypothesis_rule(**strategies)(guarded)
        return precondition(lambda self: concern in (MOVER, self.concern))(wrapped)

    return decorate


def concerns(machine: type) -> list[str]:
    """The concerns a machine's rules check, in the order they are written."""
    found = []
    for name in dir(machine):
        concern = getattr(getattr(machine, name), "concern", None)
        if concern and concern != MOVER and concern not in found:
            found.append(concern)
    return found


def concern_params(machine: type) -> list:
    """One pytest parameter per concern, marked with the ruling clauses it checks (`CLAUSES` of the machine)."""
    clauses = getattr(machine, "CLAUSES", {})
    return [pytest.param(c, id=c, marks=pytest.mark.clauses(*clauses.get(c, ()))) for c in concerns(machine)]


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
        return inline(self.doc, media.get("schema") or {})

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
                code = parameter_code(self.doc, param)
        if code is None:
            schema = self.body_schema(op_id, content_type)
            code = property_code(schema, name)
        for status, codes in self.codes(op_id).items():
            if code in codes:
                return int(status), code
        raise LookupError(f"{op_id}: {name}'s code {code!r} is not documented")

    def param(self, op_id: str, name: str) -> dict:
        for param, _ in parameters(self.doc, self.ops[op_id]):
            if param.get("name") == name:
                return {**param, "schema": inline(self.doc, param.get("schema") or {})}
        raise LookupError(f"{op_id} has no parameter {name}")

    def component(self, name: str) -> dict:
        return inline(self.doc, {"$ref": f"#/components/schemas/{name}"})

    def success_schema(self, op_id: str) -> dict:
        response = deref(self.doc, (self.ops[op_id].node.get("responses") or {}).get(str(self.success_status(op_id))))
        media = ((response or {}).get("content") or {}).get(JSON) or {}
        return inline(self.doc, media.get("schema") or {})

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


class Findings:
    """The distinct violations one machine found, each once (with how often it was seen)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Violation] = {}
        self.counts: dict[tuple[str, str], int] = {}

    def add(self, violation: Violation) -> None:
        key = (violation.operation, violation.check)
        self.items.setdefault(key, violation)
        self.counts[key] = self.counts.get(key, 0) + 1
        if len(self.items) >= MAX_FINDINGS:
            raise Enough

    def __bool__(self) -> bool:
        return bool(self.items)

    def error(self) -> Violations:
        return Violations(list(self.items.values()), [self.counts[k] for k in self.items])


class BehaviourMachine(RuleBasedStateMachine):
    """Base of the machines: sending by operationId, comparing answers with the model, and recording each
    deviation (`fail`) before re-reading the target's state (`resync`) and going on."""

    target: ClassVar[Target]
    http: ClassVar[Http]
    facts: ClassVar[Facts]
    findings: ClassVar[Findings]
    concern: ClassVar[str]

    def resync(self) -> None:
        """After a deviation: set the model to what the target now holds, so later rules test other things."""

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
    def fail(cls, ex: Exchange, op_id: str, rule: str, expected: str, actual: str | None = None) -> NoReturn:
        """Record a deviation and stop the rule (`rule` then resyncs the model and the run goes on)."""
        before = list(cls.http.history)[:-1]
        context = ("\n  after: " + "\n         ".join(before)) if before else ""
        cls.findings.add(
            Violation(
                cls.target.api,
                cls.facts.label(op_id),
                f"behaviour: {rule}",
                expected,
                (actual or ex.seen()) + context,
                ex.curl,
            )
        )
        raise Deviation(rule)

    @classmethod
    def expect_error(cls, ex: Exchange, op_id: str, status: int, code: str, rule: str) -> None:
        """`status` with exactly the body the spec documents for `code`."""
        cls.expect_any(ex, op_id, [(status, code)], rule)

    @classmethod
    def expect_any(cls, ex: Exchange, op_id: str, answers: Sequence[tuple[int | str, str]], rule: str) -> None:
        """One of the allowed (status, code) answers, with exactly the body the spec documents for it."""
        bodies = [(int(status), cls.facts.error_body(op_id, int(status), code)) for status, code in answers]
        if not any(ex.status == status and ex.json == body for status, body in bodies):
            shown = " or ".join(f"{status} {json.dumps(body)}" for status, body in bodies)
            cls.fail(ex, op_id, rule, shown or "an error the spec documents")

    @classmethod
    def invalid(cls, op_id: str, name: str, value: Any, content_type: str = JSON) -> list[tuple[str, str]]:
        """What a body valid but for `name` being `value` may answer (R5, R5a, R23a)."""
        return field_answers(cls.facts.doc, cls.facts.ops[op_id], content_type, name, value)

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


def machine_settings(target: Target, share: int = 1) -> settings:
    """Volume scales with --examples (25 by default: 25 runs of 40 steps per API, shared by its concerns);
    --contract-seed makes it repeatable."""
    scale = max(1, target.examples)
    return settings(
        max_examples=max(6, round(scale / share)),  # hypothesis's first runs are minimal: a few more explore
        stateful_step_count=max(5, min(60, round(scale * 1.6))),
        deadline=None,
        database=None,
        derandomize=target.seed is not None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),  # no shrinking: every replay is HTTP against a live target
        print_blob=False,
        report_multiple_bugs=False,
    )


def _ours(exc: BaseException) -> bool:
    """The run ended on a finding of ours (possibly wrapped by hypothesis), not on a bug of the suite."""
    if isinstance(exc, (Deviation, Enough)):
        return True
    inner = getattr(exc, "exceptions", None) or []
    return bool(inner) and all(_ours(e) for e in inner)


def run_machine(machine: type[BehaviourMachine], target: Target, concern: str) -> None:
    """Run `machine`'s rules of one concern against `target`, restoring the state it found; every distinct
    deviation found is raised at the end, together (`Violations`)."""
    http = Http(target)
    findings = Findings()
    # the machines model the contract's situations only; their codes are the spec's, never widened
    facts = Facts(target.bundle, [op for op in iter_operations(target.bundle) if not op.is_webhook])
    state = {"target": target, "http": http, "facts": facts, "findings": findings, "concern": concern}
    bound = cast(type[BehaviourMachine], type(f"{machine.__name__}[{concern}]", (machine,), state))
    if target.seed is not None:
        bound = seed(target.seed)(bound)
    try:
        try:
            bound.prepare()
            run_state_machine_as_test(bound, settings=machine_settings(target, len(concerns(machine))))
        except BaseException as exc:
            # a finding ends the run (hypothesis may wrap it, or find its replay against a live target flaky):
            # the findings are the report; anything else is a bug of the suite or the target's crash
            if not (_ours(exc) or (findings and isinstance(exc, hypothesis.errors.HypothesisException))):
                raise
        with contextlib.suppress(Deviation, Enough):  # leave the target as found; a failure here is recorded
            bound.finish()
    finally:
        http.close()
    if findings:
        raise findings.error()


def same(a: Any, b: Any) -> bool:
    """JSON equality (1 is not true)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def unknown_identifier(known: list[str]) -> str:
    """An identifier shaped like the known ones (same length, digits) that no inventory holds."""
    width = len(known[0])
    for digit in "987654321":
        candidate = digit * width
        if candidate not in known:
            return candidate
    raise LookupError("no free identifier")
