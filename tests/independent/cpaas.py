"""cpaas (source 003): media library, application activation with callbacks, balance.

Envelope R23: every JSON answer has `status`; errors map to HTTP statuses.
Error precedence R23a: requiredJsonError, then invalidSchemeError, then
invalidDataError; unknown path / media id 404, 405, 413, 415 carry
invalidDataError. Media ids come from one counter (5000, +7) shared by all
accounts; a media id that is not a canonical positive decimal integer is an
unknown id (404, existence stage, after the body's checks) -- R5c choice.
"""
from __future__ import annotations

import hmac
import itertools
import math
import re
import threading
import uuid as uuidlib
import zlib
from urllib.parse import quote, urlencode

from . import faults
from .apibase import ANY, ApiBase, Route
from .config import MEDIA_ID_START, MEDIA_ID_STEP, endpoint, fmt_time, now_utc
from .httpkit import (
    DUPLICATE,
    BadBody,
    DuplicateKey,
    HttpError,
    MiB,
    Response,
    encode_json,
    parse_json,
    parse_multipart,
    parse_query,
)
from .webhooks import basic_auth

MAX_PAGE = 2 ** 63 - 1
INT32_MAX = 2 ** 31 - 1
MEDIA_ID_RE = re.compile(r"[1-9][0-9]{0,18}")
ADDR_RE = re.compile(r"[0-9]{7,15}")
SCENARIO_RE = re.compile(r"[^=&]+=[^&]*(?:&[^=&]+=[^&]*)*")
LANGUAGES = frozenset((
    "en-US", "en-IN", "en-IE", "en-UA", "en-GB-WLS", "en-NZ", "en-ZA", "ar-AE", "nl-NL", "nl-BE",
    "da-DK", "is-IS", "es-ES", "es-US", "es-MX", "it-IT", "ca-ES", "cmn-CN", "yue-CN", "ko-KR",
    "de-DE", "de-AT", "nb-NO", "pl-PL", "pt-PT", "pt-BR", "ro-RO", "ru-RU", "tr-TR", "cy-GB",
    "fi-FI", "fr-FR", "fi-CA", "fr-BE", "sv-SE", "ja-JP", "en-AU", "fr-CA",
))
REPEAT_KINDS = ("Busy", "Answered", "Failed", "NoAnswer")
ACTIVATE_SPEC: dict[str, tuple[type, bool]] = {
    "reference": (str, True), "sourceAddr": (str, True), "destAddr": (str, True),
    "gender": (int, False), "volume": (int, False), "language": (str, False),
    "rate": (int, False), "scenarioData": (str, False), "isRepeat": (int, False),
}
for _kind in REPEAT_KINDS:
    ACTIVATE_SPEC[f"repeat{_kind}"] = (int, False)
    ACTIVATE_SPEC[f"repeat{_kind}Count"] = (int, False)
    ACTIVATE_SPEC[f"repeat{_kind}Int"] = (int, False)
NAME_SPEC = {"name": (str, True)}
CTYPE_RE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(?:\s*;[\x20-\x7e]*)?")
MULTIPART = "multipart/form-data"
JSON_MIME = "application/json"


class _Media:
    __slots__ = ("id", "account", "name", "created", "is_folder", "parent", "data", "ctype")

    def __init__(self, mid, account, name, is_folder, parent, data=b"", ctype=None):
        self.id = mid
        self.account = account
        self.name = name
        self.created = fmt_time(now_utc())
        self.is_folder = is_folder
        self.parent = parent          # None: root; else the folder's id
        self.data = data
        self.ctype = ctype

    def json(self) -> dict:
        return {"id": self.id, "name": self.name, "createdDateTime": self.created,
                "isFolder": 1 if self.is_folder else 0}


