"""sim-v1: SIMs addressed by a 15-digit uuid (R8-R12), send SMS (R12), location and XDR webhooks (R13).

The spec has already checked the uuid and every body field (form or JSON, defaults applied); what is
left here is state: which account owns a SIM (R8), whether it is provisioned, its PIN/PUK (R11) and
settings, and the events provisioning and SMS produce. Codes come from the operation's documented answers.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from apicontract.server.accounts import Account
from apicontract.server.api_server import Refused, Reply
from apicontract.server.apis.base import Implementation
from apicontract.server.request_input import Call

FLAGS = ("voice", "sms", "data")

# The network side (handsets, roaming, calls) is outside the API: events use the values of the source's
# webhook samples as demo values, and `simulate_*` lets a consumer choose others.
DEMO_IMEI = "1234567890987654"
DEMO_COUNTRY, DEMO_COUNTRY_PREVIOUS = "dk", "de"
DEMO_CALLER, DEMO_CALLED = "4512345678", "4587654321"
XDR_DEFAULTS: dict[str, dict[str, Any]] = {
    "voice": {
        "operation": "finalize",
        "direction": "incoming",
        "caller": DEMO_CALLER,
        "called": DEMO_CALLED,
        "ringtime": "10",
        "billtime": "20",
        "duration": "30",
        "status": "answered",
        "error": None,
    },
    "sms": {
        "operation": "finalize",
        "direction": "incoming",
        "caller": DEMO_CALLER,
        "called": DEMO_CALLED,
        "retries": "0",
        "error": None,
    },
    "data": {"operation": "finalize", "download": "4321", "upload": "1234"},
}


class SimV1(Implementation):
    schema = """
    CREATE TABLE IF NOT EXISTS v1_sims (
        uuid TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        pin TEXT NOT NULL,
        puk TEXT NOT NULL,
        provisioned INTEGER NOT NULL,
        voice INTEGER NOT NULL,
        sms INTEGER NOT NULL,
        data INTEGER NOT NULL
    );
    """

    def seed(self, db: sqlite3.Connection) -> None:
        for account in self.ctx.accounts:
            for sim in account.data.get("sims") or []:
                db.execute(
                    "INSERT INTO v1_sims VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        sim["uuid"],
                        account.name,
                        sim["pin"],
                        sim["puk"],
                        int(sim["provisioned"]),
                        *(int(sim[flag]) for flag in FLAGS),
                    ),
                )

    # --- SIM ----------------------------------------------------------------------------------------

    def _owned(self, call: Call, db: sqlite3.Connection) -> sqlite3.Row | None:
        """The SIM the path names if it is in the caller's inventory, None if in none; 403 if another's (R8)."""
        row = db.execute("SELECT * FROM v1_sims WHERE uuid = ?", (call.params["uuid"],)).fetchone()
        if row is not None and row["account"] != call.account.name:
            raise call.reject(403)
        return row

    def _provisioned(self, call: Call, db: sqlite3.Connection) -> sqlite3.Row:
        """The caller's provisioned SIM, else the operation's 404 (`sim_not_found`, update `uuid_not_found`)."""
        row = self._owned(call, db)
        if row is None or not row["provisioned"]:
            raise call.reject(404)
        return row

    def retrieveSim(self, call: Call) -> Reply:  # noqa: N802
        """R11: PIN and PUK are the operator's, from the inventory."""
        row = self._provisioned(call, self.store.db)
        return self.ok({"uuid": row["uuid"], "pin": row["pin"], "puk": row["puk"], **{f: bool(row[f]) for f in FLAGS}})

    def createSim(self, call: Call) -> Reply:  # noqa: N802
        """R8: provision a SIM of the caller's inventory; the network then reports its registration (R13)."""
        with self.store.write() as db:
            row = self._owned(call, db)
            if row is None:
                raise call.reject(404)
            if row["provisioned"]:
                raise call.reject(409)
            db.execute(
                "UPDATE v1_sims SET provisioned = 1, voice = ?, sms = ?, data = ? WHERE uuid = ?",
                (*(int(call.body[f]) for f in FLAGS), row["uuid"]),
            )
        self.ctx.emit(call.account, [("location_update", self._location_update(row["uuid"]), 0)])
        return self.ok()

    def updateSim(self, call: Call) -> Reply:  # noqa: N802
        """R9: an omitted flag takes its default (applied by the spec's checks), not the stored value."""
        with self.store.write() as db:
            row = self._provisioned(call, db)
            db.execute(
                "UPDATE v1_sims SET voice = ?, sms = ?, data = ? WHERE uuid = ?",
                (*(int(call.body[f]) for f in FLAGS), row["uuid"]),
            )
        return self.ok()

    def deleteSim(self, call: Call) -> Reply:  # noqa: N802
        """R8: deprovision; the SIM stays in the inventory and can be created again."""
        with self.store.write() as db:
            row = self._provisioned(call, db)
            db.execute("UPDATE v1_sims SET provisioned = 0 WHERE uuid = ?", (row["uuid"],))
        return self.ok()

    # --- SMS ----------------------------------------------------------------------------------------

    def sendSms(self, call: Call) -> Reply:  # noqa: N802
        """R12: only to a provisioned SIM of the caller; the delivery is reported as an `sms` XDR (R13)."""
        with self.store.write() as db:
            row = self._provisioned(call, db)
            record = self._xdr(db, row["uuid"], "sms", {"caller": call.body["from"], "called": row["uuid"]})
        self.ctx.emit(call.account, [("xdr", record, 0)])
        return self.ok()

    # --- events -------------------------------------------------------------------------------------

    def _location_update(self, uuid: str, given: dict | None = None) -> dict:
        return {
            "time": self.now(),
            "imsi": uuid,
            "imei": DEMO_IMEI,
            "type": "cs",
            "country_code": DEMO_COUNTRY,
            "country_code_previous": DEMO_COUNTRY_PREVIOUS,
            **(given or {}),
        }

    def _xdr(self, db: sqlite3.Connection, uuid: str, kind: str, given: dict) -> dict:
        """An XDR of `kind` with a fresh event id (`<unix time>-<serial>`, like the sample's `1234567890-1234`)."""
        event_id = f"{int(time.time())}-{self.serial(db, 'xdr'):04d}"
        return {
            "time": self.now(),
            "event_id": event_id,
            "type": kind,
            "country_code": DEMO_COUNTRY,
            "imsi": uuid,
            **XDR_DEFAULTS.get(kind, {}),
            **given,
        }

    def _event_sim(self, account: Account, payload: dict) -> tuple[int, dict] | None:
        """A trigger names a provisioned SIM of the caller by `imsi`; the refusal, or None if it does."""
        row = self.store.one("SELECT account, provisioned FROM v1_sims WHERE uuid = ?", (str(payload.get("imsi")),))
        if row is None or row["account"] != account.name or not row["provisioned"]:
            return 404, {"error": "imsi must be the uuid of a provisioned SIM of this account"}
        return None

    def simulate_location_update(self, account: Account, payload: dict) -> tuple[int, dict]:
        """`POST /sim-v1/_simulate/location_update` `{"imsi": ..., <any other field to choose>}`."""
        refused = self._event_sim(account, payload)
        return refused or self.trigger(account, "location_update", self._location_update(payload["imsi"], payload))

    def simulate_xdr(self, account: Account, payload: dict) -> tuple[int, dict]:
        """`POST /sim-v1/_simulate/xdr` `{"imsi": ..., "type": "voice"|"sms"|"data", <any other field>}`."""
        refused = self._event_sim(account, payload)
        if refused:
            return refused
        if payload.get("type") not in tuple(XDR_DEFAULTS):  # compared, not hashed: any JSON value may come
            return 400, {"error": f"type must be one of {sorted(XDR_DEFAULTS)}"}
        with self.store.write() as db:
            event = self._xdr(db, payload["imsi"], payload["type"], payload)
            problem = self.event_problem("xdr", event)
            if problem:
                raise Refused(400, problem)  # rolls back the xdr serial: a refused trigger changes nothing
        return self.trigger(account, "xdr", event)
