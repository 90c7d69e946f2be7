"""The suite's pytest plugin: which APIs to check, where they are, and as whom.

Registered as the `apicontract` pytest11 entry point, so `pytest --pyargs apicontract.contracts --target
target.yaml` works as is. A target file describes the implementation once; options take `[API=]VALUE`
(a bare VALUE applies when one API is checked) and override it, saying so. Credentials are given once: a
flag that disagrees with the file is an error, never a quiet switch to other accounts. `apicontract check`
passes these options for you, and starts the reference server when no target is given. The plugin only
parametrizes the suite's own tests, so it stays out of other test suites' way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from pathlib import Path

import pytest

from apicontract.contracts.target import Account, Credentials, HookCredentials, Target
from apicontract.contracts.targetfile import ApiTarget, TargetFileError, check_entries, read_target_file
from apicontract.contracts.violations import Violation, Violations
from apicontract.generated import load_bundle, load_models
from apicontract.paths import layout
from apicontract.specs.security import credential_option
from apicontract.specs.yamlfile import SpecFileError, load

APIS = ("sim-v1", "sim-v2", "sim-v3", "cpaas")
SUITE = Path(__file__).resolve().parent  # the suite's folder, however pytest named its modules


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apicontract", "apicontract contract suite")
    group.addoption("--api", action="append", default=[], choices=APIS, help="API to check (repeatable; default all)")
    group.addoption("--target", default=None, help="target file: the implementation's URLs, accounts and inventory")
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
        help="[API=]FILE: the target's accounts and identifiers, as a list under `accounts:`",
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
    group.addoption(
        "--clauses",
        action="append",
        default=[],
        help="run only the checks that exercise these ruling clauses (`R9`, `R24.3`; repeatable)",
    )
    group.addoption(
        "--reference-fixtures",
        action="store_true",
        help="the target is the reference server with the spec's demo fixtures (their stated outcomes hold)",
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


_TARGET_FILE = pytest.StashKey[dict]()


def _target_file(config: pytest.Config) -> dict[str, ApiTarget]:
    """The target file's APIs (read once per run)."""
    if _TARGET_FILE not in config.stash:
        name = config.getoption("--target")
        found: dict[str, ApiTarget] = {}
        if name:
            where = layout()
            try:
                found = read_target_file(name, {api: load_bundle(where, api) for api in APIS})
            except TargetFileError as exc:
                raise pytest.UsageError(f"target file {exc.path}:\n  " + "\n  ".join(exc.problems)) from None
        config.stash[_TARGET_FILE] = found
    return config.stash[_TARGET_FILE]


def _selected(config: pytest.Config) -> list[str]:
    chosen = list(dict.fromkeys(config.getoption("--api") or []))
    if chosen:
        return chosen
    return [api for api in APIS if api in _target_file(config)] or list(APIS)


def _base_urls(config: pytest.Config, apis: list[str]) -> dict[str, str]:
    raw = config.getoption("--base-url", default=None)
    values = raw if isinstance(raw, list) else ([raw] if raw else [])
    return _per_api(values, apis, "--base-url")


def _accounts_file(api: str, path: str, doc: dict) -> list[dict]:
    try:
        raw = load(Path(path))
    except (OSError, SpecFileError) as exc:
        raise pytest.UsageError(f"--target-fixtures {path}: {exc}") from None
    accounts = raw.get("accounts") if isinstance(raw, dict) else None
    if not isinstance(accounts, list) or not accounts or not all(isinstance(a, dict) for a in accounts):
        raise pytest.UsageError(f"--target-fixtures {path}: needs a non-empty list `accounts:` of accounts")
    problems = check_entries(api, doc, accounts)
    if problems:
        raise pytest.UsageError(f"--target-fixtures {path}:\n  " + "\n  ".join(problems))
    return accounts


def _merge_credentials(api: str, entry: dict | None, flag: str | None, kind: str, label: str) -> Credentials | None:
    """The account's credentials from the file, or the flag; both given and different is an error."""
    from_file = Credentials.from_entry((entry or {}).get("credentials"))
    shape = "basic" if kind == "--basic" else "key"
    try:
        from_flag = Credentials.parse(flag, shape) if flag is not None else None
    except ValueError as exc:
        raise pytest.UsageError(f"{kind} {api}: {exc}") from None
    if from_file and from_flag and from_file != from_flag:
        raise pytest.UsageError(
            f"{api}: the {label} account's credentials are given twice and differ ({kind} {from_flag.shown()} "
            f"vs the file's {from_file.shown()}); give them once"
        )
    return from_flag or from_file