class Cpaas(ApiBase):
    name = "cpaas"
    prefix = "/voice/api"

    def __init__(self, fixtures, options, dispatcher, lock: threading.RLock):
        self.accounts = fixtures.cpaas
        self.options = options
        self.hooks = dispatcher
        self.lock = lock
        self.media: dict[int, _Media] = {}
        self._ids = itertools.count(MEDIA_ID_START, MEDIA_ID_STEP)
        self.routes = [
            Route("", {"GET": (self.root, ANY)}),
            Route("balance", {"GET": (self.balance, ANY)}),
            Route("apps/activate", {"POST": (self.activate, ANY)}),
            Route("media", {"GET": (self.list_root, ANY), "POST": (self.post_root, ANY)}),
            Route("media/:mid", {"GET": (self.get_media, ANY), "POST": (self.upload_into, ANY),
                                 "PUT": (self.rename, ANY), "DELETE": (self.delete, ANY)}),
        ]

    # ---------------------------------------------------------------- envelope
    def fail(self, status: int, code: str) -> HttpError:
        return HttpError(status, {"status": code})

    def unauthorized(self):
        return self.fail(401, "invalidAccessKeyError")

    def not_found(self):
        return self.fail(404, "invalidDataError")

    def method_not_allowed(self, allow):
        err = self.fail(405, "invalidDataError")
        err.headers["Allow"] = ", ".join(allow)
        return err

    def too_large(self):
        return self.fail(413, "invalidDataError")

    def unsupported(self):
        return self.fail(415, "invalidDataError")

    def bad_data(self):
        return self.fail(400, "invalidDataError")

    def bad_scheme(self):
        return self.fail(400, "invalidSchemeError")

    def body_limit(self, method, segments, mime):
        if (method == "POST" and segments and segments[0] == "media" and len(segments) <= 2
                and mime == MULTIPART):
            return 10 * MiB
        return MiB

    # ---------------------------------------------------------------- auth
    def authenticate(self, req):
        header = req.headers.get_all("X-Authorization") or []
        query = parse_query(req.query) or {}
        from_query = query.get("X-Authorization")
        if faults.on("cpaas-query-auth-wins") and isinstance(from_query, str):
            value = from_query
        elif header:                      # R23: the header decides when both are given
            if len(header) != 1:
                return None
            value = header[0]
        elif isinstance(from_query, str):
            value = from_query
        else:
            return None
        match = re.fullmatch(r"AccessKey ([\x21-\x7e]+)", value.strip())
        if not match:
            return None
        token = match.group(1).encode()
        for acct in self.accounts:
            if hmac.compare_digest(token, acct.token.encode()):
                return acct
        return None

    # ---------------------------------------------------------------- JSON bodies
    def json_object(self, req, *, wrong_type_status: int = 400) -> dict:
        if not req.body:
            raise self.fail(400, "requiredJsonError")
        if req.mime != JSON_MIME:
            if wrong_type_status == 415:
                raise self.unsupported()
            raise self.fail(400, "requiredJsonError")
        try:
            obj = parse_json(req.body, lenient_utf8=faults.on("cpaas-invalid-utf8-ok"))
        except DuplicateKey:          # well-formed, but not an object of the operation's shape
            raise self.bad_scheme() from None
        except BadBody:
            raise self.fail(400, "requiredJsonError") from None
        if not isinstance(obj, dict):
            raise self.bad_scheme()
        return obj

    def check_scheme(self, obj: dict, spec: dict) -> None:
        if not faults.on("cpaas-unknown-property-ok") and any(k not in spec for k in obj):
            raise self.bad_scheme()
        for name, (typ, required) in spec.items():
            if name not in obj:
                if required:
                    raise self.bad_scheme()
                continue
            value = obj[name]
            if typ is int:
                ok = type(value) is int or (faults.on("cpaas-bool-as-int") and isinstance(value, bool))
            else:
                ok = isinstance(value, typ)
            if not ok:
                if faults.on("cpaas-type-as-data"):
                    raise self.bad_data()
                raise self.bad_scheme()

    @staticmethod
    def name_ok(name: str) -> bool:
        lo = 0 if faults.on("cpaas-name-empty") else 1
        hi = 256 if faults.on("cpaas-name-256") else 255
        if not lo <= len(name) <= hi or "/" in name:
            return False
        c1 = not faults.on("cpaas-name-c1-control")
        return not any(ord(ch) <= 0x1F or (c1 and 0x7F <= ord(ch) <= 0x9F) for ch in name)

    # ---------------------------------------------------------------- pagination (R24)
    def page_params(self, req) -> tuple[str, int, bool]:
        """-> (page digits, per_page, disabled); page kept as digits (may exceed 2^63-1)."""
        query = parse_query(req.query)
        if query is None:
            raise self.bad_data()

        def digits(name):
            value = query.get(name)
            if value is None:
                return None
            if value is DUPLICATE or not re.fullmatch(r"[0-9]+", value):
                raise self.bad_data()
            return value.lstrip("0") or "0"

        page = digits("page") or "1"
        if page == "0":
            raise self.bad_data()
        per_page_s = digits("per_page")
        per_page = 20 if per_page_s is None else (int(per_page_s) if len(per_page_s) < 6 else 10 ** 6)
        if per_page == 0 and faults.on("cpaas-per-page-0-default"):
            per_page = 20
        if not 1 <= per_page <= (101 if faults.on("cpaas-per-page-101") else 100):
            raise self.bad_data()
        flag = query.get("disable_pagination")
        allowed = {"0": False, "1": True, "true": True, "false": False}
        if faults.on("cpaas-disable-pagination-yes"):
            allowed.update(yes=True, no=False)
        if flag is None:
            disabled = False
        elif flag is not DUPLICATE and flag in allowed:
            disabled = allowed[flag]
        else:
            raise self.bad_data()
        return page, per_page, disabled

    def listing(self, items: list[_Media], page: str, per_page: int, disabled: bool) -> Response:
        if faults.on("cpaas-order-by-name"):
            items.sort(key=lambda m: (m.name, m.id))
        else:
            items.sort(key=lambda m: m.id)
        total = len(items)
        if disabled:
            return Response(200, {"status": "ok",
                                  "pagination": {"totalItems": total, "currentPage": 1, "totalPages": 1},
                                  "media": [m.json() for m in items]})
        if faults.on("cpaas-total-pages-floor"):
            total_pages = max(1, total // per_page)
        else:
            total_pages = max(1, math.ceil(total / per_page))
        huge = len(page) > 19 or int(page) > MAX_PAGE     # `page` has no leading zeros
        number = None if huge else int(page)
        if faults.on("cpaas-page-past-end-404") and (huge or number > total_pages):
            raise self.not_found()
        chunk = [] if huge else items[(number - 1) * per_page:number * per_page]
        payload = {"status": "ok",
                   "pagination": {"totalItems": total, "currentPage": number if number else 0,
                                  "totalPages": total_pages},
                   "media": [m.json() for m in chunk]}
        body = encode_json(payload)
        if huge:   # R24 choice: a page above 2^63-1 is a page past the end, echoed as given
            body = body.replace(b'"currentPage": 0', b'"currentPage": ' + page.encode(), 1)
        return Response(200, body=body)

    # ---------------------------------------------------------------- lookups
    def lookup(self, account, raw: str) -> _Media:
        if not MEDIA_ID_RE.fullmatch(raw):
            raise self.not_found()
        obj = self.media.get(int(raw))
        if obj is None or (obj.account is not account and not faults.on("cpaas-foreign-media")):
            raise self.not_found()
        return obj

    def _new_media(self, account, name, is_folder, parent, data=b"", ctype=None) -> _Media:
        obj = _Media(next(self._ids), account, name, is_folder, parent, data, ctype)
        self.media[obj.id] = obj
        return obj

    # ---------------------------------------------------------------- operations
    def root(self, req, account):
        return Response(200, {"status": "ok"})

    def balance(self, req, account):
        balance = float(account.balance) if faults.on("cpaas-balance-number") else account.balance
        payload = {"status": "ok", "personalAccountId": account.personal_account_id,
                   "balance": balance}
        if faults.on("cpaas-balance-no-status"):
            del payload["status"]
        return Response(200, payload)

    def list_root(self, req, account):
        page, per_page, disabled = self.page_params(req)
        with self.lock:
            every_level = faults.on("cpaas-list-all-levels")
            items = [m for m in self.media.values()
                     if m.account is account and (m.parent is None or every_level)]
        return self.listing(items, page, per_page, disabled)

    def get_media(self, req, account, mid):
        page, per_page, disabled = self.page_params(req)
        with self.lock:
            obj = self.lookup(account, mid)
            if not obj.is_folder:
                ctype = "application/octet-stream" if faults.on("cpaas-download-octet") else obj.ctype
                return Response(200, body=obj.data, content_type=ctype)
            items = [m for m in self.media.values() if m.parent == obj.id]
        return self.listing(items, page, per_page, disabled)

    def post_root(self, req, account):
        if req.mime == MULTIPART:
            return self._upload(req, account, None)
        if req.body and req.mime != JSON_MIME:
            raise self.unsupported()
        return self._make_folder(req, account)

    def _make_folder(self, req, account):
        obj = self.json_object(req)
        self.check_scheme(obj, NAME_SPEC)
        if not self.name_ok(obj["name"]):
            raise self.bad_data()
        with self.lock:
            folder = self._new_media(account, obj["name"], True, None)
            return Response(200, {"status": "ok", "media": folder.json()})

    def upload_into(self, req, account, mid):
        if req.mime == JSON_MIME:
            if faults.on("cpaas-json-folder-upload"):
                return self._make_folder(req, account)
            raise self.bad_scheme()        # R25: a JSON body on an upload
        return self._upload(req, account, mid)

    def _upload(self, req, account, parent_raw):
        if req.mime == MULTIPART:
            try:
                parts = parse_multipart(req.body, req.ctype_params.get("boundary"))
            except BadBody:
                raise self.bad_data() from None
            files = [p for p in parts if p.name == "file"]
            if len(files) != 1:
                raise self.bad_data()
            part = files[0]
            name = part.filename if part.filename else "file"
            if not self.name_ok(name):
                raise self.bad_data()
            ctype = part.content_type
            if not ctype or not CTYPE_RE.fullmatch(ctype):
                ctype = "application/octet-stream"
        elif not req.body:
            raise self.bad_data()
        else:
            raise self.unsupported()
        with self.lock:
            parent = None
            if parent_raw is not None:
                folder = self.lookup(account, parent_raw)
                if not folder.is_folder:
                    raise self.not_found()
                parent = None if faults.on("cpaas-upload-to-root") else folder.id
            obj = self._new_media(account, name, False, parent, part.data, ctype)
            return Response(200, {"status": "ok", "media": obj.json()})

    def rename(self, req, account, mid):
        obj = self.json_object(req, wrong_type_status=415 if faults.on("cpaas-put-wrong-ct-415") else 400)
        self.check_scheme(obj, NAME_SPEC)
        if not self.name_ok(obj["name"]):
            raise self.bad_data()
        with self.lock:
            target = self.lookup(account, mid)
            answer = target.json()
            answer["name"] = obj["name"]
            if not faults.on("cpaas-rename-not-saved"):
                target.name = obj["name"]
        return Response(200, {"status": "ok", "media": answer})

    def delete(self, req, account, mid):
        with self.lock:
            target = self.lookup(account, mid)
            del self.media[target.id]
            if target.is_folder and not faults.on("cpaas-folder-delete-orphans"):
                for child in [m for m in self.media.values() if m.parent == target.id]:
                    del self.media[child.id]
        return Response(200, {"status": "ok"})

    # ---------------------------------------------------------------- activation (R26, R27)
    def activate(self, req, account):
        obj = self.json_object(req)
        self.check_scheme(obj, ACTIVATE_SPEC)
        self.check_activation_data(obj)
        request_id = str(uuidlib.uuid4()) if faults.on("cpaas-request-id-dashed") else uuidlib.uuid4().hex
        self._callbacks(account, obj["reference"], obj["destAddr"])
        return Response(200, {"status": "ok", "requestId": request_id})

    def check_activation_data(self, obj: dict) -> None:
        ref_lo = 0 if faults.on("cpaas-reference-empty") else 1
        ref_hi = 256 if faults.on("cpaas-reference-256") else 255
        addr_re = re.compile(r"[0-9]{6,15}") if faults.on("cpaas-addr-6-digits") else ADDR_RE
        checks = [
            ref_lo <= len(obj["reference"]) <= ref_hi,
            addr_re.fullmatch(obj["sourceAddr"]) is not None,
            addr_re.fullmatch(obj["destAddr"]) is not None,
        ]
        if "gender" in obj:
            checks.append(obj["gender"] in ((0, 1, 2) if faults.on("cpaas-gender-0") else (1, 2)))
        if "volume" in obj:
            checks.append(0 <= obj["volume"] <= (3 if faults.on("cpaas-volume-3") else 2))
        if "rate" in obj:
            checks.append((-1 if faults.on("cpaas-rate-negative") else 0) <= obj["rate"] <= 4)
        if "language" in obj:
            if faults.on("cpaas-language-case"):
                checks.append(obj["language"].lower() in {x.lower() for x in LANGUAGES})
            else:
                checks.append(obj["language"] in LANGUAGES)
        if "scenarioData" in obj:
            checks.append(SCENARIO_RE.fullmatch(obj["scenarioData"]) is not None)
        for name in ["isRepeat"] + [f"repeat{k}" for k in REPEAT_KINDS]:
            if name in obj:
                checks.append(obj[name] in (0, 1))
        for kind in REPEAT_KINDS:
            for name in (f"repeat{kind}Count", f"repeat{kind}Int"):
                if name in obj:
                    checks.append(0 <= obj[name] <= INT32_MAX)
        if not all(checks):
            raise self.bad_data()

    def _callbacks(self, account, reference: str, dest: str) -> None:
        url = endpoint(self.options, self.name, account.index)
        if url is None:
            return
        if faults.on("cpaas-callback-drops-query"):
            url = url.split("?", 1)[0]
        headers = {}
        if account.callback_user and not faults.on("cpaas-callback-no-auth"):
            headers["Authorization"] = basic_auth(account.callback_user, account.callback_pass)
        sep = "&" if "?" in url else "?"
        duration = 2 + zlib.crc32((reference + dest).encode("utf-8", "surrogatepass")) % 8
        start = {"type": "startCallback", "reference": reference}
        end = {"type": "endCallback", "reference": reference, "state": 2, "error": 0,
               "duration": duration, "appKey": account.app_key}
        scale = self.options.time_scale
        steps = [(0.5 * scale, url + sep + urlencode(start, quote_via=quote), headers)]
        if not faults.on("cpaas-no-end-callback"):
            steps.append((duration * scale, url + sep + urlencode(end, quote_via=quote), headers))
        self.hooks.get_sequence(f"{self.name}/{account.index}", steps)
