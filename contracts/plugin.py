"""The suite's pytest plugin: which APIs to check, where they are, and as whom.

Registered as the `apicontract` pytest11 entry point, so `pytest --pyargs apicontract.contracts --api
sim-v2 --base-url ...` works as is. Options take `[API=]VALUE`; a bare VALUE applies when one API is
checked. `apicontract check` passes them for you, and starts the reference server when no --base-url
is given. It only parametrizes the suite's own tests, so it stays out of other test suites' way.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from apicontract.contracts.target import Credentials, Target
from apicontract.generated import load_bundle, load_models
from apicontract.paths import layout
from apicontract.specs.yamlfile import load

APIS = ("sim-v1", "sim-v2", "sim-v3", "cpaas")
SUITE = Path(__file__).resolve().parent  # the suite's folder, however pytest named its modules
CREDENTIAL_OPTIONS = {"basic": "basic", "api_key": "api-key", "access_key": "access-key"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apicontract", "apicontract contract suite")
    group.addoption("--api", action="append", default=[], choices=APIS, help="API to check (repeatable; default all)")
    with contextlib.suppress(ValueError):  # pytest-base-url, when installed, owns --base-url: its value is read
        group.addoption("--base-url", action="append", default=[], help="[API=]URL of the implementation under test")
    group.addoption("--basic", action="append", default=[], help="[API=]KEY:SECRET (sim-v1)")
    group.addoption("--api-key", action="append", default=[], help="[API=]KEY (sim-v2, sim-v3)")
    group.addoption("--access-key", action="append", default=[], help="[API=]TOKEN (cpaas)")
    group.addoption("--second-account", action="append", default=[], help="[API=]credentials of a second account")
    group.addoption(
        "--target-fixtures",
        action="append",
        default=[],
        help="[API=]FILE: the target's accounts and identifiers (default: spec/<api>/fixtures.yaml)",
    )
    group.addoption("--examples", type=int, default=25, help="generated examples per operation and mode")
    group.addoption("--contract-seed", type=int, default=None, help="seed for reproducible generation")
    group.addoption("--require-https", action="store_true", help="a plain-HTTP target is a violation")
    group.addoption(
        "--webhook-url",
        action="append",
        default=[],
        help="[API=]URL the target delivers webhooks/callbacks to; the suite listens there",
    )


def _per_api(values: list[str], apis: list[str], option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values or []:
        api, sep, rest = value.partition("=")
        if sep and api in APIS:
            found[api] = rest
        elif len(apis) == 1:
            found[apis[0]] = value
        else:
            raise pytest.UsageError(f"{option} {value}: write API=VALUE when checking several APIs")
    return found


def _selected(config: pytest.Config) -> list[str]:
    return list(dict.fromkeys(config.getoption("--api") or APIS))


def _base_urls(config: pytest.Config, apis: list[str]) -> dict[str, str]:
    raw = config.getoption("--base-url", default=None)
    values = raw if isinstance(raw, list) else ([raw] if raw else [])
    return _per_api(values, apis, "--base-url")


def _credentials(
    config: pytest.Config, apis: list[str], api: str, fixtures: dict
) -> tuple[Credentials, Credentials | None]:
    kind = {"sim-v1": "basic", "cpaas": "access-key"}.get(api, "api-key")
    given = _per_api(config.getoption(f"--{kind}"), apis, f"--{kind}")
    second = _per_api(config.getoption("--second-account"), apis, "--second-account")
    accounts = [a for a in fixtures.get("accounts") or [] if not a.get("prohibited")]
    shape = "basic" if kind == "basic" else "key"
    if api in given:
        first = Credentials.parse(given[api], shape)
    else:
        first = Credentials.from_fixture(accounts[0]["credentials"])
    if api in second:
        other = Credentials.parse(second[api], shape)
    elif api not in given and len(accounts) > 1:
        other = Credentials.from_fixture(accounts[1]["credentials"])
    else:
        other = None
    return first, other


@pytest.fixture(scope="session")
def targets(pytestconfig: pytest.Config) -> dict[str, Target]:
    """Every selected API, ready to test."""
    apis = _selected(pytestconfig)
    urls = _base_urls(pytestconfig, apis)
    missing = [api for api in apis if api not in urls]
    if missing:
        raise pytest.UsageError(
            f"--base-url is needed for {', '.join(missing)} (`apicontract check` starts the reference server for you)"
        )
    where = layout()
    fixture_files = _per_api(pytestconfig.getoption("--target-fixtures"), apis, "--target-fixtures")
    hooks = _per_api(pytestconfig.getoption("--webhook-url"), apis, "--webhook-url")
    found = {}
    for api in apis:
        fixtures = load(Path(fixture_files[api])) if api in fixture_files else load(where.spec / api / "fixtures.yaml")
        first, second = _credentials(pytestconfig, apis, api, fixtures)
        found[api] = Target(
            api=api,
            base_url=urls[api].rstrip("/"),
            doc=load_bundle(where, api),
            models=load_models(where, api),
            fixtures=fixtures,
            first=first,
            second=second,
            examples=pytestconfig.getoption("--examples"),
            seed=pytestconfig.getoption("--contract-seed"),
            require_https=pytestconfig.getoption("--require-https"),
            webhook_url=hooks.get(api),
        )
    return found


@pytest.fixture(scope="session")
def captures(targets: dict[str, Target]):
    """The suite's webhook endpoints, listening where each target delivers (`--webhook-url`)."""
    from apicontract.contracts.capture import Captures

    with Captures({api: t.webhook_url for api, t in targets.items() if t.webhook_url}) as started:
        for api, target in targets.items():
            target.capture = started.of(api)
        yield started


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that take `api` run once per selected API (or per API their `apis` marker names)."""
    if "api" in metafunc.fixturenames and Path(metafunc.module.__file__).resolve().parent == SUITE:
        marker = metafunc.definition.get_closest_marker("apis")
        wanted = [a for a in _selected(metafunc.config) if marker is None or a in marker.args]
        metafunc.parametrize("api", wanted, ids=wanted)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "apis(*names): the test applies to these APIs only")


@pytest.fixture
def target(targets: dict[str, Target], api: str) -> Target:
    return targets[api]
