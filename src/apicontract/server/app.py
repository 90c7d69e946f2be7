"""The reference server as one ASGI app: each API under its own prefix (`/sim-v1`, ... `/cpaas`).

Requests are routed by their first path segment to that API's `ApiServer`; `GET /` lists the APIs.
Anything unexpected inside a handler is logged and answered 500 in the API's error shape rather than
dropping the connection, though the contract tests hold the server to never reaching that.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

from apicontract.generated import load_bundle, load_models
from apicontract.paths import Layout
from apicontract.server.accounts import Account
from apicontract.server.api_server import INTERNAL, ApiServer, send_internal
from apicontract.server.apis.base import ApiContext
from apicontract.server.compiled import Answer, Limits, compile_api
from apicontract.server.delivery import MAX_PENDING, Deliverer
from apicontract.server.store import Store
from apicontract.specs.fixtures import account_name
from apicontract.specs.webhooks import calls_back
from apicontract.specs.yamlfile import SpecFileError, load

log = logging.getLogger("apicontract.server")


IMPLEMENTATIONS = {
    "sim-v1": ("apicontract.server.apis.sim_v1", "SimV1"),
    "sim-v2": ("apicontract.server.apis.sim_v2", "SimV2"),
    "sim-v3": ("apicontract.server.apis.sim_v3", "SimV3"),
    "cpaas": ("apicontract.server.apis.cpaas", "Cpaas"),
}


def implementation(api: str) -> Any:
    module, name = IMPLEMENTATIONS[api]
    return getattr(importlib.import_module(module), name)


def load_fixtures(where: Layout, api: str, path: Path) -> dict:
    """Fixtures, checked against the API's fixtures schema so a bad --fixtures file is a clear error."""
    try:
        fixtures = load(path)
    except SpecFileError as exc:
        raise ValueError(f"{path}{f':{exc.line}' if exc.line else ''}: {exc}") from None
    schema = load(where.spec / api / "fixtures.schema.json")
    for error in jsonschema_rs.validator_for(schema).iter_errors(fixtures):
        at = "/".join(str(p) for p in error.instance_path) or "/"
        raise ValueError(f"{path}: not valid {api} fixtures at {at}: {error.message}")
    return fixtures


@dataclass
class ServerConfig:
    layout: Layout
    data_dir: Path
    apis: list[str]
    fixtures: dict[str, Path] = field(default_factory=dict)  # api -> fixtures file (default: the spec's)
    webhook_url: str | None = None
    callback_url: str | None = None
    time_scale: float = 1.0  # multiplies cpaas repeat intervals (0: no waiting)
    max_pending_events: int = MAX_PENDING  # the delivery queue's cap (webhooks and callbacks)
    endpoints: dict[str, str] = field(default_factory=dict)  # api -> its events' endpoint, over the two above


class ReferenceServer:
    """The ASGI application."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.store = Store(config.data_dir)
        self.deliverer = Deliverer(self.store, time_scale=config.time_scale, max_pending=config.max_pending_events)
        self.apis: dict[str, ApiServer] = {}
        self.contexts: dict[str, ApiContext] = {}
        for name in config.apis:
            doc = load_bundle(config.layout, name)
            models = load_models(config.layout, name)
            fixtures_path = config.fixtures.get(name) or config.layout.spec / name / "fixtures.yaml"
            fixtures = load_fixtures(config.layout, name, fixtures_path)
            accounts = [
                Account(name, index, account_name(entry, index), entry)
                for index, entry in enumerate(fixtures.get("accounts") or [])
            ]
            compiled = compile_api(name, doc)
            default = config.callback_url if calls_back(doc) else config.webhook_url
            endpoint = config.endpoints.get(name) or default
            ctx = ApiContext(name, compiled, self.store, fixtures, accounts, models, self.deliverer, endpoint)
            self.contexts[name] = ctx
            self.apis["/" + name] = ApiServer(compiled, accounts, implementation(name)(ctx), models)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        cut = path.find("/", 1)
        prefix, rest = (path, "/") if cut < 0 else (path[:cut], path[cut:])
        api = self.apis.get(prefix)
        if api is None:
            if path == "/" and scope["method"] == "GET":
                return await send_internal(send, 200, {"apis": sorted(p[1:] for p in self.apis)})
            return await send_internal(send, 404, {"message": "not_found", "apis": sorted(self.apis)})
        try:
            await api.handle(scope, receive, send, rest)
        except Exception:  # noqa: BLE001 - logged, answered, never a dropped connection
            log.exception("unexpected error in %s %s", scope["method"], path)
            field_name = api.compiled.field_name
            await send_internal(send, 500, {field_name: "internal_error"})

    # --- what the HTTP layer asks before an API sees a request (server/connections.py) ---------------

    def _api_of(self, target: bytes) -> ApiServer | None:
        """The API a raw request target names by its first path segment, if any."""
        path = target.split(b"?", 1)[0]
        cut = path.find(b"/", 1)
        return self.apis.get((path if cut < 0 else path[:cut]).decode("latin-1"))

    def limits_for(self, target: bytes) -> Limits | None:
        api = self._api_of(target)
        return api.compiled.limits if api is not None else None

    def lenient_limits(self) -> Limits:
        """Each limit at its most lenient among the served APIs: what holds before a request names its API."""
        return self._combined(max)

    def strict_limits(self) -> Limits:
        """Each limit at its strictest among the served APIs: within these, no API's limit can be passed."""
        return self._combined(min)

    def _combined(self, pick: Any) -> Limits:
        every = [api.compiled.limits for api in self.apis.values()]
        return Limits(**{f.name: pick(getattr(lim, f.name) for lim in every) for f in dataclasses.fields(Limits)})

    def http_error(self, status: int, target: bytes) -> Answer:
        """`x-http-errors[status]` of the API the target names; for no API, the server's own JSON."""
        api = self._api_of(target)
        if api is not None and status in api.compiled.http_errors:
            return api.compiled.http_errors[status]
        reason = {400: "malformed HTTP request", 408: "request too slow", 431: "request headers too large"}
        body = json.dumps({"error": reason.get(status, "refused"), "apis": sorted(p[1:] for p in self.apis)})
        return Answer(status, body.encode(), ((INTERNAL, b"not part of the documented API"),))

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.deliverer.start()
                for ctx in self.contexts.values():
                    ctx.resume_pending()  # events an earlier run left pending
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.deliverer.stop()
                self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
