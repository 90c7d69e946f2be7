"""Deliberately broken variants of the reference server, each one small, named fault.

A fault is applied to a running `ReferenceServer` (the app behind an `EmbeddedServer`) by replacing one
piece of it: a handler, an answer, a model, a check. The proof-of-power tests assert that the contract
suite catches every one of them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apicontract.server.api import Reply
from apicontract.server.contract import Answer


@dataclass(frozen=True)
class Fault:
    name: str
    api: str
    what: str  # the kind of fault, as the issue lists them
    select: str  # the part of the suite expected to catch it (a pytest -k expression)
    apply: Callable[[Any], None]


FAULTS: list[Fault] = []


def fault(name: str, api: str, what: str, select: str):
    def register(apply: Callable[[Any], None]) -> Callable[[Any], None]:
        FAULTS.append(Fault(name, api, what, select, apply))
        return apply

    return register


# --- helpers that reach into one API of the running server ------------------------------------------------


def server_of(app: Any, api: str) -> Any:
    return app.apis["/" + api]


def wrap_handler(app: Any, api: str, op_id: str, wrapper: Callable[[Callable, Any], Any]) -> None:
    served = server_of(app, api)
    original = served.handlers[op_id]
    served.handlers[op_id] = lambda call: wrapper(original, call)


class _Dumped:
    def __init__(self, data: Any):
        self.data = data

    def model_dump_json(self, **_: Any) -> str:
        return json.dumps(self.data)


class _Rewriting:
    """Stands in for a success model: validates as the real one, then rewrites what is sent."""

    def __init__(self, real: Any, rewrite: Callable[[dict], dict]):
        self.real, self.rewrite = real, rewrite

    def model_validate(self, data: Any) -> _Dumped:
        return _Dumped(self.rewrite(self.real.model_validate(data).model_dump(mode="json", by_alias=True)))


def rewrite_success(app: Any, api: str, op_id: str, rewrite: Callable[[dict], dict]) -> None:
    served = server_of(app, api)
    served.success_models[op_id] = _Rewriting(served.success_models[op_id], rewrite)


def replace_answer(
    app: Any, api: str, op_id: str, status: int, code: str, body: dict, new_status: int | None = None
) -> None:
    op = server_of(app, api).compiled.operations[op_id]
    old = op.answers[(status, code)]
    op.answers[(status, code)] = Answer(new_status or old.status, json.dumps(body).encode(), old.headers)


# --- the faults ---------------------------------------------------------------------------------------------


@fault("sim-v1 retrieve drops pin", "sim-v1", "drops a field", "conformance or behaviour")
def _drop_pin(app: Any) -> None:
    rewrite_success(app, "sim-v1", "retrieveSim", lambda body: {k: v for k, v in body.items() if k != "pin"})


@fault("cpaas balance drops status", "cpaas", "drops a field", "conformance")
def _drop_status(app: Any) -> None:
    rewrite_success(app, "cpaas", "getBalance", lambda body: {k: v for k, v in body.items() if k != "status"})


@fault("sim-v2 create answers 201", "sim-v2", "wrong status", "conformance or behaviour")
def _status_201(app: Any) -> None:
    server_of(app, "sim-v2").compiled.operations["createSim"].success_status = 201


@fault("sim-v1 not-found answers 400", "sim-v1", "wrong status", "conformance or behaviour or error_codes")
def _not_found_400(app: Any) -> None:
    replace_answer(app, "sim-v1", "retrieveSim", 404, "sim_not_found", {"message": "sim_not_found"}, 400)


@fault("sim-v1 invalid uuid answers sim_not_found", "sim-v1", "wrong error code", "error_codes or conformance")
def _wrong_code(app: Any) -> None:
    replace_answer(app, "sim-v1", "retrieveSim", 400, "uuid_invalid", {"message": "sim_not_found"})


@fault("sim-v3 alias error says id_invalid", "sim-v3", "wrong error code", "error_codes")
def _alias_code(app: Any) -> None:
    replace_answer(app, "sim-v3", "createSim", 400, "alias_invalid", {"message": "id_invalid"})


@fault("sim-v2 accepts any API key", "sim-v2", "ignores auth", "security or conformance")
def _any_key(app: Any) -> None:
    served = server_of(app, "sim-v2")
    original = served.auth.authenticate
    served.auth.authenticate = lambda headers, query: original(headers, query) or served.accounts[0]


@fault("cpaas ignores the query access key", "cpaas", "ignores auth", "security")
def _no_query_auth(app: Any) -> None:
    served = server_of(app, "cpaas")
    served.auth.security = [s for s in served.auth.security if s.get("in") != "query"]


@fault("sim-v1 401 without WWW-Authenticate", "sim-v1", "wrong header", "conformance")
def _no_challenge(app: Any) -> None:
    compiled = server_of(app, "sim-v1").compiled
    compiled.unauthorized = dataclasses.replace(compiled.unauthorized, headers=())


@fault("sim-v2 update is not stored", "sim-v2", "loses an update", "behaviour")
def _lose_update(app: Any) -> None:
    wrap_handler(app, "sim-v2", "updateSim", lambda original, call: Reply())


@fault("sim-v3 delete is not stored", "sim-v3", "loses a delete", "behaviour")
def _lose_delete(app: Any) -> None:
    wrap_handler(app, "sim-v3", "deleteSim", lambda original, call: Reply())


@fault("sim-v2 retrieve serves stale reads", "sim-v2", "stale read", "behaviour")
def _stale(app: Any) -> None:
    cache: dict[str, Reply] = {}

    def cached(original: Callable, call: Any) -> Any:
        key = call.params["sim"]
        if key not in cache:
            cache[key] = original(call)
        return cache[key]

    wrap_handler(app, "sim-v2", "retrieveSim", cached)


@fault("sim-v1 accepts a 14-digit uuid", "sim-v1", "accepts invalid input", "error_codes or conformance")
def _lax_uuid(app: Any) -> None:
    for op in server_of(app, "sim-v1").compiled.operations.values():
        for field in op.path_fields:
            field.check = lambda value: isinstance(value, str) and value.isdigit()


@fault("sim-v3 accepts unknown body fields", "sim-v3", "accepts invalid input", "conformance or error_codes")
def _open_bodies(app: Any) -> None:
    for op in server_of(app, "sim-v3").compiled.operations.values():
        for shape in op.bodies.values():
            shape.closed = False
            shape.whole = lambda value: True


@fault("sim-v2 shows another account's SIM", "sim-v2", "leaks another account's SIM", "security or behaviour")
def _leak(app: Any) -> None:
    impl = server_of(app, "sim-v2").impl

    def provisioned(call: Any, db: Any) -> Any:
        row = impl._find(db, call.params["sim"])
        if row is None or not row["provisioned"]:
            raise call.reject(404)
        return row

    impl._provisioned = provisioned


@fault("sim-v1 location_update without imsi", "sim-v1", "malformed webhook", "webhooks")
def _bad_webhook(app: Any) -> None:
    ctx = server_of(app, "sim-v1").impl.ctx
    ctx.hooks["location_update"] = dataclasses.replace(ctx.hooks["location_update"], model=None)
    original = ctx.emit

    def emit(account: Any, steps: list) -> Any:
        return original(account, [(n, {k: v for k, v in p.items() if k != "imsi"}, d) for n, p, d in steps])

    ctx.emit = emit


@fault("sim-v3 webhooks without Authorization", "sim-v3", "malformed webhook", "webhooks")
def _webhook_no_auth(app: Any) -> None:
    for account in server_of(app, "sim-v3").accounts:
        account.data["webhook"] = {}


@fault("cpaas endCallback before startCallback", "cpaas", "malformed webhook", "webhooks")
def _callback_order(app: Any) -> None:
    ctx = server_of(app, "cpaas").impl.ctx
    original = ctx.emit
    ctx.emit = lambda account, steps: original(account, list(reversed(steps)))


@fault("cpaas listing totalPages off by one", "cpaas", "wrong pagination", "behaviour")
def _pages(app: Any) -> None:
    def bump(body: dict) -> dict:
        body["pagination"]["totalPages"] += 1
        return body

    rewrite_success(app, "cpaas", "listMedia", bump)


@fault("cpaas download corrupts a byte", "cpaas", "wrong download", "behaviour")
def _corrupt(app: Any) -> None:
    def corrupt(original: Callable, call: Any) -> Any:
        reply = original(call)
        if reply is not None and reply.raw:
            return Reply(raw=bytes([reply.raw[0] ^ 1]) + reply.raw[1:], content_type=reply.content_type)
        return reply

    wrap_handler(app, "cpaas", "getMedia", corrupt)


@fault("cpaas balance as text/plain", "cpaas", "wrong content type", "conformance")
def _text_plain(app: Any) -> None:
    def plain(original: Callable, call: Any) -> Any:
        original(call)
        body = json.dumps({"status": "ok", "personalAccountId": "0000000000", "balance": "100.0"}).encode()
        return Reply(raw=body, content_type="text/plain")

    wrap_handler(app, "cpaas", "getBalance", plain)


@fault("sim-v3 usage crashes", "sim-v3", "server error", "conformance or behaviour")
def _crash(app: Any) -> None:
    def crash(original: Callable, call: Any) -> Any:
        raise RuntimeError("deliberate fault")

    wrap_handler(app, "sim-v3", "retrieveUsage", crash)


@fault("sim-v1 update keeps omitted flags", "sim-v1", "wrong update semantics (R9)", "behaviour")
def _r9(app: Any) -> None:
    impl = server_of(app, "sim-v1").impl

    def keep(original: Callable, call: Any) -> Any:
        row = impl.store.one("SELECT * FROM v1_sims WHERE uuid = ?", (call.params["uuid"],))
        if row is not None:
            for flag in ("voice", "sms", "data"):
                if flag not in call.given:
                    call.body[flag] = bool(row[flag])
        return original(call)

    wrap_handler(app, "sim-v1", "updateSim", keep)