@pytest.fixture(scope="session")
def targets(pytestconfig: pytest.Config) -> dict[str, Target]:
    """Every selected API, ready to test."""
    apis = _selected(pytestconfig)
    in_file = _target_file(pytestconfig)
    urls = _base_urls(pytestconfig, apis)
    hooks = _per_api(pytestconfig.getoption("--webhook-url"), apis, "--webhook-url")
    account_files = _per_api(pytestconfig.getoption("--target-fixtures"), apis, "--target-fixtures")
    second = _per_api(pytestconfig.getoption("--second-account"), apis, "--second-account")
    reference = pytestconfig.getoption("--reference-fixtures")
    where = layout()
    found = {}
    for api in apis:
        bundle = load_bundle(where, api)
        described = in_file.get(api)
        base_url = urls.get(api) or (described.base_url if described else None)
        if not base_url:
            raise pytest.UsageError(
                f"no base URL for {api}: give --base-url or a target file "
                "(`apicontract check` starts the reference server for you)"
            )
        kind = credential_option(bundle)
        given = _per_api(pytestconfig.getoption(f"--{kind.removeprefix('--')}"), apis, kind)
        fixtures: dict = {}
        shared_hook = None
        if described is not None:
            entries = described.accounts
            shared_hook = HookCredentials.from_entry(described.shared_hook)
        elif api in account_files:
            entries = _accounts_file(api, account_files[api], bundle)
        elif reference or (api not in given and api not in second):  # the demo accounts the spec's fixtures hold
            fixtures = load(where.spec / api / "fixtures.yaml")
            entries = [a for a in fixtures.get("accounts") or [] if not a.get("prohibited")]
        else:
            entries = []
        webhook_url = hooks.get(api) or (described.webhook_url if described else None)
        accounts = [
            Account.from_entry(bundle, entry, index, shared_hook, webhook_url) for index, entry in enumerate(entries)
        ]
        while len(accounts) < 1 + (api in second):
            accounts.append(Account(f"account {len(accounts) + 1}", None, shared_hook, webhook_url))
        first = _merge_credentials(api, entries[0] if entries else None, given.get(api), kind, "first")
        if first is None:
            raise pytest.UsageError(f"{api}: no credentials for the first account (give {kind} or a target file)")
        accounts[0].credentials = first
        if api in second:
            entry = entries[1] if len(entries) > 1 else None
            accounts[1].credentials = _merge_credentials(api, entry, second[api], kind, "second")
        accounts = [a for a in accounts if a.credentials is not None]
        found[api] = Target(
            api=api,
            base_url=base_url.rstrip("/"),
            bundle=bundle,
            models=load_models(where, api),
            accounts=accounts,
            fixtures=fixtures,
            examples=pytestconfig.getoption("--examples"),
            seed=pytestconfig.getoption("--contract-seed"),
            require_https=pytestconfig.getoption("--require-https"),
            webhook_url=webhook_url,
            reference=bool(fixtures) and reference,  # the demo fixtures' stated outcomes hold
        )
    return found


@pytest.fixture(scope="session")
def captures(targets: dict[str, Target]):
    """The suite's webhook endpoints, listening where each target delivers."""
    from apicontract.contracts.capture import Captures

    urls = {}
    for api, target in targets.items():
        own = [a.webhook_url for a in target.accounts if a.webhook_url]
        urls[api] = [u for u in dict.fromkeys([target.webhook_url, *own]) if u]
    with Captures(urls) as started:
        yield started


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that take `api` run once per selected API (or per API their `apis` marker names)."""
    if "api" in metafunc.fixturenames and Path(metafunc.module.__file__).resolve().parent == SUITE:
        marker = metafunc.definition.get_closest_marker("apis")
        wanted = [a for a in _selected(metafunc.config) if marker is None or a in marker.args]
        metafunc.parametrize("api", wanted, ids=wanted)


STATELESS = ("test_error_codes.py::",)  # modules whose checks change no state: any process may run each


def pytest_xdist_make_scheduler(config: pytest.Config, log: object):
    """With --workers: an API's stateful checks share the state they model, so each API's checks run in one
    process (and its webhook endpoint listens there only); stateless checks go wherever there is room."""
    from xdist.scheduler import LoadScopeScheduling

    class ByApi(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.split("/")[-1].startswith(STATELESS):
                return nodeid
            found = re.search(r"\[(?:[^\]]*-)?(" + "|".join(map(re.escape, APIS)) + r")(?:-[^\]]*)?\]$", nodeid)
            return found.group(1) if found else nodeid

    return ByApi(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Checks of APIs that are not checked are no items at all (not skipped ones); `--clauses R9`: keep the
    checks that name a clause of R9 (or exactly `R24.3`)."""
    ours = [i for i in items if Path(str(i.fspath)).resolve().parent == SUITE]
    idle = [i for i in ours if "api" in getattr(i, "fixturenames", ()) and not _api_of(i)]
    if idle:
        config.hook.pytest_deselected(items=idle)
        items[:] = [i for i in items if i not in idle]
    wanted = [w for value in config.getoption("--clauses") or [] for w in value.split(",") if w]
    if not wanted:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        names = {c for marker in item.iter_markers("clauses") for c in marker.args}
        hit = any(c == w or c.startswith(w + ".") for c in names for w in wanted)
        (kept if hit else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


META = "apicontract"  # the key of what each test report carries for the check's reporter (also across --workers)


def title(item: pytest.Item) -> str:
    """How a check is named to its user: its `check` marker (as the README names it), with the test's
    parameters filled in (`behaviour: {concern}` -> `behaviour: lifecycle`); else the function name."""
    marker = item.get_closest_marker("check")
    params = getattr(getattr(item, "callspec", None), "params", {})
    if marker is None:
        return getattr(item, "originalname", item.name)
    try:
        return str(marker.args[0]).format(**params)
    except (KeyError, IndexError):
        return str(marker.args[0])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Every report of a check carries its API, its name and its violations, as plain data (xdist sends
    reports between processes, so no objects)."""
    outcome = yield
    report = outcome.get_result()
    if Path(str(item.fspath)).resolve().parent != SUITE:
        return
    found = call.excinfo.value if call.excinfo is not None else None
    items = found.items if isinstance(found, Violations) else [found] if isinstance(found, Violation) else []
    meta = {"api": _api_of(item), "check": title(item), "violations": [dataclasses.asdict(v) for v in items]}
    report.user_properties.append((META, meta))


def _api_of(item: pytest.Item) -> str | None:
    api = getattr(getattr(item, "callspec", None), "params", {}).get("api")
    return api if isinstance(api, str) else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "apis(*names): the test applies to these APIs only")
    config.addinivalue_line("markers", "clauses(*ids): the ruling clauses a check exercises (contracts/README.md)")
    config.addinivalue_line("markers", "check(title): how the check is named to its user (`{param}` filled in)")


@pytest.fixture
def target(targets: dict[str, Target], api: str) -> Target:
    return targets[api]
