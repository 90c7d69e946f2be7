"""`apicontract serve`: run the reference server until interrupted, and tell a newcomer how to use it.

All APIs are served on one port under their prefixes (`/sim-v1`, ...); `--api-port API=PORT` also
serves an API on a port of its own at the path of its real base URL (the spec's `servers[0].url`): sim-v2
and sim-v3 have `/sim` at the root of `https://api.onomondo.com`, cpaas has `/media` under
`https://cpaas.mittoapi.net/api`, so there it is `http://127.0.0.1:PORT/api/media`.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from rich.console import Console

from apicontract.paths import Layout
from apicontract.server.app import ReferenceServer, ServerConfig
from apicontract.server.compiled import Answer, Limits
from apicontract.server.connections import Connections, uvicorn_settings


class ServeError(Exception):
    """A usage problem: bad options, a port in use, a missing file."""


@dataclass
class ServeOptions:
    layout: Layout
    apis: list[str]
    host: str = "127.0.0.1"
    port: int = 8080
    api_ports: dict[str, int] = field(default_factory=dict)
    data_dir: Path | None = None
    fixtures: dict[str, Path] = field(default_factory=dict)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_self_signed: bool = False
    webhook_url: str | None = None
    callback_url: str | None = None
    time_scale: float = 1.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PrefixedRoot:
    """Serves one API on a port of its own at its base URL's path (`servers[0].url`: `/api` for cpaas,
    the root for the SIM APIs), by putting the API's prefix on every path in place of that base path.
    A path outside the base path keeps it in front (`/media` -> `/cpaas/api/media`), which no operation
    of the API has: it answers the API's own route 404."""

    def __init__(self, app: ReferenceServer, api: str):
        self.app, self.prefix = app, "/" + api
        servers = app.contexts[api].compiled.doc.get("servers") or [{}]
        self.base = urlsplit(str(servers[0].get("url") or "")).path.rstrip("/")

    def route(self, path: str) -> str:
        """The path on the shared app of a path on this port."""
        if not self.base:
            return self.prefix + path
        if path == self.base or path.startswith(self.base + "/"):
            return self.prefix + (path[len(self.base) :] or "/")
        return self.prefix + self.base + path

    def _target(self, target: bytes) -> bytes:
        path, mark, query = target.partition(b"?")
        return self.route(path.decode("latin-1")).encode("latin-1") + mark + query

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":  # lifespan belongs to the main port's server
            await self.app({**scope, "path": self.route(scope["path"]), "raw_path": None}, receive, send)

    def limits_for(self, target: bytes) -> Limits | None:
        return self.app.limits_for(self._target(target))

    def lenient_limits(self) -> Limits:
        return self.app.limits_for(self.prefix.encode()) or self.app.lenient_limits()

    def strict_limits(self) -> Limits:
        return self.app.limits_for(self.prefix.encode()) or self.app.strict_limits()

    def http_error(self, status: int, target: bytes) -> Answer:
        return self.app.http_error(status, self._target(target))


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off on accepted connections only for sockets that say so;
    # without it every keep-alive response waits for the client's delayed ACK (~40 ms)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


def prepare_tls(options: ServeOptions, data_dir: Path) -> Any:
    """The certificate to serve, if any (cryptography is imported only when TLS is asked for)."""
    if options.tls_self_signed and (options.tls_cert or options.tls_key):
        raise ServeError("use either --tls-cert/--tls-key or --tls-self-signed, not both")
    if bool(options.tls_cert) != bool(options.tls_key):
        raise ServeError("--tls-cert and --tls-key go together")
    if options.tls_cert and options.tls_key:
        for path in (options.tls_cert, options.tls_key):
            if not path.is_file():
                raise ServeError(f"{path}: no such file")
        from apicontract.server.tls import Certificate, fingerprint_of

        try:
            return Certificate(options.tls_cert, options.tls_key, fingerprint_of(options.tls_cert))
        except ValueError as exc:
            raise ServeError(f"{options.tls_cert}: not a PEM certificate ({exc})") from None
    if options.tls_self_signed:
        from apicontract.server.tls import self_signed

        return self_signed(data_dir / "tls", [options.host])
    if not is_loopback(options.host):
        raise ServeError(
            f"plain HTTP is served only on loopback (R6); to listen on {options.host}, "
            "give --tls-cert/--tls-key or --tls-self-signed"
        )
    return None


def serve(options: ServeOptions, console: Console) -> None:
    """Start, print the banner, serve until Ctrl-C. Raises ServeError for usage problems."""
    temporary = options.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="apicontract-")) if options.data_dir is None else options.data_dir
    try:
        tls = prepare_tls(options, data_dir)
        for api, path in options.fixtures.items():
            if not path.is_file():
                raise ServeError(f"--fixtures {api}={path}: no such file")
        config = ServerConfig(
            options.layout,
            data_dir,
            options.apis,
            options.fixtures,
            options.webhook_url,
            options.callback_url,
            options.time_scale,
        )
        try:
            app = ReferenceServer(config)
        except (OSError, ValueError, KeyError) as exc:
            raise ServeError(f"cannot start: {exc}") from None
        listeners: list[tuple[socket.socket, Any, str | None]] = [(bind(options.host, options.port), app, None)]
        for api, port in options.api_ports.items():
            listeners.append((bind(options.host, port), PrefixedRoot(app, api), api))
        from apicontract.server.banner import banner

        console.print(banner(options, app, listeners, tls, data_dir, temporary), markup=False, highlight=False)
        # the compiled spec, models and fixtures live as long as the process: keep the cyclic GC from walking
        # them again and again, which otherwise shows up as latency spikes
        gc.collect()
        gc.freeze()
        run_loop(_run(listeners, tls))
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)


def run_loop(main: Any) -> None:
    """uvloop when installed (as uvicorn itself would choose), else asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _run(listeners: list[tuple[socket.socket, Any, str | None]], tls: Any) -> None:
    servers = []
    connections = Connections()  # one descriptor budget for every listener of the process
    for sock, app, api in listeners:
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on" if api is None else "off",
            ssl_certfile=str(tls.cert) if tls else None,
            ssl_keyfile=str(tls.key) if tls else None,
            **uvicorn_settings(app, connections),
        )
        servers.append((uvicorn.Server(config), sock))
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))
