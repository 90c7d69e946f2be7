"""The request pipeline shared by all four APIs, and helpers of the SIM APIs.

Stages (R5a): authentication (401) -> route (404 / 405) -> body size (413)
-> content type (415) -> the operation's own checks (path identifier,
body fields, ownership, existence, conflicts), which each handler performs
in that order.
"""
from __future__ import annotations

import re

from . import faults
from .httpkit import DUPLICATE, BadBody, HttpError, MiB, Request, Response, parse_form, parse_json

# content policies of a route
FORM_OR_JSON = "form_or_json"
JSON_ONLY = "json_only"
ANY = "any"                     # the handler looks at the content type itself

FORM_MIME = "application/x-www-form-urlencoded"
JSON_MIME = "application/json"


class Route:
    def __init__(self, pattern: str, methods: dict):
        # pattern "sim/:uuid" -> ["sim", ":uuid"]; "" -> [] (the API root)
        self.parts = [p for p in pattern.split("/")] if pattern else []
        self.methods = methods   # {"GET": (handler, policy)}

    def match(self, segments: list[str]) -> dict | None:
        if len(segments) != len(self.parts):
            return None
        params = {}
        for part, seg in zip(self.parts, segments, strict=True):
            if part.startswith(":"):
                if seg == "":
                    return None
                params[part[1:]] = seg
            elif part != seg:
                return None
        return params


class ApiBase:
    name = ""
    prefix = ""
    routes: list[Route] = []

    # ---- to be provided by each API --------------------------------------
    def authenticate(self, req: Request):
        raise NotImplementedError

    def unauthorized(self) -> HttpError:
        raise NotImplementedError

    def fail(self, status: int, code: str) -> HttpError:
        raise NotImplementedError

    def not_found(self) -> HttpError:
        return self.fail(404, "not_found")

    def method_not_allowed(self, allow: list[str]) -> HttpError:
        err = self.fail(405, "method_not_allowed")
        err.headers["Allow"] = ", ".join(allow)
        return err

    def too_large(self) -> HttpError:
        return self.fail(413, "payload_too_large")

    def unsupported(self) -> HttpError:
        return self.fail(415, "unsupported_media_type")

    def body_limit(self, method: str, segments: list[str], mime: str | None) -> int:
        return MiB

    # ---- pipeline ----------------------------------------------------------
    def find_route(self, req: Request):
        for route in self.routes:
            params = route.match(req.segments)
            if params is None:
                continue
            entry = route.methods.get(req.method)
            if entry is None:
                raise self.method_not_allowed(sorted(route.methods) + (["HEAD"] if "GET" in route.methods else []))
            return entry[0], entry[1], params
        raise self.not_found()

    def check_content_type(self, req: Request, policy: str) -> None:
        if policy == ANY or not req.body:
            return
        mime = req.mime
        if mime == JSON_MIME:
            return
        if mime == FORM_MIME and policy == FORM_OR_JSON:
            return
        raise self.unsupported()

    def handle(self, req: Request) -> Response:
        try:
            account = self.authenticate(req)
            if account is None:
                raise self.unauthorized()
            if req.bad_path:
                raise self.not_found()            # R5c: this implementation's choice
            handler, policy, params = self.find_route(req)
            if req.oversize:
                raise self.too_large()
            self.check_content_type(req, policy)
            return handler(req, account, **params)
        except HttpError as err:
            return Response(err.status, err.payload, headers=err.headers)


class SimApiBase(ApiBase):
    """Error shape {"message": code} and the body rules of the SIM APIs."""

    def fail(self, status: int, code: str) -> HttpError:
        return HttpError(status, {"message": code})

    def unauthorized(self) -> HttpError:
        return HttpError(401, {"message": "unauthorized"})

    def method_not_allowed(self, allow):
        if self.name == "sim-v2" and faults.on("v2-405-as-404"):
            return self.not_found()
        return super().method_not_allowed(allow)

    @staticmethod
    def ok() -> Response:
        return Response(200, {"message": "OK"})

    def root(self, req: Request, account) -> Response:
        fields, _ = self.parse_body(req)  # a body on GET / must be well-formed and empty
        self.reject_unknown(fields, ())
        return self.ok()

    # ---- bodies --------------------------------------------------------------
    def parse_body(self, req: Request, *, known: frozenset = frozenset(),
                   lenient_utf8: bool = False, form_on_json: bool = False) -> tuple[dict, bool]:
        """-> (fields, is_form). An absent body is an empty object (R5)."""
        if not req.body:
            return {}, False
        is_form = req.mime == FORM_MIME
        try:
            if is_form:
                return parse_form(req.body, lenient_utf8=lenient_utf8), True
            try:
                obj = parse_json(req.body, lenient_utf8=lenient_utf8)
            except BadBody:
                if form_on_json:   # fault: be "helpful" with the published samples
                    return parse_form(req.body), True
                raise
        except BadBody:
            raise self.fail(400, "body_invalid") from None
        if not isinstance(obj, dict):
            raise self.fail(400, "body_invalid")
        return obj, False

    def reject_unknown(self, fields: dict, known) -> None:
        if any(k not in known for k in fields):
            raise self.fail(400, "body_invalid")

    def bool_field(self, fields: dict, name: str, is_form: bool, *,
                   lenient_form: bool = False, json_strings: bool = False):
        """-> True / False, or None when omitted; raises <name>_invalid."""
        if name not in fields:
            return None
        value = fields[name]
        if is_form:
            if value == "true":
                return True
            if value == "false":
                return False
            if lenient_form and value is not DUPLICATE and value in ("1", "yes", "True", "0", "no", "False"):
                return value in ("1", "yes", "True")
        else:
            if type(value) is bool:
                return value
            if json_strings and value in ("true", "false"):
                return value == "true"
        raise self.fail(400, f"{name}_invalid")

    @staticmethod
    def str_field(fields: dict, name: str):
        """-> the string value, None when omitted, or DUPLICATE/non-str sentinel."""
        return fields.get(name)


def check_sms_fields(api: SimApiBase, fields: dict, *, from_max: int = 11, from_min: int = 1,
                     text_max: int = 1600, text_min: int = 1) -> tuple[str, str]:
    """R12: from 1-11 alphanumerics, text 1-1600 characters (limits adjustable by faults)."""
    sender = fields.get("from")
    if not (isinstance(sender, str) and from_min <= len(sender) <= from_max
            and (sender == "" or re.fullmatch(r"[A-Za-z0-9]+", sender))):
        raise api.fail(400, "from_invalid")
    text = fields.get("text")
    if not (isinstance(text, str) and text_min <= len(text) <= text_max):
        raise api.fail(400, "text_invalid")
    return sender, text
