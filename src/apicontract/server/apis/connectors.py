"""Connectors (R18): the source leaves their shape open, so the server stores and returns the JSON
object per id per account. sim-v2 names the id in the path, sim-v3 in the body."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from apicontract.server.api_server import Reply
from apicontract.server.request_input import Call

if TYPE_CHECKING:
    from apicontract.server.accounts import Account
    from apicontract.server.apis.base import ApiContext
    from apicontract.server.store import Store


class Connectors:
    """Mixin for an Implementation; `connector_id(call)` says where the id is."""

    ctx: ApiContext  # the Implementation's
    store: Store

    def connector_id(self, call: Call) -> str:
        raise NotImplementedError

    def _connector(self, call: Call) -> dict | None:
        row = self.store.one(
            "SELECT body FROM connectors WHERE api = ? AND account = ? AND id = ?",
            (self.ctx.name, call.account.name, self.connector_id(call)),
        )
        return json.loads(row["body"]) if row else None

    def retrieveConnector(self, call: Call) -> Reply:  # noqa: N802
        stored = self._connector(call)
        if stored is None:
            raise call.reject(404)
        return Reply(data=stored)

    def createConnector(self, call: Call) -> Reply:  # noqa: N802
        with self.store.write() as db:
            key = (self.ctx.name, call.account.name, self.connector_id(call))
            if db.execute("SELECT 1 FROM connectors WHERE api = ? AND account = ? AND id = ?", key).fetchone():
                raise call.reject(409)
            db.execute(
                "INSERT INTO connectors (api, account, id, body) VALUES (?, ?, ?, ?)", (*key, json.dumps(call.body))
            )
        return Reply()

    def updateConnector(self, call: Call) -> Reply:  # noqa: N802
        with self.store.write() as db:
            key = (self.ctx.name, call.account.name, self.connector_id(call))
            changed = db.execute(
                "UPDATE connectors SET body = ? WHERE api = ? AND account = ? AND id = ?", (json.dumps(call.body), *key)
            ).rowcount
            if not changed:
                raise call.reject(404)
        return Reply()

    def deleteConnector(self, call: Call) -> Reply:  # noqa: N802
        with self.store.write() as db:
            key = (self.ctx.name, call.account.name, self.connector_id(call))
            if not db.execute("DELETE FROM connectors WHERE api = ? AND account = ? AND id = ?", key).rowcount:
                raise call.reject(404)
        return Reply()

    def seed_connectors(self, db: Any, accounts: list[Account]) -> None:
        for account in accounts:
            for key, body in (account.data.get("connectors") or {}).items():
                db.execute(
                    "INSERT INTO connectors (api, account, id, body) VALUES (?, ?, ?, ?)",
                    (self.ctx.name, account.name, key, json.dumps(body)),
                )
