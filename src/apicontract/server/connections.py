"""The HTTP layer: uvicorn and its httptools protocol, held to the spec's limits before any API sees a request.

uvicorn gives a keep-alive timeout (`timeout_keep_alive`, used here as the spec's `x-timeouts.idle`) and
takes its protocol class as a setting. What it does not do, this subclass of its httptools protocol adds:

- **Head size** (`x-max-header-bytes`): bytes are fed to the parser only up to the limit while a request's
  headers are incomplete; past it the request is answered 431 and never parsed further. (httptools joins a
  header value chunk by chunk, so an unbounded header costs quadratic time and all its bytes in memory.)
- **Header count** (`x-max-header-count`): 431 once the headers are in (the byte limit bounds how many
  can come before that).
- **Time** (`x-timeouts`): a connection is also closed when its first request does not begin within the
  idle time (uvicorn starts that clock only after a first response); headers must be complete within
  `header` seconds of their first byte, else 408. (The body's time is the API's, see `api.read_body`.)
- **Connections**: the process keeps its connections below its file-descriptor limit. At the cap, a new
  connection is admitted by closing the one that has waited longest on its client (idle, still sending
  its request, or not reading its answer); a request the server is working on is never closed. So
  hostile clients holding connections open cannot lock a new client out.
- **Answers in the API's shape**: malformed framing (uvicorn answers a text/plain 400 itself), a head too
  large, headers too slow: `x-http-errors`, JSON in the shape of the API the request's path names.
  After answering, the server reads and drops what the client still sends for a moment before closing
  (a close with unread input resets the connection, and the client could lose the answer).
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from apicontract.server.compiled import Answer, Limits

RESERVED_DESCRIPTORS = 128  # kept free of client connections: SQLite, media files, webhook deliveries, listeners
LINGER_SECONDS = 1.0  # after a refusal: how long what the client still sends is read and dropped
LINGER_BYTES = 1 << 20  # ... and how much of it
DISCARD_BYTES = 16 << 20  # the rest of a body answered early (413) is read and dropped up to this, then closed
SWEEP_SECONDS = 0.25  # how often heads are checked against x-timeouts.header (one timer per process, not per request)


class HeadRefused(Exception):
    """Raised from a parser callback to stop parsing a request head that breaks a limit."""


def connection_cap() -> int:
    """How many client connections this process keeps open at most: its descriptor limit, less a reserve."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 20
    return max(16, soft - RESERVED_DESCRIPTORS)


