"""Connector storage shared by sim-v2 (id in the path) and sim-v3 (id in the body).

R18 leaves everything but the basics to the implementation. This one's choices:
  * id: 1-64 characters of [A-Za-z0-9_-], else 400 id_invalid;
  * connectors are per account (two accounts may use the same id);
  * POST stores the JSON object (creating or replacing), answers 200 {"message": "OK"};
  * GET answers the stored object plus `id` and `created` (unless the body had
    fields of those names: every field given reads back as given);
    unknown: 404 {"message": "connector_not_found"};
  * PUT merges the given fields into the stored ones (shallow), unknown: 404;
  * DELETE removes it, unknown: 404.
"""
from __future__ import annotations

import re

from .config import fmt_time, now_utc

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def valid_id(value) -> bool:
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


class ConnectorStore:
    def __init__(self):
        self._data: dict[tuple[int, str], tuple[dict, str]] = {}

    def put(self, account_index: int, cid: str, fields: dict) -> None:
        old = self._data.get((account_index, cid))
        created = old[1] if old else fmt_time(now_utc())
        self._data[(account_index, cid)] = (dict(fields), created)

    def merge(self, account_index: int, cid: str, fields: dict) -> bool:
        old = self._data.get((account_index, cid))
        if old is None:
            return False
        merged = dict(old[0])
        merged.update(fields)
        self._data[(account_index, cid)] = (merged, old[1])
        return True

    def get(self, account_index: int, cid: str) -> dict | None:
        entry = self._data.get((account_index, cid))
        if entry is None:
            return None
        fields, created = entry
        out = dict(fields)
        out.setdefault("id", cid)
        out.setdefault("created", created)
        return out

    def delete(self, account_index: int, cid: str) -> bool:
        return self._data.pop((account_index, cid), None) is not None
