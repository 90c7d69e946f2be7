"""Independent implementation of sim-v1, sim-v2, sim-v3 and cpaas on one port.

    python tests/independent/server.py --port PORT [--host 127.0.0.1]
        [--webhook-base URL] [--fault NAME] [--list-faults]
        [--write-target FILE [--exit-after-write]] [--time-scale X] [--verbose]

This module is the HTTP plumbing only: it reads requests (Content-Length or
chunked bodies, on every method), splits the path, picks the API by prefix
and writes the answer. Everything an API decides lives in its own module.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

if not __package__:  # run as a script: make the relative imports work (PEP 366)
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.dirname(_here))
    __package__ = os.path.basename(_here)
    __import__(__package__)

from . import faults  # noqa: E402
from .config import Fixtures, Options  # noqa: E402
from .cpaas import Cpaas  # noqa: E402
from .httpkit import BadBody, Request, Response, encode_json, pct_decode  # noqa: E402
from .sim_v1 import SimV1  # noqa: E402
from .sim_v2 import SimV2  # noqa: E402
from .sim_v3 import SimV3  # noqa: E402
from .target import render  # noqa: E402
from .webhooks import Dispatcher  # noqa: E402

DRAIN_MAX = 64 * 1024 * 1024     # an oversize body up to this is read and discarded (keep-alive)
_CHUNK = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class App:
    def __init__(self, fixtures: Fixtures, options: Options):
        self.options = options
        self.lock = threading.RLock()
        self.dispatcher = Dispatcher(verbose=options.verbose)
        self.apis = [cls(fixtures, options, self.dispatcher, self.lock)
                     for cls in (SimV1, SimV2, SimV3, Cpaas)]

    def find_api(self, path: str):
        for api in self.apis:
            if path == api.prefix or path.startswith(api.prefix + "/"):
                return api
        return None


def split_path(rest: str) -> tuple[list[str], bool]:
    """Path below the API prefix -> (decoded segments, bad). R5c: a segment that
    decodes to '/', a control character or non-UTF-8 marks the path bad."""
    if rest in ("", "/"):
        return [], False
    segments, bad = [], False
    for seg in rest[1:].split("/"):
        try:
            text = pct_decode(seg.encode("latin-1"), plus_space=False).decode("utf-8")
        except (BadBody, UnicodeError):
            segments.append(seg)
            bad = True
            continue
        if "/" in text or _CONTROL.search(text):
            bad = True
        segments.append(text)
    return segments, bad


class _BodyError(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall each
    server_version = "indie-apis/1.0"
    sys_version = ""
    timeout = 60          # seconds of socket inactivity before a connection is dropped

    # ------------------------------------------------------------ stdlib hooks
    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline, self.request_version, self.command = "", "", ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.dispatch()
            self.wfile.flush()
        except OSError:   # timeouts, resets, broken pipes
            self.close_connection = True

    def send_error(self, code, message=None, explain=None):
        """Protocol-level errors (bad request line, headers): JSON, then close."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"   # always answer with a status line and headers
        codes = {400: "bad_request", 414: "uri_too_long", 431: "headers_too_large",
                 505: "http_version_not_supported", 501: "not_implemented"}
        body = encode_json({"message": codes.get(code, "bad_request")})
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)

    def log_message(self, fmt, *args):
        if self.server.app.options.verbose:
            super().log_message(fmt, *args)

    # ------------------------------------------------------------ request handling
    def dispatch(self):
        app: App = self.server.app
        target = self.path
        if target.startswith(("http://", "https://")):   # absolute-form request target
            parts = urlsplit(target)
            target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        raw_path, _, query = target.partition("?")
        raw_path = raw_path.split("#", 1)[0]
        query = query.split("#", 1)[0]
        head = self.command == "HEAD"
        method = "GET" if head else self.command

        api = app.find_api(raw_path)
        segments, bad = split_path(raw_path[len(api.prefix):]) if api else ([], False)
        content_type = self.headers.get("Content-Type")
        mime = content_type.split(";", 1)[0].strip().lower() if content_type else None
        limit = api.body_limit(method, segments, mime) if api else 1024 * 1024
        try:
            body, oversize = self.read_body(limit)
        except _BodyError:
            self.close_connection = True
            if api is None or api.name != "cpaas":
                resp = Response(400, {"message": "body_invalid"})
            else:
                resp = Response(400, {"status": "invalidDataError"})
            return self.send(resp, head)
        if api is None:
            return self.send(Response(404, {"message": "not_found"}), head)

        request = Request(method, segments, bad, query, self.headers, body, oversize)
        try:
            resp = api.handle(request)
        except Exception:   # a bug: never a traceback on the wire
            if app.options.verbose or faults.active() is None:
                traceback.print_exc()
            payload = {"status": "rpcError"} if api.name == "cpaas" else {"message": "internal_error"}
            resp = Response(500, payload)
        self.send(resp, head)

    def read_body(self, limit: int) -> tuple[bytes, bool]:
        te = self.headers.get("Transfer-Encoding")
        if te is not None:
            if te.strip().lower() != "chunked":
                raise _BodyError("unsupported transfer coding")
            return self.read_chunked(limit)
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not lengths:
            return b"", False
        if len(lengths) != 1:
            raise _BodyError("conflicting Content-Length")
        value = lengths.pop()
        if not re.fullmatch(r"[0-9]{1,18}", value):
            raise _BodyError("bad Content-Length")
        length = int(value)
        if length > limit:
            if length > DRAIN_MAX:
                self.close_connection = True
            else:
                self.discard(length)
            return b"", True
        data = self.rfile.read(length)
        if len(data) < length:
            self.close_connection = True
            raise _BodyError("short body")
        return data, False

    def discard(self, length: int) -> None:
        while length > 0:
            got = self.rfile.read(min(_CHUNK, length))
            if not got:
                self.close_connection = True
                return
            length -= len(got)

    def read_chunked(self, limit: int) -> tuple[bytes, bool]:
        data = bytearray()
        seen = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise _BodyError("bad chunk header")
            size_s = line.split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,15}", size_s):
                raise _BodyError("bad chunk size")
            size = int(size_s, 16)
            if size == 0:
                break
            seen += size
            if seen > DRAIN_MAX:
                raise _BodyError("chunked body too large to drain")
            remaining = size
            while remaining:
                got = self.rfile.read(min(_CHUNK, remaining))
                if not got:
                    raise _BodyError("short chunk")
                if seen <= limit:
                    data += got
                remaining -= len(got)
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _BodyError("chunk without CRLF")
        for _ in range(100):   # trailer section
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                break
        else:
            raise _BodyError("too many trailers")
        if seen > limit:
            return b"", True
        return bytes(data), False

    def send(self, resp: Response, head: bool) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(resp.body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address, app: App):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        super().__init__(address, Handler)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, help="port to listen on (0: any free port)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--webhook-base", help="deliver webhooks/callbacks below this URL")
    ap.add_argument("--fault", help="switch on one deliberate bug (see --list-faults)")
    ap.add_argument("--list-faults", action="store_true", help="print NAME<TAB>ruling<TAB>description")
    ap.add_argument("--write-target", metavar="FILE", help="write the apicontract target file, then serve")
    ap.add_argument("--exit-after-write", action="store_true",
                    help="with --write-target: write the file and exit without serving")
    ap.add_argument("--time-scale", type=float, default=0.25,
                    help="real seconds per simulated second of a cpaas call (default 0.25)")
    ap.add_argument("--verbose", action="store_true", help="log requests and deliveries to stderr")
    args = ap.parse_args(argv)
    if not args.list_faults and args.port is None:
        ap.error("--port is required")
    if args.webhook_base and not re.match(r"https?://[^/?#]+", args.webhook_base):
        ap.error("--webhook-base must be an http(s) URL")
    if "?" in (args.webhook_base or "") or "#" in (args.webhook_base or ""):
        ap.error("--webhook-base must not carry a query or fragment")
    if args.time_scale < 0:
        ap.error("--time-scale must be >= 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list_faults:
        sys.stdout.write(faults.listing())
        return 0
    faults.activate(args.fault)
    options = Options(host=args.host, port=args.port, webhook_base=args.webhook_base,
                      time_scale=args.time_scale, verbose=args.verbose)
    fixtures = Fixtures()
    if args.write_target and args.exit_after_write:
        with open(args.write_target, "w", encoding="utf-8") as fh:
            fh.write(render(fixtures, options, args.port))
        return 0
    server = Server((args.host, args.port), App(fixtures, options))
    port = server.server_address[1]
    if args.write_target:
        with open(args.write_target, "w", encoding="utf-8") as fh:
            fh.write(render(fixtures, options, port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"independent server on http://{args.host}:{port} (fault: {args.fault or 'none'})",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
