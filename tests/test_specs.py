"""The specs are valid, pass our own lint, and load in the tools that consume them."""

from __future__ import annotations

import pytest
import schemathesis

from apicontract.specs.lint import lint
from apicontract.specs.walk import iter_operations, response_codes

from projectkit import APIS, ROOT


@pytest.mark.parametrize("api", APIS)
def test_lint_is_clean(api, where):
    findings = [f.render(where) for f in lint(where, [api])]
    assert findings == []


def test_all_four_apis_are_specified(where):
    assert where.apis() == ["cpaas", "sim-v1", "sim-v2", "sim-v3"]


@pytest.mark.parametrize("api", APIS)
def test_bundle_loads_in_schemathesis_without_errors(api):
    schema = schemathesis.openapi.from_path(ROOT / "generated" / "openapi" / f"{api}.json")
    results = list(schema.get_all_operations())
    errors = [r for r in results if not hasattr(r, "ok")]
    assert not errors
    assert len(results) == sum(1 for op in iter_operations(schema.raw_schema) if not op.is_webhook)


@pytest.mark.parametrize("api", APIS)
def test_every_operation_answers_401_with_a_code(api, bundles):
    doc = bundles[api]
    for op in iter_operations(doc):
        if not op.is_webhook:
            assert response_codes(doc, op).get("401"), op.label


@pytest.mark.parametrize("api", APIS)
def test_root_answers_per_r4(api, bundles):
    root = bundles[api]["paths"]["/"]["get"]
    assert root["operationId"] == "getRoot"
    assert "R4" in str(root.get("x-ruling"))


def test_webhooks_and_callbacks_are_all_declared(bundles):
    assert set(bundles["sim-v1"]["webhooks"]) == {"location_update", "xdr"}
    assert set(bundles["sim-v3"]["webhooks"]) == {"usage", "network_validation", "network_registration"}
    assert set(bundles["cpaas"]["webhooks"]) == {"startCallback", "endCallback"}
    assert "webhooks" not in bundles["sim-v2"]
