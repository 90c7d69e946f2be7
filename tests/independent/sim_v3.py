"""sim-v3 (source 002): SIMs by 9-digit id carried in JSON bodies (also on GET/DELETE).

R20 alias rules, R21 usage windows [time_begin, time_end), R22/R22a webhooks:
each successful create sends network_registration, network_validation and
one usage record (this implementation's R22a choice), in that order, to the
SIM's account endpoint with the shared webhook key. Usage records are kept
across delete and re-create (they are billing history); GET /usage answers
for provisioned SIMs only.
"""
from __future__ import annotations

import hmac
import itertools
import re
import threading
import time
from datetime import datetime

from . import faults
from .apibase import JSON_ONLY, Route, SimApiBase
from .config import endpoint, fmt_time, now_utc
from .connectors import ConnectorStore, valid_id
from .httpkit import BadBody, Response, parse_json

ID_RE = re.compile(r"[0-9]{9}")
ALIAS_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
SIM_FIELDS = ("id", "alias", "active")
USAGE_FIELDS = ("sim_id", "time_begin", "time_end")
UNSET = object()


def parse_time(value):
    """R7: `YYYY-MM-DD HH:MM:SS`, a real calendar time, years 0001-9999 -> datetime or None."""
    if not isinstance(value, str) or not TIME_RE.fullmatch(value):
        return None
    try:
        return datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]),
                        int(value[11:13]), int(value[14:16]), int(value[17:19]))
    except ValueError:
        if faults.on("v3-time-not-calendar"):
            return value          # compared as text further on
        return None


class _Sim:
    def __init__(self, account, sim_id):
        self.account = account
        self.id = sim_id
        self.provisioned = False
        self.alias = None
        self.active = True


