"""sim-v2 (source 001): SIMs by IMSI or MSISDN path, raw API key, form or JSON.

R14: a 15-digit path value is an IMSI, anything else must be an MSISDN
(^[1-9][0-9]{6,14}$). R15: MSISDNs are optional, globally unique among
provisioned SIMs, released on delete. R16: data=false with
data_throttling=true (after the R9 merge) is 409. No webhooks.
"""
from __future__ import annotations

import hmac
import re
import threading

from . import faults
from .apibase import FORM_OR_JSON, JSON_ONLY, Route, SimApiBase, check_sms_fields
from .connectors import ConnectorStore, valid_id
from .httpkit import Response

FLAGS = ("voice", "sms", "data", "data_throttling")
DEFAULTS = {"voice": True, "sms": True, "data": True, "data_throttling": False}
FIELDS = ("imsi", "msisdn") + FLAGS
IMSI_RE = re.compile(r"[0-9]{15}")
UNSET = object()   # body "msisdn": null on update


class _Sim:
    def __init__(self, account, imsi):
        self.account = account
        self.imsi = imsi
        self.provisioned = False
        self.msisdn = None
        self.values = dict(DEFAULTS)


class SimV2(SimApiBase):
    name = "sim-v2"
    prefix = "/onomondo/v2"

    def __init__(self, fixtures, options, dispatcher, lock: threading.RLock):
        self.accounts = fixtures.v2
        self.lock = lock
        self.sims: dict[str, _Sim] = {}
        for acct in self.accounts:
            for imsi in acct.imsis:
                self.sims[imsi] = _Sim(acct, imsi)
        self.connectors = ConnectorStore()
        self.routes = [
            Route("", {"GET": (self.root, FORM_OR_JSON)}),
            Route("sim/:ident", {"GET": (self.retrieve, FORM_OR_JSON),
                                 "POST": (self.create, FORM_OR_JSON),
                                 "PUT": (self.update, FORM_OR_JSON),
                                 "DELETE": (self.delete, FORM_OR_JSON)}),
            Route("connector/:cid", {"GET": (self.connector_get, JSON_ONLY),
                                     "POST": (self.connector_post, JSON_ONLY),
                                     "PUT": (self.connector_put, JSON_ONLY),
                                     "DELETE": (self.connector_delete, JSON_ONLY)}),
            Route("sms/:to", {"POST": (self.send_sms, FORM_OR_JSON)}),
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

    # ---------------------------------------------------------------- identifiers
    @staticmethod
    def msisdn_ok(value) -> bool:
        lo = 5 if faults.on("v2-msisdn-6-digits") else 6
        hi = 15 if faults.on("v2-msisdn-16-digits") else 14
        return isinstance(value, str) and re.fullmatch(rf"[1-9][0-9]{{{lo},{hi}}}", value) is not None

    def classify(self, raw: str) -> tuple[str, str]:
        if IMSI_RE.fullmatch(raw):
            return "imsi", raw
        if self.msisdn_ok(raw):
            return "msisdn", raw
        raise self.fail(400, "msisdn_invalid")

    def body(self, req):
        return self.parse_body(req, form_on_json=faults.on("v2-json-ct-form-body"))

    def holders(self, msisdn: str, account=None) -> list[_Sim]:
        """SIMs holding `msisdn` (own account's first)."""
        kept = faults.on("v2-msisdn-kept-on-delete")
        found = [s for s in self.sims.values()
                 if s.msisdn == msisdn and (s.provisioned or kept)]
        found.sort(key=lambda s: s.account is not account)
        return found

    def resolve(self, account, kind: str, value: str, *, deleting: bool = False) -> _Sim:
        """The provisioned SIM a path names: 403 imsi_forbidden, 404 sim_not_found."""
        if kind == "imsi" or (deleting and faults.on("v2-delete-by-msisdn-404")):
            sim = self.sims.get(value)
            if sim is None:
                raise self.fail(404, "sim_not_found")
            if sim.account is not account:
                raise self.fail(403, "imsi_forbidden")
        else:
            found = [s for s in self.holders(value, account) if s.provisioned]
            if faults.on("v2-second-account-msisdn"):
                found = [s for s in found if s.account.index == 1]
            if faults.on("v2-msisdn-unique-per-account"):
                found = [s for s in found if s.account is account]
            if not found:
                raise self.fail(404, "sim_not_found")
            sim = found[0]
            if sim.account is not account and not faults.on("v2-msisdn-leak"):
                raise self.fail(403, "imsi_forbidden")
        if not sim.provisioned:
            raise self.fail(404, "sim_not_found")
        return sim

    def taken_by_other(self, msisdn: str, sim: _Sim) -> _Sim | None:
        for holder in self.holders(msisdn, sim.account):
            if holder is sim:
                continue
            if faults.on("v2-msisdn-unique-per-account") and holder.account is not sim.account:
                continue
            return holder
        return None

    # ---------------------------------------------------------------- body fields
    def body_imsi(self, fields: dict):
        if "imsi" not in fields:
            return None
        value = fields["imsi"]
        if not (isinstance(value, str) and IMSI_RE.fullmatch(value)):
            raise self.fail(400, "imsi_invalid")
        return value

    def body_msisdn(self, fields: dict, is_form: bool):
        """-> None (omitted), UNSET (JSON null) or the MSISDN."""
        if "msisdn" not in fields:
            return None
        value = fields["msisdn"]
        if value is None and not is_form:
            return UNSET
        if not self.msisdn_ok(value):
            raise self.fail(400, "msisdn_invalid")
        return value

    def flag_values(self, fields: dict, is_form: bool) -> dict:
        return {name: self.bool_field(fields, name, is_form) for name in FLAGS}

    def check_throttling(self, merged: dict) -> None:
        if merged["data"] is False and merged["data_throttling"] is True:
            raise self.fail(409, "data_data_throttling_conflict")

    # ---------------------------------------------------------------- SIM operations
    def _json(self, sim: _Sim) -> Response:
        out = {"imsi": sim.imsi, "msisdn": sim.msisdn, **sim.values}
        if sim.msisdn is None and faults.on("v2-msisdn-omitted-when-unset"):
            del out["msisdn"]
        return Response(200, out)

    def retrieve(self, req, account, ident):
        kind, value = self.classify(ident)
        fields, _ = self.body(req)
        self.reject_unknown(fields, ())
        with self.lock:
            return self._json(self.resolve(account, kind, value))

    def create(self, req, account, ident):
        kind, value = self.classify(ident)
        fields, is_form = self.body(req)
        # imsi: from the path or the body, both must agree (R15)
        imsi = self.body_imsi(fields)
        if kind == "imsi":
            if imsi is not None and imsi != value and not faults.on("v2-imsi-mismatch-ignored"):
                raise self.fail(400, "imsi_invalid")
            imsi = imsi or value
        elif imsi is None:
            raise self.fail(400, "imsi_invalid")
        # msisdn: from the path or the body, optional
        msisdn = self.body_msisdn(fields, is_form)
        if msisdn is UNSET:
            msisdn = None
        if kind == "msisdn":
            if msisdn is not None and msisdn != value:
                raise self.fail(400, "msisdn_invalid")
            msisdn = value
        given = self.flag_values(fields, is_form)
        self.reject_unknown(fields, FIELDS)
        with self.lock:
            sim = self.sims.get(imsi)
            if sim is not None and sim.account is not account:
                raise self.fail(403, "imsi_forbidden")
            if kind == "msisdn" and not faults.on("v2-msisdn-unique-per-account"):
                for holder in self.holders(msisdn, account):
                    if holder.account is not account:
                        raise self.fail(403, "imsi_forbidden")
            if sim is None:
                raise self.fail(404, "imsi_not_found")
            if sim.provisioned and not faults.on("v2-create-upsert"):
                raise self.fail(409, "imsi_conflict")
            if msisdn is not None and self.taken_by_other(msisdn, sim):
                raise self.fail(409, "msisdn_conflict")
            merged = {k: DEFAULTS[k] if v is None else v for k, v in given.items()}
            self.check_throttling(merged)
            sim.provisioned = True
            sim.msisdn = msisdn
            sim.values = merged
        return self.ok()

    def update(self, req, account, ident):
        kind, value = self.classify(ident)
        fields, is_form = self.body(req)
        imsi = self.body_imsi(fields)
        if kind == "imsi" and imsi is not None and imsi != value:
            if not faults.on("v2-imsi-mismatch-ignored"):
                raise self.fail(400, "imsi_invalid")
            value = imsi
        msisdn = self.body_msisdn(fields, is_form)
        given = self.flag_values(fields, is_form)
        self.reject_unknown(fields, FIELDS)
        with self.lock:
            if imsi is not None:
                other = self.sims.get(imsi)
                if other is not None and other.account is not account:
                    raise self.fail(403, "imsi_forbidden")
            sim = self.resolve(account, kind, value)
            if imsi is not None and imsi != sim.imsi:
                raise self.fail(400, "imsi_invalid")
            if msisdn not in (None, UNSET) and self.taken_by_other(msisdn, sim):
                raise self.fail(409, "msisdn_conflict")
            if faults.on("v2-update-omitted-defaults"):
                merged = {k: DEFAULTS[k] if v is None else v for k, v in given.items()}
            else:   # R9: no documented default on update -> keep the stored value
                merged = {k: sim.values[k] if v is None else v for k, v in given.items()}
            if faults.on("v2-throttle-body-only"):
                if given["data"] is False and given["data_throttling"] is True:
                    raise self.fail(409, "data_data_throttling_conflict")
            else:
                self.check_throttling(merged)
            if msisdn is UNSET:
                sim.msisdn = None
            elif msisdn is not None:
                sim.msisdn = msisdn
            sim.values = merged
        return self.ok()

    def delete(self, req, account, ident):
        kind, value = self.classify(ident)
        fields, _ = self.body(req)
        self.reject_unknown(fields, ())
        with self.lock:
            sim = self.resolve(account, kind, value, deleting=True)
            sim.provisioned = False
            if not faults.on("v2-msisdn-kept-on-delete"):
                sim.msisdn = None
            sim.values = dict(DEFAULTS)
        return self.ok()

    # ---------------------------------------------------------------- send SMS
    def send_sms(self, req, account, to):
        number = to[1:] if to.startswith("+") and faults.on("v2-sms-to-plus") else to
        if not self.msisdn_ok(number):
            raise self.fail(400, "to_invalid")
        fields, _ = self.body(req)
        check_sms_fields(self, fields)
        self.reject_unknown(fields, ("from", "text"))
        return self.ok()

    # ---------------------------------------------------------------- connectors (R18)
    def _cid(self, raw: str) -> str:
        if not valid_id(raw):
            raise self.fail(400, "id_invalid")
        return raw

    def _connector_fields(self, req, cid: str) -> dict:
        fields, _ = self.parse_body(req)   # any JSON object; a body `id` is stored as given
        return fields

    def connector_get(self, req, account, cid):
        cid = self._cid(cid)
        self.parse_body(req)
        with self.lock:
            found = self.connectors.get(account.index, cid)
        if found is None:
            raise self.fail(404, "connector_not_found")
        return Response(200, found)

    def connector_post(self, req, account, cid):
        cid = self._cid(cid)
        fields = self._connector_fields(req, cid)
        with self.lock:
            self.connectors.put(account.index, cid, fields)
        return self.ok()

    def connector_put(self, req, account, cid):
        cid = self._cid(cid)
        fields = self._connector_fields(req, cid)
        with self.lock:
            if not self.connectors.merge(account.index, cid, fields):
                raise self.fail(404, "connector_not_found")
        return self.ok()

    def connector_delete(self, req, account, cid):
        cid = self._cid(cid)
        self.parse_body(req)
        with self.lock:
            if faults.on("v2-connector-delete-noop"):
                found = self.connectors.get(account.index, cid) is not None
            else:
                found = self.connectors.delete(account.index, cid)
        if not found:
            raise self.fail(404, "connector_not_found")
        return self.ok()
