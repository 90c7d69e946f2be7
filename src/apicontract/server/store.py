"""SQLite storage of the reference server: one file per data dir, one transaction per request.

WAL with `synchronous=FULL` makes every acknowledged write durable (it survives `kill -9`), and a
write transaction is all-or-nothing. The server handles requests on one event loop, so requests are
serialised against the database and concurrent clients see a sequential history.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FILENAME = "apicontract.sqlite3"

COMMON_SCHEMA = """
CREATE TABLE IF NOT EXISTS seeded (api TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    api TEXT NOT NULL,
    account TEXT NOT NULL,
    event TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    created TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'pending',
    status INTEGER,
    detail TEXT,
    finished TEXT,
    due REAL,  -- unix time it is to be sent (pending events are resumed at start)
    sequence INTEGER  -- the first event of its batch: a batch is sent in order
);
CREATE TABLE IF NOT EXISTS serials (
    api TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (api, name)
);
CREATE TABLE IF NOT EXISTS connectors (
    api TEXT NOT NULL,
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (api, account, id)
);
"""


class Store:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / FILENAME
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=5000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(COMMON_SCHEMA)
        columns = {row["name"] for row in self.db.execute("PRAGMA table_info(events)")}
        for column, kind in (("due", "REAL"), ("sequence", "INTEGER")):  # data dirs written by older versions
            if column not in columns:
                self.db.execute(f"ALTER TABLE events ADD COLUMN {column} {kind}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed (and synced) on success, rolled back on any exception."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def one(self, sql: str, args: tuple = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.db.execute(sql, args).fetchone()

    def all(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def seed_once(self, api: str, schema: str, seed: Any) -> None:
        """Create an API's tables, and fill them from its fixtures the first time only."""
        with self.lock:
            self.db.executescript(schema)
            with self.write() as db:
                if db.execute("SELECT 1 FROM seeded WHERE api = ?", (api,)).fetchone() is None:
                    seed(db)
                    db.execute("INSERT INTO seeded (api) VALUES (?)", (api,))

    def close(self) -> None:
        with self.lock:
            self.db.close()
