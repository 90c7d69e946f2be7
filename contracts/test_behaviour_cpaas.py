"""Behaviour of cpaas: the media library tree and application activation, as a state machine over HTTP, one
check per concern.

The model is what the test can know of the first account's media library without assuming anything of the
target: the objects of the root folder (read by listing; the library may start empty), and every object the
test made itself (folders in the root, files uploaded into the root or into its own folders) with each file's
bytes and content type as uploaded. Each concern is its own check (a failure in one never stops another):

- tree: R25 (a folder is made in the root, a file uploaded into the root or a folder and named after the
  part's file name; rename changes the name only; delete of a folder deletes its contents; a deleted id is
  404 on every operation; uploading into a file is refused, 400 or 404; names are 1–255 characters with no
  `/` and no control character, Cc, checked at both edges of each; a download is the bytes uploaded with
  the part's content type, `application/octet-stream` when it had none; a new object gets an id never seen
  before), R7 (`createdDateTime` is a real time, UTC, the time of creation), every listing read back
  against the model;
- pagination: R24, R25 (ascending ids, so the pages of one `per_page` partition a folder; `totalPages =
  max(1, ceil(totalItems / per_page))`; `page`/`per_page` bounds and defaults and `disable_pagination`
  values as the spec's parameters say; a page past the end empty with the true totals; a `page` above
  2^63−1 refused or answered as a page past the end), each page cut from the same folder's whole listing;
- isolation: R23 (another account's media is 404 like an unknown id, on every operation, both ways, and
  nothing changes; each account's root lists its own objects only), with objects the second account makes
  through the API for the test;
- input: R5, R5a, R5c, R23a (a body of the wrong shape answers `invalidSchemeError`, a name outside its
  domain `invalidDataError`, the shape first; before the media id's existence; a media id that is no
  positive integer 400 or 404; nothing changes);
- activation: R26 (`reference` 1–255 characters, phone numbers 7–15 digits, `gender`/`volume`/`rate`
  ranges, the listed language codes, the repeat fields; a valid activation answers `ok` with a `requestId`
  of 32 hex characters; each invalid value answers its R23a code). Its callbacks are test_webhooks' job.

Unchecked rules (movers) make folders, upload files and delete what the test made, so every concern meets a
library with contents. Each concern also has a tour, a rule without arguments that runs its every check once
with fixed values at the edges: hypothesis's simplest example repeats the first rule it can pick, and rules
without arguments come first, so even the fewest examples walk the whole concern. The test never deletes or
renames an object it did not make: each run starts from, and the test ends with, the library it found (what
it made is deleted).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition

from apicontract.contracts.answers import MISSING, applies, param_answers
from apicontract.contracts.behaviour import (
    JSON,
    MOVER,
    MULTIPART,
    BehaviourMachine,
    Deviation,
    Exchange,
    Facts,
    Upload,
    concern_params,
    rule,
    run_machine,
)
from apicontract.contracts.invalid_values import typed
from apicontract.contracts.target import Credentials, Target
from apicontract.specs.promises import also_answers, body_answers, shape_code
from apicontract.specs.walk import deref

TIME = "%Y-%m-%d %H:%M:%S"  # R7
CLOCK_TOLERANCE = timedelta(minutes=30)  # a creation time further from our UTC clock is not UTC (R7)
MEDIA_FIELDS = ("id", "name", "createdDateTime", "isFolder")  # R25
PAGINATION_FIELDS = ("totalItems", "currentPage", "totalPages")
MEDIA_OPS = ("getMedia", "renameMedia", "deleteMedia", "uploadMedia")  # every operation on /media/{id}
PART_TYPES = [None, "audio/mpeg", "audio/wav", "text/plain", "text/plain; charset=utf-8", "image/png"]
FILE_NAME_CHARACTERS = "abcxyzABCXYZ0189 ._-()"  # multipart file names: ASCII, no quoting or path questions
MOVER_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
# names either side of R25's rule: `/`, the Cc ranges' edges (U+0000, U+001F, U+007F, U+009F) and their
# neighbours that are no control characters (space, `~`, U+00A0), other separators and scripts
ODD_NAMES = ["a/b", "/", "x\x00", "\x1f", "\x7f", "\x80", "\x9f", "tab\tname", "line\nbreak", " ", "~", "\xa0",
             "\u2028", "..", "名前.mp3", "😀"]  # fmt: skip
LENGTH_CHARACTERS = "nЖ€"  # one, two and three UTF-8 bytes: 255 of them is 255 characters, whatever the bytes
SCENARIOS = ["text=Hello, how are you?", "a=1", "a=1&b=2", "k=", "name=Jürgen&city=Zürich"]  # R26 `k=v&k=v`
HEX32 = re.compile(r"[0-9a-fA-F]{32}")  # R26
# bounds the spec sets that no source sentence or ruling states (R26 takes the repeat fields "as documented",
# and the source gives counts and intervals no maximum): the contract does not say what a value above is
UNSTATED_MAXIMUM = ("RepeatCount", "RepeatInterval")
MAX_ACTIVATIONS = 3  # valid activations per run: each one makes a target place a call and send callbacks
KEEP_MINE = 5  # the unchecked delete leaves at least this many of the test's objects, so listings have pages
WALK_LIMIT = 6  # pages one walk reads at most
INVALID_BODIES = ["wrong type", "outside domain", "missing", "unknown", "unknown and outside", "not an object"]


def project(media: Any) -> Any:
    """The fields R25 gives a media object; other fields are the schema checks' business, not behaviour's."""
    return {k: media[k] for k in MEDIA_FIELDS if k in media} if isinstance(media, dict) else media


def shown_listing(body: Any) -> Any:
    """A listing body as the model compares it: status, pagination and the media objects' R25 fields."""
    if not isinstance(body, dict):
        return body
    found = {k: body[k] for k in ("status", "pagination", "media") if k in body}
    if isinstance(found.get("pagination"), dict):
        found["pagination"] = {k: v for k, v in found["pagination"].items() if k in PAGINATION_FIELDS}
    if isinstance(found.get("media"), list):
        found["media"] = [project(m) for m in found["media"]]
    return found


def media_list(body: Any) -> list[dict] | None:
    """The objects of a listing body, when it has a list of objects with integer ids."""
    media = body.get("media") if isinstance(body, dict) else None
    if isinstance(media, list) and all(isinstance(m, dict) and is_id(m.get("id")) for m in media):
        return [project(m) for m in media]
    return None


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def media_of(ex: Exchange) -> dict | None:
    """The object a create or upload answered with, when it answered one (asserting nothing)."""
    media = ex.json.get("media") if ex.status == 200 and isinstance(ex.json, dict) else None
    return project(media) if isinstance(media, dict) and is_id(media.get("id")) else None


def media_type(value: str | None) -> tuple[str, dict[str, str]]:
    essence, *params = (value or "").split(";")
    pairs = {}
    for param in params:
        key, _, val = param.partition("=")
        if key.strip():
            pairs[key.strip().lower()] = val.strip().strip('"').lower()
    return essence.strip().lower(), pairs


def same_type(got: str | None, stored: str) -> bool:
    """R25: the download carries the stored media type, with the parameters it was given (case aside)."""
    (essence, params), (want, wanted) = media_type(got), media_type(stored)
    return essence == want and all(params.get(k) == v for k, v in wanted.items())


