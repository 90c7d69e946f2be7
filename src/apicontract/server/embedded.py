"""Run the reference server inside this process, on a free loopback port, for as long as a block lasts.

`apicontract check` without `--base-url` and the tests use it: a real uvicorn on a real socket, bound
before the thread starts so the port is known and no other process can take it in between.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from apicontract.server.app import ReferenceServer, ServerConfig
from apicontract.server.connections import Connections, uvicorn_settings


class EmbeddedServer:
    def __init__(
        self,
        config: ServerConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        max_connections: int | None = None,
        wrap: Callable[[ReferenceServer], Any] | None = None,
    ):
        self.config = config
        self.wrap = wrap  # an ASGI middleware factory around the server (a gateway, a proxy), or None
        self.host = host
        self.port = port
        self.max_connections = max_connections  # default: the process's descriptor limit, less a reserve
        self.app: ReferenceServer | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, api: str) -> str:
        return f"{self.base_url}/{api}"

    def start(self, timeout: float = 10.0) -> EmbeddedServer:
        self.app = ReferenceServer(self.config)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(2048)
        self.port = sock.getsockname()[1]
        connections = Connections(self.max_connections)
        served = self.wrap(self.app) if self.wrap else self.app
        config = uvicorn.Config(served, log_level="warning", lifespan="on", **uvicorn_settings(self.app, connections))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the embedded reference server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, kind: type | None, value: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()