class SimV3(SimApiBase):
    name = "sim-v3"
    prefix = "/onomondo/v3"

    def __init__(self, fixtures, options, dispatcher, lock: threading.RLock):
        self.accounts = fixtures.v3
        self.hook_key = fixtures.v3_hook_key
        self.options = options
        self.hooks = dispatcher
        self.lock = lock
        self.sims: dict[str, _Sim] = {}
        for acct in self.accounts:
            for sim_id in acct.ids:
                self.sims[sim_id] = _Sim(acct, sim_id)
        self.usage: dict[str, list[dict]] = {}
        self.connectors = ConnectorStore()
        self._bill_seq = itertools.count(1)
        self.routes = [
            Route("", {"GET": (self.root, JSON_ONLY)}),
            Route("sim", {"GET": (self.retrieve, JSON_ONLY), "POST": (self.create, JSON_ONLY),
                          "PUT": (self.update, JSON_ONLY), "DELETE": (self.delete, JSON_ONLY)}),
            Route("connector", {"GET": (self.connector_get, JSON_ONLY),
                                "POST": (self.connector_post, JSON_ONLY),
                                "PUT": (self.connector_put, JSON_ONLY),
                                "DELETE": (self.connector_delete, JSON_ONLY)}),
            Route("usage", {"GET": (self.get_usage, JSON_ONLY)}),
        ]

    # ---------------------------------------------------------------- auth
    def authenticate(self, req):
        values = req.headers.get_all("Authorization") or []
        if len(values) != 1:
            return None
        given = values[0].strip().encode("utf-8", "surrogateescape")
        for acct in self.accounts:
            if hmac.compare_digest(given, acct.key.encode()):
                return acct
        return None

    # ---------------------------------------------------------------- body helpers
    def body(self, req) -> dict:
        if faults.on("v3-array-body-500") and req.body:
            try:
                parsed = parse_json(req.body)
            except BadBody:
                parsed = {}
            parsed.get("id")  # the buggy version assumed an object: AttributeError -> 500
        fields, _ = self.parse_body(req)
        return fields

    def field_id(self, fields: dict, name: str = "id") -> str:
        value = fields.get(name)
        if not (isinstance(value, str) and ID_RE.fullmatch(value)):
            raise self.fail(400, f"{name}_invalid")
        return value

    def field_alias(self, fields: dict):
        """-> None (omitted), UNSET (null) or the alias."""
        if "alias" not in fields:
            return None
        value = fields["alias"]
        if value is None:
            return UNSET
        if isinstance(value, str):
            if value == "" and faults.on("v3-alias-empty"):
                return value
            if ALIAS_RE.fullmatch(value):
                return value
            if (faults.on("v3-alias-65") and len(value) == 65
                    and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{64}", value)):
                return value
        raise self.fail(400, "alias_invalid")

    def field_active(self, fields: dict):
        if "active" not in fields:
            return None
        value = fields["active"]
        if type(value) is not bool:
            raise self.fail(400, "active_invalid")
        return value

    def owned(self, account, sim_id: str, code: str = "id_forbidden") -> _Sim | None:
        sim = self.sims.get(sim_id)
        if sim is not None and sim.account is not account:
            raise self.fail(403, code)
        return sim

    def alias_holder(self, account, alias: str, exclude: _Sim) -> _Sim | None:
        fold = faults.on("v3-alias-case-insensitive")
        kept = faults.on("v3-alias-kept-on-delete")
        for sim in self.sims.values():
            if sim is exclude or sim.alias is None or not (sim.provisioned or kept):
                continue
            if sim.account is not account and not faults.on("v3-alias-global"):
                continue
            if sim.alias == alias or (fold and sim.alias.lower() == alias.lower()):
                return sim
        return None

    # ---------------------------------------------------------------- events
    def _emit(self, sim: _Sim, kind: str, payload: dict) -> None:
        index = 1 if faults.on("v3-events-to-account-one") else sim.account.index
        url = endpoint(self.options, self.name, index)
        if url is None:
            return
        key = f"Bearer {self.hook_key}" if faults.on("v3-webhook-bearer") else self.hook_key
        self.hooks.post_json(f"{self.name}/{index}", f"{url}/{kind}", payload, {"Authorization": key})

    def _provisioned_events(self, sim: _Sim) -> None:
        now = fmt_time(now_utc())
        imei = "35" + sim.id + "12345"
        if not faults.on("v3-no-registration"):
            self._emit(sim, "network_registration", {
                "time": now, "sim_id": sim.id, "imei": imei,
                "country_code": "se", "country_code_previous": "no"})
        self._emit(sim, "network_validation", {
            "time": now, "sim_id": sim.id, "imei": imei, "country_code": "se"})
        seq = next(self._bill_seq)
        record = {"time": now, "bill_id": f"{int(time.time())}-{seq % 10000:04d}",
                  "sim_id": sim.id, "country_code": "se", "operation": "finalize",
                  "upload": str(1024 * seq), "download": str(4096 * seq + 17)}
        if not faults.on("v3-usage-not-stored"):
            self.usage.setdefault(sim.id, []).append(record)
        self._emit(sim, "usage", dict(record))

    # ---------------------------------------------------------------- SIM operations
    def retrieve(self, req, account):
        fields = self.body(req)
        sim_id = self.field_id(fields)
        self.reject_unknown(fields, ("id",))
        with self.lock:
            sim = self.owned(account, sim_id)
            if sim is None or not sim.provisioned:
                raise self.fail(404, "sim_not_found")
            return Response(200, {"id": sim.id, "alias": sim.alias, "active": sim.active})

    def create(self, req, account):
        fields = self.body(req)
        sim_id = self.field_id(fields)
        alias = self.field_alias(fields)
        active = self.field_active(fields)
        self.reject_unknown(fields, SIM_FIELDS)
        with self.lock:
            sim = self.owned(account, sim_id)
            if sim is None:   # R8: in no inventory -> the only code create documents
                if faults.on("v3-create-unknown-404"):
                    raise self.fail(404, "sim_not_found")
                raise self.fail(403, "id_forbidden")
            if sim.provisioned:
                raise self.fail(409, "id_conflict")
            if alias is UNSET:
                alias = None
            if alias is None and faults.on("v3-alias-kept-on-delete"):
                alias = sim.alias
            if alias is not None and self.alias_holder(account, alias, sim):
                raise self.fail(409, "alias_conflict")
            sim.provisioned = True
            sim.alias = alias
            sim.active = True if active is None else active
            self._provisioned_events(sim)
        return self.ok()

    def update(self, req, account):
        fields = self.body(req)
        sim_id = self.field_id(fields)
        if faults.on("v3-ownership-before-body"):
            with self.lock:
                self.owned(account, sim_id)
        alias = self.field_alias(fields)
        active = self.field_active(fields)
        self.reject_unknown(fields, SIM_FIELDS)
        with self.lock:
            sim = self.owned(account, sim_id)
            if sim is None or not sim.provisioned:
                raise self.fail(404, "sim_not_found")
            if alias not in (None, UNSET) and self.alias_holder(account, alias, sim):
                raise self.fail(409, "alias_conflict")
            if alias is UNSET and not faults.on("v3-alias-null-ignored"):
                sim.alias = None
            elif alias not in (None, UNSET):
                sim.alias = alias
            if active is None:      # R9: `active` has a documented default
                active = sim.active if faults.on("v3-active-omitted-keeps") else True
            sim.active = active
        return self.ok()

    def delete(self, req, account):
        fields = self.body(req)
        sim_id = self.field_id(fields)
        self.reject_unknown(fields, ("id",))
        with self.lock:
            sim = self.owned(account, sim_id)
            if sim is None or not sim.provisioned:
                raise self.fail(404, "sim_not_found")
            sim.provisioned = False
            if not faults.on("v3-alias-kept-on-delete"):
                sim.alias = None
            sim.active = True
        return self.ok()

    # ---------------------------------------------------------------- usage (R21)
    def get_usage(self, req, account):
        fields = self.body(req)
        sim_id = self.field_id(fields, "sim_id")
        begin = parse_time(fields.get("time_begin"))
        if begin is None:
            raise self.fail(400, "time_begin_invalid")
        end = parse_time(fields.get("time_end"))
        if end is None:
            raise self.fail(400, "time_end_invalid")
        if type(begin) is not type(end):      # only with v3-time-not-calendar
            begin, end = str(begin), str(end)
        if end < begin or (end == begin and faults.on("v3-equal-window-invalid")):
            raise self.fail(400, "time_end_invalid")
        self.reject_unknown(fields, USAGE_FIELDS)
        with self.lock:
            sim = self.owned(account, sim_id, "sim_id_forbidden")
            if sim is None or not sim.provisioned:
                raise self.fail(404, "sim_id_not_found")
            records = list(self.usage.get(sim_id, []))
        lo_incl = not faults.on("v3-usage-begin-exclusive")
        hi_incl = faults.on("v3-usage-end-inclusive")
        out = []
        for rec in records:
            t = parse_time(rec["time"])
            if type(t) is not type(begin):
                t = str(t) if isinstance(begin, str) else t
            after_begin = t >= begin if lo_incl else t > begin
            before_end = t <= end if hi_incl else t < end
            if after_begin and before_end:
                out.append(rec)
        out.sort(key=lambda r: r["time"])
        return Response(200, {"usage": out})

    # ---------------------------------------------------------------- connectors (R18)
    def _connector_id(self, fields: dict) -> str:
        cid = fields.get("id")
        if not valid_id(cid):
            raise self.fail(400, "id_invalid")
        return cid

    def connector_get(self, req, account):
        cid = self._connector_id(self.body(req))
        with self.lock:
            found = self.connectors.get(account.index, cid)
        if found is None:
            raise self.fail(404, "connector_not_found")
        return Response(200, found)

    def connector_post(self, req, account):
        fields = self.body(req)
        cid = self._connector_id(fields)
        with self.lock:
            self.connectors.put(account.index, cid, fields)
        return self.ok()

    def connector_put(self, req, account):
        fields = self.body(req)
        cid = self._connector_id(fields)
        with self.lock:
            if not self.connectors.merge(account.index, cid, fields):
                raise self.fail(404, "connector_not_found")
        return self.ok()

    def connector_delete(self, req, account):
        cid = self._connector_id(self.body(req))
        with self.lock:
            if not self.connectors.delete(account.index, cid):
                raise self.fail(404, "connector_not_found")
        return self.ok()
