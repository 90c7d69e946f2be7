"""Schemathesis on the target's bundled spec, one generated request at a time, and what is checked.

`exercise` sends a generated case and holds its answer to schemathesis's stateless checks, then to the
suite's own (`checks.py`); the first failure becomes a Violation with its check, what was expected, what
came back, and a curl. Seeds derive from --contract-seed, so a run can be replayed request for request.
"""

from __future__ import annotations

import copy
import hashlib
import random
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import schemathesis
from hypothesis import reject
from schemathesis.checks import CHECKS as SCHEMATHESIS_CHECKS
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.errors import SerializationError
from schemathesis.core.failures import FailureGroup

from apicontract.contracts.baselines import JSON, baseline
from apicontract.contracts.checks import Exchange, run_all, value_answers
from apicontract.contracts.schemas import media_schema
from apicontract.contracts.target import Target
from apicontract.contracts.violations import Violation, curl
from apicontract.specs.walk import Operation, cross_field_codes

# schemathesis's stateless checks (the stateful ones need a recorded scenario; auth probes are ignored_auth)
BUILTIN = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "ignored_auth",
)
# what positive_data_acceptance accepts by default, less 5xx (never right, and not_a_server_error says so)
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
UNSAFE = ("post", "put", "patch", "delete")
NOT_SHOWN = {"user-agent", "accept-encoding", "accept", "connection", "content-length", "x-schemathesis-testcaseid"}


def loaded(target: Target):
    """The target's bundle loaded by schemathesis, told where a schema-valid request may answer 400."""
    if "conformance.schema" not in target.extras:
        rules = []
        for op in target.operations():
            statuses = sorted(set(cross_field_codes(target.doc, op)) | {s for s, _ in value_answers(target.doc, op)})
            if "4XX" in (op.node.get("responses") or {}):  # what the implementation may refuse is its choice
                statuses.append("4xx")
            if statuses:
                accepted = {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + statuses}}}
                rules.append({"include-operation-id": op.node["operationId"], **accepted})
        settings = {"output": {"sanitization": {"enabled": False}}}  # curl commands keep the credentials
        config = SchemathesisConfig.from_dict({**settings, "operations": rules} if rules else settings)
        load_all_checks()
        target.extras["conformance.schema"] = schemathesis.openapi.from_dict(copy.deepcopy(target.doc), config=config)
    return target.extras["conformance.schema"]


def base_seed(target: Target) -> int:
    """--contract-seed, or one random seed per run (reported with each violation, so it can be replayed)."""
    return (
        target.seed if target.seed is not None else target.extras.setdefault("conformance.seed", random.getrandbits(32))
    )


