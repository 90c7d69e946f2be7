"""Every example in the specs round-trips through the generated pydantic models.

`model_validate` then `model_dump(mode="json")` must give back the example exactly: a model that loses,
renames or retypes a field of a documented sample fails here.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from apicontract.paths import module_name
from apicontract.specs.bundle import bundle, pointer, resolve
from apicontract.specs.walk import ExampleSite, deref, iter_examples

from projectkit import APIS, ROOT


def load_models(api: str) -> ModuleType:
    """The checkout's generated module (what `build --check` vouches for), imported from its file."""
    name = f"_generated_{module_name(api)}"
    if name not in sys.modules:
        path = ROOT / "generated" / "models" / f"{module_name(api)}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def component_of(doc: dict, site: ExampleSite) -> str | None:
    """The component schema an example's schema is (or extends with allOf)."""
    node = resolve(doc, pointer(list(site.schema_parts)))
    if site.schema_parts[:2] == ("components", "schemas") and len(site.schema_parts) == 3:
        return site.schema_parts[2]
    for candidate in [node, *(node.get("allOf") or [])] if isinstance(node, dict) else []:
        ref = candidate.get("$ref", "") if isinstance(candidate, dict) else ""
        if ref.startswith("#/components/schemas/") and ref.count("/") == 3:
            return ref.rsplit("/", 1)[1]
    return None


def sites():
    for api in APIS:
        doc = bundle(api, ROOT / "spec" / api / "openapi.yaml").doc
        for site in iter_examples(doc):
            component = component_of(doc, site)
            if component is None:
                continue
            ident = f"{api}:{site.label}"
            yield pytest.param(api, component, site.value, id=ident)


SITES = list(sites())


def test_every_request_response_and_webhook_example_is_covered():
    """Guard against a mapping bug silently skipping most examples."""
    per_api = {api: sum(1 for p in SITES if p.values[0] == api) for api in APIS}
    assert all(count >= 10 for count in per_api.values()), per_api


@pytest.mark.parametrize(("api", "component", "value"), SITES)
def test_example_round_trips_through_its_model(api, component, value):
    models = load_models(api)
    model = getattr(models, component, None)
    assert model is not None, f"no model {component} in generated/models/{module_name(api)}.py"
    instance = model.model_validate(value)
    dumped = instance.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert dumped == value


@pytest.mark.parametrize("api", APIS)
def test_every_webhook_payload_has_a_model(api):
    doc = bundle(api, ROOT / "spec" / api / "openapi.yaml").doc
    models = load_models(api)
    for name, item in (doc.get("webhooks") or {}).items():
        for op in item.values():
            body = deref(doc, op.get("requestBody")) or {}
            for media in (body.get("content") or {}).values():
                ref = media["schema"]["$ref"]
                assert hasattr(models, ref.rsplit("/", 1)[1]), f"webhook {name}: no model for {ref}"
            for param in op.get("parameters") or []:
                ref = param["schema"].get("$ref", "")
                component = ref.split("/")[3] if ref.startswith("#/components/schemas/") else None
                assert component and hasattr(models, component), f"callback {name}: no payload model"


def callback_queries():
    """Callback samples are per-parameter examples sharing a name; together they are one query."""
    for api in APIS:
        doc = bundle(api, ROOT / "spec" / api / "openapi.yaml").doc
        for name, item in (doc.get("webhooks") or {}).items():
            op = item.get("get")
            if not op:
                continue
            queries: dict[str, dict] = {}
            component = None
            for param in op.get("parameters") or []:
                component = param["schema"]["$ref"].split("/")[3]
                for example_name, example in (param.get("examples") or {}).items():
                    queries.setdefault(example_name, {})[param["name"]] = example["value"]
            for example_name, query in queries.items():
                yield pytest.param(api, component, query, id=f"{api}:{name}:{example_name}")


@pytest.mark.parametrize(("api", "component", "query"), list(callback_queries()))
def test_callback_query_example_round_trips_through_its_payload_model(api, component, query):
    model = getattr(load_models(api), component)
    assert model.model_validate(query).model_dump(mode="json", by_alias=True, exclude_unset=True) == query
