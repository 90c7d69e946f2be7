"""Transport-neutral request/response types and strict body parsers.

Nothing here knows about any particular API; the API modules turn the
parser exceptions (BadBody) into their own error shapes.
"""
from __future__ import annotations

import json
import re

MiB = 1024 * 1024


class HttpError(Exception):
    """An answer that ends request processing (status + JSON payload)."""

    def __init__(self, status: int, payload, headers: dict | None = None):
        super().__init__(status, payload)
        self.status = status
        self.payload = payload
        self.headers = headers or {}


class BadBody(ValueError):
    """The request body (or a part of it) cannot be parsed."""


class DuplicateKey(BadBody):
    """Well-formed JSON whose object repeats a member name."""


def encode_json(obj) -> bytes:
    try:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: fall back to \u escapes
        return json.dumps(obj).encode("ascii")


class Response:
    __slots__ = ("status", "body", "content_type", "headers")

    def __init__(self, status: int, payload=None, *, body: bytes | None = None,
                 content_type: str = "application/json", headers: dict | None = None):
        self.status = status
        self.body = encode_json(payload) if body is None else body
        self.content_type = content_type
        self.headers = headers or {}


class Request:
    """One parsed HTTP request, as the API modules see it."""

    def __init__(self, method, segments, bad_path, query, headers, body, oversize):
        self.method = method          # upper-case; HEAD already mapped to GET
        self.segments = segments      # decoded path segments below the API prefix
        self.bad_path = bad_path      # a segment held '/', a control char or non-UTF-8
        self.query = query            # raw query string (bytes-safe str, latin-1)
        self.headers = headers        # http.client.HTTPMessage
        self.body = body              # bytes (b"" when none)
        self.oversize = oversize      # body exceeded the route's limit (was drained)

    @property
    def mime(self) -> str | None:
        mime, _ = parse_content_type(self.headers.get("Content-Type"))
        return mime

    @property
    def ctype_params(self) -> dict:
        _, params = parse_content_type(self.headers.get("Content-Type"))
        return params


