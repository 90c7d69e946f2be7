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


# what the contract promises beside the reference server's own answers (R0) -------------------------------


def _page(site: Path, api: str) -> str:
    return (site / f"{api}.html").read_text()


def _article(page: str, anchor: str) -> str:
    """The inside of the operation or webhook article with this id (articles do not nest)."""
    match = re.search(rf'<article [^>]*id="{re.escape(anchor)}"[^>]*>(.*?)</article>', page, re.S)
    assert match, f"no article #{anchor}"
    return match.group(1)


def _carrying(fragment: str, at: str, tags: str = "li|div") -> list[str]:
    """Every element (an `li` or a `div` holding no element of its own kind) whose `data-at` is `at`."""
    pattern = rf'<({tags})\b[^>]*\bdata-at="{re.escape(html.escape(at))}"[^>]*>(.*?)</\1>'
    return [m.group(2) for m in re.finditer(pattern, fragment, re.S)]


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def _has_mark(fragment: str, ruling: str, at: str) -> bool:
    return (at, f"rulings.html#{ruling}") in Marks(fragment).rulings


def _rulings(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


COUNT_WORDS = {"one": "each success causes exactly one", "optional": "an implementation may also send one per success"}


@pytest.mark.parametrize("api", APIS)
def test_webhooks_say_which_operation_causes_them(site, generated, api):
    """`x-caused-by` and `x-listed-by`: each cause on its webhook, linked to its operation, with its marks."""
    page, doc = _page(site, api), generated[api]
    for op in iter_operations(doc):
        if not op.is_webhook or not (op.node.get("x-caused-by") or op.node.get("x-listed-by")):
            continue
        article = _article(page, f"webhook-{op.key}")
        for index, cause in enumerate(op.node.get("x-caused-by") or []):
            at = pointer([*op.parts, "x-caused-by", str(index)])
            (entry,) = _carrying(article, at, "li")
            words = _text(entry)
            assert f'href="#op-{cause["operation"]}"' in entry
            assert COUNT_WORDS[cause["count"]] in words
            assert f"its {cause['subject']['payload']} is the request's {cause['subject']['request']}" in words
            for name, value in (cause.get("payload") or {}).items():
                assert f"its {name} is {json.dumps(value)}" in words
            if cause.get("after"):
                assert f"arrives after {cause['after']}" in words and f'href="#webhook-{cause["after"]}"' in entry
            for ruling in _rulings(cause.get("x-ruling")):
                assert _has_mark(entry, ruling, at), (at, ruling)
        if op.node.get("x-caused-by"):
            assert "A refused request (any 4xx) causes no event" in _text(article)
        listing = op.node.get("x-listed-by")
        if listing:
            at = pointer([*op.parts, "x-listed-by"])
            (entry,) = _carrying(article, at, "li")
            words = _text(entry)
            assert words.startswith("Every delivered record is one that")
            assert f'href="#op-{listing["operation"]}"' in entry
            for name in (listing["list"], *listing["time"].values()):
                assert name in words
            for ruling in _rulings(listing.get("x-ruling")):
                assert _has_mark(entry, ruling, at)


def test_cpaas_callbacks_are_caused_by_activation(site):
    page = _page(site, "cpaas")
    for name in ("startCallback", "endCallback"):
        article = _article(page, f"webhook-{name}")
        assert "<h4>Caused by</h4>" in article and 'href="#op-activateApp"' in article
        assert "each success causes exactly one" in _text(article)
    assert "it arrives after startCallback" in _text(_article(page, "webhook-endCallback"))
    activate = _article(page, "op-activateApp")
    assert 'href="#webhook-startCallback"' in activate and 'href="#webhook-endCallback"' in activate
    usage = _text(_article(_page(site, "sim-v3"), "webhook-usage"))
    assert "an implementation may also send one per success" in usage
    assert "Every delivered record is one that GET /usage (Retrieve Usage) lists" in usage


@pytest.mark.parametrize("api", APIS)
def test_every_also_conforming_answer_is_shown_with_its_values(site, generated, api):
    """`x-also-answers` of parameters and body roots: status, code, values in words, stage, marks."""
    page = _page(site, api)
    found = 0
    for parts, entries in _occurrences(generated[api], (), "x-also-answers"):
        for index, entry in enumerate(entries):
            at = pointer([*parts, "x-also-answers", str(index)])
            shown = _carrying(page, at, "li")
            assert shown, f"{at} is not on {api}.html"
            found += 1
            for item in shown:
                words = _text(item)
                assert words.startswith(f"also conforms: {entry['status']} {entry['code']} for a ")
                if entry["for"] == "unroutable":
                    assert "a value holding /, a control character or bytes that are not UTF-8" in words
                if entry["for"] == "wrong-type":
                    assert "wrong JSON type" in words or "a value that is not of the parameter's type" in words
                if entry.get("stage") == "existence":
                    assert "(after the body's checks, as an unknown id)" in words
                for ruling in _rulings(entry.get("x-ruling")):
                    assert _has_mark(item, ruling, at)
    assert found


def _parameter_row(article: str, name: str) -> str:
    rows = re.findall(r"<tr>\s*<td class=\"name\">(.*?)</tr>", article, re.S)
    (row,) = [r for r in rows if r.startswith(f"<code>{name}</code>")]
    return row


def test_parameter_rows_show_the_alternatives(site):
    uuid = _parameter_row(_article(_page(site, "sim-v1"), "op-retrieveSim"), "uuid")
    assert "also conforms: 404 not_found for a value holding /, a control character" in _text(uuid)
    assert _has_mark(uuid, "R5c", "/components/parameters/Uuid/x-also-answers/0")
    cpaas = _page(site, "cpaas")
    page_row = _text(_parameter_row(_article(cpaas, "op-listMedia"), "page"))
    assert "also conforms: 400 invalidDataError for a value above 9223372036854775807" in page_row
    assert "also conforms: 400 invalidSchemeError for a value that is not of the parameter's type" in page_row
    media_id = _text(_parameter_row(_article(cpaas, "op-getMedia"), "id"))
    assert "404 invalidDataError for a value that is not a positive integer (after the body's checks" in media_id
    body = _article(_page(site, "sim-v1"), "op-updateSim")
    assert "also conforms: 400 body_invalid for a property value of the wrong JSON type" in _text(body)


def test_values_a_schema_selects_in_words():
    from apicontract.docs.answers import values
    from apicontract.specs.promises import AlsoAnswer

    def words(select, kind="integer"):
        return values(AlsoAnswer(select, "400", "x"), kind)

    assert words({"type": "integer", "minimum": 9223372036854775808}) == "a value above 9223372036854775807"
    assert words({"not": {"type": "integer", "minimum": 1}}) == "a value that is not a positive integer"
    assert words({"type": "string", "maxLength": 3}) == "a value that is a string at most 3 characters long"
    assert words("unroutable") == "a value holding `/`, a control character or bytes that are not UTF-8"
    assert words("wrong-type") == "a value that is not of the parameter's type (integer)"


@pytest.mark.parametrize("api", APIS)
def test_implementation_defined_answers_and_keywords_are_marked(site, generated, api):
    """Every `x-implementation-defined` shows as such where its element is, with its ruling's mark."""
    page = _page(site, api)
    for parts, marked in _occurrences(generated[api], (), "x-implementation-defined"):
        at = pointer([*parts, "x-implementation-defined"])
        shown = _carrying(page, at, "div")
        assert shown, f"{at} is not on {api}.html"
        for note in shown:
            words = _text(note)
            assert words.startswith("implementation-defined") and "the reference server's own" in words
            for keyword in marked.get("keywords") or []:
                assert keyword in words
            if not marked.get("keywords"):
                assert "another implementation may answer otherwise" in words
            assert _has_mark(note, marked["ruling"], at)


def test_connector_answers_are_the_reference_servers_own(site):
    connector = _article(_page(site, "sim-v2"), "op-createConnector")
    for at in (
        "/components/responses/ConnectorOk/x-implementation-defined",
        "/paths/~1connector~1{id}/post/responses/409/x-implementation-defined",
        "/components/parameters/ConnectorId/x-implementation-defined",
    ):
        assert _carrying(connector, at, "div"), at
    ok = _text(_carrying(connector, "/components/responses/ConnectorOk/x-implementation-defined", "div")[0])
    assert "another implementation may answer otherwise, with any 2xx" in ok
    activate = _article(_page(site, "cpaas"), "op-activateApp")
    (bound, *_) = _carrying(activate, "/components/schemas/RepeatCount/x-implementation-defined", "div")
    assert "the reference server's own bound: maximum" in _text(bound)


@pytest.mark.parametrize("api", APIS)
def test_body_error_answer_lists_show_every_answer(site, generated, api):
    """`x-body-errors`: each situation with its answer; where a list allows several, the rest "also conform"."""
    page, doc = _page(site, api), generated[api]
    for op in iter_operations(doc):
        errors = ((op.node.get("requestBody") or {}).get("x-body-errors")) or {}
        if not errors:
            continue
        article = _article(page, f"op-{op.node['operationId']}")
        shown = re.search(r'<dl class="facts-inline body-errors">(.*?)</dl>', article, re.S)
        assert shown, op.label
        answers = _text(shown.group(1))
        for entry in errors.values():
            for found in entry.values() if isinstance(entry, dict) and "code" not in entry else [entry]:
                first, *others = found if isinstance(found, list) else [found]
                mine = f"{first['status']} {first['code']}"
                if others:
                    alternatives = ", ".join(f"{a['status']} {a['code']}" for a in others)
                    assert f"{mine} (the reference server's); also conforms: {alternatives}" in answers
                else:
                    assert mine in answers


def test_an_answer_list_names_the_reference_servers_answer_and_the_alternative(site):
    create = _text(_article(_page(site, "cpaas"), "op-createMedia"))
    assert (
        "A content type the operation does not take 400 requiredJsonError (the reference server's); "
        "also conforms: 415 invalidDataError"
    ) in create


@pytest.mark.parametrize("api", APIS)
def test_bodies_say_what_a_shape_error_answers(site, generated, api):
    """`x-shape-error-code` (cpaas, R23a): the body section names the code and links to its error row."""
    page, doc = _page(site, api), generated[api]
    for op in iter_operations(doc):
        body = {} if op.is_webhook else op.node.get("requestBody") or {}
        codes = set()
        for media in (body.get("content") or {}).values():
            ref = (media.get("schema") or {}).get("$ref", "")
            root = doc["components"]["schemas"].get(ref.rsplit("/", 1)[-1]) if ref else media.get("schema")
            codes |= {root["x-shape-error-code"]} if "x-shape-error-code" in (root or {}) else set()
        if not body:
            continue
        article = _article(page, f"op-{op.node['operationId']}")
        for code in codes:
            assert f"A missing, mistyped or unknown property answers {code}" in _text(article), op.label
            assert f'<a href="#err-{op.node["operationId"]}-{code}"><code>{code}</code></a>' in article
        if not codes:
            assert "A missing, mistyped or unknown property answers" not in _text(article), op.label
    assert api != "cpaas" or "A missing, mistyped or unknown property answers invalidSchemeError" in _text(
        _article(page, "op-activateApp")
    )