class CpaasMachine(BehaviourMachine):
    CLAUSES: ClassVar[dict[str, tuple[str, ...]]] = {
        "tree": (
            "R1.1", "R5.1", "R7.1", "R7.2", "R23.1", "R23.2", "R23a.3",
            "R25.1", "R25.2", "R25.3", "R25.4", "R25.6", "R25.8", "R25.9",
        ),
        "pagination": ("R23a.2", "R23a.3", "R24.1", "R24.2", "R24.3", "R24.4", "R24.5", "R25.3", "R25.5"),
        "isolation": ("R5.1", "R23.2", "R23.3"),
        "input": ("R5.1", "R5.5", "R5.6", "R5a.1", "R5c.2", "R23a.2", "R23a.3", "R23a.4", "R25.7", "R25.9"),
        "activation": ("R5.5", "R5.6", "R23a.2", "R23a.3", "R23a.4", "R26.1", "R26.2", "R26.3"),
    }  # fmt: skip
    found: ClassVar[dict[int, dict]]  # the root's objects when the test began: never deleted, never renamed
    made: ClassVar[set[int]]  # every id a create of the test answered with
    sent: ClassVar[set[str]]  # every name a create of the test sent: a new root object so named is the test's
    ever: ClassVar[set[int]]  # every id of the first account seen: a new object's id is none of them (R25)
    theirs: ClassVar[dict[int, dict]]  # the second account's objects the test made (isolation): id -> node
    their_root: ClassVar[set[int]]  # the ids the second account's root held
    their_view: ClassVar[dict[tuple[str, int], Any]]  # their folder's listing and root entry, as they read them
    disabling: ClassVar[list[str]]  # the disable_pagination values that disable it (the spec's enum names)
    filled: ClassVar[bool]  # a pagination tour has filled a folder past the default per_page (once per test)
    view: ClassVar[Facts]  # the contract view's schemas: what is valid is what the contract says (R0)

    # --- reading and restoring ----------------------------------------------------------------------

    @staticmethod
    def where(parent: int | None) -> tuple[str, str]:
        """The operation and path that list a folder (the root when None)."""
        return ("listMedia", "/media") if parent is None else ("getMedia", f"/media/{parent}")

    @classmethod
    def peek_listing(cls, parent: int | None, who: Credentials | None = None) -> tuple[Exchange, list[dict] | None]:
        """Every object of a folder, pagination disabled, asserting nothing."""
        op_id, path = cls.where(parent)
        ex = cls.send(op_id, path, who=who, params={"disable_pagination": cls.disabling[0]})
        return ex, media_list(ex.json) if ex.status == 200 else None

    @classmethod
    def read_listing(cls, parent: int | None, rule: str, who: Credentials | None = None) -> list[dict]:
        ex, media = cls.peek_listing(parent, who)
        if media is None:
            cls.fail(ex, cls.where(parent)[0], rule, '200 {"status": "ok", "pagination": {...}, "media": [...]}')
        return media

    @classmethod
    def prepare(cls) -> None:
        cls.view = Facts(cls.target.doc, cls.target.operations())
        schema = cls.view.param("listMedia", "disable_pagination")["schema"]
        names = zip(schema["enum"], schema.get("x-enum-varnames") or [], strict=False)
        cls.disabling = [str(value) for value, name in names if name.upper().startswith("DISABLED")]
        cls.found, cls.made, cls.sent, cls.ever, cls.theirs, cls.their_root = {}, set(), set(), set(), {}, set()
        cls.their_view, cls.filled = {}, False
        if cls.concern == "isolation":
            if cls.target.second is None:
                pytest.skip("cross-account checks need a second account (--second-account or a target file)")
            cls.build_theirs()
        cls.found = {m["id"]: m for m in cls.read_listing(None, "read the root folder the test starts from")}
        cls.ever = set(cls.found)

    @classmethod
    def build_theirs(cls) -> None:
        """A folder with a file in it, made by the second account through the API (never its fixtures)."""
        who = cls.target.second
        folder = media_of(cls.send("createMedia", "/media", who=who, json_body={"name": "apicontract isolation"}))
        if folder is None:
            return
        cls.theirs[folder["id"]] = {**folder, "parent": None}
        part = Upload("isolation.txt", b"the second account's file", "text/plain")
        file = media_of(cls.send("uploadMedia", f"/media/{folder['id']}", who=who, upload=part))
        if file is not None:
            cls.theirs[file["id"]] = {**file, "parent": folder["id"]}
        cls.their_root = {m["id"] for m in cls.peek_listing(None, who)[1] or []}
        cls.their_view = cls.their_state(folder["id"], "deleteMedia")  # what they hold: it must stay so

    @classmethod
    def restore(cls) -> None:
        """Delete what the test made in the root (the contents of its folders go with them); the objects the
        test found are all there, unchanged."""
        rule = "restore the library the test found"
        listing, now = cls.peek_listing(None)
        if now is None:
            cls.fail(listing, "listMedia", rule, '200 {"status": "ok", "pagination": {...}, "media": [...]}')
        for media in now:
            if media["id"] not in cls.found and (media["id"] in cls.made or media.get("name") in cls.sent):
                ex = cls.send("deleteMedia", f"/media/{media['id']}")
                if ex.status != 404:  # 404: it went with a folder deleted before it
                    cls.expect_ok(ex, "deleteMedia", rule)
        held = {m["id"]: m for m in now}
        for media_id, media in cls.found.items():
            if held.get(media_id) != media:
                cls.fail(listing, "listMedia", "an object the test did not make stays as it was", json.dumps(media))

    @classmethod
    def finish(cls) -> None:
        try:
            cls.restore()
        finally:
            for media_id in sorted(cls.theirs, key=lambda i: cls.theirs[i]["parent"] is None):  # files, then folder
                cls.send("deleteMedia", f"/media/{media_id}", who=cls.target.second)

    @initialize()
    def start(self) -> None:
        self.nodes: dict[int, dict] = {i: {**m, "parent": None, "mine": False} for i, m in self.found.items()}
        self.gone: list[int] = []  # ids this run deleted (per run: what rules draw must not depend on earlier runs)
        self.activations = 0
        self.toured = False  # the concern's tour (its every check once, with fixed values) has run
        try:
            self.restore()
        except Deviation:  # recorded; the run starts from what the target holds (nothing escapes a run's start)
            with contextlib.suppress(Deviation):
                self.resync()

    def resync(self) -> None:
        """The root's objects and the contents of the test's folders, as the target holds them now."""
        ex, root = self.peek_listing(None)
        if root is None:
            self.fail(ex, "listMedia", "read the media library", '200 {"status": "ok", "media": [...]}')
        old, nodes = self.nodes, {}
        for media in root:
            mine = media["id"] not in self.found and (media["id"] in self.made or media.get("name") in self.sent)
            nodes[media["id"]] = {**old.get(media["id"], {}), **media, "parent": None, "mine": mine}
        for folder in [i for i, n in nodes.items() if n["mine"] and n.get("isFolder")]:
            _, children = self.peek_listing(folder)
            for media in children or []:
                nodes[media["id"]] = {**old.get(media["id"], {}), **media, "parent": folder, "mine": True}
        self.nodes = nodes
        self.ever |= set(nodes)  # type: ignore[misc]  # in place: the class's set grows

    # --- the model ----------------------------------------------------------------------------------

    def children(self, parent: int | None) -> list[dict]:
        """R24, R25: a folder's direct children in ascending id order, as listings show them."""
        found = sorted((n for n in self.nodes.values() if n["parent"] == parent), key=lambda n: n["id"])
        return [project(n) for n in found]

    def mine(self) -> list[int]:
        return sorted(i for i, n in self.nodes.items() if n["mine"])

    def my_folders(self) -> list[int]:
        return [i for i in self.mine() if self.nodes[i].get("isFolder") and self.nodes[i]["parent"] is None]

    def my_files(self) -> list[int]:
        return [i for i in self.mine() if not self.nodes[i].get("isFolder")]

    def folders(self) -> list[int | None]:
        """Every folder whose listing the test may read: the root, and every folder in it."""
        return [None, *sorted(i for i, n in self.nodes.items() if n["parent"] is None and n.get("isFolder"))]

    def forget(self, media_id: int) -> list[int]:
        """Take an object out of the model, with everything inside it (R25); the ids are gone."""
        removed = [media_id, *(i for i in self.nodes if self.within(i, media_id))]
        for gone in removed:
            self.nodes.pop(gone, None)
            self.gone.append(gone)
        return removed

    def within(self, media_id: int, folder: int) -> bool:
        parent = self.nodes[media_id]["parent"]
        while parent is not None:
            if parent == folder:
                return True
            parent = self.nodes.get(parent, {}).get("parent")
        return False

    def not_found(self, op_id: str) -> tuple[int, str]:
        return 404, self.facts.code(op_id, 404)

    def name_ok(self, name: str) -> bool:
        return self.view.valid(self.view.component("MediaName"), name)

    def name_limits(self) -> tuple[int, int]:
        schema = self.view.component("MediaName")
        return schema.get("minLength", 1), schema.get("maxLength", 255)

    def names(self) -> st.SearchStrategy[str]:
        """Mostly valid names, some at and past both length limits, some either side of the `/` and Cc rule."""
        low, high = self.name_limits()
        plain = st.text(
            # mypy infers ("Cc",) as tuple[str], not hypothesis's Literal category names
            st.characters(codec="utf-8", exclude_categories=("Cc",), exclude_characters="/"),  # type: ignore[arg-type]
            min_size=1,
            max_size=24,
        )
        anything = st.text(st.characters(codec="utf-8"), max_size=24)
        lengths = st.sampled_from(sorted({max(0, low - 1), low, high, high + 1}))
        edges = st.tuples(lengths, st.sampled_from(LENGTH_CHARACTERS)).map(lambda t: t[1] * t[0])
        odd = st.sampled_from(ODD_NAMES)
        return st.sampled_from([plain, plain, anything, edges, odd]).flatmap(lambda s: s)

    def file_names(self) -> st.SearchStrategy[str]:
        """Part file names: plain ASCII, and the length edges (1, 255, 256 characters). A part without a file
        name is left out: what an upload is then named is not the contract's (R25 names only the name's rule)."""
        low, high = self.name_limits()
        plain = st.text(alphabet=FILE_NAME_CHARACTERS, max_size=20).map(lambda s: "f" + s)
        edges = st.sampled_from(sorted({low, high, high + 1})).map(lambda n: "f" * n)
        return st.sampled_from([plain, plain, plain, edges]).flatmap(lambda s: s)

    def default_type(self, op_id: str) -> str:
        """What a part sent without a Content-Type is stored as (the spec's `contentMediaType`)."""
        return self.facts.properties(op_id, MULTIPART)["file"].get("contentMediaType", "application/octet-stream")

    def valid_body(self, op_id: str) -> dict[str, Any]:
        """`Http.call` keywords of a valid body for an operation on /media/{id}."""
        bodies: dict[str, dict[str, Any]] = {
            "renameMedia": {"json_body": {"name": "renamed"}},
            "uploadMedia": {"upload": Upload("x.txt", b"x", "text/plain")},
        }
        return bodies.get(op_id, {})

    def first_answers(self, op_id: str, answers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """R23a: of several errors, the first in the documented order (the 400 enum lists them in precedence)."""
        order = self.facts.codes(op_id).get("400", [])
        rank = min((order.index(c) for _, c in answers if c in order), default=None)
        return [a for a in answers if a[1] not in order or order.index(a[1]) == rank]

    # --- checks -------------------------------------------------------------------------------------

    def check_created(
        self, ex: Exchange, op_id: str, rule: str, parent: int | None, name: str, part: Upload | None
    ) -> int:
        """A created object: an R25 media object, a fresh id, created now in UTC (R7), the name and kind sent."""
        media = media_of(ex)
        if media is not None:
            self.made.add(media["id"])  # whatever else is wrong with it, the test made it: restore deletes it
        self.expect_ok(ex, op_id, rule)
        body = ex.json if isinstance(ex.json, dict) else {}
        if body.get("status") != "ok" or not self.view.valid(self.view.component("Media"), media):
            self.fail(ex, op_id, rule, '200 {"status": "ok", "media": {id, name, createdDateTime, isFolder}}')
        media = cast(dict, media)  # a valid Media object, or fail() raised
        if media["id"] in self.nodes:  # the unique identifier of the media resource (source): no object's now
            self.fail(ex, op_id, f"{rule}: a new object gets its own id (R25)", f"an id not in {sorted(self.nodes)}")
        self.ever.add(media["id"])
        created = datetime.strptime(media["createdDateTime"], TIME).replace(tzinfo=UTC)
        if abs(datetime.now(UTC) - created) > CLOCK_TOLERANCE:
            now = datetime.now(UTC).strftime(TIME)
            self.fail(ex, op_id, f"{rule}: createdDateTime is the time of creation, UTC (R7)", f"about {now}")
        want = {"name": name, "isFolder": 0} if part is None else {"isFolder": 0}  # R25 names a folder `{name}`;
        want = {"name": name, "isFolder": 1} if part is None else want  # what an upload is named, no ruling says
        if {k: media[k] for k in want} != want:
            self.fail(ex, op_id, rule, f"media with {json.dumps(want, ensure_ascii=False)}")
        self.adopt(media, parent, part, op_id)
        return media["id"]

    def expect_listing(self, ex: Exchange, op_id: str, rule: str, want: dict) -> None:
        self.expect_ok(ex, op_id, rule)
        if shown_listing(ex.json) != want:
            self.fail(ex, op_id, rule, f"200 {json.dumps(want, ensure_ascii=False)[:600]}")

    def check_listing(self, parent: int | None, rule: str) -> None:
        """R24, R25: the whole folder (the root: the root only), in ascending id order, as the model holds it."""
        op_id, path = self.where(parent)
        ex = self.send(op_id, path, params={"disable_pagination": self.disabling[0]})
        items = self.children(parent)
        pagination = {"totalItems": len(items), "currentPage": 1, "totalPages": 1}
        self.expect_listing(ex, op_id, rule, {"status": "ok", "pagination": pagination, "media": items})

    def check_download(self, media_id: int, rule: str) -> None:
        """R25: the bytes uploaded, with the content type stored at upload."""
        node = self.nodes[media_id]
        ex = self.send("getMedia", f"/media/{media_id}")
        self.expect_ok(ex, "getMedia", rule)
        got = ex.response.headers.get("content-type")
        if node.get("data") is None:  # a file the model adopted from a listing: its first download is the truth
            node.update(data=ex.response.content, type=got or "")
            return
        if ex.response.content != node["data"]:
            self.fail(ex, "getMedia", f"{rule}: the bytes uploaded", f"{len(node['data'])} bytes as uploaded")
        if node["type"] is None:
            node["type"] = got or ""
        elif not same_type(got, node["type"]):
            self.fail(ex, "getMedia", f"{rule}: the stored content type", f"Content-Type: {node['type']}", got)

    def check_gone(self, media_id: int, rule: str) -> None:
        ex = self.send("getMedia", f"/media/{media_id}")
        self.expect_error(ex, "getMedia", *self.not_found("getMedia"), rule)

    # --- unchecked: moves the state the other concerns meet ------------------------------------------

    def adopt(self, media: dict, parent: int | None, part: Upload | None, op_id: str) -> None:
        """Put an object the test made into the model, a file with the bytes and content type it was sent."""
        self.made.add(media["id"])
        self.ever.add(media["id"])
        node = {**media, "parent": parent, "mine": True}
        if part is not None:  # without a part Content-Type, what is stored is not the contract's: learned
            node.update(data=part.data, type=part.content_type)
        self.nodes[media["id"]] = node

    def add(self, parent: int | None, name: str, part: Upload | None = None) -> int | None:
        """A folder in the root (part None), or a file uploaded into the root or a folder, asserting nothing."""
        self.sent.add(name)
        op_id, path = self.upload_to(parent) if part else ("createMedia", "/media")
        ex = self.send(op_id, path, **({"upload": part} if part else {"json_body": {"name": name}}))
        media = media_of(ex)
        if media is None:
            self.resync()
            return None
        self.adopt(media, parent if part else None, part, op_id)
        return media["id"]

    @rule(MOVER, data=st.data())
    def make(self, data: st.DataObject) -> None:
        """A folder in the root, or a file uploaded into the root or one of the test's folders."""
        folders = self.my_folders()
        name = "m-" + data.draw(st.text(MOVER_NAME_CHARACTERS, min_size=1, max_size=8), label="name")
        if data.draw(st.sampled_from(["folder", "file", "file"]), label="make") == "folder":
            self.add(None, name)
        else:
            parent = self.pick(data, [None, *folders], folders, "into")
            self.add(
                parent, name, Upload(name, data.draw(st.binary(min_size=1, max_size=64), label="bytes"), "audio/mpeg")
            )

    @precondition(lambda self: len(self.mine()) > KEEP_MINE)
    @rule(MOVER, data=st.data())
    def remove(self, data: st.DataObject) -> None:
        """Delete one of the test's objects (a folder with its contents)."""
        media_id = data.draw(st.sampled_from(self.mine()), label="id")
        if self.send("deleteMedia", f"/media/{media_id}").status == 200:
            self.forget(media_id)
        else:
            self.resync()

    @staticmethod
    def upload_to(parent: int | None) -> tuple[str, str]:
        return ("createMedia", "/media") if parent is None else ("uploadMedia", f"/media/{parent}")

    # --- tree ---------------------------------------------------------------------------------------

    def do_create_folder(self, name: str) -> int | None:
        """R25: POST /media {name} makes an empty folder in the root; an invalid name is 400 and makes nothing."""
        self.sent.add(name)
        ex = self.send("createMedia", "/media", json_body={"name": name})
        made = None
        if not self.name_ok(name):
            answers = self.invalid("createMedia", "name", name)
            self.expect_any(ex, "createMedia", answers, "a name of 1-255 characters, no / or control character (R25)")
        else:
            made = self.check_created(ex, "createMedia", "create a folder (R25)", None, name, None)
            self.check_listing(made, "a new folder is empty (R25)")
        self.check_listing(None, "the root lists its own objects, the new folder included (R25)")
        return made

    def do_upload(self, parent: int | None, part: Upload) -> int | None:
        """R25: a multipart `file` into the root or a folder, named after the part's file name, downloads as the
        bytes sent with the part's content type; an invalid file name is 400 and adds nothing."""
        op_id, path = self.upload_to(parent)
        self.sent.add(part.filename)
        ex = self.send(op_id, path, upload=part)
        made = None
        if not self.name_ok(part.filename):
            answers = self.invalid(op_id, "file", part.filename, MULTIPART)
            self.expect_any(ex, op_id, answers, "a file name of 1-255 characters (R25)")
        else:
            made = self.check_created(ex, op_id, "upload a file (R25)", parent, part.filename, part)
            self.check_download(made, "download what was uploaded (R25)")
        self.check_listing(parent, "the folder lists the upload, where it was sent (R25)")
        return made

    def do_upload_into_a_file(self, media_id: int) -> None:
        """R25: files are uploaded into the root or a folder: uploading into a file is refused, and adds nothing.
        The spec answers 400 invalidDataError (not a folder); no ruling settles it, and 404 invalidDataError (no
        folder of that id, R23) is the other reading, so both are taken."""
        ex = self.send("uploadMedia", f"/media/{media_id}", upload=Upload("x.txt", b"x", "text/plain"))
        answers = [self.facts.field_code("uploadMedia", "id"), self.not_found("uploadMedia")]
        self.expect_any(ex, "uploadMedia", answers, "upload into a file is refused (R25)")
        self.check_listing(self.nodes[media_id]["parent"], "nothing was added (R5)")

    def do_rename(self, media_id: int, name: str) -> None:
        """R25: PUT {name} changes the name only (id, createdDateTime, kind, place and content stay); an invalid
        name is 400 and changes nothing (R5)."""
        node = self.nodes[media_id]
        ex = self.send("renameMedia", f"/media/{media_id}", json_body={"name": name})
        if not self.name_ok(name):
            answers = self.invalid("renameMedia", "name", name)
            self.expect_any(ex, "renameMedia", answers, "a name of 1-255 characters, no / or control character (R25)")
        else:
            want = {"status": "ok", "media": {**project(node), "name": name}}
            self.expect_ok(ex, "renameMedia", "rename changes the name only (R25)")
            answer = ex.json if isinstance(ex.json, dict) else {}
            if {"status": answer.get("status"), "media": project(answer.get("media"))} != want:
                shown = json.dumps(want, ensure_ascii=False)
                self.fail(ex, "renameMedia", "rename changes the name only (R25)", f"200 {shown}")
            node["name"] = name
        self.check_listing(node["parent"], "read after rename (R25)")
        if not node.get("isFolder"):
            self.check_download(media_id, "rename keeps the content (R25)")

    def do_delete(self, media_id: int) -> None:
        """R25: delete an object the test made; a folder goes with its contents; the ids answer 404 after."""
        parent = self.nodes[media_id]["parent"]
        ex = self.send("deleteMedia", f"/media/{media_id}")
        self.expect_ok(ex, "deleteMedia", "delete (R25)")
        if not isinstance(ex.json, dict) or ex.json.get("status") != "ok":
            self.fail(ex, "deleteMedia", "delete (R23, R25)", '200 {"status": "ok"}')
        for gone in self.forget(media_id)[:3]:
            self.check_gone(gone, "a deleted object, and everything in a deleted folder, is not found (R25)")
        self.check_listing(parent, "read after delete (R25)")

    def do_on_deleted(self, media_id: int, op_id: str) -> None:
        """R25, R23: every operation on a deleted id is 404, like an unknown one."""
        ex = self.send(op_id, f"/media/{media_id}", **self.valid_body(op_id))
        self.expect_error(ex, op_id, *self.not_found(op_id), "a deleted id is not found (R25)")

    @precondition(lambda self: not self.toured)
    @rule("tree")
    def tree_tour(self) -> None:
        """Every tree check once with fixed values, at the edges: a folder named with 255 characters (of three
        UTF-8 bytes each), names of 0 and 256 characters, with `/`, U+007F or U+009F, a file with a 255-character
        name uploaded into the folder and one without a part type into the root, a rename, an upload into a
        file, the folder deleted with its file, and operations on the deleted ids. (Zero-argument rules come
        first: a run's simplest example, which repeats the first rule it can, still walks the concern.)"""
        self.toured = True
        _, high = self.name_limits()
        folder = self.do_create_folder("€" * high)
        for name in ["", "n" * (high + 1), "a/b", "del\x7f", "c1\x9f"]:
            self.do_create_folder(name)
        file = self.do_upload(folder, Upload("t" * high, b"\x00apicontract\xff", "text/plain; charset=utf-8"))
        loose = self.do_upload(None, Upload("tour.bin", b"\x01\x02\x03", None))
        if file is None or loose is None or folder is None:
            return
        self.do_rename(file, "renamed\xa0file")
        self.do_upload_into_a_file(loose)
        self.do_delete(folder)
        self.do_on_deleted(file, "renameMedia")
        self.do_on_deleted(folder, "uploadMedia")

    @rule("tree", data=st.data())
    def create_folder(self, data: st.DataObject) -> None:
        """R25: POST /media {name} makes an empty folder in the root; names are 1-255 characters, no `/`, no
        control character, at both edges of each; an invalid one is 400 and makes nothing."""
        self.do_create_folder(data.draw(self.names(), label="name"))

    @rule("tree", data=st.data())
    def upload(self, data: st.DataObject) -> None:
        """R25: a multipart `file` into the root or a folder; the object is named after the part's file name and
        downloads as the bytes sent, with the part's content type; an invalid file name is 400."""
        folders = self.my_folders()
        parent = self.pick(data, [None, *folders], folders, "folder")
        name = data.draw(self.file_names(), label="file name")
        kind = data.draw(st.sampled_from(PART_TYPES), label="part type")
        self.do_upload(parent, Upload(name, data.draw(st.binary(min_size=1, max_size=2048), label="bytes"), kind))

    @precondition(lambda self: bool(self.my_files()))
    @rule("tree", data=st.data())
    def upload_into_a_file(self, data: st.DataObject) -> None:
        """R25: uploading into a file, not a folder, is refused and adds nothing."""
        self.do_upload_into_a_file(data.draw(st.sampled_from(self.my_files()), label="file id"))

    @precondition(lambda self: bool(self.mine()))
    @rule("tree", data=st.data())
    def rename(self, data: st.DataObject) -> None:
        """R25: PUT {name} changes the name only; an invalid name is 400 and changes nothing (R5)."""
        media_id = data.draw(st.sampled_from(self.mine()), label="id")
        self.do_rename(media_id, data.draw(self.names(), label="name"))

    @precondition(lambda self: bool(self.mine()))
    @rule("tree", data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """R25: delete an object the test made; a folder goes with its contents; the ids answer 404 after."""
        full = [i for i in self.my_folders() if self.children(i)]
        self.do_delete(self.pick(data, self.mine(), full, "id"))

    @precondition(lambda self: bool(self.gone))
    @rule("tree", data=st.data())
    def deleted_ids_are_not_found(self, data: st.DataObject) -> None:
        """R25, R23: every operation on a deleted id is 404, like an unknown one."""
        media_id = data.draw(st.sampled_from(self.gone), label="deleted id")
        self.do_on_deleted(media_id, data.draw(st.sampled_from(MEDIA_OPS), label="operation"))

    @precondition(lambda self: bool(self.my_files()))
    @rule("tree", data=st.data())
    def download(self, data: st.DataObject) -> None:
        """R25: a file downloads as the bytes uploaded, with the content type stored at upload."""
        self.check_download(data.draw(st.sampled_from(self.my_files()), label="file id"), "download (R25)")

    # --- pagination ---------------------------------------------------------------------------------

    def paging(self, op_id: str) -> dict[str, dict]:
        return {n: self.view.param(op_id, n)["schema"] for n in ("page", "per_page", "disable_pagination")}

    def whole(self, parent: int | None, params: dict[str, str]) -> list[dict]:
        """R24: with pagination disabled, every object in one page (currentPage 1, totalPages 1, `page` and
        `per_page` without effect), in ascending id order."""
        op_id, path = self.where(parent)
        ex = self.send(op_id, path, params=params)
        rule = "pagination disabled: every object in one page (R24)"
        self.expect_ok(ex, op_id, rule)
        media = media_list(ex.json)
        if media is None:
            self.fail(ex, op_id, rule, '200 {"status": "ok", "pagination": {...}, "media": [...]}')
        pagination = {"totalItems": len(media), "currentPage": 1, "totalPages": 1}
        if shown_listing(ex.json) != {"status": "ok", "pagination": pagination, "media": media}:
            self.fail(ex, op_id, rule, f'200 {{"status": "ok", "pagination": {json.dumps(pagination)}, ...}}')
        ids = [m["id"] for m in media]
        if ids != sorted(set(ids)):
            self.fail(ex, op_id, "listings are ordered by id, ascending (R24)", f"ids in order: {sorted(ids)}")
        return media

    def refusals(self, op_id: str, given: dict[str, str]) -> tuple[list, list]:
        """(answers an invalid parameter requires, refusals a valid value also allows: R23a, R24)."""
        required, allowed = [], []
        for name, text in given.items():
            param = self.view.param(op_id, name)
            schema = param["schema"]
            if not self.view.valid(schema, typed(schema, text)):
                required += param_answers(self.facts.doc, self.facts.ops[op_id], name, text)
            else:
                allowed += [
                    (a.status, a.code)
                    for a in also_answers(param)
                    if a.code and not a.status.startswith("2") and applies(a, schema, text)
                ]
        return required, allowed

    def do_list_page(self, parent: int | None, given: dict[str, str], whole: dict[str, str] | None = None) -> None:
        """R24, R25: one page as the parameters say, cut from the folder's whole listing; past the end, empty with
        the true totals; an invalid parameter is 400; a page above 2^63-1 refused or past the end."""
        op_id, path = self.where(parent)
        items = self.whole(parent, whole or {"disable_pagination": self.disabling[0]})
        ex = self.send(op_id, path, params=given)
        required, allowed = self.refusals(op_id, given)
        if required:
            self.expect_any(ex, op_id, required + allowed, "an invalid paging parameter is refused (R24, R23a)")
            return
        if allowed and ex.status != 200:
            self.expect_any(ex, op_id, allowed, "a page above 2^63-1 may be refused (R24)")
            return
        specs = self.paging(op_id)
        if given.get("disable_pagination") in self.disabling:
            page, pages, shown = 1, 1, items
        else:
            page = int(given.get("page", specs["page"].get("default", 1)))
            per_page = int(given.get("per_page", specs["per_page"].get("default", 20)))
            pages, shown = max(1, math.ceil(len(items) / per_page)), items[(page - 1) * per_page : page * per_page]
        want = {"status": "ok", "pagination": {"totalItems": len(items), "currentPage": page, "totalPages": pages}}
        self.expect_listing(ex, op_id, "the page the parameters select (R24, R25)", {**want, "media": shown})

    def do_walk(self, parent: int | None, per_page: int) -> None:
        """R24, R25: the pages of one per_page partition the folder: every object once, ascending ids, each page
        full but the last, `totalPages = max(1, ceil(totalItems / per_page))`; the next page is empty."""
        op_id, path = self.where(parent)
        seen: list[dict] = []
        total: Any = None  # read from the first page
        pages: Any = None
        page = 1
        while True:
            ex = self.send(op_id, path, params={"page": str(page), "per_page": str(per_page)})
            rule = f"page {page} of {per_page} per page (R24, R25)"
            self.expect_ok(ex, op_id, rule)
            body, media = shown_listing(ex.json), media_list(ex.json)
            if media is None or not isinstance(body.get("pagination"), dict):
                self.fail(ex, op_id, rule, '200 {"status": "ok", "pagination": {...}, "media": [...]}')
            if total is None:
                total = body["pagination"].get("totalItems")
                if not is_id(total) or total < 0:
                    self.fail(ex, op_id, rule, "totalItems, the number of objects in the folder")
                pages = max(1, math.ceil(total / per_page))
            size = 0 if page > pages else per_page if page < pages else total - per_page * (pages - 1)
            want = {"status": "ok", "pagination": {"totalItems": total, "currentPage": page, "totalPages": pages}}
            if {k: body.get(k) for k in want} != want or len(media) != size:
                self.fail(ex, op_id, rule, f"200 {json.dumps(want)} with {size} objects")
            seen += media
            ids = [m["id"] for m in seen]
            if ids != sorted(set(ids)):
                self.fail(ex, op_id, "pages partition the listing in ascending id order (R24)", f"ids {sorted(ids)}")
            if page > pages:
                return
            page = page + 1 if page < min(pages, WALK_LIMIT) else pages + 1

    def draw_paging(self, data: st.DataObject, op_id: str) -> dict[str, str]:
        """Each parameter left out, valid (at its bounds), or not: the spec's bounds, defaults and values."""
        specs = self.paging(op_id)
        first, low, high = specs["page"].get("minimum", 1), specs["per_page"]["minimum"], specs["per_page"]["maximum"]
        huge = [str(2**63 - 1), str(2**63), str(2**64)]  # the last valid int64, and past it (R24)
        page = st.sampled_from(
            [st.integers(first, 4).map(str)] * 3 + [st.sampled_from([str(first - 1), "-1", "abc", "1.5", *huge])]
        )
        per_page = st.sampled_from(
            [st.sampled_from([low, low + 1, 2, 3, high, specs["per_page"].get("default", 20)]).map(str)] * 3
            + [st.sampled_from([str(low - 1), str(high + 1), "abc"])]
        )
        values = [str(v) for v in specs["disable_pagination"]["enum"]]
        disable = st.sampled_from([st.sampled_from(values)] * 3 + [st.sampled_from(["yes", "2"])])
        given = {}
        for name, strategy in {"page": page, "per_page": per_page, "disable_pagination": disable}.items():
            value = data.draw(st.none() | strategy.flatmap(lambda s: s), label=name)
            if value is not None:
                given[name] = value
        return given

    @precondition(lambda self: not self.toured)
    @rule("pagination")
    def pagination_tour(self) -> None:
        """Every pagination check once with fixed values: a folder of five files (in the test's first tour, one
        more than the default per_page: the defaults show) walked two by two, its default page, its last partial
        page, the page past the end, a page above 2^63-1, per_page and page just out of their bounds, an unknown
        disable_pagination value, and disabled pagination with page and per_page given."""
        self.toured = True
        specs = self.paging("getMedia")
        count = 5 if self.filled else specs["per_page"].get("default", 20) + 1
        type(self).filled = True
        folder = self.add(None, "m-pages")
        for n in range(count):  # names in the reverse order of the ids: an order by name is no order by id
            name = f"m-{count - n:02d}.bin"
            self.add(folder, name, Upload(name, bytes([n]), "audio/mpeg"))
        self.do_walk(folder, 2)
        last = str(math.ceil(count / 2))
        for given in [
            {},
            {"page": "2"},
            {"page": last, "per_page": "2"},
            {"page": str(int(last) + 1), "per_page": "2"},
            {"page": str(2**63), "per_page": "1"},
            {"per_page": str(specs["per_page"]["minimum"] - 1)},
            {"per_page": str(specs["per_page"]["maximum"] + 1)},
            {"page": str(specs["page"].get("minimum", 1) - 1)},
            {"disable_pagination": "yes"},
        ]:
            self.do_list_page(folder, given)
        self.do_list_page(folder, {"per_page": "1"}, {"disable_pagination": self.disabling[-1], "page": "2"})

    @rule("pagination", data=st.data())
    def list_page(self, data: st.DataObject) -> None:
        """R24, R25: one page as the parameters say, cut from the folder's whole listing; past the end, empty with
        the true totals; an invalid parameter is 400; a page above 2^63-1 refused or past the end."""
        parent = data.draw(st.sampled_from(self.folders()), label="folder")
        whole = {"disable_pagination": data.draw(st.sampled_from(self.disabling), label="disable_pagination")}
        whole |= data.draw(
            st.fixed_dictionaries({}, optional={"page": st.sampled_from(["1", "2"]), "per_page": st.just("1")}),
            label="paging that disabled pagination ignores",
        )
        self.do_list_page(parent, self.draw_paging(data, self.where(parent)[0]), whole)

    @rule("pagination", data=st.data())
    def walk_pages(self, data: st.DataObject) -> None:
        """R24, R25: the pages of one per_page partition the folder, in ascending id order."""
        parent = data.draw(st.sampled_from(self.folders()), label="folder")
        low = self.paging(self.where(parent)[0])["per_page"]["minimum"]
        self.do_walk(parent, data.draw(st.integers(low, 3), label="per_page"))

    # --- isolation ----------------------------------------------------------------------------------

    def their_ids(self) -> list[int]:
        """The second account's objects the test made, unless an id of ours is the same number."""
        return sorted(i for i in self.theirs if i not in self.nodes and i not in self.made)

    @classmethod
    def their_state(cls, media_id: int, op_id: str) -> dict[tuple[str, int], Any]:
        """What an operation on one of the second account's objects could change, read as that account: the
        folder it is (or is in), and for a rename or delete of an object in the root, that object's entry."""
        who, node = cls.target.second, cls.theirs[media_id]
        folder = media_id if node.get("isFolder") else node["parent"]
        state = {("in", folder): cls.peek_listing(folder, who)[1]}
        if op_id in ("renameMedia", "deleteMedia") and node["parent"] is None:
            state["root", media_id] = [m for m in cls.peek_listing(None, who)[1] or [] if m["id"] == media_id]
        return state

    def do_theirs(self, media_id: int, op_id: str) -> None:
        """R23: another account's media id is 404 like an unknown one, on every operation, and stays as it is."""
        ex = self.send(op_id, f"/media/{media_id}", **self.valid_body(op_id))
        self.expect_error(ex, op_id, *self.not_found(op_id), "another account's media is not found (R23)")
        if op_id != "getMedia":
            state = self.their_state(media_id, op_id)
            want = {key: self.their_view.get(key) for key in state}
            if state != want:
                shown = json.dumps(list(want.values()), ensure_ascii=False)[:300]
                self.fail(ex, op_id, "a refused request changes nothing of the other account's (R5, R23)", shown)

    def do_ours(self, media_id: int, op_id: str) -> None:
        """R23: our media is 404 to another account, on every operation, and stays as it is."""
        node = self.nodes[media_id]
        watched = media_id if op_id == "uploadMedia" and node.get("isFolder") else node["parent"]
        before = self.peek_listing(watched)[1] if op_id != "getMedia" else None
        ex = self.send(op_id, f"/media/{media_id}", who=self.target.second, **self.valid_body(op_id))
        self.expect_error(ex, op_id, *self.not_found(op_id), "our media is not found by another account (R23)")
        if before is not None and self.peek_listing(watched)[1] != before:
            self.fail(ex, op_id, "a refused request changes nothing (R5, R23)", json.dumps(before)[:300])

    def do_apart(self) -> None:
        """R23, R25: GET /media lists the caller's own root: ours shows nothing of theirs, theirs nothing of ours."""
        rule = "each account lists its own media only (R23, R25)"
        ex, ours = self.peek_listing(None)
        if ours is None:
            self.fail(ex, "listMedia", rule, '200 {"status": "ok", "media": [...]}')
        leaked = [m for m in ours if m in [project(n) for n in self.theirs.values()]]
        if leaked:
            self.fail(ex, "listMedia", rule, "none of the second account's objects", json.dumps(leaked))
        ex, listed = self.peek_listing(None, self.target.second)
        if listed is None:
            self.fail(ex, "listMedia", rule, '200 {"status": "ok", "media": [...]}')
        mine = [project(self.nodes[i]) for i in self.mine() if self.nodes[i]["parent"] is None]
        leaked = [m for m in listed if m in mine]
        if leaked:
            self.fail(ex, "listMedia", f"{rule} (as the second account)", "none of ours", json.dumps(leaked))

    def ours_to_probe(self) -> list[int]:
        return [i for i in self.mine() if i not in self.their_root and i not in self.theirs]

    @precondition(lambda self: not self.toured)
    @rule("isolation")
    def isolation_tour(self) -> None:
        """Every isolation check once: each operation on the second account's folder (and a read of its file)
        as us, each operation on a folder of ours as the second account, and both roots' listings."""
        self.toured = True
        for op_id in MEDIA_OPS:
            for media_id in self.their_ids():
                if op_id == "getMedia" or self.theirs[media_id].get("isFolder"):
                    self.do_theirs(media_id, op_id)
        ours = self.add(None, "m-isolation")
        if ours is not None and ours in self.ours_to_probe():
            self.add(ours, "m-isolation.bin", Upload("m-isolation.bin", b"ours", "audio/mpeg"))
            for op_id in MEDIA_OPS:
                self.do_ours(ours, op_id)
        self.do_apart()

    @precondition(lambda self: bool(self.their_ids()))
    @rule("isolation", data=st.data())
    def their_media_is_not_found(self, data: st.DataObject) -> None:
        """R23: another account's media id is 404 like an unknown one, on every operation, and stays as it is."""
        media_id = data.draw(st.sampled_from(self.their_ids()), label="their id")
        self.do_theirs(media_id, data.draw(st.sampled_from(MEDIA_OPS), label="operation"))

    @precondition(lambda self: self.target.second is not None and bool(self.ours_to_probe()))
    @rule("isolation", data=st.data())
    def they_cannot_touch_ours(self, data: st.DataObject) -> None:
        """R23: our media is 404 to another account, on every operation, and stays as it is."""
        media_id = data.draw(st.sampled_from(self.ours_to_probe()), label="id")
        self.do_ours(media_id, data.draw(st.sampled_from(MEDIA_OPS), label="operation"))

    @precondition(lambda self: bool(self.theirs))
    @rule("isolation")
    def listings_stay_apart(self) -> None:
        """R23, R25: GET /media lists the caller's own root: ours shows nothing of theirs, theirs nothing of ours."""
        self.do_apart()

    # --- input --------------------------------------------------------------------------------------

    def invalid_body(self, op_id: str, kind: str, value: Any, extra: str) -> tuple[Any, list[tuple[str, str]]]:
        """A body invalid in one way (or two: an unknown field and a name outside its domain), and the answers
        R23a allows for it: `value` is the name (or, for `not an object`, the whole body)."""
        if kind == "not an object":
            return value, [("400", cast(str, shape_code(self.facts.body_schema(op_id))))]  # R23a names it
        body: dict[str, Any] = {"name": f"in-{len(self.sent)}"}
        answers: list[tuple[str, str]] = []
        if kind in ("wrong type", "outside domain", "unknown and outside"):
            body["name"] = value
            answers += self.invalid(op_id, "name", value)
        if kind == "missing":
            del body["name"]
            answers += self.invalid(op_id, "name", MISSING)
        if kind.startswith("unknown"):
            body[extra] = 1
            answers += self.invalid(op_id, extra, 1)
        if isinstance(body.get("name"), str):
            self.sent.add(body["name"])
        return body, self.first_answers(op_id, answers)

    def do_invalid_body(self, op_id: str, media_id: int | None, body: Any, answers: list, watch: bool = True) -> None:
        """R23a, R5, R5a: the body's answer (before the media id's existence), and nothing changes."""
        path = "/media" if media_id is None else f"/media/{media_id}"
        watched = None if media_id is None else self.nodes.get(media_id, {"parent": "gone"})["parent"]
        watch = watch and watched != "gone"
        before = self.peek_listing(watched)[1] if watch else None
        ex = self.send(op_id, path, json_body=body)
        self.expect_any(ex, op_id, answers, "an invalid body answers its R23a code, before existence (R5a)")
        if watch and self.peek_listing(watched)[1] != before:
            self.fail(ex, op_id, "invalid input changes nothing (R5)", json.dumps(before, ensure_ascii=False)[:300])

    def do_invalid_id(self, op_id: str, text: str) -> None:
        """R5c, R23a: a media id that is not a positive integer is 400 invalidDataError, or 404 like an unknown id."""
        ex = self.send(op_id, f"/media/{urllib.parse.quote(text)}", **self.valid_body(op_id))
        answers = param_answers(self.facts.doc, self.facts.ops[op_id], "id", text)
        self.expect_any(ex, op_id, answers, "a media id is a positive integer (R23a, R5c)")

    def do_json_upload(self, folder: int) -> None:
        """R25, R23a: a JSON body on POST /media/{folder_id} is 400 invalidSchemeError (it only uploads files), and
        makes nothing: neither a folder in the root nor anything in the folder."""
        op = self.facts.ops["uploadMedia"]
        rejected = body_answers(deref(self.facts.doc, op.node.get("requestBody")), "rejected", JSON)
        before = [self.peek_listing(None)[1], self.peek_listing(folder)[1]]
        name = f"in-{len(self.sent)}"
        self.sent.add(name)
        ex = self.send("uploadMedia", f"/media/{folder}", json_body={"name": name})
        self.expect_any(ex, "uploadMedia", [(a.status, a.code) for a in rejected], "a JSON body is no upload (R25)")
        if [self.peek_listing(None)[1], self.peek_listing(folder)[1]] != before:
            self.fail(ex, "uploadMedia", "invalid input changes nothing (R5)", json.dumps(before)[:300])

    @precondition(lambda self: not self.toured)
    @rule("input")
    def input_tour(self) -> None:
        """Every input check once: each kind of invalid folder body, a JSON body on an upload, an invalid rename
        of a folder of ours and of a deleted id (the body answers first), and media ids that are no positive
        integer."""
        self.toured = True
        before = self.peek_listing(None)[1]
        cases = [
            ("wrong type", 1),
            ("outside domain", "a/b"),
            ("missing", None),
            ("unknown", None),
            ("unknown and outside", "x" * 256),
            ("not an object", []),
        ]
        for kind, value in cases:
            self.do_invalid_body("createMedia", None, *self.invalid_body("createMedia", kind, value, "colour"), False)
        ex, after = self.peek_listing(None)
        if after != before:
            self.fail(ex, "createMedia", "invalid input changes nothing (R5)", json.dumps(before)[:300])
        folder = self.add(None, "m-input")
        if folder is not None:
            self.do_json_upload(folder)
            self.do_invalid_body("renameMedia", folder, *self.invalid_body("renameMedia", "outside domain", "\x9f", ""))
            if self.send("deleteMedia", f"/media/{folder}").status == 200:
                self.forget(folder)
                self.do_invalid_body("renameMedia", folder, *self.invalid_body("renameMedia", "wrong type", [], ""))
        self.do_invalid_id("getMedia", "abc")
        self.do_invalid_id("deleteMedia", "0")

    @rule("input", data=st.data())
    def invalid_body_changes_nothing(self, data: st.DataObject) -> None:
        """R23a, R5, R5a: a JSON body of the wrong shape (not an object, a missing, mistyped or unknown field) is
        400 invalidSchemeError, a name outside its domain 400 invalidDataError, the shape first when both apply;
        the body answers before the media id's existence; and nothing changes."""
        op_id = data.draw(st.sampled_from(["createMedia", "renameMedia"]), label="operation")
        media_id = None
        if op_id == "renameMedia":
            media_id = data.draw(st.sampled_from([*self.mine(), *self.gone] or [max(self.ever, default=0) + 1]), "id")
        kind = data.draw(st.sampled_from(INVALID_BODIES), label="invalid body")
        value: st.SearchStrategy[Any] = {
            "wrong type": st.sampled_from([None, 1, 0, True, [], {}, ["a"]]),
            "not an object": st.sampled_from([[], "name", 1, None, [{"name": "x"}]]),
        }.get(kind, st.sampled_from(["", "a/b", "x" * 256, "\x00", "\x1f", "\x7f", "\x9f", "é" * 256]))
        extra = data.draw(st.sampled_from(["colour", "id", "isFolder", "parent"]), label="unknown field")
        body, answers = self.invalid_body(op_id, kind, data.draw(value, label="value"), extra)
        self.do_invalid_body(op_id, media_id, body, answers)

    @precondition(lambda self: bool(self.my_folders()))
    @rule("input", data=st.data())
    def json_body_on_upload(self, data: st.DataObject) -> None:
        """R25, R23a: a JSON body on POST /media/{folder_id} is 400 invalidSchemeError, and makes nothing."""
        self.do_json_upload(data.draw(st.sampled_from(self.my_folders()), label="folder"))

    @rule("input", data=st.data())
    def invalid_media_id(self, data: st.DataObject) -> None:
        """R5c, R23a: a media id that is not a positive integer is 400 invalidDataError, or 404 like an unknown id."""
        op_id = data.draw(st.sampled_from(MEDIA_OPS), label="operation")
        self.do_invalid_id(op_id, data.draw(st.sampled_from(["0", "-1", "abc", "1.5", "1e3", "0x10"]), label="id"))

    # --- activation ---------------------------------------------------------------------------------

    def activation_fields(self) -> tuple[dict[str, dict], set[str]]:
        schema = self.view.body_schema("activateApp")
        return schema.get("properties") or {}, set(schema.get("required") or [])

    def value_of(self, name: str, schema: dict) -> st.SearchStrategy[Any]:
        """A valid value of one activation field, often at an edge of its domain (R26)."""
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if schema.get("type") == "integer":
            low = schema.get("minimum", 0)
            unstated = schema.get("title") in UNSTATED_MAXIMUM or "maximum" not in schema
            return st.integers(low, low + 2 if unstated else schema["maximum"])  # few repeats: each one is a call
        if name == "scenarioData":
            return st.sampled_from(SCENARIOS)
        if "pattern" in schema:  # phone numbers, 7-15 digits
            low, high = cast("re.Match[str]", re.search(r"\{(\d+),(\d+)\}", schema["pattern"])).groups()
            edges = st.sampled_from(["1" * int(low), "9" * int(high)])
            return st.sampled_from([edges, st.from_regex(schema["pattern"], fullmatch=True)]).flatmap(lambda s: s)
        low, high = schema.get("minLength", 1), schema.get("maxLength", 255)  # reference, 1-255 characters
        edges = st.tuples(st.sampled_from([low, high]), st.sampled_from("r€")).map(lambda t: t[1] * t[0])
        text = st.text(st.characters(codec="utf-8"), min_size=low, max_size=20)
        return st.sampled_from([edges, text]).flatmap(lambda s: s)

    @staticmethod
    def wrong_types(schema: dict) -> list[Any]:
        """Values of the other JSON types (R5: typed strictly): R23a's invalidSchemeError."""
        enum = schema.get("enum") or []
        kind = schema.get("type") or ("integer" if enum and all(isinstance(v, int) for v in enum) else "string")
        return [12345, None, True, ["x"]] if kind == "string" else ["1", True, None, [1]]

    def outside(self, schema: dict) -> list[Any]:
        """Values of the right type just outside one field's domain (R26): R23a's invalidDataError."""
        found: list[Any] = []
        if "minimum" in schema:
            found.append(schema["minimum"] - 1)
        if "maximum" in schema and schema.get("title") not in UNSTATED_MAXIMUM:
            found.append(schema["maximum"] + 1)
        if schema.get("minLength"):
            found.append("r" * (schema["minLength"] - 1))
        if "maxLength" in schema:
            found.append("r" * (schema["maxLength"] + 1))
        enum = schema.get("enum") or []
        if enum and all(isinstance(v, int) for v in enum):
            found += [max(enum) + 1, min(enum) - 1]
        if enum and all(isinstance(v, str) for v in enum):
            found += ["xx-XX", enum[0].lower()]
        digits = re.search(r"\[0-9\]\{(\d+),(\d+)\}", schema.get("pattern", ""))
        if digits:  # phone numbers: one digit too few, one too many, a letter, a plus sign
            low, high = int(digits.group(1)), int(digits.group(2))
            found += ["1" * (low - 1), "1" * (high + 1), "1" * low + "a", "+" + "1" * low]
        elif "pattern" in schema:  # scenarioData, `k=v&k=v`
            found += ["text", "&"]
        return [v for v in found if not self.view.valid(schema, v)]

    def do_activate(self, body: dict[str, Any]) -> None:
        """R26: a valid activation answers 200 ok with a requestId of 32 hex characters."""
        self.activations += 1
        ex = self.send("activateApp", json_body=body)
        rule = "a valid activation answers ok and a requestId (R26)"
        self.expect_ok(ex, "activateApp", rule)
        answer = ex.json if isinstance(ex.json, dict) else {}
        request_id = answer.get("requestId")
        if answer.get("status") != "ok" or not isinstance(request_id, str) or not HEX32.fullmatch(request_id):
            self.fail(ex, "activateApp", rule, '200 {"status": "ok", "requestId": "<32 hex characters>"}')

    def do_activate_invalid(self, changes: dict[str, Any]) -> None:
        """R26, R23a: the spec's sample with `changes` (MISSING leaves a field out) answers the first error."""
        body = dict(self.facts.body_example("activateApp") or {})
        answers: list[tuple[str, str]] = []
        for name, value in changes.items():
            if value is MISSING:
                body.pop(name, None)
            else:
                body[name] = value
            answers += self.invalid("activateApp", name, value)
        ex = self.send("activateApp", json_body=body)
        self.expect_any(ex, "activateApp", self.first_answers("activateApp", answers), "invalid activation (R26, R23a)")

    @precondition(lambda self: not self.toured)
    @rule("activation")
    def activation_tour(self) -> None:
        """Every activation check once: a valid activation with every field at an edge, then each field at each
        edge just outside its domain, each field of a wrong type, a missing required field, an unknown field,
        and a wrong type with a value outside its domain (the shape answers)."""
        self.toured = True
        props, required = self.activation_fields()
        edges = {
            "reference": "r" * props["reference"].get("maxLength", 255),
            "sourceAddr": "1" * 7,
            "destAddr": "9" * 15,
            "gender": 2,
            "volume": 2,
            "rate": 4,
            "language": "fr-CA",
            "scenarioData": "a=1&b=2",
            "isRepeat": 0,
        }
        self.do_activate({**(self.facts.body_example("activateApp") or {}), **edges})
        for index, (name, prop) in enumerate(sorted(props.items())):
            for value in self.outside(prop):
                self.do_activate_invalid({name: value})
            wrong = self.wrong_types(prop)
            self.do_activate_invalid({name: wrong[index % len(wrong)]})
        self.do_activate_invalid({sorted(required)[0]: MISSING})
        self.do_activate_invalid({"callbackUrl": "http://example.com/"})
        self.do_activate_invalid({"gender": "1", "volume": 3})

    @precondition(lambda self: self.activations < MAX_ACTIVATIONS)  # each one makes the target place a call
    @rule("activation", data=st.data())
    def activate(self, data: st.DataObject) -> None:
        """R26: a valid activation (the spec's sample with fields left out or at other valid values, often at
        an edge) answers 200 ok with a requestId of 32 hex characters."""
        props, required = self.activation_fields()
        body = dict(self.facts.body_example("activateApp") or {})
        for name, prop in props.items():
            choice = data.draw(st.sampled_from(["keep", "change", "change", "drop"]), label=f"{name}?")
            if choice == "change":
                body[name] = data.draw(self.value_of(name, prop), label=name)
            elif choice == "drop" and name not in required:
                body.pop(name, None)
        self.do_activate(body)

    @rule("activation", data=st.data())
    def activate_invalid(self, data: st.DataObject) -> None:
        """R26, R23a: a value outside its field's domain is 400 invalidDataError; a wrong JSON type, a missing
        required field or an unknown field 400 invalidSchemeError; the shape first when both apply."""
        props, required = self.activation_fields()
        names = data.draw(
            st.lists(st.sampled_from([*sorted(props), "callbackUrl"]), min_size=1, max_size=2, unique=True),
            label="fields",
        )
        changes = {}
        for name in names:
            choices = [*self.outside(props[name]), *self.wrong_types(props[name])] if name in props else ["x"]
            changes[name] = data.draw(st.sampled_from(choices + ([MISSING] if name in required else [])), name)
        self.do_activate_invalid(changes)


@pytest.mark.check("behaviour: {concern}")
@pytest.mark.parametrize("concern", concern_params(CpaasMachine))
@pytest.mark.apis("cpaas")
def test_cpaas_behaviour(target: Target, concern: str):
    """cpaas media library and activation, compared with the rulings' model after every request."""
    run_machine(CpaasMachine, target, concern)
