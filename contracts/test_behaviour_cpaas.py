"""Behaviour of cpaas: the media library tree and application activation, as a state machine over HTTP.

The model is the first account's media library as a tree: every object's id, name, creation time,
whether it is a folder, its parent, and for files the bytes and content type uploaded. Rules create
folders, upload files into the root or a folder, rename, delete (a folder with everything in it), list
pages and download files, and compare every answer with the rulings: R25 (a new object gets an id never
seen before and a `YYYY-MM-DD HH:MM:SS` UTC creation time; a download is byte for byte what was uploaded,
with its stored content type or `application/octet-stream`; rename changes the name only; uploading into a
file is 400; a deleted folder's contents are gone too), R24/R25 pagination (`totalItems`,
`totalPages = max(1, ceil(total / per_page))`, `currentPage`, ascending ids, a page past the end empty with
the true totals, `page`/`per_page` bounds and `disable_pagination` values as the spec's parameters say),
R23 (another account's media is 404 both ways; a deleted id is 404), R5 (an invalid name is 400 and changes
nothing) and R26 (activation answers `ok` with a `requestId` as the spec's schema says). Objects that
existed before the test are renamed but never deleted; each run starts from, and the test ends with, the
library the test found.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from apicontract.contracts.behaviour import BehaviourMachine, Exchange, Upload, run_machine
from apicontract.contracts.target import Credentials, Target

TIME = "%Y-%m-%d %H:%M:%S"  # R7
CLOCK_TOLERANCE = timedelta(minutes=30)  # a creation time further from our UTC clock is not UTC (R7)
MEDIA_FIELDS = ("id", "name", "createdDateTime", "isFolder")
PART_TYPES = [None, "audio/mpeg", "audio/wav", "text/plain", "application/octet-stream", "image/png"]
FILE_NAME_CHARACTERS = "abcxyzABCXYZ0189 ._-()"  # multipart file names: ASCII, no quoting questions


class CpaasMachine(BehaviourMachine):
    snapshot: ClassVar[dict[int, dict]]  # id -> node: MEDIA_FIELDS + parent (+ data, type of files once read)
    theirs: ClassVar[list[int]]
    ever: ClassVar[set[int]]  # every id seen: a new object's id must not be one of them (R25)
    disabling: ClassVar[list[str]]  # the disable_pagination values that disable it (by the spec's enum names)

    # --- reading and restoring ----------------------------------------------------------------------

    @classmethod
    def listing(cls, parent: int | None, who: Credentials | None = None) -> list[dict]:
        """Every object of a folder (the root when None), pagination disabled."""
        op_id = "listMedia" if parent is None else "getMedia"
        ex = cls.send(op_id, "/media" if parent is None else f"/media/{parent}", who=who, params=cls.all_params())
        body = cls.expect_ok(ex, op_id, "read the media library")
        if not isinstance(body, dict) or not isinstance(body.get("media"), list):
            cls.fail(ex, op_id, "a folder listing is JSON with media", '{"status": "ok", "media": [...]}')
        return body["media"]

    @classmethod
    def all_params(cls) -> dict[str, str]:
        return {"disable_pagination": cls.disabling[0]}

    @classmethod
    def read_tree(cls, who: Credentials | None = None) -> dict[int, dict]:
        nodes: dict[int, dict] = {}
        folders: list[int | None] = [None]
        while folders:
            parent = folders.pop(0)
            for media in cls.listing(parent, who):
                nodes[media["id"]] = {**media, "parent": parent}
                if media.get("isFolder"):
                    folders.append(media["id"])
        return nodes

    @classmethod
    def prepare(cls) -> None:
        facts = cls.facts
        schema = facts.param("listMedia", "disable_pagination")["schema"]
        names = schema.get("x-enum-varnames") or []
        cls.disabling = [
            str(v) for v, n in zip(schema["enum"], names, strict=False) if n.upper().startswith("DISABLED")
        ]
        cls.snapshot = cls.read_tree()  # the files' bytes are read when first needed (check_download)
        cls.theirs = sorted(cls.read_tree(cls.target.second)) if cls.target.second is not None else []
        cls.ever = set(cls.snapshot) | set(cls.theirs)

    @classmethod
    def restore(cls) -> None:
        """Delete what the machine added, rename back what it renamed: the library the test found."""
        rule = "restore the library the test found"
        now = cls.read_tree()
        for media_id, node in now.items():  # what the machine added at the top; the rest goes with its folder
            if media_id not in cls.snapshot and (node["parent"] is None or node["parent"] in cls.snapshot):
                cls.expect_ok(cls.send("deleteMedia", f"/media/{media_id}"), "deleteMedia", rule)
        for media_id, node in cls.snapshot.items():
            if media_id not in now:
                ex = cls.send("getMedia", f"/media/{media_id}")
                cls.fail(ex, "getMedia", rule, "the object the test found (the machine never deletes one)")
            if now[media_id]["name"] != node["name"]:
                ex = cls.send("renameMedia", f"/media/{media_id}", json_body={"name": node["name"]})
                cls.expect_ok(ex, "renameMedia", rule)

    @classmethod
    def finish(cls) -> None:
        cls.restore()

    @initialize()
    def start(self) -> None:
        self.restore()
        self.nodes: dict[int, dict] = copy.deepcopy(self.snapshot)
        self.gone: list[int] = []  # ids this run deleted (per run: what rules draw must not depend on earlier runs)
        self.activations = 0

    # --- the model ----------------------------------------------------------------------------------

    def children(self, parent: int | None) -> list[dict]:
        """R24, R25: a folder's direct children in ascending id order, as listings show them."""
        found = [n for n in self.nodes.values() if n["parent"] == parent]
        return [{k: n[k] for k in MEDIA_FIELDS} for n in sorted(found, key=lambda n: n["id"])]

    def folders(self) -> list[int | None]:
        return [None, *sorted(i for i, n in self.nodes.items() if n["isFolder"])]

    def files(self) -> list[int]:
        return sorted(i for i, n in self.nodes.items() if not n["isFolder"])

    def added(self) -> list[int]:
        return sorted(i for i in self.nodes if i not in self.snapshot)

    def not_found(self, op_id: str) -> tuple[int, str]:
        return 404, self.facts.code(op_id, 404)

    def names(self) -> st.SearchStrategy[str]:
        """Mostly valid names, some at and past the length limit, some with `/` or control characters."""
        limit = self.facts.component("MediaName").get("maxLength", 255)
        text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=24)
        edges = st.integers(limit - 1, limit + 1).map(lambda n: "n" * n)
        odd = st.sampled_from(["", "a/b", "tab\there", "del\x7f"])
        return st.sampled_from([text, text, text, edges, odd]).flatmap(lambda s: s)

    def name_ok(self, name: str) -> bool:
        return self.facts.valid(self.facts.component("MediaName"), name)

    def check_created(self, ex: Exchange, op_id: str, rule: str, want: dict) -> dict:
        """A created object: the success schema, a fresh id, a UTC creation time now, the name and kind sent."""
        body = self.expect_ok(ex, op_id, rule)
        if not self.facts.valid(self.facts.success_schema(op_id), body):
            self.fail(ex, op_id, rule, "a body the success schema accepts")
        media = body["media"]
        if media["id"] in self.ever:
            self.fail(ex, op_id, f"{rule}: ids are never reused (R25)", f"an id not in {sorted(self.ever)}")
        self.ever.add(media["id"])
        created = datetime.strptime(media["createdDateTime"], TIME).replace(tzinfo=UTC)
        if abs(datetime.now(UTC) - created) > CLOCK_TOLERANCE:
            self.fail(ex, op_id, f"{rule}: createdDateTime is the time of creation, UTC (R7)", "about now (UTC)")
        if {k: media[k] for k in ("name", "isFolder")} != want:
            self.fail(ex, op_id, rule, f"media with {want}")
        return media

    def check_listing(self, parent: int | None, rule: str) -> None:
        op_id = "listMedia" if parent is None else "getMedia"
        ex = self.send(op_id, "/media" if parent is None else f"/media/{parent}", params=self.all_params())
        items = self.children(parent)
        pagination = {"totalItems": len(items), "currentPage": 1, "totalPages": 1}
        self.expect_ok(ex, op_id, rule, {"status": "ok", "pagination": pagination, "media": items})

    def check_download(self, media_id: int, rule: str) -> None:
        """R25: the bytes uploaded, with the content type stored at upload."""
        node = self.nodes[media_id]
        ex = self.send("getMedia", f"/media/{media_id}")
        self.expect_ok(ex, "getMedia", rule)
        if "data" not in node:  # a file the test found: its first download is what later ones must match
            found = self.snapshot[media_id]
            found["data"], found["type"] = ex.response.content, ex.response.headers.get("content-type")
            node.update(data=found["data"], type=found["type"])
        if ex.response.content != node["data"]:
            self.fail(ex, "getMedia", f"{rule}: the bytes uploaded", f"{len(node['data'])} bytes as uploaded")
        got = ex.response.headers.get("content-type", "")
        if got.replace(" ", "").lower() != str(node["type"]).replace(" ", "").lower():
            self.fail(ex, "getMedia", f"{rule}: the stored content type", f"Content-Type: {node['type']}", got)

    def check_gone(self, media_id: int, rule: str) -> None:
        ex = self.send("getMedia", f"/media/{media_id}")
        self.expect_error(ex, "getMedia", *self.not_found("getMedia"), rule)

    # --- rules --------------------------------------------------------------------------------------

    @rule(data=st.data())
    def create_folder(self, data: st.DataObject) -> None:
        """R25: POST /media {name} makes an empty folder in the root; an invalid name is 400 (R5)."""
        name = data.draw(self.names(), label="name")
        ex = self.send("createMedia", "/media", json_body={"name": name})
        if not self.name_ok(name):
            self.expect_error(ex, "createMedia", *self.facts.field_code("createMedia", "name"), "invalid name (R25)")
        else:
            media = self.check_created(ex, "createMedia", "create a folder (R25)", {"name": name, "isFolder": 1})
            self.nodes[media["id"]] = {**media, "parent": None}
            self.check_listing(media["id"], "a new folder is empty (R25)")
        self.check_listing(None, "the root lists the folder (R25)")

    @rule(data=st.data())
    def upload(self, data: st.DataObject) -> None:
        """R25: a multipart `file` into the root or a folder; the object is named after the part's file name."""
        parent = self.pick(data, self.folders(), [i for i in self.added() if self.nodes[i]["isFolder"]], "folder")
        name = data.draw(st.text(alphabet=FILE_NAME_CHARACTERS, min_size=1, max_size=20), label="file name")
        part = Upload(
            name, data.draw(st.binary(max_size=2048), "bytes"), data.draw(st.sampled_from(PART_TYPES), "type")
        )
        op_id = "createMedia" if parent is None else "uploadMedia"
        ex = self.send(op_id, "/media" if parent is None else f"/media/{parent}", upload=part)
        if not self.name_ok(name):
            self.expect_error(ex, op_id, *self.facts.field_code(op_id, "file", "multipart/form-data"), "file name")
            return
        media = self.check_created(ex, op_id, "upload a file (R25)", {"name": name, "isFolder": 0})
        default = self.facts.properties(op_id, "multipart/form-data")["file"].get("contentMediaType")
        self.nodes[media["id"]] = {**media, "parent": parent, "data": part.data, "type": part.content_type or default}
        self.check_download(media["id"], "download what was uploaded (R25)")
        self.check_listing(parent, "the folder lists the upload (R25)")

    @precondition(lambda self: bool(self.files()))
    @rule(data=st.data())
    def upload_into_a_file(self, data: st.DataObject) -> None:
        """R25: uploading into a file, not a folder, is 400 and adds nothing."""
        media_id = data.draw(st.sampled_from(self.files()), label="file id")
        ex = self.send("uploadMedia", f"/media/{media_id}", upload=Upload("x.txt", b"x", "text/plain"))
        self.expect_error(ex, "uploadMedia", *self.facts.field_code("uploadMedia", "id"), "upload into a file (R25)")
        self.check_listing(self.nodes[media_id]["parent"], "nothing was added")

    @precondition(lambda self: bool(self.nodes))
    @rule(data=st.data())
    def rename(self, data: st.DataObject) -> None:
        """R25: PUT {name} changes the name only; an invalid name is 400 and changes nothing (R5)."""
        media_id = data.draw(st.sampled_from(sorted(self.nodes)), label="id")
        name = data.draw(self.names(), label="name")
        ex = self.send("renameMedia", f"/media/{media_id}", json_body={"name": name})
        if not self.name_ok(name):
            self.expect_error(ex, "renameMedia", *self.facts.field_code("renameMedia", "name"), "invalid name (R25)")
        else:
            node = self.nodes[media_id]
            want = {**{k: node[k] for k in MEDIA_FIELDS}, "name": name}
            self.expect_ok(ex, "renameMedia", "rename changes the name only (R25)", {"status": "ok", "media": want})
            node["name"] = name
        self.check_listing(self.nodes[media_id]["parent"], "read after rename")
        if not self.nodes[media_id]["isFolder"]:
            self.check_download(media_id, "rename keeps the content (R25)")

    @precondition(lambda self: bool(self.added()))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """R25: delete an object the machine made; a folder goes with its contents; the ids answer 404 after."""
        media_id = data.draw(st.sampled_from(self.added()), label="id")
        node = self.nodes[media_id]
        inside = [i for i in self.nodes if self.within(i, media_id)]
        ex = self.send("deleteMedia", f"/media/{media_id}")
        self.expect_ok(ex, "deleteMedia", "delete (R25)", self.ok_body("deleteMedia"))
        for gone in [media_id, *inside]:
            del self.nodes[gone]
            self.gone.append(gone)
        for gone in [media_id, *inside][:3]:
            self.check_gone(gone, "a deleted object, or one inside a deleted folder, is not found (R25)")
        self.check_listing(node["parent"], "read after delete")

    def within(self, media_id: int, folder: int) -> bool:
        parent = self.nodes[media_id]["parent"]
        while parent is not None:
            if parent == folder:
                return True
            parent = self.nodes[parent]["parent"]
        return False

    @rule(data=st.data())
    def list_page(self, data: st.DataObject) -> None:
        """R24: one page as the parameters say; invalid parameters are 400; past the end, empty with true totals."""
        parent = self.pick(data, self.folders(), [None], "folder")
        op_id = "listMedia" if parent is None else "getMedia"
        specs = {n: self.facts.param(op_id, n)["schema"] for n in ("page", "per_page", "disable_pagination")}
        low, high = specs["per_page"].get("minimum", 1), specs["per_page"].get("maximum", 100)
        choices = {
            "page": st.integers(specs["page"].get("minimum", 1) - 1, 6),
            "per_page": st.sampled_from([low - 1, low, low + 1, 2, 3, specs["per_page"].get("default", 20), high]),
            "disable_pagination": st.sampled_from([*specs["disable_pagination"]["enum"], "yes"]),
        }
        choices["per_page"] = choices["per_page"] | st.just(high + 1)
        given = {n: v for n, s in choices.items() if (v := data.draw(st.none() | s, label=n)) is not None}
        ex = self.send(
            op_id, "/media" if parent is None else f"/media/{parent}", params={k: str(v) for k, v in given.items()}
        )
        invalid = [n for n, v in given.items() if not self.facts.valid(specs[n], v)]
        if invalid:
            self.expect_error(ex, op_id, *self.facts.field_code(op_id, invalid[0]), f"invalid {invalid[0]} (R24)")
            return
        items = self.children(parent)
        if given.get("disable_pagination") in self.disabling:
            page, pages, shown = 1, 1, items
        else:
            page = given.get("page", specs["page"].get("default", 1))
            per_page = given.get("per_page", specs["per_page"].get("default", 20))
            pages, shown = max(1, math.ceil(len(items) / per_page)), items[(page - 1) * per_page : page * per_page]
        want = {"status": "ok", "pagination": {"totalItems": len(items), "currentPage": page, "totalPages": pages}}
        self.expect_ok(ex, op_id, "pagination (R24, R25)", {**want, "media": shown})

    @precondition(lambda self: bool(self.files()))
    @rule(data=st.data())
    def download(self, data: st.DataObject) -> None:
        self.check_download(data.draw(st.sampled_from(self.files()), label="file id"), "download (R25)")

    @precondition(lambda self: self.activations < 3)  # each one makes the target send callbacks
    @rule(data=st.data())
    def activate(self, data: st.DataObject) -> None:
        """R26: activation answers ok with a requestId as the success schema says; the library is untouched."""
        body = dict(self.facts.body_example("activateApp") or {})
        body["reference"] = "behaviour-" + data.draw(st.text(alphabet="abcdef0123456789", max_size=8), "reference")
        self.activations += 1
        ex = self.send("activateApp", json_body=body)
        answer = self.expect_ok(ex, "activateApp", "activation (R26)")
        if not self.facts.valid(self.facts.success_schema("activateApp"), answer):
            self.fail(ex, "activateApp", "activation answers status ok and a requestId (R26)", "the success schema")

    @precondition(lambda self: bool(self.gone))
    @rule(data=st.data())
    def deleted_ids_are_not_found(self, data: st.DataObject) -> None:
        """R25: every operation on a deleted id is 404; ids are not reused."""
        media_id = data.draw(st.sampled_from(self.gone), label="deleted id")
        self.each_operation_not_found(data, media_id, None, "a deleted id is not found (R25)")

    @precondition(lambda self: bool(self.theirs))
    @rule(data=st.data())
    def their_media_is_not_found(self, data: st.DataObject) -> None:
        """R23: another account's media id is 404 like an unknown one, on every operation."""
        media_id = data.draw(st.sampled_from(self.theirs), label="their id")
        self.each_operation_not_found(data, media_id, None, "another account's media is not found (R23)")

    @precondition(lambda self: self.target.second is not None and bool(self.nodes))
    @rule(data=st.data())
    def they_cannot_see_ours(self, data: st.DataObject) -> None:
        """R23: our objects are 404 to another account, and stay as they are."""
        media_id = data.draw(st.sampled_from(sorted(self.nodes)), label="id")
        self.each_operation_not_found(data, media_id, self.target.second, "our media is not found by another account")
        self.check_listing(self.nodes[media_id]["parent"], "nothing changes")

    def each_operation_not_found(self, data: st.DataObject, media_id: int, who: Any, rule: str) -> None:
        op_id = data.draw(st.sampled_from(["getMedia", "renameMedia", "deleteMedia", "uploadMedia"]), label="op")
        kwargs: dict[str, Any] = {
            "renameMedia": {"json_body": {"name": "renamed"}},
            "uploadMedia": {"upload": Upload("x.txt", b"x", "text/plain")},
        }.get(op_id, {})
        ex = self.send(op_id, f"/media/{media_id}", who=who, **kwargs)
        self.expect_error(ex, op_id, *self.not_found(op_id), rule)


@pytest.mark.apis("cpaas")
def test_cpaas_behaviour(target: Target):
    """cpaas media library and activation, compared with the rulings' model after every request."""
    run_machine(CpaasMachine, target)
