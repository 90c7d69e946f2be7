"""sim-v2: SIMs addressed by IMSI or MSISDN (R14-R16), connectors (R18), send SMS (R17a).

The spec has already checked every parameter and body field; what is left here is state: which
account owns a SIM (R8), whether it is provisioned, MSISDN uniqueness (R15) and the data/throttling
conflict (R16). Codes come from the operation's documented answers (`call.reject(status, field)`).
"""

from __future__ import annotations

import sqlite3

from apicontract.server.api_server import Reply
from apicontract.server.apis.base import Implementation
from apicontract.server.apis.connectors import Connectors
from apicontract.server.request_input import Call

FLAGS = ("voice", "sms", "data", "data_throttling")


def is_imsi(value: str) -> bool:
    """R14: a path value of exactly 15 digits is an IMSI; anything else the spec let through is an MSISDN."""
    return len(value) == 15 and value.isascii() and value.isdigit()


class SimV2(Connectors, Implementation):
    schema = """
    CREATE TABLE IF NOT EXISTS v2_sims (
        imsi TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        msisdn TEXT UNIQUE,
        provisioned INTEGER NOT NULL,
        voice INTEGER NOT NULL,
        sms INTEGER NOT NULL,
        data INTEGER NOT NULL,
        data_throttling INTEGER NOT NULL
    );
    """

    def seed(self, db: sqlite3.Connection) -> None:
        for account in self.ctx.accounts:
            for sim in account.data.get("sims") or []:
                db.execute(
                    "INSERT INTO v2_sims VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        sim["imsi"],
                        account.name,
                        sim.get("msisdn"),
                        int(sim["provisioned"]),
                        *(int(sim.get(flag, flag != "data_throttling")) for flag in FLAGS),
                    ),
                )
        self.seed_connectors(db, self.ctx.accounts)

    def connector_id(self, call: Call) -> str:
        return call.params["id"]

    # --- SIM ----------------------------------------------------------------------------------------

    def _find(self, db: sqlite3.Connection, value: str) -> sqlite3.Row | None:
        column = "imsi" if is_imsi(value) else "msisdn"
        return db.execute(f"SELECT * FROM v2_sims WHERE {column} = ?", (value,)).fetchone()  # noqa: S608

    def _provisioned(self, call: Call, db: sqlite3.Connection) -> sqlite3.Row:
        """The caller's provisioned SIM the path names: 403 for another account's, 404 otherwise (R8)."""
        row = self._find(db, call.params["sim"])
        if row is not None and row["account"] != call.account.name:
            raise call.reject(403)
        if row is None or not row["provisioned"]:
            raise call.reject(404)
        return row

    def retrieveSim(self, call: Call) -> Reply:  # noqa: N802
        row = self._provisioned(call, self.store.db)
        return self.ok({"imsi": row["imsi"], "msisdn": row["msisdn"], **{f: bool(row[f]) for f in FLAGS}})

    def createSim(self, call: Call) -> Reply:  # noqa: N802
        path, body = call.params["sim"], call.body
        if is_imsi(path):
            imsi, msisdn = path, body.get("msisdn")
            if "imsi" in body and body["imsi"] != path:
                raise call.reject(400, "imsi")
        else:
            imsi, msisdn = body.get("imsi"), path
            if imsi is None:
                raise call.reject(400, "imsi")
            if "msisdn" in body and body["msisdn"] != path:
                raise call.reject(400, "msisdn")
        with self.store.write() as db:
            row = db.execute("SELECT * FROM v2_sims WHERE imsi = ?", (imsi,)).fetchone()
            holder = self._find(db, msisdn) if msisdn else None
            if row is not None and row["account"] != call.account.name:
                raise call.reject(403)
            if not is_imsi(path) and holder is not None and holder["account"] != call.account.name:
                raise call.reject(403)  # R15: a path MSISDN of another account's SIM
            if row is None:
                raise call.reject(404)
            if row["provisioned"]:
                raise call.reject(409, "imsi")
            if holder is not None and holder["imsi"] != imsi:
                raise call.reject(409, "msisdn")
            flags = {f: bool(body[f]) for f in FLAGS}  # the spec's create defaults are applied already
            self._check_throttling(call, flags)
            db.execute(
                "UPDATE v2_sims SET provisioned = 1, msisdn = ?, voice = ?, sms = ?, data = ?, data_throttling = ?"
                " WHERE imsi = ?",
                (msisdn, *(int(flags[f]) for f in FLAGS), imsi),
            )
        return self.ok()

    def updateSim(self, call: Call) -> Reply:  # noqa: N802
        path, body = call.params["sim"], call.body
        if is_imsi(path) and "imsi" in body and body["imsi"] != path:
            raise call.reject(400, "imsi")
        with self.store.write() as db:
            row = self._provisioned(call, db)
            if "imsi" in body and body["imsi"] != row["imsi"]:
                raise call.reject(400, "imsi")
            msisdn = body.get("msisdn", row["msisdn"])
            if msisdn != row["msisdn"]:
                holder = self._find(db, msisdn)
                if holder is not None and holder["imsi"] != row["imsi"]:
                    raise call.reject(409, "msisdn")
            flags = {f: bool(body[f]) if f in body else bool(row[f]) for f in FLAGS}  # R9: omitted keeps
            self._check_throttling(call, flags)
            db.execute(
                "UPDATE v2_sims SET msisdn = ?, voice = ?, sms = ?, data = ?, data_throttling = ? WHERE imsi = ?",
                (msisdn, *(int(flags[f]) for f in FLAGS), row["imsi"]),
            )
        return self.ok()

    def deleteSim(self, call: Call) -> Reply:  # noqa: N802
        with self.store.write() as db:
            row = self._provisioned(call, db)
            db.execute("UPDATE v2_sims SET provisioned = 0, msisdn = NULL WHERE imsi = ?", (row["imsi"],))
        return self.ok()

    @staticmethod
    def _check_throttling(call: Call, flags: dict[str, bool]) -> None:
        """R16: data off with throttling on is a conflict."""
        if not flags["data"] and flags["data_throttling"]:
            raise call.reject(409, "data_data_throttling")

    # --- SMS ----------------------------------------------------------------------------------------

    def sendSms(self, call: Call) -> Reply:  # noqa: N802
        """R17a: no SIM is involved; the spec has checked `to`, `from` and `text`."""
        return self.ok()