class Connections:
    """Every open connection of the process (all listeners), least recently active first."""

    def __init__(self, cap: int | None = None):
        self.cap = cap if cap is not None else connection_cap()
        self.order: dict[GuardedProtocol, None] = {}  # insertion order is activity order
        self.evicted = 0
        self._sweeper: asyncio.TimerHandle | None = None

    def admit(self, connection: GuardedProtocol) -> bool:
        """Take a new connection; at the cap, close the one waiting longest on its client to make room."""
        if len(self.order) >= self.cap:
            victim = next((c for c in self.order if c.waiting_on_client()), None)
            if victim is None:  # every connection has a request the server is working on
                return False
            self.leave(victim)
            victim.evict()
            self.evicted += 1
        self.order[connection] = None
        if self._sweeper is None:
            self._sweeper = connection.loop.call_later(SWEEP_SECONDS, self._sweep, connection.loop)
        return True

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Refuse the heads that have taken too long (408); runs while there are connections."""
        now = loop.time()
        for connection in list(self.order):
            connection.check_head(now)
        self._sweeper = loop.call_later(SWEEP_SECONDS, self._sweep, loop) if self.order else None

    def touch(self, connection: GuardedProtocol) -> None:
        if connection in self.order:
            del self.order[connection]
            self.order[connection] = None

    def leave(self, connection: GuardedProtocol) -> None:
        self.order.pop(connection, None)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above; `protocol_for` binds it to an app."""

    site: ClassVar[Any]  # the ASGI app: limits_for(target), http_error(status, target), lenient_/strict_limits()
    lenient: ClassVar[Limits]  # the most lenient limits among the APIs this listener serves
    strict: ClassVar[Limits]  # ... and the strictest
    registry: ClassVar[Connections]  # (uvicorn's own `connections` is its server's set)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url = b""
        self._head_bytes = 0  # bytes fed to the parser for the current request's head
        self._head_done = False
        self._head_started: float | None = None  # the loop's time at the first byte of an incomplete head
        self._refusal: int | None = None  # the status a parser callback refused the head with (it then closes)
        self._lingering = False
        self._dropped = 0
        self._discard_left: int | None = None  # answered before its body was all in: what may still be dropped
        self._discard_until = 0.0

    # --- connections --------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.registry.admit(self):
            transport.close()
            return
        # uvicorn starts the keep-alive clock only after a response: a connection that never sends a
        # request would be held for ever
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self.registry.leave(self)
        super().connection_lost(exc)

    def waiting_on_client(self) -> bool:
        """Idle, still receiving a request (head or body), or stuck on a client that does not read its answer:
        closing it loses no work of the server's."""
        cycle = self.cycle
        return cycle is None or cycle.response_complete or cycle.more_body or self.flow.write_paused

    def evict(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    # --- the request head ---------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._dropped += len(data)
            if self._dropped > LINGER_BYTES:
                self.transport.close()
            return
        self.registry.touch(self)
        limit = self.lenient.header_bytes
        while data and not self._lingering and not self.transport.is_closing():
            if self._head_done:  # body bytes (and whatever follows them) go to the parser as they come
                if self._discard_left is not None:
                    self._discard_left -= len(data)
                    if self._discard_left < 0:
                        self._linger()
                        return
                super().data_received(data)
                return
            if self._head_bytes == 0:
                self._head_started = self.loop.time()
            piece, data = data[: limit - self._head_bytes + 1], data[limit - self._head_bytes + 1 :]
            self._head_bytes += len(piece)
            super().data_received(piece)
            if not self._head_done and self._head_bytes > limit:
                self.refuse(431)

    def on_headers_complete(self) -> None:
        """Past the raw byte guard: the header count, and the limits of the API the path names (checked only
        when the head is past the strictest API's, which an ordinary request never is)."""
        self._head_done = True
        self._head_started = None
        count = len(self.headers)
        if count > self.strict.header_count or self._head_bytes > self.strict.header_bytes:
            limits = self.site.limits_for(self.url) or self.lenient
            size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
            if size > limits.header_bytes or count > limits.header_count:
                self._refusal = 431
                raise HeadRefused
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_done = False
        self._head_bytes = 0
        self._discard_left = None

    def on_response_complete(self) -> None:
        cycle = self.cycle
        super().on_response_complete()
        if cycle is not None and cycle.more_body and not self.transport.is_closing():
            # answered before its whole body arrived (413 on its Content-Length). The rest is read and dropped,
            # so that the connection serves the client's next request, but only so much and so long: a body
            # of any size would otherwise be read for ever
            limits = self.site.limits_for(self.url) or self.lenient
            self._discard_left = DISCARD_BYTES
            self._discard_until = self.loop.time() + limits.body_seconds
            declared = dict(cycle.scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and (len(declared) > 12 or int(declared) > DISCARD_BYTES):
                self._linger()  # more than will ever be read: close now (after the usual moment)

    def check_head(self, now: float) -> None:
        """The sweep's check: 408 if the current request's headers began longer than `x-timeouts.header` ago;
        closed if the rest of a body answered early is not in by its time."""
        if self._head_started is not None and now - self._head_started > self.lenient.header_seconds:
            self.refuse(408)
        elif self._discard_left is not None and now > self._discard_until and not self._lingering:
            self._linger()

    # --- answers of the HTTP layer ------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request the parser refused (malformed framing, or a limit raised above)."""
        self.refuse(self._refusal or 400)

    def refuse(self, status: int) -> None:
        """Answer `x-http-errors[status]` in the shape of the API the request names, then close."""
        if self._lingering or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a pipelined request is still being answered: no second answer can go
            return
        answer: Answer = self.site.http_error(status, self.url)
        head = [STATUS_LINE[answer.status], b"content-type: ", answer.content_type, b"\r\n"]
        head += [b"content-length: ", str(len(answer.body)).encode(), b"\r\n"]
        for name, value in answer.headers:
            if name not in (b"connection", b"content-length", b"content-type"):
                head += [name, b": ", value, b"\r\n"]
        self.transport.write(b"".join([*head, b"connection: close\r\n\r\n", answer.body]))
        self._linger()

    def _linger(self) -> None:
        """Close soon, reading and dropping what the client still sends until then (a close with unread
        input resets the connection, and the client could lose the answer)."""
        self._lingering = True
        self._head_started = None
        self._unset_keepalive_if_required()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def protocol_for(site: Any, connections: Connections) -> type[GuardedProtocol]:
    """The protocol class for one listener serving `site` (a ReferenceServer, or one API at a port's root)."""
    return type(
        "GuardedProtocol",
        (GuardedProtocol,),
        {"site": site, "lenient": site.lenient_limits(), "strict": site.strict_limits(), "registry": connections},
    )


def uvicorn_settings(site: Any, connections: Connections) -> dict[str, Any]:
    """What a uvicorn.Config needs to serve `site` with the limits above (keyword arguments)."""
    lenient = site.lenient_limits()
    return {
        "http": protocol_for(site, connections),
        "ws": "none",  # no WebSocket upgrades: none of the APIs has one
        "timeout_keep_alive": lenient.idle_seconds,
        "server_header": False,
        "access_log": False,
    }
