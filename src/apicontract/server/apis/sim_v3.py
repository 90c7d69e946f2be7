"""sim-v3: SIMs by a 9-digit id in JSON bodies (R8, R9, R19, R20), connectors (R18), usage (R21), webhooks (R22).

The spec has already checked every body field (defaults applied); what is left here is state: which
account owns a SIM (R8), whether it is provisioned, alias uniqueness (R20), the usage records and the
events provisioning produces. Codes come from the operation's documented answers.
"""

from __future__ import annotations

import json
import sqlite3
import time

from apicontract.server.accounts import Account
from apicontract.server.api_server import Refused, Reply
from apicontract.server.apis.base import Implementation
from apicontract.server.apis.connectors import Connectors
from apicontract.server.request_input import Call

# The network side (handsets, roaming, billing) is outside the API: events use the values of the
# source's webhook samples as demo values, and `simulate_*` lets a consumer choose others.
DEMO_IMEI = "1234567890987654"
DEMO_COUNTRY, DEMO_COUNTRY_PREVIOUS = "dk", "de"


class SimV3(Connectors, Implementation):
    schema = """
    CREATE TABLE IF NOT EXISTS v3_sims (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        provisioned INTEGER NOT NULL,
        alias TEXT,
        active INTEGER NOT NULL
    );
    -- R20: an alias is unique among the provisioned SIMs of an account (the handler answers 409 first)
    CREATE UNIQUE INDEX IF NOT EXISTS v3_sims_alias ON v3_sims (account, alias)
        WHERE provisioned = 1 AND alias IS NOT NULL;
    CREATE TABLE IF NOT EXISTS v3_usage (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sim_id TEXT NOT NULL,
        time TEXT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS v3_usage_sim_time ON v3_usage (sim_id, time);
    """

    def seed(self, db: sqlite3.Connection) -> None:
        for account in self.ctx.accounts:
            for sim in account.data.get("sims") or []:
                db.execute(
                    "INSERT INTO v3_sims VALUES (?, ?, ?, ?, ?)",
                    (sim["id"], account.name, int(sim["provisioned"]), sim.get("alias"), int(sim["active"])),
                )
            for record in account.data.get("usage") or []:
                self._store_usage(db, record)
        self.seed_connectors(db, self.ctx.accounts)

    def connector_id(self, call: Call) -> str:
        return call.body["id"]

    # --- SIM ----------------------------------------------------------------------------------------

    @staticmethod
    def _owned(call: Call, db: sqlite3.Connection, sim_id: str) -> sqlite3.Row | None:
        """The SIM if it is in the caller's inventory, None if in none; 403 if in another's (R8)."""
        row = db.execute("SELECT * FROM v3_sims WHERE id = ?", (sim_id,)).fetchone()
        if row is not None and row["account"] != call.account.name:
            raise call.reject(403)
        return row

    def _provisioned(self, call: Call, db: sqlite3.Connection, sim_id: str) -> sqlite3.Row:
        row = self._owned(call, db, sim_id)
        if row is None or not row["provisioned"]:
            raise call.reject(404)
        return row

    @staticmethod
    def _check_alias(call: Call, db: sqlite3.Connection, alias: str | None, sim_id: str) -> None:
        """R20: another provisioned SIM of the account with exactly this alias is a conflict."""
        if (
            alias is not None
            and db.execute(
                "SELECT 1 FROM v3_sims WHERE account = ? AND alias = ? AND provisioned = 1 AND id != ?",
                (call.account.name, alias, sim_id),
            ).fetchone()
        ):
            raise call.reject(409, "alias")

    def retrieveSim(self, call: Call) -> Reply:  # noqa: N802
        row = self._provisioned(call, self.store.db, call.body["id"])
        return self.ok({"id": row["id"], "alias": row["alias"], "active": bool(row["active"])})

    def createSim(self, call: Call) -> Reply:  # noqa: N802
        """R8: any id not in the caller's inventory is 403 here (the only code create documents for it)."""
        sim_id = call.body["id"]
        with self.store.write() as db:
            row = self._owned(call, db, sim_id)
            if row is None:
                raise call.reject(403)
            if row["provisioned"]:
                raise call.reject(409, "id")
            self._check_alias(call, db, call.body["alias"], sim_id)
            db.execute(
                "UPDATE v3_sims SET provisioned = 1, alias = ?, active = ? WHERE id = ?",
                (call.body["alias"], int(call.body["active"]), sim_id),
            )
        self.ctx.emit(call.account, [("network_registration", self._registration(sim_id), 0)])
        return self.ok()

    def updateSim(self, call: Call) -> Reply:  # noqa: N802
        """R9: an omitted `active` takes its default (applied already); an omitted alias keeps the stored one,
        an explicit null removes it (R20)."""
        with self.store.write() as db:
            row = self._provisioned(call, db, call.body["id"])
            alias = call.body["alias"] if "alias" in call.given else row["alias"]
            self._check_alias(call, db, alias, row["id"])
            db.execute(
                "UPDATE v3_sims SET alias = ?, active = ? WHERE id = ?", (alias, int(call.body["active"]), row["id"])
            )
        return self.ok()

    def deleteSim(self, call: Call) -> Reply:  # noqa: N802
        """R8: deprovision; alias and active state are discarded, so a new create starts afresh."""
        with self.store.write() as db:
            row = self._provisioned(call, db, call.body["id"])
            db.execute("UPDATE v3_sims SET provisioned = 0, alias = NULL, active = 1 WHERE id = ?", (row["id"],))
        return self.ok()

    # --- usage --------------------------------------------------------------------------------------

    @staticmethod
    def _store_usage(db: sqlite3.Connection, record: dict) -> None:
        db.execute(
            "INSERT INTO v3_usage (sim_id, time, record) VALUES (?, ?, ?)",
            (record["sim_id"], record["time"], json.dumps(record)),
        )

    def retrieveUsage(self, call: Call) -> Reply:  # noqa: N802
        """R21: the SIM's records in [time_begin, time_end); R7 times compare chronologically as strings."""
        begin, end = call.body["time_begin"], call.body["time_end"]
        if end < begin:
            raise call.reject(400, "time_end")
        row = self._provisioned(call, self.store.db, call.body["sim_id"])
        rows = self.store.all(
            "SELECT record FROM v3_usage WHERE sim_id = ? AND time >= ? AND time < ? ORDER BY time, seq",
            (row["id"], begin, end),
        )
        return self.ok({"usage": [json.loads(r["record"]) for r in rows]})

    # --- events -------------------------------------------------------------------------------------

    def _event_sim(self, account: Account, payload: dict) -> tuple[int, dict] | None:
        """A trigger names a provisioned SIM of the caller by `sim_id`; the refusal, or None if it does."""
        row = self.store.one("SELECT account, provisioned FROM v3_sims WHERE id = ?", (str(payload.get("sim_id")),))
        if row is None or row["account"] != account.name or not row["provisioned"]:
            return 404, {"error": "sim_id must be the id of a provisioned SIM of this account"}
        return None

    def simulate_usage(self, account: Account, payload: dict) -> tuple[int, dict]:
        """`POST /sim-v3/_simulate/usage` `{"sim_id": ..., <any other field>}`: a usage record, stored (so
        `GET /usage` returns it) and delivered."""
        refused = self._event_sim(account, payload)
        if refused:
            return refused
        with self.store.write() as db:
            bill_id = f"{int(time.time())}-{self.serial(db, 'bill'):04d}"  # like the sample's 1234567890-1234
            record = {
                "time": self.now(),
                "bill_id": bill_id,
                "sim_id": payload["sim_id"],
                "country_code": DEMO_COUNTRY,
                "operation": "finalize",
                "upload": "0",
                "download": "0",
                **payload,
            }
            problem = self.event_problem("usage", record)
            if problem:
                raise Refused(400, problem)  # rolls back the bill serial: a refused trigger changes nothing
            self._store_usage(db, record)
        return 200, {"events": self.ctx.emit(account, [("usage", record, 0)]), "payload": record}

    def simulate_network_validation(self, account: Account, payload: dict) -> tuple[int, dict]:
        """`POST /sim-v3/_simulate/network_validation` `{"sim_id": ..., <any other field>}`."""
        event = {"time": self.now(), "sim_id": payload.get("sim_id"), "imei": DEMO_IMEI, "country_code": DEMO_COUNTRY}
        return self._event_sim(account, payload) or self.trigger(account, "network_validation", {**event, **payload})

    def simulate_network_registration(self, account: Account, payload: dict) -> tuple[int, dict]:
        """`POST /sim-v3/_simulate/network_registration` `{"sim_id": ..., <any other field>}`."""
        event = self._registration(payload.get("sim_id"))
        return self._event_sim(account, payload) or self.trigger(account, "network_registration", {**event, **payload})

    def _registration(self, sim_id: str | None) -> dict:
        return {
            "time": self.now(),
            "sim_id": sim_id,
            "imei": DEMO_IMEI,
            "country_code": DEMO_COUNTRY,
            "country_code_previous": DEMO_COUNTRY_PREVIOUS,
        }
