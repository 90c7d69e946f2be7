"""The published reference (`apicontract docs`), built by the command line and opened in headless Chromium.

Every page must load from the file system with no console error and no request leaving the machine; every
operation and webhook of the bundles has its anchor; search leads from an error code to its operation;
pages fit a phone screen; every ruling mark and every unspecified element of the specs is on its page.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import types
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from apicontract.docs.model import load_api
from apicontract.specs.bundle import pointer
from apicontract.specs.walk import iter_operations, response_codes

from projectkit import APIS, ROOT, cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = ["index.html", "rulings.html", *(f"{api}.html" for api in APIS)]
SCREENSHOT = ROOT / "test-artifacts" / "docs-operation.png"
SEARCHED_CODE = "data_data_throttling_conflict"


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = cli("docs", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "index.html").as_uri() in done.stdout
    return out


@pytest.fixture(scope="session")
def generated() -> dict[str, dict]:
    """The bundles the site is built from (generated/, checked fresh by test_build)."""
    return {api: json.loads((ROOT / "generated" / "openapi" / f"{api}.json").read_text()) for api in APIS}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip("install Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page in a fresh browser context, with every console error and every off-machine request kept."""

    def __init__(self, browser, url: str, width: int = 1280, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.route("**/*", self._route)
        self.page.goto(url)

    def _route(self, route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()


@pytest.fixture
def visit(browser):
    opened: list[Visit] = []

    def open_page(url: str, **size) -> Visit:
        opened.append(Visit(browser, url, **size))
        return opened[-1]

    yield open_page
    for done in opened:
        done.context.close()


# in the browser ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_offline_without_errors(site, visit, name):
    seen = visit((site / name).as_uri())
    assert seen.page.title()
    assert seen.page.evaluate("window.SEARCH_INDEX.length") > 0
    assert seen.errors == []
    assert seen.outside == []


@pytest.mark.parametrize("api", APIS)
def test_every_operation_and_webhook_has_its_anchor(site, visit, generated, api):
    seen = visit((site / f"{api}.html").as_uri())
    ids = set(seen.page.evaluate("Array.from(document.querySelectorAll('[id]'), e => e.id)"))
    wanted = {
        f"webhook-{op.key}" if op.is_webhook else f"op-{op.node['operationId']}"
        for op in iter_operations(generated[api])
    }
    assert wanted, api
    assert sorted(wanted - ids) == []


def test_search_finds_an_error_code_and_leads_to_its_operation(site, visit, generated):
    documenting = {
        f"op-{op.node['operationId']}"
        for op in iter_operations(generated["sim-v2"])
        if any(SEARCHED_CODE in codes for codes in response_codes(generated["sim-v2"], op).values())
    }
    assert documenting  # createSim and updateSim in the spec as written
    seen = visit((site / "index.html").as_uri())
    seen.page.fill("#search-input", SEARCHED_CODE)
    hit = seen.page.locator("#search-results a.search-hit").first
    hit.wait_for(state="visible")
    assert SEARCHED_CODE in hit.inner_text()
    hit.click()
    seen.page.wait_for_url("**/sim-v2.html#err-*")
    target = seen.page.url.split("#", 1)[1]
    assert seen.page.locator(f"[id='{target}']").is_visible()
    operation = seen.page.evaluate(f"document.getElementById('{target}').closest('article.op').id")
    assert operation in documenting
    assert seen.page.locator(f"[id='{operation}']").is_visible()
    assert seen.errors == [] and seen.outside == []


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone_screen(site, visit, name):
    seen = visit((site / name).as_uri(), width=375, height=812)
    assert seen.page.evaluate("document.documentElement.scrollWidth") <= 375


def test_screenshot_of_an_operation(site, visit):
    """Saved as a test artifact: the sim-v2 Create SIM operation as a reader sees it."""
    seen = visit((site / "sim-v2.html").as_uri() + "#op-createSim", width=1280, height=900)
    box = seen.page.locator("#op-createSim").bounding_box()
    seen.page.set_viewport_size({"width": 1280, "height": min(int(box["height"]) + 140, 6000)})
    seen.page.locator("#op-createSim").scroll_into_view_if_needed()
    seen.page.evaluate("location.hash = ''; location.hash = '#op-createSim'")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    seen.page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 20_000
    assert seen.errors == []


# in the HTML ------------------------------------------------------------------------------------------


class Marks(HTMLParser):
    """The ruling marks, unspecified notes and ids of one page."""

    def __init__(self, text: str):
        super().__init__()
        self.rulings: set[tuple[str | None, str | None]] = set()
        self.listed: set[str] = set()
        self.ids: set[str] = set()
        self.unspecified_text = ""
        self._in_list = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "ruling" in classes:
            self.rulings.add((attrs.get("data-at"), attrs.get("href")))
        if tag == "ul" and "unspecified-list" in classes:
            self._in_list = 1
        elif tag == "ul" and self._in_list:
            self._in_list += 1
        if tag == "li" and self._in_list and "data-at" in attrs:
            self.listed.add(attrs["data-at"])

    def handle_endtag(self, tag):
        if tag == "ul" and self._in_list:
            self._in_list -= 1

    def handle_data(self, data):
        if self._in_list:
            self.unspecified_text += data


def _occurrences(node, parts, key):
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                yield parts, value
            yield from _occurrences(value, (*parts, name), key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _occurrences(value, (*parts, str(index)), key)


@pytest.mark.parametrize("api", APIS)
def test_every_ruling_mark_links_to_its_ruling(site, generated, api):
    page = Marks((site / f"{api}.html").read_text())
    rulings = Marks((site / "rulings.html").read_text())
    missing = []
    for parts, value in _occurrences(generated[api], (), "x-ruling"):
        for ruling in [value] if isinstance(value, str) else value:
            assert ruling in rulings.ids, f"rulings.html has no anchor {ruling}"
            if (pointer(list(parts)), f"rulings.html#{ruling}") not in page.rulings:
                missing.append(f"{pointer(list(parts))}: {ruling}")
    assert missing == []


@pytest.mark.parametrize("api", APIS)
def test_everything_unspecified_is_listed(site, generated, api):
    page = Marks((site / f"{api}.html").read_text())
    info = generated[api]["info"]
    for entry in info.get("x-unspecified") or []:
        assert " ".join(entry["section"].split()) in " ".join(page.unspecified_text.split())
    elements = [
        pointer(list(parts)) for parts, value in _occurrences(generated[api], (), "x-unspecified") if parts != ("info",)
    ]
    assert sorted(set(elements) - page.listed) == []


def test_no_page_refers_to_anything_off_the_machine(site):
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text()
        for needle in ('src="http', "src='http", 'href="http', "@import", "url(http", "//cdn", "fonts.googleapis"):
            assert needle not in text, f"{path.name} refers to {needle}"


@pytest.mark.parametrize("api", APIS)
def test_each_api_page_offers_its_openapi_file_and_payload_schemas(site, api):
    page = (site / f"{api}.html").read_text()
    assert (site / "openapi" / f"{api}.json").read_bytes() == (
        ROOT / "generated" / "openapi" / f"{api}.json"
    ).read_bytes()
    assert f'href="openapi/{api}.json" download' in page
    for schema in sorted((ROOT / "spec" / api / "webhooks").glob("*.schema.json")):
        assert (site / "schemas" / api / schema.name).read_bytes() == schema.read_bytes()
        assert f'href="schemas/{api}/{schema.name}" download' in page
    assert f"apicontract.clients.{api.replace('-', '_')}" in page and "pip install" in page


def test_pages_speak_to_readers_of_the_api_not_of_this_repository(site):
    """No path of this repository, no "fixtures": a reader has the site, not the checkout. (The rulings
    page is the rulings' text as written, which names the reference server's fixture accounts once.)"""
    for page in [site / "index.html", *(site / f"{api}.html" for api in APIS)]:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        for needle in ("spec/", "generated/", "fixture", "design/"):
            assert needle not in text, f"{page.name} says {needle!r}"
    rulings = (site / "rulings.html").read_text()
    assert "spec/rulings.md" not in rulings and "design/seed-samples.md" not in rulings
    assert '<a href="seed-samples.md" download' in rulings and (site / "seed-samples.md").is_file()


# the sample calls -------------------------------------------------------------------------------------


class FakeResponse:
    def __init__(self, content: bytes):
        self.content = content
        self.text = content.decode()

    def raise_for_status(self) -> None:
        return None


@pytest.mark.parametrize("api", APIS)
def test_python_samples_run_with_the_generated_models(where, api, monkeypatch):
    """Each sample's body validates with its model and the success example parses with the response model."""
    calls = []
    view = load_api(where, api)
    for op in view.operations:
        success = next((ex.json for r in op.responses for c in r.content for ex in c.examples), "{}")

        def answer(*args, _body=success, **kwargs):
            calls.append((args, kwargs))
            return FakeResponse(_body.encode())

        fake = types.ModuleType("httpx")
        for name in ("get", "post", "put", "delete", "request"):
            setattr(fake, name, answer)
        monkeypatch.setitem(sys.modules, "httpx", fake)
        quiet = {"open": lambda *a, **k: b"file bytes", "print": lambda *a, **k: None}
        for sample in op.samples:
            exec(compile(sample.python, f"{api} {op.id} {sample.title}", "exec"), dict(quiet))
    assert calls, api
    assert all(view.base_url in " ".join(map(str, args)) for args, _ in calls)


def test_node_samples_are_valid_javascript(where, tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = tmp_path / "samples.js"
    chunks = [
        f"// {api} {op.id}\n(function () {{\n{sample.node}\n}});\n"
        for api in APIS
        for op in load_api(where, api).operations
        for sample in op.samples
    ]
    script.write_text("\n".join(chunks))
    done = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_samples_follow_the_spec(where):
    view = load_api(where, "sim-v3")
    retrieve = next(op for op in view.operations if op.id == "retrieveSim")
    sample = retrieve.samples[0]
    assert "json:" in sample.node and '"GET"' in sample.node
    assert 'httpx.request(\n    "GET"' in sample.python
    assert "-X GET" in sample.curl and "--data" in sample.curl
    v1 = load_api(where, "sim-v1")
    create = next(op for op in v1.operations if op.id == "createSim")
    assert "form:" in create.samples[0].node and "Buffer.from(api_key" in create.samples[0].node


# the command line and the package ---------------------------------------------------------------------


def test_docs_refuses_a_file_as_output(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    done = cli("docs", "--out", str(target))
    assert done.returncode == 2
    assert "not a folder" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_docs_writes_site_into_the_checkout_by_default(tmp_path):
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "spec", root / "spec")
    shutil.copytree(ROOT / "generated", root / "generated")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    done = cli("docs", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "site" / "index.html").is_file()
    assert (root / "site" / "index.html").resolve().as_uri() in done.stdout


def test_templates_and_static_files_ship_with_the_package():
    package = resources.files("apicontract.docs")
    for name in ("templates/api.html.j2", "templates/base.html.j2", "static/site.css", "static/search.js"):
        assert (package / name).is_file(), name
