"""sim-v1 (source 000): SIMs by 15-digit uuid, HTTP Basic, form or JSON bodies.

Webhooks (R13, R13a): a successful create sends one location_update, a
successful send SMS one xdr of type sms, to the SIM's account endpoint with
that account's webhook Basic credentials.
"""
from __future__ import annotations

import base64
import hmac
import itertools
import re
import threading
import time
import zlib

from . import faults
from .apibase import FORM_OR_JSON, Route, SimApiBase, check_sms_fields
from .config import endpoint, fmt_time, now_utc
from .httpkit import HttpError, Response
from .webhooks import basic_auth

FLAGS = ("voice", "sms", "data")


class _Sim:
    def __init__(self, account, fixture):
        self.account = account
        self.fixture = fixture
        self.provisioned = False
        self.voice = self.sms = self.data = True


class SimV1(SimApiBase):
    name = "sim-v1"
    prefix = "/mitto"

    def __init__(self, fixtures, options, dispatcher, lock: threading.RLock):
        self.accounts = fixtures.v1
        self.options = options
        self.hooks = dispatcher
        self.lock = lock
        self.sims: dict[str, _Sim] = {}
        for acct in self.accounts:
            for sim in acct.sims:
                self.sims[sim.uuid] = _Sim(acct, sim)
        self._event_seq = itertools.count(1)
        self.routes = [
            Route("", {"GET": (self.root, FORM_OR_JSON)}),
            Route("sim/:uuid", {"GET": (self.retrieve, FORM_OR_JSON),
                                "POST": (self.create, FORM_OR_JSON),
                                "PUT": (self.update, FORM_OR_JSON),
                                "DELETE": (self.delete, FORM_OR_JSON)}),
            Route("sms/:uuid", {"POST": (self.send_sms, FORM_OR_JSON)}),
        ]

    # ---------------------------------------------------------------- auth
    def authenticate(self, req):
        values = req.headers.get_all("Authorization") or []
        if len(values) != 1:
            return None
        scheme, _, cred = values[0].strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            raw = base64.b64decode(cred.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        key, sep, secret = raw.partition(":")
        if not sep:
            return None
        for acct in self.accounts:
            if (hmac.compare_digest(key.encode(), acct.key.encode())
                    and hmac.compare_digest(secret.encode(), acct.secret.encode())):
                return acct
        return None

    def unauthorized(self) -> HttpError:
        err = super().unauthorized()
        if not faults.on("v1-no-www-authenticate"):
            err.headers["WWW-Authenticate"] = 'Basic realm="sim-v1"'
        return err

    # ---------------------------------------------------------------- helpers
    def check_uuid(self, raw: str) -> str:
        lo = 14 if faults.on("v1-uuid-14-digits") else 15
        hi = 16 if faults.on("v1-uuid-16-digits") else 15
        if not re.fullmatch(rf"[0-9]{{{lo},{hi}}}", raw):
            raise self.fail(400, "uuid_invalid")
        return raw

    def body(self, req):
        return self.parse_body(req, lenient_utf8=faults.on("v1-invalid-utf8-form") and req.mime != "application/json")

    def flags(self, fields: dict, is_form: bool) -> dict:
        values = {name: self.bool_field(fields, name, is_form,
                                        lenient_form=faults.on("v1-form-bool-lenient"),
                                        json_strings=faults.on("v1-json-string-bool"))
                  for name in FLAGS}
        if not faults.on("v1-unknown-field-ok"):
            self.reject_unknown(fields, FLAGS)
        return values

    def lookup(self, account, uuid: str, missing: str) -> _Sim:
        """Ownership (403) then existence in any inventory (404 `missing`)."""
        sim = self.sims.get(uuid)
        if sim is None:
            raise self.fail(404, missing)
        if sim.account is not account:
            raise self.fail(403, "uuid_forbidden")
        return sim

    def _create_checks(self, account, uuid: str) -> _Sim:
        sim = self.lookup(account, uuid, "uuid_not_found")
        if sim.provisioned:
            if faults.on("v1-event-on-conflict"):
                self._location_update(sim)
            raise self.fail(409, "uuid_conflict")
        return sim

    # ---------------------------------------------------------------- events
    def _emit(self, sim: _Sim, kind: str, payload: dict) -> None:
        url = endpoint(self.options, self.name, sim.account.index)
        if url is None:
            return
        creds = self.accounts[0] if faults.on("v1-webhook-account-one-creds") else sim.account
        self.hooks.post_json(f"{self.name}/{sim.account.index}", f"{url}/{kind}", payload,
                             {"Authorization": basic_auth(creds.hook_user, creds.hook_pass)})

    def _event_id(self) -> str:
        return f"{int(time.time())}-{next(self._event_seq) % 10000:04d}"

    def _location_update(self, sim: _Sim) -> None:
        self._emit(sim, "location_update", {
            "time": fmt_time(now_utc()),
            "imsi": sim.fixture.uuid,
            "imei": sim.fixture.imei,
            "type": "ps",
            "country_code": "nl",
            "country_code_previous": "be",
        })

    def _sms_xdr(self, sim: _Sim, sender: str) -> None:
        # R13: numbers inside XDRs are decimal strings; an alphanumeric sender id is
        # reported as a numeric one derived from it (the SMS-C's translation).
        self._emit(sim, "xdr", {
            "time": fmt_time(now_utc()),
            "event_id": self._event_id(),
            "type": "sms",
            "country_code": "nl",
            "imsi": sim.fixture.uuid,
            "operation": "finalize",
            "direction": "incoming",
            "caller": sender if sender.isdigit() else "4570" + f"{zlib.crc32(sender.encode()) % 10**6:06d}",
            "called": sim.fixture.msisdn,
            "retries": "0",
            "error": None,
        })

    # ---------------------------------------------------------------- operations
    def retrieve(self, req, account, uuid):
        uuid = self.check_uuid(uuid)
        fields, _ = self.body(req)
        self.reject_unknown(fields, ())
        with self.lock:
            sim = self.sims.get(uuid)
            if faults.on("v1-foreign-404") and sim is not None and sim.account is not account:
                raise self.fail(404, "sim_not_found")
            sim = self.lookup(account, uuid, "sim_not_found")
            if not sim.provisioned:
                raise self.fail(404, "sim_not_found")
            return self._json(sim)

    def _json(self, sim: _Sim):
        return Response(200, {"uuid": sim.fixture.uuid, "pin": sim.fixture.pin,
                              "puk": sim.fixture.puk, "voice": sim.voice,
                              "sms": sim.sms, "data": sim.data})

    def create(self, req, account, uuid):
        uuid = self.check_uuid(uuid)
        fields, is_form = self.body(req)
        if faults.on("v1-existence-before-body"):
            with self.lock:
                self._create_checks(account, uuid)
        values = self.flags(fields, is_form)
        with self.lock:
            sim = self._create_checks(account, uuid)
            keep = faults.on("v1-recreate-keeps-flags")
            for name, value in values.items():
                if value is None:
                    value = getattr(sim, name) if keep else True
                setattr(sim, name, value)
            sim.provisioned = True
            self._location_update(sim)
        return self.ok()

    def update(self, req, account, uuid):
        uuid = self.check_uuid(uuid)
        fields, is_form = self.body(req)
        values = self.flags(fields, is_form)
        missing = "sim_not_found" if faults.on("v1-update-sim-not-found") else "uuid_not_found"
        with self.lock:
            sim = self.lookup(account, uuid, missing)
            if not sim.provisioned:
                raise self.fail(404, missing)
            keep = faults.on("v1-update-omitted-keeps")
            for name, value in values.items():
                if value is None:          # R9: omitted -> the documented default
                    value = getattr(sim, name) if keep else True
                setattr(sim, name, value)
        return self.ok()

    def delete(self, req, account, uuid):
        uuid = self.check_uuid(uuid)
        fields, _ = self.body(req)
        self.reject_unknown(fields, ())
        with self.lock:
            sim = self.lookup(account, uuid, "sim_not_found")
            if not sim.provisioned:
                raise self.fail(404, "sim_not_found")
            sim.provisioned = False
        return self.ok()

    def send_sms(self, req, account, uuid):
        uuid = self.check_uuid(uuid)
        fields, _ = self.body(req)
        sender, _text = check_sms_fields(
            self, fields,
            from_max=12 if faults.on("v1-from-12-chars") else 11,
            from_min=0 if faults.on("v1-from-empty") else 1,
            text_max=1601 if faults.on("v1-text-1601") else 1600,
            text_min=0 if faults.on("v1-text-empty") else 1)
        if not faults.on("v1-unknown-field-ok"):
            self.reject_unknown(fields, ("from", "text"))
        with self.lock:
            sim = self.lookup(account, uuid, "sim_not_found")
            if not sim.provisioned and not faults.on("v1-sms-unprovisioned"):
                raise self.fail(404, "sim_not_found")
            if not faults.on("v1-no-sms-xdr"):
                self._sms_xdr(sim, sender)
        return self.ok()
