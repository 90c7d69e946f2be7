"""Spec prose (CommonMark, as OpenAPI descriptions are) to safe HTML, with ruling ids turned into links.

Descriptions cite rulings inline ("... is 400 `body_invalid` (R5)"); a reader should reach the ruling in
one click, so every known id in running text becomes a link to `rulings.html#<id>`. A file the site offers
for download (`endCallback.schema.json`), named in a code span, becomes a link to the site's copy. Raw HTML
in the spec is escaped, never passed through, and headings are pushed below the page's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

RULING_ID = re.compile(r"\bR\d+[a-z]?\b")
RULINGS_PAGE = "rulings.html"


def ruling_href(ruling: str) -> str:
    return f"{RULINGS_PAGE}#{ruling}"


class Prose:
    """Renders spec prose; knows the ruling ids so that only real ones become links."""

    def __init__(
        self,
        rulings: Iterable[str],
        heading_floor: int = 4,
        anchor_rulings: bool = False,
        downloads: dict[str, str] | None = None,
    ):
        self.rulings = frozenset(rulings)
        self.downloads = dict(downloads or {})  # file name -> the site's copy
        self.heading_floor = heading_floor
        self.anchored: list[str] = []
        self._md = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
        if anchor_rulings:
            self._md.core.ruler.push("ruling_anchors", self._anchor_rulings)
        self._md.core.ruler.push("ruling_links", self._link_rulings)
        self._md.core.ruler.push("download_links", self._link_downloads)
        self._md.core.ruler.push("shift_headings", self._shift_headings)

    def block(self, text: str | None) -> Markup:
        """A description: paragraphs, lists, tables, code blocks."""
        return Markup(self._md.render(text or ""))

    def inline(self, text: str | None) -> Markup:
        """A one-liner (an example's summary, a table cell): no wrapping paragraph."""
        return Markup(self._md.renderInline(text or ""))

    def _anchor_rulings(self, state: StateCore) -> None:
        """A list item whose text opens with a bold `**R5 ...**` is ruling R5: give it `id="R5"`."""
        tokens = state.tokens
        for index, token in enumerate(tokens):
            if token.type != "list_item_open":
                continue
            inline = next((t for t in tokens[index + 1 : index + 4] if t.type == "inline"), None)
            children = [c for c in (inline.children or []) if c.content or c.type != "text"] if inline else []
            if len(children) >= 2 and children[0].type == "strong_open" and children[1].type == "text":
                match = RULING_ID.match(children[1].content)
                if match and match.group() not in self.anchored:
                    token.attrSet("id", match.group())
                    self.anchored.append(match.group())
        self.rulings = self.rulings | frozenset(self.anchored)

    def _link_rulings(self, state: StateCore) -> None:
        for token in state.tokens:
            if token.type == "inline" and token.children:
                token.children = list(_split_rulings(token.children, self.rulings))

    def _link_downloads(self, state: StateCore) -> None:
        for token in state.tokens:
            if token.type == "inline" and token.children and self.downloads:
                token.children = list(_link_files(token.children, self.downloads))

    def _shift_headings(self, state: StateCore) -> None:
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(6, int(token.tag[1]) + self.heading_floor - 1)}"


def _split_rulings(children: list[Token], rulings: frozenset[str]) -> Iterable[Token]:
    inside_link = 0
    for child in children:
        if child.type == "link_open":
            inside_link += 1
        elif child.type == "link_close":
            inside_link -= 1
        if child.type != "text" or inside_link or not RULING_ID.search(child.content):
            yield child
            continue
        last = 0
        for match in RULING_ID.finditer(child.content):
            if match.group() not in rulings:
                continue
            if match.start() > last:
                yield _text(child.content[last : match.start()])
            link = Token("link_open", "a", 1)
            link.attrs = {"href": ruling_href(match.group()), "class": "ruling-ref"}
            yield link
            yield _text(match.group())
            yield Token("link_close", "a", -1)
            last = match.end()
        if last < len(child.content):
            yield _text(child.content[last:])


def _link_files(children: list[Token], downloads: dict[str, str]) -> Iterable[Token]:
    inside_link = 0
    for child in children:
        inside_link += {"link_open": 1, "link_close": -1}.get(child.type, 0)
        if child.type == "code_inline" and not inside_link and child.content in downloads:
            link = Token("link_open", "a", 1)
            link.attrs = {"href": downloads[child.content], "download": ""}
            yield link
            yield child
            yield Token("link_close", "a", -1)
        else:
            yield child


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def rulings_page(text: str, downloads: dict[str, str] | None = None) -> tuple[Markup, list[str]]:
    """`spec/rulings.md` as HTML with an anchor per ruling (`id="R5"` on its list item), and the ids found."""
    prose = Prose((), heading_floor=2, anchor_rulings=True, downloads=downloads)
    html = prose.block(text)
    return html, list(prose.anchored)
