"""The suite's webhook endpoint: listens where the target delivers and records every request as it came.

The target is configured (out of band, or by `apicontract check` for the embedded server) to deliver
to `--webhook-url`; the suite listens on that URL's host:port, answers 200 at once, and keeps method,
path, query, headers, body and arrival time for the checks in `deliveries.py`.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Delivery:
    method: str
    path: str  # without the query
    query: str  # raw query string
    headers: dict[str, str]  # names in lower case
    body: bytes
    arrived: float  # time.monotonic()
    seq: int  # arrival order

    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def mentions(self, text: str) -> bool:
        """The value appears in the body or (decoded) in the query: how a check finds its events."""
        return text.encode() in self.body or any(text in v for _, v in self.params())


class Capture:
    """A threaded HTTP server on host:port recording every request; `with Capture(host, port) as c:`."""

    def __init__(self, host: str, port: int):
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self) -> None:
                body = self._body()
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with capture._changed:
                    seq = len(capture.deliveries)
                    capture.deliveries.append(
                        Delivery(self.command, parts.path, parts.query, headers, body, time.monotonic(), seq)
                    )
                    capture._changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _record  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            if exc.errno != errno.EADDRNOTAVAIL:
                raise
            self._server = ThreadingHTTPServer(("", port), Handler)  # a name of this host that is not local
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"capture:{port}", daemon=True)

    def __enter__(self) -> Capture:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def since(self, mark: float) -> list[Delivery]:
        with self._changed:
            return [d for d in self.deliveries if d.arrived >= mark]

    def wait(self, done: Callable[[list[Delivery]], bool], since: float, timeout: float) -> list[Delivery]:
        """Deliveries arrived since `since`, once `done(them)` holds or `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [d for d in self.deliveries if d.arrived >= since]
                left = deadline - time.monotonic()
                if done(found) or left <= 0:
                    return found
                self._changed.wait(min(left, 0.5))


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


class Captures:
    """The suite's endpoints: one capture per distinct host:port an API's accounts deliver to, listening from
    the first time that API's checks need it (so processes checking different APIs never compete for one)."""

    def __init__(self, urls: dict[str, list[str]]):
        self.urls = urls
        self.by_address: dict[tuple[str, int], Capture] = {}
        self.problems: dict[str, str] = {}

    def __enter__(self) -> Captures:
        return self

    def __exit__(self, *exc: object) -> None:
        for capture in self.by_address.values():
            capture.__exit__()

    def _listen(self, api: str) -> None:
        for url in self.urls.get(api, []):
            if not url.startswith("http://"):
                continue  # plain HTTP only: the checks skip, saying so
            where = address(url)
            if where in self.by_address or api in self.problems:
                continue
            try:
                self.by_address[where] = Capture(*where).__enter__()
            except OSError as exc:
                reason = (
                    "in use (another process or check listens there: with --workers, give each API its own port)"
                    if exc.errno == errno.EADDRINUSE
                    else str(exc)
                )
                self.problems[api] = f"cannot listen on {where[0]}:{where[1]} for webhook URL {url}: {reason}"

    def of(self, api: str) -> CaptureGroup | None:
        self._listen(api)
        wanted = dict.fromkeys(address(u) for u in self.urls.get(api, []))
        found = [self.by_address[a] for a in wanted if a in self.by_address]
        return CaptureGroup(found) if found else None


class CaptureGroup:
    """The captures one API's accounts deliver to, read as one."""

    def __init__(self, captures: list[Capture]):
        self.captures = captures

    def since(self, mark: float) -> list[Delivery]:
        return sorted((d for c in self.captures for d in c.since(mark)), key=lambda d: (d.arrived, d.seq))

    def wait(self, done: Callable[[list[Delivery]], bool], since: float, timeout: float) -> list[Delivery]:
        """Deliveries arrived since `since`, once `done(them)` holds or `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.since(since)
            left = deadline - time.monotonic()
            if done(found) or left <= 0:
                return found
            time.sleep(min(left, 0.05))
