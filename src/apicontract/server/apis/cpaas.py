"""cpaas: the media library (R24, R25), application activation with callbacks (R26, R27), the balance (R28).

The spec has checked every parameter and body field; what is left here is state and the rulings'
semantics: whose media an id is (another account's is 404 like an unknown one, R23), folders and
files, pagination, the activation outcomes and repeats of the fixtures, and the R5b accounts.
File bytes live on disk under the data dir (`media/<id>`), never in memory only; SQLite holds the tree.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from apicontract.server.api_server import Reply
from apicontract.server.apis.base import Implementation
from apicontract.server.compiled import JSON, Rejection
from apicontract.server.request_input import Call, Upload

MAX_ROWID = 2**63 - 1  # SQLite's largest id: a larger path id names nothing
TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # RFC 9110 token
MEDIA_TYPE = re.compile(rf'{TOKEN}/{TOKEN}([ \t]*;[ \t]*{TOKEN}=({TOKEN}|"[^"\\\x00-\x1f\x7f]*"))*')  # RFC 9110 8.3.1
DEFAULT_TYPE = "application/octet-stream"
MEDIA = "id, name, created, is_folder"


def field_code(call: Call, name: str) -> Rejection:
    """The documented answer of the code the spec gives a parameter or body field (`x-error-code`)."""
    fields = [*call.op.path_fields, *call.op.query_fields, *(f for s in call.op.bodies.values() for f in s.fields)]
    return Rejection(call.op.code_answer(next(f.code for f in fields if f.name == name and f.code)))


def stored_type(declared: str) -> str:
    """The part's Content-Type as it will be served again, or the default when it names no one type.

    A media range (`*/*`, what an OpenAPI `encoding.contentType: '*/*'` client may send) or a value that
    is not a media type at all cannot be a download's Content-Type (and could not be sent as a header).
    """
    if MEDIA_TYPE.fullmatch(declared) and "*" not in declared.split(";", 1)[0]:
        return declared
    return DEFAULT_TYPE


def seconds(value: int) -> float:
    """A wait in seconds as a float; a count times an interval can exceed any float (RepeatCount is unbounded)."""
    return float(min(value, sys.float_info.max))


class Cpaas(Implementation):
    schema = """
    CREATE TABLE IF NOT EXISTS cpaas_media (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- one sequence across accounts, never reused
        account TEXT NOT NULL,
        parent INTEGER REFERENCES cpaas_media (id) ON DELETE CASCADE,  -- NULL: the root folder
        name TEXT NOT NULL,
        is_folder INTEGER NOT NULL,
        created TEXT NOT NULL,
        content_type TEXT,
        size INTEGER,
        file TEXT  -- the bytes, relative to the data dir
    );
    CREATE INDEX IF NOT EXISTS cpaas_media_children ON cpaas_media (account, parent, id);
    CREATE TABLE IF NOT EXISTS cpaas_activations (
        request_id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        reference TEXT NOT NULL,
        dest_addr TEXT NOT NULL,
        outcome TEXT NOT NULL,
        attempts TEXT NOT NULL,  -- decimal: 1 + an unbounded repeat count
        created TEXT NOT NULL
    );
    """

    def __init__(self, ctx: Any):
        super().__init__(ctx)
        self._clean_media_dir()

    @property
    def media_dir(self) -> Path:
        return self.store.path.parent / "media"

    def _clean_media_dir(self) -> None:
        """At start, remove what an interrupted upload left (a `kill -9` mid-write): temporary `.part` files,
        and files whose row never committed."""
        if not self.media_dir.is_dir():
            return
        stored = {row["file"] for row in self.store.all("SELECT file FROM cpaas_media WHERE file IS NOT NULL")}
        for path in self.media_dir.iterdir():
            if path.name.endswith(".part") or (path.name.isdigit() and f"media/{path.name}" not in stored):
                path.unlink(missing_ok=True)

    def seed(self, db: sqlite3.Connection) -> None:
        """The fixtures' media trees, with their ids (the sequence continues after the highest one)."""

        def plant(account: str, items: list[dict], parent: int | None) -> None:
            for item in items:
                data = None if item["isFolder"] else item["text"].encode("utf-8")
                self._insert(
                    db,
                    account,
                    parent,
                    item["name"],
                    item["createdDateTime"],
                    data,
                    item.get("content_type"),
                    item["id"],
                )
                plant(account, item.get("children") or [], item["id"])

        for account in self.ctx.accounts:
            plant(account.name, account.data.get("media") or [], None)

    # --- before every handler -----------------------------------------------------------------------

    def before(self, call: Call) -> None:
        """Input the schemas cannot check (an upload's file name), then the R5b accounts, as R5a orders them."""
        upload = call.body.get("file")
        if isinstance(upload, Upload) and not self._valid_name(upload.filename):
            raise field_code(call, "file")
        prohibited = call.account.data.get("prohibited")
        if prohibited:
            raise Rejection(call.op.code_answer(self.ctx.fixtures["prohibited_statuses"][prohibited]))

    def _valid_name(self, name: str) -> bool:
        """R25 names (the spec's MediaName); the name is never a path, so `../x` cannot escape anything."""
        try:
            self.ctx.models.MediaName.model_validate(name)
        except ValidationError:
            return False
        return True

    # --- media --------------------------------------------------------------------------------------

    def _insert(
        self,
        db: sqlite3.Connection,
        account: str,
        parent: int | None,
        name: str,
        created: str,
        data: bytes | None,
        content_type: str | None,
        media_id: int | None = None,
    ) -> int:
        """Add a folder (data None) or a file; a file's bytes reach the disk before the row can commit."""
        cursor = db.execute(
            "INSERT INTO cpaas_media (id, account, parent, name, is_folder, created, content_type, size)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                media_id,
                account,
                parent,
                name,
                int(data is None),
                created,
                content_type,
                None if data is None else len(data),
            ),
        )
        assert cursor.lastrowid is not None  # set by the INSERT
        new_id = int(cursor.lastrowid)
        if data is not None:
            relative = self._write_file(new_id, data)
            db.execute("UPDATE cpaas_media SET file = ? WHERE id = ?", (relative, new_id))
        return new_id

    def _write_file(self, media_id: int, data: bytes) -> str:
        """Write `media/<id>` atomically: a temp file in the same folder, fsync, rename, fsync the folder."""
        self.media_dir.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.media_dir, prefix=f".{media_id}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.media_dir / str(media_id))
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        folder = os.open(self.media_dir, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        return f"media/{media_id}"

    def _store(self, call: Call, parent: int | None, upload: Upload | None, name: str) -> Reply:
        """Create a folder or a file in one transaction; on any failure the written file is removed."""
        media_id = None
        try:
            with self.store.write() as db:
                if parent is not None:
                    self._folder(call, db, parent)
                data = None if upload is None else upload.data
                ctype = None if upload is None else stored_type(upload.content_type)
                media_id = self._insert(db, call.account.name, parent, name, self.now(), data, ctype)
        except BaseException:
            if media_id is not None:  # written, but the row did not commit
                (self.media_dir / str(media_id)).unlink(missing_ok=True)
            raise
        return self.ok({"media": self._written(media_id)})

    def _folder(self, call: Call, db: sqlite3.Connection, folder_id: int) -> None:
        """An upload target: the caller's object (404 otherwise) that is a folder (the `id` code otherwise)."""
        if not self._owned(call, db, folder_id)["is_folder"]:
            raise field_code(call, "id")

    @staticmethod
    def _row(db: sqlite3.Connection, media_id: int) -> sqlite3.Row | None:
        if not 0 < media_id <= MAX_ROWID:
            return None
        return db.execute("SELECT * FROM cpaas_media WHERE id = ?", (media_id,)).fetchone()

    def _owned(self, call: Call, db: sqlite3.Connection, media_id: int) -> sqlite3.Row:
        """The caller's object; another account's id is 404 like an unknown one (R23)."""
        row = self._row(db, media_id)
        if row is None or row["account"] != call.account.name:
            raise call.reject(404)
        return row

    def _written(self, media_id: int) -> dict[str, Any]:
        """The object a request has just written, as answered."""
        row = self._row(self.store.db, media_id)
        assert row is not None  # written and committed
        return self._media(row)

    @staticmethod
    def _media(row: sqlite3.Row) -> dict[str, Any]:
        return {"id": row["id"], "name": row["name"], "createdDateTime": row["created"], "isFolder": row["is_folder"]}

    def _listing(self, call: Call, parent: int | None) -> Reply:
        """One page of a folder's children in ascending id order (R24, R25)."""
        where, args = "account = ? AND parent IS ?", (call.account.name, parent)
        counted = self.store.one(f"SELECT COUNT(*) FROM cpaas_media WHERE {where}", args)  # noqa: S608
        assert counted is not None  # COUNT(*) answers one row
        total = counted[0]
        if call.params.get("disable_pagination") in ("1", "true"):
            page, pages, limit, offset = 1, 1, -1, 0
        else:
            page, per_page = call.params["page"], call.params["per_page"]
            pages, limit, offset = max(1, math.ceil(total / per_page)), per_page, (page - 1) * per_page
        rows = (
            []
            if offset >= total
            else self.store.all(
                f"SELECT {MEDIA} FROM cpaas_media WHERE {where} ORDER BY id LIMIT ? OFFSET ?",  # noqa: S608
                (*args, limit, offset),
            )
        )
        return self.ok(
            {
                "pagination": {"totalItems": total, "currentPage": page, "totalPages": pages},
                "media": [self._media(row) for row in rows],
            }
        )

    def listMedia(self, call: Call) -> Reply:  # noqa: N802
        """GET /media lists the root only (R25)."""
        return self._listing(call, None)

    def getMedia(self, call: Call) -> Reply:  # noqa: N802
        """A folder lists its children; a file is its bytes with the stored content type (R25)."""
        row = self._owned(call, self.store.db, call.params["id"])
        if row["is_folder"]:
            return self._listing(call, row["id"])
        data = (self.store.path.parent / row["file"]).read_bytes()
        return Reply(raw=data, content_type=row["content_type"])

    def createMedia(self, call: Call) -> Reply:  # noqa: N802
        """JSON `{name}` makes a folder in the root; multipart `file` uploads a file there (R25)."""
        if call.content_type == JSON:
            return self._store(call, None, None, call.body["name"])
        upload = call.body["file"]
        return self._store(call, None, upload, upload.filename)

    def uploadMedia(self, call: Call) -> Reply:  # noqa: N802
        """Multipart `file` into folder `id` (R25)."""
        upload = call.body["file"]
        return self._store(call, call.params["id"], upload, upload.filename)

    def renameMedia(self, call: Call) -> Reply:  # noqa: N802
        """Only the name changes (R25)."""
        with self.store.write() as db:
            row = self._owned(call, db, call.params["id"])
            db.execute("UPDATE cpaas_media SET name = ? WHERE id = ?", (call.body["name"], row["id"]))
        return self.ok({"media": self._written(row["id"])})

    def deleteMedia(self, call: Call) -> Reply:  # noqa: N802
        """A folder goes with everything inside it (R25); the bytes leave the disk once the rows are gone."""
        with self.store.write() as db:
            row = self._owned(call, db, call.params["id"])
            files = [
                r["file"]
                for r in db.execute(
                    "WITH RECURSIVE tree (id) AS (SELECT ? UNION ALL"
                    " SELECT m.id FROM cpaas_media m JOIN tree ON m.parent = tree.id)"
                    " SELECT file FROM cpaas_media WHERE id IN (SELECT id FROM tree) AND file IS NOT NULL",
                    (row["id"],),
                )
            ]
            db.execute("DELETE FROM cpaas_media WHERE id = ?", (row["id"],))  # children: ON DELETE CASCADE
        for relative in files:
            (self.store.path.parent / relative).unlink(missing_ok=True)
        return self.ok()

    # --- applications -------------------------------------------------------------------------------

    def _outcome(self, dest_addr: str) -> dict[str, str]:
        """The fixtures' entry with the longest suffix that ends `destAddr` (the empty suffix always does)."""
        matching = [o for o in self.ctx.fixtures["activation_outcomes"] if dest_addr.endswith(o["suffix"])]
        return max(matching, key=lambda o: len(o["suffix"]))

    def activateApp(self, call: Call) -> Reply:  # noqa: N802
        """Answer at once; startCallback, then the attempts the repeat fields allow, then one endCallback (R26, R27)."""
        body = call.body
        outcome = self._outcome(body["destAddr"])
        key = "repeat" + "".join(part.capitalize() for part in outcome["outcome"].split("_"))  # busy -> repeatBusy
        repeats = int(body.get(key + "Count", 0)) if body.get("isRepeat") == 1 and body.get(key) == 1 else 0
        waited = repeats * int(body.get(key + "Int", 0))  # between the attempts, before the endCallback
        request_id = uuid.uuid4().hex
        with self.store.write() as db:
            db.execute(
                "INSERT INTO cpaas_activations VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    request_id,
                    call.account.name,
                    body["reference"],
                    body["destAddr"],
                    outcome["outcome"],
                    str(1 + repeats),
                    self.now(),
                ),
            )
        result = {name: outcome[name] for name in ("state", "error", "duration")}  # of every attempt
        self.ctx.emit(
            call.account,
            [
                ("startCallback", {"type": "startCallback", "reference": body["reference"]}, 0),
                (
                    "endCallback",
                    {
                        "type": "endCallback",
                        "reference": body["reference"],
                        **result,
                        "appKey": call.account.data["app_key"],
                    },
                    seconds(waited),
                ),
            ],
        )
        return self.ok({"requestId": request_id})

    # --- balance ------------------------------------------------------------------------------------

    def getBalance(self, call: Call) -> Reply:  # noqa: N802
        """The account's personal account and balance, from the fixtures (R28)."""
        data = call.account.data
        return self.ok({"personalAccountId": data["personal_account_id"], "balance": data["balance"]})
