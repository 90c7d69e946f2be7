"""Conformance: generated requests, valid and invalid, to every operation, answers held to the spec.

Schemathesis generates requests from the target's bundled spec (positive: schema-valid; negative: each
breaking it somewhere) and runs its stateless checks on each answer; then the suite's own checks
(`checks.py`) hold the answer to this project's conventions. One test per operation and mode, `--examples`
requests each, generation seeded from `--contract-seed`. State is the behaviour suites' business: an
unsafe request that would touch one of the target's fixture identifiers is not sent.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from schemathesis import GenerationMode

from apicontract.contracts import per_operation
from apicontract.contracts.conformance import (
    exercise,
    fixture_case,
    loaded,
    seed_for,
    spelled_as_float,
    touches_fixtures,
)
from apicontract.contracts.target import Target
from apicontract.contracts.violations import Violation
from apicontract.specs.walk import iter_operations


def operations(doc: dict):
    for op in iter_operations(doc):
        if not op.is_webhook:
            yield op.node["operationId"], op.node["operationId"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    per_operation.parametrize(metafunc, "operation_id", operations)


@pytest.fixture(scope="module")
def session():
    with requests.Session() as http:
        yield http


class Conformance:
    """Copied once per API by `per_operation.copies` (TestSimV1, ...)."""

    api: str

    @pytest.mark.clauses(
        "R1.1", "R2.1", "R2.2", "R4.1", "R5.1", "R7.1", "R11.1", "R21.3", "R23.1", "R23.2", "R25.1", "R26.3", "R28.1"
    )
    @pytest.mark.check("conformance ({mode})")
    @pytest.mark.parametrize("mode", ["positive", "negative"])
    def test_conformance(self, target: Target, operation_id: str, mode: str, session):
        """Generated requests of one operation and mode pass schemathesis's checks and the suite's own."""
        op = next(op for op in target.operations() if op.node["operationId"] == operation_id)
        operation = loaded(target).find_operation_by_id(operation_id)
        strategy = operation.as_strategy(generation_mode=GenerationMode(mode))
        found: list[Violation] = []
        example = fixture_case(target, operation, op) if mode == "positive" else None
        if example is not None:
            problem = exercise(target, op, example, mode, session)
            if problem:
                raise problem

        @seed(seed_for(target, operation_id, mode))
        @settings(
            max_examples=target.examples,
            derandomize=target.seed is not None,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # no shrinking: replays against a stateful target mislead
            report_multiple_bugs=False,
        )
        @given(case=strategy)
        def generated(case) -> None:
            if found:
                return
            if touches_fixtures(target, op, case) or (mode == "positive" and spelled_as_float(target, op, case)):
                reject()
            problem = exercise(target, op, case, mode, session)
            if problem:
                found.append(problem)

        generated()
        if found:
            raise found[0]


per_operation.copies(Conformance, globals())
