"""`apicontract docs`: render the reference site (landing page, one page per API, rulings, search).

The site is plain files with relative links and no external resource of any kind, so it opens from the
file system or any static host, offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from apicontract.docs import search
from apicontract.docs.markup import Prose, ruling_href, rulings_page
from apicontract.docs.model import bundle_href, load_api, payload_href, payload_schemas
from apicontract.docs.views import ApiView, OperationView
from apicontract.paths import Layout

STATIC = ("site.css", "search.js", "favicon.svg")
NOTES = ("seed-samples.md",)  # files of spec/ the rulings name, offered as they are


class DocsError(Exception):
    """The site cannot be written (say, the output path is a file)."""


@dataclass(frozen=True)
class Cell:
    page: str
    op: OperationView


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    cells: list[Cell | None]


def build_site(layout: Layout, out: Path) -> list[Path]:
    """Write the whole site into `out` (created if missing) and return the files written."""
    if out.exists() and not out.is_dir():
        raise DocsError(f"{out} exists and is not a folder")
    apis = layout.apis()
    if not apis:
        raise DocsError(f"no specs found under {layout.spec}")
    missing = [str(layout.bundle(api)) for api in apis if not layout.bundle(api).is_file()]
    if missing:
        raise DocsError(f"missing bundle(s) {', '.join(missing)}; run `apicontract build` first")
    # files offered for download, as they are: each bundle, each payload schema, the notes the rulings name
    files: dict[str, Path] = {bundle_href(api): layout.bundle(api) for api in apis}
    for api in apis:
        files.update({payload_href(api, path.name): path for path in payload_schemas(layout, api)})
    files.update({name: layout.spec / name for name in NOTES if (layout.spec / name).is_file()})
    names = [href.rsplit("/", 1)[-1] for href in files]
    downloads = {href.rsplit("/", 1)[-1]: href for href in files if names.count(href.rsplit("/", 1)[-1]) == 1}
    rulings_html, ruling_ids = rulings_page((layout.spec / "rulings.md").read_text(encoding="utf-8"), downloads)
    views = [load_api(layout, api) for api in apis]
    env = _environment(Prose(ruling_ids, downloads=downloads))
    common = {"apis": views}
    pages = {
        "index.html": env.get_template("index.html.j2").render(**common, current="index", matrix=matrix(views)),
        "rulings.html": env.get_template("rulings.html.j2").render(
            **common, current="rulings", rulings_html=rulings_html
        ),
    }
    for view in views:
        pages[view.page] = env.get_template("api.html.j2").render(**common, current=view.name, api=view)
    pages["search-index.js"] = search.script(views)
    static = resources.files("apicontract.docs") / "static"
    for name in STATIC:
        pages[name] = (static / name).read_text(encoding="utf-8")
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in pages.items():
            path = out / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        for name, source in files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(source.read_bytes())
            written.append(path)
    except OSError as exc:
        raise DocsError(f"cannot write {out}: {exc.strerror or exc}") from None
    return written


def _environment(prose: Prose) -> Environment:
    templates = Path(str(resources.files("apicontract.docs") / "templates"))
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = prose.block
    env.filters["md_inline"] = prose.inline
    env.filters["slug"] = lambda text: re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    env.globals["ruling_href"] = ruling_href
    return env


def matrix(views: list[ApiView]) -> list[Row]:
    """Operations (by `operationId`) and webhooks (by name) of all APIs, lined up, in first-seen order."""
    rows: dict[str, list[Cell | None]] = {}
    labels: dict[str, str] = {}
    for index, view in enumerate(views):
        for op in view.operations + view.webhooks:
            key = f"webhook {op.path}" if op.is_webhook else op.id
            rows.setdefault(key, [None] * len(views))[index] = Cell(view.page, op)
            labels.setdefault(key, op.summary)
    ordered = sorted(rows, key=lambda k: (-sum(c is not None for c in rows[k]), list(rows).index(k)))
    return [Row(labels[k], k, rows[k]) for k in ordered]