# ---------------------------------------------------------------- header params
_PARAM_RE = re.compile(r'\s*;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def parse_header_params(value: str) -> tuple[str, dict]:
    """`main; k=v; k2="quoted"` -> ("main", {"k": "v", "k2": "quoted"})."""
    head, sep, _ = value.partition(";")
    params: dict[str, str] = {}
    pos = len(head)
    while pos < len(value):
        m = _PARAM_RE.match(value, pos)
        if not m:
            break
        key = m.group(1).lower()
        val = m.group(2).strip()
        if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        params.setdefault(key, val)
        pos = m.end()
    return head.strip(), params


def parse_content_type(value: str | None) -> tuple[str | None, dict]:
    if value is None or not value.strip():
        return None, {}
    main, params = parse_header_params(value)
    return main.lower(), params


# ---------------------------------------------------------------- JSON
def _no_duplicates(pairs):
    out = {}
    for key, val in pairs:
        if key in out:
            raise DuplicateKey("duplicate key")
        out[key] = val
    return out


def _reject_constant(name):
    raise BadBody(f"non-standard constant {name}")


def _finite_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BadBody("number out of range")
    return value


def _has_surrogate(obj) -> bool:
    stack = [obj]
    while stack:
        cur = stack.pop()
        if isinstance(cur, str):
            if any(0xD800 <= ord(ch) <= 0xDFFF for ch in cur):
                return True
        elif isinstance(cur, dict):
            stack.extend(cur.keys())
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return False


def parse_json(raw: bytes, *, lenient_utf8: bool = False):
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, no lone surrogates."""
    try:
        text = raw.decode("utf-8", errors="replace" if lenient_utf8 else "strict")
        obj = json.loads(text, object_pairs_hook=_no_duplicates,
                         parse_constant=_reject_constant, parse_float=_finite_float)
    except DuplicateKey:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError/UnicodeDecodeError are ValueErrors
        raise BadBody(str(exc)) from None
    if _has_surrogate(obj):
        raise BadBody("lone surrogate")
    return obj


# ---------------------------------------------------------------- urlencoded
class _Duplicate:
    """Value of a form field that was given more than once (never valid)."""

    def __repr__(self):
        return "<duplicate>"


DUPLICATE = _Duplicate()
_BAD_PCT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_PCT = re.compile(rb"%([0-9A-Fa-f]{2})")


def pct_decode(raw: bytes, *, plus_space: bool) -> bytes:
    if _BAD_PCT.search(raw):
        raise BadBody("bad percent escape")
    if plus_space:
        raw = raw.replace(b"+", b" ")
    return _PCT.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def parse_form(raw: bytes, *, lenient_utf8: bool = False) -> dict:
    """application/x-www-form-urlencoded -> {name: str | DUPLICATE}."""
    out: dict = {}
    errors = "replace" if lenient_utf8 else "strict"
    for pair in raw.split(b"&"):
        if not pair:
            continue
        key_b, _, val_b = pair.partition(b"=")
        try:
            key = pct_decode(key_b, plus_space=True).decode("utf-8", errors)
            val = pct_decode(val_b, plus_space=True).decode("utf-8", errors)
        except UnicodeDecodeError:
            raise BadBody("invalid UTF-8") from None
        out[key] = DUPLICATE if key in out else val
    return out


def parse_query(query: str) -> dict | None:
    """Query string -> {name: str | DUPLICATE}; None when it cannot be decoded."""
    try:
        return parse_form(query.encode("latin-1"))
    except (BadBody, UnicodeEncodeError):
        return None


# ---------------------------------------------------------------- multipart
class Part:
    __slots__ = ("headers", "name", "filename", "content_type", "data")

    def __init__(self, headers, name, filename, content_type, data):
        self.headers = headers
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.data = data


def _decode_rfc5987(value: str) -> str:
    charset, _, rest = value.partition("'")
    _, _, encoded = rest.partition("'")
    try:
        return pct_decode(encoded.encode("latin-1"), plus_space=False).decode(charset or "utf-8")
    except (LookupError, UnicodeError, UnicodeEncodeError):
        raise BadBody("bad filename*") from None


def parse_multipart(body: bytes, boundary: str | None, max_parts: int = 64) -> list[Part]:
    if not boundary or len(boundary) > 200:
        raise BadBody("no boundary")
    try:
        delim = b"--" + boundary.encode("ascii")
    except UnicodeEncodeError:
        raise BadBody("non-ASCII boundary") from None
    if body.startswith(delim):
        pos = len(delim)
    else:
        first = body.find(b"\r\n" + delim)
        if first < 0:
            raise BadBody("no delimiter")
        pos = first + 2 + len(delim)
    parts: list[Part] = []
    while True:
        if body[pos:pos + 2] == b"--":
            return parts
        eol = body.find(b"\r\n", pos)
        if eol < 0 or body[pos:eol].strip(b" \t"):
            raise BadBody("bad delimiter line")
        start = eol + 2
        nxt = body.find(b"\r\n" + delim, start)
        if nxt < 0:
            raise BadBody("unterminated part")
        parts.append(_parse_part(body[start:nxt]))
        if len(parts) > max_parts:
            raise BadBody("too many parts")
        pos = nxt + 2 + len(delim)


def _parse_part(raw: bytes) -> Part:
    if raw.startswith(b"\r\n"):
        head, data = b"", raw[2:]
    else:
        head, sep, data = raw.partition(b"\r\n\r\n")
        if not sep:
            raise BadBody("part without header end")
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n") if head else []:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise BadBody("non-UTF-8 part header") from None
        name, colon, value = text.partition(":")
        if not colon or not name.strip():
            raise BadBody("bad part header")
        headers[name.strip().lower()] = value.strip()
    disp = headers.get("content-disposition")
    if disp is None:
        raise BadBody("part without Content-Disposition")
    kind, params = parse_header_params(disp)
    if kind.lower() != "form-data" or "name" not in params:
        raise BadBody("not a form-data part")
    filename = params.get("filename")
    if "filename*" in params:
        filename = _decode_rfc5987(params["filename*"])
    return Part(headers, params["name"], filename, headers.get("content-type"), data)
