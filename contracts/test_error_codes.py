"""Documented error codes: a request broken in one place answers exactly the status and code the spec
assigns to that place (R2, R5, R5a, R23).

- every path/query parameter and top-level body property carrying `x-error-code`, broken in each way
  its schema allows (wrong JSON type, pattern, length, range, enum, missing when required): its code;
- the body as a whole: unparseable, not an object, an unknown property (closed bodies), missing, of a
  content type the operation does not list, over `x-max-body-bytes`: `x-body-errors`, the root's code,
  the operation's 413/415 codes;
- the route: an unknown path and a method the path does not take: `info.x-route-errors` (after
  authentication, R5a).
Each answer is also held to the suite's own checks (documented body, JSON error shape).
"""

from __future__ import annotations

import httpx
import pytest

from apicontract.contracts import per_operation
from apicontract.contracts.baselines import Raw, baseline, expect
from apicontract.contracts.checks import reached, route_bodies
from apicontract.contracts.error_cases import (
    SHORT,
    BodyCase,
    FieldCase,
    body_cases,
    body_request,
    field_cases,
    field_requests,
    only_code,
    operations,
)
from apicontract.contracts.target import Target
from apicontract.specs.walk import Operation


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    per_operation.parametrize(metafunc, "field_case", field_cases)
    per_operation.parametrize(metafunc, "body_case", body_cases)


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=60, follow_redirects=False) as session:
        yield session


def find(target: Target, op_id: str) -> Operation:
    return next(op for op in target.operations() if op.node["operationId"] == op_id)


class ErrorCodes:
    """Copied once per API by `per_operation.copies` (TestSimV1, ...)."""

    api: str

    @pytest.mark.clauses(
        "R2.2",
        "R5.1",
        "R5.5",
        "R5a.1",
        "R5c.1",
        "R5c.2",
        "R7.2",
        "R10.1",
        "R10.3",
        "R12.1",
        "R14.1",
        "R14.2",
        "R17a.1",
        "R20.1",
        "R20.2",
        "R21.1",
        "R21.2",
        "R23.2",
        "R23a.3",
        "R23a.4",
        "R24.1",
        "R24.5",
        "R25.9",
        "R26.1",
        "R26.2",
    )
    @pytest.mark.check("error codes: invalid fields")
    def test_invalid_field_answers_its_code(self, target: Target, field_case: FieldCase, client):
        """A request valid but for one field answers that field's `x-error-code`, at the status that lists it
        (or another answer the spec lists as conforming for that value: R5, R5c, R23a, R24)."""
        op = find(target, field_case.op_id)
        base = baseline(target, op)
        broken = field_requests(target.doc, base, field_case)
        assert broken, f"{op.label}: no way to break `{field_case.name}` was found in its schema"
        where = "parameter" if field_case.location in ("path", "query") else f"{SHORT[field_case.location]} field"
        for kind, raw, answers in broken:
            if not answers:
                pytest.fail(f"{op.label}: no 4xx response lists the code of {field_case.name}")
            codes = " or ".join(code for _, code in answers)
            expect(target, op, raw, client, answers, f"{where} `{field_case.name}` {kind} -> {codes}")

    @pytest.mark.clauses(
        "R5.1", "R5.3", "R5.4", "R5.6", "R5.7", "R5.8", "R10.2", "R17.1", "R19.2", "R23a.1", "R23a.2", "R23a.3", "R25.7"
    )
    @pytest.mark.check("error codes: malformed bodies")
    def test_malformed_body_answers_its_code(self, target: Target, body_case: BodyCase, client):
        """A body that is unparseable, not an object, unknown-keyed, missing, unlisted or too large answers
        what `x-body-errors`, the root schema's code or the operation's 413/415 code say."""
        op = find(target, body_case.op_id)
        raw, answers = body_request(target, baseline(target, op), body_case)
        if not answers:
            pytest.fail(f"{op.label}: the spec documents no answer for a {body_case.kind} body")
        kind = f"{body_case.kind} body" + (f" ({body_case.ctype})" if body_case.ctype else "")
        shown = " or ".join(f"{status} {code}" for status, code in answers)
        expect(target, op, raw, client, answers, f"{kind} -> {shown}")


per_operation.copies(ErrorCodes, globals())


@pytest.mark.check("error codes: unknown path")
@pytest.mark.clauses("R5.2", "R5a.1")
def test_unknown_path_answers_route_404(target: Target, client):
    """R5: a path no operation has answers `x-route-errors` 404; without credentials 401 comes first (R5a)."""
    doc = target.doc
    path = "/apicontract-no-such-path"
    while reached(doc, "get", path)[1] != "404":
        path += "-x"
    code = next(iter(route_bodies(doc, "404")), None)
    if code is None:
        pytest.skip("the spec has no x-route-errors 404")
    op = operations(doc)[0]
    raw = Raw("GET", path)
    label = f"GET {path}"
    expect(target, op, raw, client, ("404", code), "unknown path -> x-route-errors 404", label=label)
    unauthorized = only_code(doc, op, "401")
    what = "unknown path without credentials -> 401 (R5a)"
    expect(target, op, raw, client, unauthorized, what, authenticated=False, label=label)


@pytest.mark.check("error codes: wrong method")
@pytest.mark.clauses("R5.2")
def test_wrong_method_answers_route_405(target: Target, client):
    """R5: a method the path does not take answers `x-route-errors` 405, on every path."""
    doc = target.doc
    code = next(iter(route_bodies(doc, "405")), None)
    if code is None:
        pytest.skip("the spec has no x-route-errors 405")
    paths: dict[str, list[Operation]] = {}
    for op in operations(doc):
        paths.setdefault(op.key, []).append(op)
    for ops in paths.values():
        taken = {op.method for op in ops}
        method = next(m for m in ("delete", "put", "post", "patch", "get") if m not in taken)
        raw = Raw(method.upper(), baseline(target, ops[0]).path())
        label = f"{raw.method} {ops[0].key}"
        expect(target, ops[0], raw, client, ("405", code), f"method not allowed -> 405 {code}", label=label)