def seed_for(target: Target, *parts: str) -> int:
    """A hypothesis seed per test, derived from the base seed, the API, the operation and the mode."""
    base = base_seed(target)
    digest = hashlib.sha256(":".join([str(base), target.api, *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def fixture_identifiers(target: Target) -> set[str]:
    """Every value and key inside the collections (SIMs, media, connectors, ...) of the target's accounts."""
    if "conformance.identifiers" not in target.extras:
        found: set[str] = set()

        def walk(node) -> None:
            if isinstance(node, dict):
                found.update(str(key) for key in node)
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)
            elif node is not None and not isinstance(node, bool):
                found.add(str(node))

        for account in target.accounts:
            for name, value in account.entry.items():
                if isinstance(value, (list, dict)) and name != "credentials":
                    walk(value)
        target.extras["conformance.identifiers"] = found
    return target.extras["conformance.identifiers"]


def touches_fixtures(target: Target, op: Operation, case) -> bool:
    """An unsafe request naming a fixture identifier (path value or top-level body string) would change
    state other suites start from; generation leaves those to the behaviour suites."""
    if op.method not in UNSAFE:
        return False
    known = fixture_identifiers(target)
    values = list((case.path_parameters or {}).values())
    if isinstance(case.body, dict):
        values += [v for v in case.body.values() if isinstance(v, str)]
    return any(not isinstance(v, bool) and str(v) in known for v in values)


def spelled_as_float(target: Target, op: Operation, case) -> bool:
    """A JSON body with an integer written as a number with a fraction part (`1.0`): JSON Schema calls it an
    integer, R5 types JSON bodies strictly, and no ruling says which reading holds, so a generated valid
    request never relies on it (either answer conforms)."""
    if not isinstance(case.body, dict):
        return False
    props = (media_schema(target.doc, op, JSON).get("properties") or {}) if case.media_type == JSON else {}
    return any(
        isinstance(value, float) and "integer" in _types(props.get(name) or {}) for name, value in case.body.items()
    )


def _types(schema: dict) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def replay(response: requests.Response, target: Target | None = None, scenario: str | None = None) -> str:
    """A curl of the request; for an ignored-auth finding, of the request as the probe sent it: without
    credentials, or with wrong ones (the valid ones would not reproduce it)."""
    sent = response.request
    headers = {k: v for k, v in sent.headers.items() if k.lower() not in NOT_SHOWN}
    url = cast(str, sent.url)  # a sent request has its method and URL
    if scenario is not None and target is not None:
        own = {name.lower() for name in target.headers()}
        headers = {k: v for k, v in headers.items() if k.lower() not in own}
        url = _without_query_auth(target, url)
        if scenario != "no_auth":
            headers.update(target.headers(target.first.wrong()))
    # requests' types allow bytes header values and streamed bodies; curl shows them as they were sent
    return curl(cast(str, sent.method), url, cast("dict[str, str]", headers), cast("bytes | str | None", sent.body))


def _how(scenario: object) -> str:
    return "without credentials" if str(scenario) == "no_auth" else "with wrong credentials"


def _without_query_auth(target: Target, url: str) -> str:
    parts = urlsplit(url)
    names = {name for name in target.query_auth()}
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def violation(
    target: Target, op: Operation, check: str, expected: str, actual: str, response, scenario: str | None = None
) -> Violation:
    note = f" (generated with --contract-seed {base_seed(target)})"
    return Violation(target.api, op.label, check, expected, actual + note, replay(response, target, scenario))


def exercise(target: Target, op: Operation, case, mode: str, session: requests.Session) -> Violation | None:
    """Send one generated case; the first check its answer fails, as a Violation."""
    headers = target.headers()
    try:
        response = case.call(base_url=target.base_url, headers=headers, session=session, timeout=20)
    except (requests.ConnectionError, requests.Timeout) as exc:
        command = case.as_curl_command(headers=headers, base_url=target.base_url)
        return Violation(target.api, op.label, "answers every request", "an HTTP answer", repr(exc), command)
    except (requests.RequestException, SerializationError):
        reject()  # a request this client cannot put on the wire (a header value, a body it cannot encode)
    sent = {"base_url": target.base_url, "headers": headers, "session": session}
    sent_request = (response.request.method, response.request.url)
    content_type = (response.headers.get("content-type") or [""])[0]
    answer = (response.status_code, content_type, response.content)
    exchange = Exchange.of(target.doc, op, target.base_url, sent_request, answer, mode)
    checks = _builtin(target, op)
    try:
        case.validate_response(response, checks=checks, headers=headers, transport_kwargs=sent)
    except FailureGroup:
        for check in checks:  # attribute the failure to its check, one by one
            try:
                case.validate_response(response, checks=[check], headers=headers, transport_kwargs=sent)
            except FailureGroup as group:
                failure = group.exceptions[0]
                expected = failure.message.split("\n\nSchema:")[0].strip()[:800] or f"no {failure.title.lower()}"
                scenario = getattr(failure, "scenario", None)  # ignored_auth: how the probe authenticated
                shown = exchange.shown() if scenario is None else f"a success for a request {_how(scenario)}"
                return violation(target, op, check.__name__, expected, shown, response, scenario and str(scenario))
    if 200 <= response.status_code < 300:  # ignored_auth probed this operation without and with wrong credentials
        target.extras.setdefault("conformance.auth_enforced", set()).add(op.label)
    found = run_all(exchange)
    if found:
        name, mismatch = found
        return violation(target, op, name, mismatch.expected, mismatch.actual, response)
    return None


def fixture_case(target: Target, operation, op: Operation):
    """A read-only operation's example request on the target's first account (a provisioned SIM, the
    spec's sample media id): the success answer random identifiers rarely reach, so its schema is held."""
    if op.method != "get":
        return None
    base = baseline(target, op)
    given: dict[str, Any] = {"path_parameters": base.path_values, "query": base.query}
    if JSON in base.bodies:
        given.update(body=base.bodies[JSON], media_type=JSON)
    return operation.Case(**given)


def _builtin(target: Target, op: Operation) -> list:
    """The schemathesis checks to run; like schemathesis's own runner, ignored_auth confirms an
    operation's authentication once (its probes follow every success otherwise)."""
    done = op.label in target.extras.get("conformance.auth_enforced", set())
    return [SCHEMATHESIS_CHECKS.get_one(name) for name in BUILTIN if not (done and name == "ignored_auth")]
