"""Tests with one item per operation (or per field of an operation) of one API.

The plugin parametrizes `api` for every test that takes it; items that depend on the API's bundle
(its operations, their fields) cannot be crossed with that. So such tests live in a template class
copied once per API (`TestSimV2`, ...), marked `apis(<api>)` so the plugin gives it that API only, and
the module's `pytest_generate_tests` reads the class's bundle for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from apicontract.contracts.plugin import APIS
from apicontract.generated import load_bundle
from apicontract.paths import layout
from apicontract.specs.promises import contract_view

_bundles: dict[str, dict] = {}


def bundle(api: str) -> dict:
    """The API's contract view (what the items are derived from: nothing the reference server alone chose)."""
    if api not in _bundles:
        _bundles[api] = contract_view(load_bundle(layout(), api))
    return _bundles[api]


def copies(template: type, namespace: dict[str, Any]) -> None:
    """Put one subclass of `template` per API into a test module's namespace, each marked `apis(api)`."""
    for api in APIS:
        name = "Test" + "".join(part.capitalize() for part in api.split("-"))
        namespace[name] = pytest.mark.apis(api)(type(name, (template,), {"api": api}))


def parametrize(metafunc: pytest.Metafunc, argname: str, items: Callable[[dict], Iterable[tuple[str, Any]]]) -> None:
    """Parametrize `argname` with `items(bundle)` ((id, value) pairs) of the class's API, if it is checked."""
    api = getattr(metafunc.cls, "api", None)
    if api is None or argname not in metafunc.fixturenames:
        return
    selected = metafunc.config.getoption("--api") or APIS
    found = list(items(bundle(api))) if api in selected else []
    metafunc.parametrize(argname, [value for _, value in found], ids=[ident for ident, _ in found])
