"""Deliberately broken variants of the reference server, each one small, named fault.

A fault is applied to a running `ReferenceServer` (the app behind an `EmbeddedServer`) by replacing one
piece of it: a handler, an answer, a model, a check, an event. Each is written from a ruling's sentence and
names the ruling clauses it breaks (contracts/clauses.yaml); the proof-of-power tests run only the checks
that exercise those clauses (`apicontract check --clause`) and require that they catch it. Nothing here
changes what the suite expects: every fault is a bug of the server.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from apicontract.server.accounts import token
from apicontract.server.api_server import Reply, send_bytes
from apicontract.server.apis.base import ApiContext
from apicontract.server.apis.sim_v2 import is_imsi
from apicontract.server.compiled import FORM, JSON, MULTIPART, Answer, Rejection


@dataclass(frozen=True)
class Fault:
    name: str
    api: str
    what: str  # the kind of fault, as the issue lists them
    clauses: tuple[str, ...]  # the ruling clauses it breaks: the checks that exercise them must catch it
    apply: Callable[[Any], None]
    examples: int = 5  # `--examples`: as few as still catch it at every seed tried
    require_https: bool = False  # checked with `--require-https` (R6)


FAULTS: list[Fault] = []


def fault(name: str, api: str, what: str, clauses: tuple[str, ...], examples: int = 5, require_https: bool = False):
    def register(apply: Callable[[Any], None]) -> Callable[[Any], None]:
        FAULTS.append(Fault(name, api, what, tuple(clauses), apply, examples, require_https))
        return apply

    return register


# --- helpers that reach into one API of the running server ------------------------------------------------


def server_of(app: Any, api: str) -> Any:
    return app.apis["/" + api]


def impl_of(app: Any, api: str) -> Any:
    return server_of(app, api).impl


def op_of(app: Any, api: str, op_id: str) -> Any:
    return server_of(app, api).compiled.operations[op_id]


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


class _Unchecked:
    """Stands in for a success model: sends what the handler answered (with the model's constant fields, when
    it answered an object)."""

    def __init__(self, constants: dict):
        self.constants = constants

    def model_validate(self, data: Any) -> _Dumped:
        return _Dumped({**self.constants, **data} if isinstance(data, dict) else data)


def unchecked_success(app: Any, api: str, op_ids: list[str], constants: dict) -> None:
    for op_id in op_ids:
        server_of(app, api).success_models[op_id] = _Unchecked(constants)


def replace_answer(
    app: Any, api: str, op_id: str, status: int, code: str, body: dict, new_status: int | None = None
) -> None:
    op = op_of(app, api, op_id)
    old = op.answers[(status, code)]
    op.answers[(status, code)] = Answer(new_status or old.status, json.dumps(body).encode(), old.headers)


def body_fields(app: Any, api: str, op_ids: list[str], name: str, ctypes: tuple[str, ...] = (JSON, FORM)):
    """The body field `name` of each operation and content type, its shape's whole-body check switched off
    (the per-field checks stay: a fault changes one of them)."""
    for op_id in op_ids:
        for ctype, shape in op_of(app, api, op_id).bodies.items():
            if ctype in ctypes:
                shape.whole = lambda value: True
                yield from (f for f in shape.fields if f.name == name)


def check_field(app: Any, api: str, op_ids: list[str], name: str, check: Callable[[Any], bool], **kw: Any) -> None:
    for spec in body_fields(app, api, op_ids, name, **kw):
        spec.check = check


def replace_events(app: Any, api: str, rewrite: Callable[[Any, list], list], names: tuple[str, ...] = ()) -> None:
    """Rewrite the steps `ctx.emit` sends; `names`: webhooks whose payloads skip their schema's model."""
    ctx = impl_of(app, api).ctx
    for name in names:
        ctx.hooks[name] = dataclasses.replace(ctx.hooks[name], model=None)
    original = ctx.emit
    ctx.emit = lambda account, steps: original(account, rewrite(account, steps))


def rewrite_payloads(app: Any, api: str, name: str, rewrite: Callable[[dict], dict]) -> None:
    """Event `name`'s payloads, as validated by its model, then changed (the model no longer stands between)."""
    model = impl_of(app, api).ctx.hooks[name].model

    def steps_of(account: Any, steps: list) -> list:
        found = []
        for event, payload, delay in steps:
            if event == name:
                payload = rewrite(model.model_validate(payload).model_dump(mode="json", by_alias=True))
            found.append((event, payload, delay))
        return found

    replace_events(app, api, steps_of, (name,))


@dataclass
class Seen:
    """A request as it reaches an API, its whole body read."""

    method: str
    path: str  # below the API's prefix
    query: str
    headers: dict[bytes, bytes]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()


Decide = Callable[[Seen], "tuple[int, Any] | None"]


def on_request(app: Any, api: str, before: Decide | None = None, after: Callable[[Seen, int], None] | None = None):
    """Look at each request before the API does: `before` may answer it itself ((status, JSON body)) or change
    it (its method, headers, body); `after` sees the status it was answered with."""
    served = server_of(app, api)
    original = served.handle

    async def handle(scope: dict, receive: Any, send: Any, path: str) -> None:
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        headers = dict(scope["headers"])
        seen = Seen(
            scope["method"], path, scope.get("query_string", b"").decode("latin-1"), dict(headers), b"".join(chunks)
        )
        if before is not None:
            decided = before(seen)
            if decided is not None:
                status, value = decided
                return await send_bytes(send, status, json.dumps(value).encode(), b"application/json")
        if seen.headers != headers or seen.method != scope["method"]:
            scope = {**scope, "method": seen.method, "headers": list(seen.headers.items())}
        replayed = []

        async def replay() -> dict:
            if replayed:
                return await receive()
            replayed.append(True)
            return {"type": "http.request", "body": seen.body, "more_body": False}

        statuses = []

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        await original(scope, replay, sending, seen.path)
        if after is not None and statuses:
            after(seen, statuses[0])

    served.handle = handle


def caller(app: Any, api: str, seen: Seen) -> Any:
    """The account a request's credentials name, or None."""
    return server_of(app, api).auth.authenticate(seen.headers, parse_qsl(seen.query, keep_blank_values=True))


def error(app: Any, api: str, op_id: str, status: int, code: str | None = None) -> tuple[int, Any]:
    """The documented answer of an operation, as `on_request` answers."""
    op = op_of(app, api, op_id)
    answer = op.answer(status, code) if code is None else op.answers[(status, code)]
    return answer.status, json.loads(answer.body)


def matches(pattern: str) -> Callable[[Any], bool]:
    """A field check: a string matching `pattern` whole."""
    return lambda value: isinstance(value, str) and re.fullmatch(pattern, value) is not None


def as_bool(value: Any) -> bool:
    """How a lenient server reads a boolean: any of true/yes/1, in any case."""
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "yes", "1")


# --- sim-v1 ---------------------------------------------------------------------------------------------------

V1_FLAGS = ("voice", "sms", "data")
V1_WRITES = ["createSim", "updateSim"]


def v1_sim(app: Any, uuid: str) -> Any:
    return impl_of(app, "sim-v1").store.one("SELECT * FROM v1_sims WHERE uuid = ?", (uuid,))


@fault("sim-v1 retrieve drops pin", "sim-v1", "drops a field", ("R11.1",))
def _drop_pin(app: Any) -> None:
    rewrite_success(app, "sim-v1", "retrieveSim", lambda body: {k: v for k, v in body.items() if k != "pin"})


@fault(
    "sim-v1 PUK changes when the SIM is created again", "sim-v1", "state lost across delete and re-create", ("R11.1",)
)
def _new_puk(app: Any) -> None:
    impl = impl_of(app, "sim-v1")

    def create(original: Callable, call: Any) -> Any:
        reply = original(call)
        with impl.store.write() as db:
            row = db.execute("SELECT puk FROM v1_sims WHERE uuid = ?", (call.params["uuid"],)).fetchone()
            fresh = str((int(row["puk"]) + 1) % 10**8).zfill(8)  # a "new" PUK issued at provisioning
            db.execute("UPDATE v1_sims SET puk = ? WHERE uuid = ?", (fresh, call.params["uuid"]))
        return reply

    wrap_handler(app, "sim-v1", "createSim", create)


@fault("sim-v1 writes answer message ok in lower case", "sim-v1", "wrong success body", ("R2.1",))
def _ok_lower(app: Any) -> None:
    for op_id in ("createSim", "updateSim", "deleteSim", "sendSms"):  # one shared constant, spelled wrong
        rewrite_success(app, "sim-v1", op_id, lambda body: {"message": "ok"})


@fault("sim-v1 not-found answers 400", "sim-v1", "wrong status", ("R2.2", "R8.3"))
def _not_found_400(app: Any) -> None:
    replace_answer(app, "sim-v1", "retrieveSim", 404, "sim_not_found", {"message": "sim_not_found"}, 400)


@fault("sim-v1 invalid uuid answers sim_not_found", "sim-v1", "wrong error code", ("R2.2", "R10.1"))
def _wrong_code(app: Any) -> None:
    replace_answer(app, "sim-v1", "retrieveSim", 400, "uuid_invalid", {"message": "sim_not_found"})


@fault("sim-v1 update of an unknown uuid says sim_not_found", "sim-v1", "wrong error code", ("R8.3",), examples=25)
def _update_not_found_code(app: Any) -> None:
    # the source's quirk (update 404 is uuid_not_found, retrieve sim_not_found) "fixed" by the implementation
    replace_answer(app, "sim-v1", "updateSim", 404, "uuid_not_found", {"message": "sim_not_found"})


@fault("sim-v1 401 without WWW-Authenticate", "sim-v1", "missing header", ("R3.2",))
def _no_challenge(app: Any) -> None:
    compiled = server_of(app, "sim-v1").compiled
    compiled.unauthorized = dataclasses.replace(compiled.unauthorized, headers=())


@fault("sim-v1 root answers without credentials", "sim-v1", "ignores auth", ("R3.1", "R4.1"))
def _open_root(app: Any) -> None:
    on_request(app, "sim-v1", lambda seen: (200, {"message": "OK"}) if seen.path == "/" else None)


@fault("sim-v1 delete forgets the ownership check", "sim-v1", "forgotten ownership check", ("R3.4", "R8.4"))
def _delete_anyones(app: Any) -> None:
    impl = impl_of(app, "sim-v1")

    def delete(original: Callable, call: Any) -> Any:
        with impl.store.write() as db:
            row = db.execute("SELECT * FROM v1_sims WHERE uuid = ?", (call.params["uuid"],)).fetchone()
            if row is None or not row["provisioned"]:
                raise call.reject(404)
            db.execute("UPDATE v1_sims SET provisioned = 0 WHERE uuid = ?", (row["uuid"],))
        return Reply()

    wrap_handler(app, "sim-v1", "deleteSim", delete)


@fault("sim-v1 create of a uuid in no inventory provisions it", "sim-v1", "no inventory", ("R8.1", "R8.3"), examples=25)
def _adopt(app: Any) -> None:
    impl = impl_of(app, "sim-v1")

    def create(original: Callable, call: Any) -> Any:
        with impl.store.write() as db:
            if db.execute("SELECT 1 FROM v1_sims WHERE uuid = ?", (call.params["uuid"],)).fetchone() is None:
                db.execute(
                    "INSERT INTO v1_sims VALUES (?, ?, '0000', '00000000', 0, 1, 1, 1)",
                    (call.params["uuid"], call.account.name),
                )
        return original(call)

    wrap_handler(app, "sim-v1", "createSim", create)


@fault("sim-v1 deleted SIM cannot be created again", "sim-v1", "state lost across delete and re-create", ("R8.2",))
def _delete_for_good(app: Any) -> None:
    impl = impl_of(app, "sim-v1")

    def delete(original: Callable, call: Any) -> Any:
        reply = original(call)
        with impl.store.write() as db:
            db.execute("DELETE FROM v1_sims WHERE uuid = ?", (call.params["uuid"],))
        return reply

    wrap_handler(app, "sim-v1", "deleteSim", delete)


@fault("sim-v1 create of a provisioned SIM overwrites it", "sim-v1", "missing conflict", ("R8.5",))
def _no_conflict(app: Any) -> None:
    impl = impl_of(app, "sim-v1")

    def create(original: Callable, call: Any) -> Any:
        try:
            return original(call)
        except Rejection as refused:
            if refused.answer.status != 409:
                raise
            return impl.updateSim(call)

    wrap_handler(app, "sim-v1", "createSim", create)


@fault("sim-v1 update keeps omitted flags", "sim-v1", "wrong update semantics", ("R9.1",), examples=25)
def _r9(app: Any) -> None:
    impl = impl_of(app, "sim-v1")

    def keep(original: Callable, call: Any) -> Any:
        row = impl.store.one("SELECT * FROM v1_sims WHERE uuid = ?", (call.params["uuid"],))
        if row is not None:
            for flag in V1_FLAGS:
                if flag not in call.given:
                    call.body[flag] = bool(row[flag])
        return original(call)

    wrap_handler(app, "sim-v1", "updateSim", keep)


@fault("sim-v1 accepts a 14-digit uuid", "sim-v1", "accepts invalid input", ("R10.1",))
def _lax_uuid(app: Any) -> None:
    for op in server_of(app, "sim-v1").compiled.operations.values():
        for spec in op.path_fields:
            spec.check = lambda value: isinstance(value, str) and value.isdigit()


@fault("sim-v1 update ignores a JSON body", "sim-v1", "one content type handled", ("R10.2",), examples=25)
def _form_only(app: Any) -> None:
    def update(original: Callable, call: Any) -> Any:
        if call.content_type == JSON:  # read as the samples send it: only a form carries settings
            call.body.update(dict.fromkeys(V1_FLAGS, True))
        return original(call)

    wrap_handler(app, "sim-v1", "updateSim", update)


def _lenient_flags(app: Any, ctypes: tuple[str, ...]) -> None:
    for flag in V1_FLAGS:
        check_field(
            app,
            "sim-v1",
            V1_WRITES,
            flag,
            lambda v: isinstance(v, bool) or as_bool(v) or str(v).strip().lower() in ("false", "no", "0"),
            ctypes=ctypes,
        )

    def convert(original: Callable, call: Any) -> Any:
        call.body.update({f: as_bool(call.body[f]) for f in V1_FLAGS if f in call.body})
        return original(call)

    for op_id in V1_WRITES:
        wrap_handler(app, "sim-v1", op_id, convert)


@fault("sim-v1 form booleans read leniently (TRUE, yes, 1)", "sim-v1", "strict parsing", ("R10.3",), examples=10)
def _form_yes(app: Any) -> None:
    _lenient_flags(app, (FORM,))


@fault("sim-v1 a form sent as application/json is read as the form", "sim-v1", "wrong content type", ("R5.4",))
def _json_label_form(app: Any) -> None:
    def relabel(seen: Seen) -> None:
        if seen.content_type == JSON and seen.body and not seen.body.lstrip().startswith((b"{", b"[")):
            seen.headers[b"content-type"] = FORM.encode()

    on_request(app, "sim-v1", relabel)


@fault("sim-v1 create answers an oversized body 400", "sim-v1", "wrong status", ("R5.3",))
def _oversized_400(app: Any) -> None:
    replace_answer(app, "sim-v1", "createSim", 413, "payload_too_large", {"message": "body_invalid"}, 400)


@fault("sim-v1 crashes on a form that is not UTF-8", "sim-v1", "server error on bad input", ("R5.1",))
def _crash_on_latin1(app: Any) -> None:
    def decode(seen: Seen) -> None:
        if seen.content_type == FORM:
            for _, value in parse_qsl(seen.body.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
                unquote_to_bytes(value.encode("latin-1")).decode("utf-8")  # raises: an unhandled 500

    on_request(app, "sim-v1", decode)


@fault("sim-v1 unknown path answered before authentication", "sim-v1", "R5a precedence", ("R5a.1",))
def _route_first(app: Any) -> None:
    compiled = server_of(app, "sim-v1").compiled

    def route(seen: Seen) -> tuple[int, Any] | None:
        _, _, answer = compiled.route(seen.method, seen.path)
        return (answer.status, json.loads(answer.body)) if answer is not None and answer.status == 404 else None

    on_request(app, "sim-v1", route)


@fault("sim-v1 router takes only word characters in a uuid", "sim-v1", "wrong status", ("R5c.1",))
def _narrow_router(app: Any) -> None:
    compiled = server_of(app, "sim-v1").compiled

    def route(seen: Seen) -> tuple[int, Any] | None:
        # R5c's 404 is for `/`, control characters and bytes that are not UTF-8, not for any odd character
        if not re.fullmatch(r"[/A-Za-z0-9_.-]*", seen.path):
            return 404, json.loads(compiled.route_answers[404].body)
        return None

    on_request(app, "sim-v1", route)


@fault(
    "sim-v1 send SMS checks the SIM before from and text", "sim-v1", "R5a precedence", ("R5a.1", "R12.2"), examples=10
)
def _sim_before_fields(app: Any) -> None:
    def sim_first(seen: Seen) -> tuple[int, Any] | None:
        found = re.fullmatch(r"/sms/([0-9]{15})", seen.path)
        account = caller(app, "sim-v1", seen) if found and seen.method == "POST" else None
        if account is None:
            return None
        row = v1_sim(app, found.group(1))
        if row is not None and row["account"] != account.name:
            return error(app, "sim-v1", "sendSms", 403)
        if row is None or not row["provisioned"]:
            return error(app, "sim-v1", "sendSms", 404)
        return None

    on_request(app, "sim-v1", sim_first)


@fault("sim-v1 SMS sender of 12 characters accepted", "sim-v1", "off by one at a length edge", ("R12.1",))
def _sender_12(app: Any) -> None:
    check_field(app, "sim-v1", ["sendSms"], "from", matches(r"[A-Za-z0-9]{1,12}"))


@fault("sim-v1 SMS text limit counts UTF-8 bytes", "sim-v1", "length in bytes, not characters", ("R12.1",), examples=25)
def _text_bytes(app: Any) -> None:
    check_field(app, "sim-v1", ["sendSms"], "text", lambda v: isinstance(v, str) and 1 <= len(v.encode()) <= 1600)


@fault("sim-v1 location_update without imsi", "sim-v1", "malformed webhook", ("R13.2",))
def _bad_webhook(app: Any) -> None:
    rewrite_payloads(app, "sim-v1", "location_update", lambda p: {k: v for k, v in p.items() if k != "imsi"})


@fault("sim-v1 xdr numbers as JSON numbers", "sim-v1", "malformed webhook", ("R13.2",))
def _xdr_numbers(app: Any) -> None:
    numbers = ("retries", "ringtime", "billtime", "duration", "download", "upload")
    rewrite_payloads(app, "sim-v1", "xdr", lambda p: {k: int(v) if k in numbers else v for k, v in p.items()})


@fault("sim-v1 event times in ISO 8601 with T and Z", "sim-v1", "wrong time format", ("R7.1",))
def _iso_times(app: Any) -> None:
    rewrite_payloads(app, "sim-v1", "location_update", lambda p: {**p, "time": p["time"].replace(" ", "T") + "Z"})


@fault("sim-v1 webhooks carry the first account's credentials", "sim-v1", "wrong account's credentials", ("R13.1",))
def _first_credentials(app: Any) -> None:
    ctx = impl_of(app, "sim-v1").ctx
    ctx.credentials_of = lambda account: ApiContext.credentials_of(ctx.accounts[0])


@fault("sim-v1 create sends location_update twice", "sim-v1", "duplicate event", ("R13a.1",))
def _twice(app: Any) -> None:
    replace_events(app, "sim-v1", lambda account, steps: [*steps, *[s for s in steps if s[0] == "location_update"]])


@fault("sim-v1 a conflicting create still sends location_update", "sim-v1", "event for a refused request", ("R13a.2",))
def _event_on_conflict(app: Any) -> None:
    impl = impl_of(app, "sim-v1")

    def create(original: Callable, call: Any) -> Any:
        try:
            return original(call)
        except Rejection as refused:
            if refused.answer.status == 409:  # the network is told first, the conflict found after
                impl.ctx.emit(call.account, [("location_update", impl._location_update(call.params["uuid"]), 0)])
            raise

    wrap_handler(app, "sim-v1", "createSim", create)


# --- sim-v2 ---------------------------------------------------------------------------------------------------


@fault("sim-v2 create answers 201", "sim-v2", "wrong status", ("R2.1",))
def _status_201(app: Any) -> None:
    op_of(app, "sim-v2", "createSim").success_status = 201


@fault("sim-v2 served over plain HTTP", "sim-v2", "no TLS", ("R6.1",), require_https=True)
def _plain_http(app: Any) -> None:
    """The server as started here listens on plain HTTP: checked with --require-https, it is refused (R6)."""


@fault("sim-v2 accepts any API key", "sim-v2", "ignores auth", ("R3.1",))
def _any_key(app: Any) -> None:
    served = server_of(app, "sim-v2")
    original = served.auth.authenticate
    served.auth.authenticate = lambda *given: original(*given) or served.accounts[0]


@fault("sim-v2 update is not stored", "sim-v2", "loses an update", ("R8.2", "R9.1"), examples=10)
def _lose_update(app: Any) -> None:
    wrap_handler(app, "sim-v2", "updateSim", lambda original, call: Reply())


@fault("sim-v2 retrieve serves stale reads", "sim-v2", "stale read", ("R8.2",))
def _stale(app: Any) -> None:
    cache: dict[str, Reply] = {}

    def cached(original: Callable, call: Any) -> Any:
        key = call.params["sim"]
        if key not in cache:
            cache[key] = original(call)
        return cache[key]

    wrap_handler(app, "sim-v2", "retrieveSim", cached)


@fault("sim-v2 shows another account's SIM", "sim-v2", "leaks another account's SIM", ("R3.4", "R8.4"))
def _leak(app: Any) -> None:
    impl = impl_of(app, "sim-v2")

    def provisioned(call: Any, db: Any) -> Any:
        row = impl._find(db, call.params["sim"])
        if row is None or not row["provisioned"]:
            raise call.reject(404)
        return row

    impl._provisioned = provisioned


V2_WRITES = ["createSim", "updateSim"]


@fault("sim-v2 path MSISDN of 16 digits accepted", "sim-v2", "off by one at a length edge", ("R14.1",))
def _v2_msisdn_16(app: Any) -> None:
    for op in server_of(app, "sim-v2").compiled.operations.values():
        for spec in op.path_fields:
            if spec.name == "sim":
                spec.check = matches(r"[0-9]{15}|[1-9][0-9]{6,15}")


@fault("sim-v2 body msisdn errors say imsi_invalid", "sim-v2", "wrong error code", ("R14.2",))
def _v2_msisdn_code(app: Any) -> None:
    for spec in body_fields(app, "sim-v2", V2_WRITES, "msisdn"):
        spec.code = "imsi_invalid"


@fault("sim-v2 create ignores a body imsi that differs from the path", "sim-v2", "identifier mismatch", ("R15.1",))
def _v2_ignore_body_imsi(app: Any) -> None:
    def create(original: Callable, call: Any) -> Any:
        if is_imsi(call.params["sim"]):
            call.body.pop("imsi", None)
        return original(call)

    wrap_handler(app, "sim-v2", "createSim", create)


@fault("sim-v2 an unset MSISDN reads as an empty string", "sim-v2", "null vs empty", ("R15.2",))
def _v2_empty_msisdn(app: Any) -> None:
    rewrite_success(app, "sim-v2", "retrieveSim", lambda body: {**body, "msisdn": body["msisdn"] or ""})


@fault(
    "sim-v2 a re-created SIM keeps its old MSISDN", "sim-v2", "state kept across delete", ("R8.2", "R15.3"), examples=25
)
def _v2_msisdn_kept(app: Any) -> None:
    impl = impl_of(app, "sim-v2")
    kept: dict[str, str] = {}

    def delete(original: Callable, call: Any) -> Any:
        row = impl._find(impl.store.db, call.params["sim"])
        reply = original(call)
        if row["msisdn"]:  # only deprovisioned: the number stays with the SIM
            kept[row["imsi"]] = row["msisdn"]
            with impl.store.write() as db:
                db.execute("UPDATE v2_sims SET msisdn = ? WHERE imsi = ?", (row["msisdn"], row["imsi"]))
        return reply

    def create(original: Callable, call: Any) -> Any:
        reply = original(call)
        imsi = call.params["sim"] if is_imsi(call.params["sim"]) else call.body["imsi"]
        if imsi in kept and "msisdn" not in call.given and is_imsi(call.params["sim"]):  # writes only what is given
            with impl.store.write() as db:
                db.execute("UPDATE v2_sims SET msisdn = ? WHERE imsi = ?", (kept.pop(imsi), imsi))
        return reply

    wrap_handler(app, "sim-v2", "deleteSim", delete)
    wrap_handler(app, "sim-v2", "createSim", create)


@fault(
    "sim-v2 another account's SIM by MSISDN is not found", "sim-v2", "identifier form handled once", ("R8.4", "R15.3")
)
def _v2_their_msisdn_404(app: Any) -> None:
    impl = impl_of(app, "sim-v2")
    by_method = {"GET": "retrieveSim", "PUT": "updateSim", "POST": "createSim", "DELETE": "deleteSim"}

    def lookup(seen: Seen) -> tuple[int, Any] | None:
        found = re.fullmatch(r"/sim/([0-9]{7,15})", seen.path)
        if not found or is_imsi(found.group(1)) or seen.method not in by_method:
            return None
        account, row = caller(app, "sim-v2", seen), impl._find(impl.store.db, found.group(1))
        if account is not None and row is not None and row["account"] != account.name:
            return error(app, "sim-v2", by_method[seen.method], 404)  # an MSISDN is looked up among the caller's
        return None

    on_request(app, "sim-v2", lookup)


@fault(
    "sim-v2 update checks data and throttling as given only",
    "sim-v2",
    "R9 before R16 forgotten",
    ("R16.1",),
    examples=25,
)
def _v2_throttling_given(app: Any) -> None:
    impl = impl_of(app, "sim-v2")

    def check(call: Any, flags: dict) -> None:
        given = {f: call.body[f] for f in ("data", "data_throttling") if f in call.given}
        if given.get("data") is False and given.get("data_throttling") is True:
            raise call.reject(409, "data_data_throttling")

    impl._check_throttling = check


@fault("sim-v2 create defaults data_throttling to true", "sim-v2", "wrong default", ("R16.2",))
def _v2_throttled(app: Any) -> None:
    for spec in body_fields(app, "sim-v2", ["createSim"], "data_throttling"):
        spec.default = True


@fault("sim-v2 SMS to a 6-digit number accepted", "sim-v2", "off by one at a length edge", ("R17a.1",))
def _v2_to_6(app: Any) -> None:
    for spec in op_of(app, "sim-v2", "sendSms").path_fields:
        spec.check = matches(r"[1-9][0-9]{5,14}")


@fault("sim-v2 form bodies answered 415", "sim-v2", "one content type handled", ("R17.1",))
def _v2_json_only(app: Any) -> None:
    for op_id in [*V2_WRITES, "sendSms"]:
        del op_of(app, "sim-v2", op_id).bodies[FORM]


@fault("sim-v2 connectors answer without credentials", "sim-v2", "ignores auth", ("R18.3",))
def _v2_open_connectors(app: Any) -> None:
    first = server_of(app, "sim-v2").accounts[0]
    key = token(first.data["credentials"])

    def let_in(seen: Seen) -> None:
        if seen.path.startswith("/connector/") and caller(app, "sim-v2", seen) is None:
            seen.headers[b"authorization"] = key.encode()

    on_request(app, "sim-v2", let_in)


@fault("sim-v2 connector delete is not stored", "sim-v2", "loses a delete", ("R18.3",))
def _v2_connector_kept(app: Any) -> None:
    wrap_handler(app, "sim-v2", "deleteConnector", lambda original, call: Reply())


@fault("sim-v2 connector read ignores the path id", "sim-v2", "ignores the identifier", ("R18.1", "R18.3"))
def _v2_connector_any_id(app: Any) -> None:
    impl = impl_of(app, "sim-v2")

    def latest(original: Callable, call: Any) -> Any:
        row = impl.store.one(
            "SELECT body FROM connectors WHERE api = ? AND account = ? ORDER BY rowid LIMIT 1",
            ("sim-v2", call.account.name),
        )
        return Reply(data=json.loads(row["body"])) if row else original(call)

    wrap_handler(app, "sim-v2", "retrieveConnector", latest)


@fault("sim-v2 connector read answers a JSON array", "sim-v2", "wrong body shape", ("R18.2",))
def _v2_connector_array(app: Any) -> None:
    wrap_handler(app, "sim-v2", "retrieveConnector", lambda original, call: Reply(data=[original(call).data]))
    unchecked_success(app, "sim-v2", ["retrieveConnector"], {})


# --- sim-v3 ---------------------------------------------------------------------------------------------------


@fault("sim-v3 alias error says id_invalid", "sim-v3", "wrong error code", ("R2.2", "R20.2"))
def _alias_code(app: Any) -> None:
    replace_answer(app, "sim-v3", "createSim", 400, "alias_invalid", {"message": "id_invalid"})


@fault("sim-v3 delete is not stored", "sim-v3", "loses a delete", ("R8.2",))
def _lose_delete(app: Any) -> None:
    wrap_handler(app, "sim-v3", "deleteSim", lambda original, call: Reply())


@fault("sim-v3 accepts unknown body fields", "sim-v3", "unknown field accepted", ("R5.6",))
def _open_bodies(app: Any) -> None:
    for op in server_of(app, "sim-v3").compiled.operations.values():
        for shape in op.bodies.values():
            shape.closed = False
            shape.whole = lambda value: True


@fault("sim-v3 webhooks without Authorization", "sim-v3", "missing webhook credentials", ("R22.1", "R22a.4"))
def _webhook_no_auth(app: Any) -> None:
    for account in server_of(app, "sim-v3").accounts:
        account.data["webhook"] = {}


@fault("sim-v3 usage crashes", "sim-v3", "server error", ("R21.3",))
def _crash(app: Any) -> None:
    def crash(original: Callable, call: Any) -> Any:
        raise RuntimeError("deliberate fault")

    wrap_handler(app, "sim-v3", "retrieveUsage", crash)


V3_SIM_OPS = ["retrieveSim", "createSim", "updateSim", "deleteSim"]


def v3_sim(app: Any, sim_id: str) -> Any:
    return impl_of(app, "sim-v3").store.one("SELECT * FROM v3_sims WHERE id = ?", (sim_id,))


@fault("sim-v3 id of 10 digits accepted", "sim-v3", "off by one at a length edge", ("R20.1",))
def _v3_id_10(app: Any) -> None:
    check_field(app, "sim-v3", V3_SIM_OPS, "id", matches(r"[0-9]{9,10}"))


@fault("sim-v3 aliases compared ignoring case", "sim-v3", "uniqueness compared loosely", ("R20.2",))
def _v3_alias_case(app: Any) -> None:
    def check(call: Any, db: Any, alias: str | None, sim_id: str) -> None:
        if (
            alias is not None
            and db.execute(
                "SELECT 1 FROM v3_sims WHERE account = ? AND lower(alias) = lower(?) AND provisioned = 1 AND id != ?",
                (call.account.name, alias, sim_id),
            ).fetchone()
        ):
            raise call.reject(409, "alias")

    impl_of(app, "sim-v3")._check_alias = check


@fault("sim-v3 update with alias null keeps the alias", "sim-v3", "omitted vs null", ("R20.2", "R9.1"), examples=10)
def _v3_null_kept(app: Any) -> None:
    def update(original: Callable, call: Any) -> Any:
        if call.body.get("alias") is None:
            call.given = call.given - {"alias"}  # null read as "not given"
        return original(call)

    wrap_handler(app, "sim-v3", "updateSim", update)


@fault("sim-v3 create defaults active to false", "sim-v3", "wrong default", ("R20.3",))
def _v3_inactive(app: Any) -> None:
    for spec in body_fields(app, "sim-v3", ["createSim"], "active"):
        spec.default = False


@fault("sim-v3 usage of another account's SIM is served", "sim-v3", "forgotten ownership check", ("R3.4", "R8.4"))
def _v3_usage_anyones(app: Any) -> None:
    impl = impl_of(app, "sim-v3")

    def usage(original: Callable, call: Any) -> Any:
        row = v3_sim(app, call.body["sim_id"])
        if row is not None and row["account"] != call.account.name and row["provisioned"]:
            rows = impl.store.all(
                "SELECT record FROM v3_usage WHERE sim_id = ? AND time >= ? AND time < ? ORDER BY time, seq",
                (row["id"], call.body["time_begin"], call.body["time_end"]),
            )
            return impl.ok({"usage": [json.loads(r["record"]) for r in rows]})
        return original(call)

    wrap_handler(app, "sim-v3", "retrieveUsage", usage)


@fault("sim-v3 GET /sim reads the id from the query string", "sim-v3", "body on GET ignored", ("R19.1", "R19.2"))
def _v3_get_query(app: Any) -> None:
    def query(seen: Seen) -> None:
        if seen.method == "GET" and seen.path == "/sim":  # the framework drops a GET body
            given = dict(parse_qsl(seen.query))
            seen.body = json.dumps({"id": given["id"]}).encode() if "id" in given else b""

    on_request(app, "sim-v3", query)


@fault("sim-v3 DELETE bodies are not read", "sim-v3", "body on DELETE ignored", ("R19.2",))
def _v3_delete_unread(app: Any) -> None:
    for op_id in ("deleteSim", "deleteConnector"):
        op_of(app, "sim-v3", op_id).bodies = {}

    def delete(original: Callable, call: Any) -> Any:
        if "id" not in call.body:
            raise call.reject(400, "id")
        return original(call)

    for op_id in ("deleteSim", "deleteConnector"):
        wrap_handler(app, "sim-v3", op_id, delete)


@fault("sim-v3 GET /sim without a body answers body_invalid", "sim-v3", "missing body", ("R5.8",))
def _v3_missing_body(app: Any) -> None:
    on_request(
        app, "sim-v3", lambda seen: (400, {"message": "body_invalid"}) if not seen.body and seen.path != "/" else None
    )


@fault(
    "sim-v3 unknown field answered before an invalid documented one", "sim-v3", "R5a precedence", ("R5.7",), examples=10
)
def _v3_unknown_first(app: Any) -> None:
    for op in server_of(app, "sim-v3").compiled.operations.values():
        codes = op.codes.get(400, [])
        if "body_invalid" in codes:
            op.codes[400] = ["body_invalid", *(c for c in codes if c != "body_invalid")]


@fault("sim-v3 active accepts the string true", "sim-v3", "strict parsing", ("R5.5",))
def _v3_active_text(app: Any) -> None:
    check_field(app, "sim-v3", ["createSim", "updateSim"], "active", lambda v: v in (True, False, "true", "false"))

    def convert(original: Callable, call: Any) -> Any:
        call.body["active"] = as_bool(call.body["active"])
        return original(call)

    for op_id in ("createSim", "updateSim"):
        wrap_handler(app, "sim-v3", op_id, convert)


@fault("sim-v3 usage sim_id of 8 digits accepted", "sim-v3", "off by one at a length edge", ("R21.1",))
def _v3_sim_id_8(app: Any) -> None:
    check_field(
        app,
        "sim-v3",
        ["retrieveUsage"],
        "sim_id",
        matches(r"[0-9]{8,9}"),
    )


@fault("sim-v3 time_end errors say time_begin_invalid", "sim-v3", "wrong error code", ("R21.2",))
def _v3_time_end_code(app: Any) -> None:
    replace_answer(app, "sim-v3", "retrieveUsage", 400, "time_end_invalid", {"message": "time_begin_invalid"})


@fault("sim-v3 usage window includes time_end", "sim-v3", "off by one at a time window edge", ("R21.3",), examples=10)
def _v3_closed_window(app: Any) -> None:
    impl = impl_of(app, "sim-v3")

    def usage(original: Callable, call: Any) -> Any:
        begin, end = call.body["time_begin"], call.body["time_end"]
        if end < begin:
            raise call.reject(400, "time_end")
        row = impl._provisioned(call, impl.store.db, call.body["sim_id"])
        rows = impl.store.all(
            "SELECT record FROM v3_usage WHERE sim_id = ? AND time >= ? AND time <= ? ORDER BY time, seq",
            (row["id"], begin, end),
        )
        return impl.ok({"usage": [json.loads(r["record"]) for r in rows]})

    wrap_handler(app, "sim-v3", "retrieveUsage", usage)


@fault("sim-v3 usage accepts time_end before time_begin", "sim-v3", "time window edge", ("R21.4",), examples=10)
def _v3_reversed_window(app: Any) -> None:
    impl = impl_of(app, "sim-v3")

    def usage(original: Callable, call: Any) -> Any:
        if call.body["time_end"] < call.body["time_begin"]:
            impl._provisioned(call, impl.store.db, call.body["sim_id"])
            return impl.ok({"usage": []})
        return original(call)

    wrap_handler(app, "sim-v3", "retrieveUsage", usage)


@fault("sim-v3 usage times checked for their shape only", "sim-v3", "no real time accepted", ("R7.2",), examples=10)
def _v3_shape_times(app: Any) -> None:
    for name in ("time_begin", "time_end"):  # any digits in the places of YYYY-MM-DD HH:MM:SS
        check_field(app, "sim-v3", ["retrieveUsage"], name, matches(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"))


@fault("sim-v3 create sends network_registration twice", "sim-v3", "duplicate event", ("R22a.1",))
def _v3_twice(app: Any) -> None:
    replace_events(
        app, "sim-v3", lambda account, steps: [*steps, *[s for s in steps if s[0] == "network_registration"]]
    )


@fault("sim-v3 create sends a usage record GET /usage does not list", "sim-v3", "event not listed", ("R22a.2",))
def _v3_unlisted_usage(app: Any) -> None:
    def steps_of(account: Any, steps: list) -> list:
        found = list(steps)
        for event, payload, _ in steps:
            if event == "network_registration":  # a usage record for the registration, never stored
                record = {
                    "time": payload["time"],
                    "bill_id": "0-0001",
                    "sim_id": payload["sim_id"],
                    "country_code": "dk",
                }
                found.append(("usage", {**record, "operation": "finalize", "upload": "0", "download": "0"}, 0))
        return found

    replace_events(app, "sim-v3", steps_of)


@fault(
    "sim-v3 a conflicting create still sends network_registration", "sim-v3", "event for a refused request", ("R22a.3",)
)
def _v3_event_on_conflict(app: Any) -> None:
    impl = impl_of(app, "sim-v3")

    def create(original: Callable, call: Any) -> Any:
        try:
            return original(call)
        except Rejection as refused:
            if refused.answer.status == 409:
                impl.ctx.emit(call.account, [("network_registration", impl._registration(call.body["id"]), 0)])
            raise

    wrap_handler(app, "sim-v3", "createSim", create)


@fault("sim-v3 webhooks carry the first account's key", "sim-v3", "wrong account's credentials", ("R22a.4",))
def _v3_first_key(app: Any) -> None:
    ctx = impl_of(app, "sim-v3").ctx
    ctx.credentials_of = lambda account: ApiContext.credentials_of(ctx.accounts[0])


@fault("sim-v3 event times in local time (UTC+2)", "sim-v3", "time not UTC", ("R7.1",))
def _v3_local_times(app: Any) -> None:
    def later(payload: dict) -> dict:
        local = datetime.strptime(payload["time"], "%Y-%m-%d %H:%M:%S") + timedelta(hours=2)
        return {**payload, "time": local.strftime("%Y-%m-%d %H:%M:%S")}

    rewrite_payloads(app, "sim-v3", "network_registration", later)


@fault("sim-v3 connectors read back without their id", "sim-v3", "drops a field", ("R18.3",))
def _v3_connector_no_id(app: Any) -> None:
    def read(original: Callable, call: Any) -> Any:
        reply = original(call)
        return Reply(data={k: v for k, v in (reply.data or {}).items() if k != "id"})

    wrap_handler(app, "sim-v3", "retrieveConnector", read)
    unchecked_success(app, "sim-v3", ["retrieveConnector"], {})


# --- cpaas ----------------------------------------------------------------------------------------------------


@fault("cpaas balance drops status", "cpaas", "drops a field", ("R23.1", "R28.1"))
def _drop_status(app: Any) -> None:
    rewrite_success(app, "cpaas", "getBalance", lambda body: {k: v for k, v in body.items() if k != "status"})


@fault("cpaas ignores the query access key", "cpaas", "ignores auth", ("R23.4",))
def _no_query_auth(app: Any) -> None:
    served = server_of(app, "cpaas")
    served.auth.security = [s for s in served.auth.security if s.get("in") != "query"]


@fault("cpaas endCallback before startCallback", "cpaas", "events out of order", ("R27.1",))
def _callback_order(app: Any) -> None:
    ctx = impl_of(app, "cpaas").ctx
    original = ctx.emit
    ctx.emit = lambda account, steps: original(account, list(reversed(steps)))


@fault("cpaas listing totalPages off by one", "cpaas", "wrong pagination", ("R25.5",))
def _pages(app: Any) -> None:
    def bump(body: dict) -> dict:
        body["pagination"]["totalPages"] += 1
        return body

    rewrite_success(app, "cpaas", "listMedia", bump)


@fault("cpaas download corrupts a byte", "cpaas", "wrong download", ("R25.3",))
def _corrupt(app: Any) -> None:
    def corrupt(original: Callable, call: Any) -> Any:
        reply = original(call)
        if reply is not None and reply.raw:
            return Reply(raw=bytes([reply.raw[0] ^ 1]) + reply.raw[1:], content_type=reply.content_type)
        return reply

    wrap_handler(app, "cpaas", "getMedia", corrupt)


@fault("cpaas balance as text/plain", "cpaas", "wrong content type", ("R1.1",))
def _text_plain(app: Any) -> None:
    def plain(original: Callable, call: Any) -> Any:
        original(call)
        body = json.dumps({"status": "ok", "personalAccountId": "0000000000", "balance": "100.0"}).encode()
        return Reply(raw=body, content_type="text/plain")

    wrap_handler(app, "cpaas", "getBalance", plain)


CPAAS_ID_OPS = ["getMedia", "renameMedia", "uploadMedia", "deleteMedia"]
CPAAS_MEDIA_OPS = [
    "createMedia",
    "uploadMedia",
    "renameMedia",
    "listMedia",
    "getMedia",
]  # their answers hold media objects


def rewrite_media(app: Any, change: Callable[[dict], dict]) -> None:
    """Every media object in the success answers, changed after its model validated it."""

    def body(data: dict) -> dict:
        if isinstance(data.get("media"), dict):
            data["media"] = change(data["media"])
        elif isinstance(data.get("media"), list):
            data["media"] = [change(m) for m in data["media"]]
        return data

    for op_id in CPAAS_MEDIA_OPS:
        rewrite_success(app, "cpaas", op_id, body)


def cpaas_listing(app: Any, order: str = "id", root_only: bool = True, guarded: bool = True, disabling=("1", "true")):
    """The media listing (Cpaas._listing) with one of its rules changed."""
    impl = impl_of(app, "cpaas")

    def listing(call: Any, parent: int | None) -> Reply:
        where, args = "account = ?", (call.account.name,)
        if parent is not None or root_only:
            where, args = where + " AND parent IS ?", (*args, parent)
        total = impl.store.one(f"SELECT COUNT(*) FROM cpaas_media WHERE {where}", args)[0]  # noqa: S608
        if call.params.get("disable_pagination") in disabling:
            page, pages, limit, offset = 1, 1, -1, 0
        else:
            page, per_page = call.params["page"], call.params["per_page"]
            pages, limit, offset = max(1, -(-total // per_page)), per_page, (page - 1) * per_page
        rows = []
        if not guarded:  # the offset computed by SQLite, from the page as a 64-bit integer
            rows = impl.store.all(
                f"SELECT id, name, created, is_folder FROM cpaas_media WHERE {where}"  # noqa: S608
                f" ORDER BY {order} LIMIT ? OFFSET (? - 1) * ?",
                (*args, limit, page, max(limit, 0)),
            )
        elif offset < total:
            rows = impl.store.all(
                f"SELECT id, name, created, is_folder FROM cpaas_media WHERE {where}"  # noqa: S608
                f" ORDER BY {order} LIMIT ? OFFSET ?",
                (*args, limit, offset),
            )
        pagination = {"totalItems": total, "currentPage": page, "totalPages": pages}
        return impl.ok({"pagination": pagination, "media": [impl._media(row) for row in rows]})

    impl._listing = listing


@fault("cpaas 401 answers status unauthorized", "cpaas", "wrong error body", ("R3.3",))
def _cpaas_401(app: Any) -> None:
    compiled = server_of(app, "cpaas").compiled
    compiled.unauthorized = dataclasses.replace(compiled.unauthorized, body=b'{"status":"unauthorized"}')


@fault("cpaas the query access key beats the header", "cpaas", "R23 precedence swapped", ("R23.4",))
def _query_first(app: Any) -> None:
    auth = server_of(app, "cpaas").auth
    auth.security = sorted(auth.security, key=lambda scheme: scheme.get("in") != "query")


@fault("cpaas invalidDataError answered with 422", "cpaas", "wrong status", ("R23.2",))
def _cpaas_422(app: Any) -> None:
    replace_answer(app, "cpaas", "createMedia", 400, "invalidDataError", {"status": "invalidDataError"}, 422)


@fault("cpaas wrong method answers 404", "cpaas", "wrong status", ("R5.2",))
def _cpaas_no_405(app: Any) -> None:
    compiled = server_of(app, "cpaas").compiled
    compiled._not_allowed = lambda methods: compiled.route_answers[404]


@fault("cpaas malformed JSON answers invalidSchemeError", "cpaas", "wrong error code", ("R23a.1",))
def _cpaas_unparseable(app: Any) -> None:
    def parse(seen: Seen) -> tuple[int, Any] | None:
        if seen.content_type == JSON and seen.body:
            try:
                json.loads(seen.body)
            except ValueError:
                return 400, {"status": "invalidSchemeError"}
        return None

    on_request(app, "cpaas", parse)


@fault("cpaas a missing body is read as an empty object", "cpaas", "missing body", ("R5.8",))
def _cpaas_empty_object(app: Any) -> None:
    def empty(seen: Seen) -> None:
        if not seen.body and (seen.method == "PUT" or (seen.method == "POST" and not seen.path.startswith("/media/"))):
            seen.body, seen.headers[b"content-type"] = b"{}", JSON.encode()

    on_request(app, "cpaas", empty)


@fault("cpaas wrong JSON types answer invalidDataError", "cpaas", "wrong error code", ("R23a.2",))
def _cpaas_no_shape(app: Any) -> None:
    for op_id in ("createMedia", "renameMedia"):
        shape = op_of(app, "cpaas", op_id).bodies[JSON]
        shape.shape_code, shape.root_code = None, "invalidDataError"


@fault("cpaas per_page 0 answers invalidSchemeError", "cpaas", "wrong error code", ("R23a.3",))
def _cpaas_range_scheme(app: Any) -> None:
    for op_id in ("listMedia", "getMedia"):
        for spec in op_of(app, "cpaas", op_id).query_fields:
            if spec.name == "per_page":
                spec.code = "invalidSchemeError"


@fault("cpaas activation checks values before types", "cpaas", "R23a precedence swapped", ("R23a.4",))
def _cpaas_data_first(app: Any) -> None:
    op = op_of(app, "cpaas", "activateApp")
    op.codes[400] = list(reversed(op.codes[400]))


@fault("cpaas uploads take up to 11 MiB", "cpaas", "off by one at a size limit", ("R5.3",))
def _cpaas_big_uploads(app: Any) -> None:
    for op_id in ("createMedia", "uploadMedia"):
        op = op_of(app, "cpaas", op_id)
        op.max_body = op.bodies[MULTIPART].max_body = 11 * 1024 * 1024


@fault("cpaas activation accepts unknown properties", "cpaas", "unknown field accepted", ("R5.6",))
def _cpaas_open_activation(app: Any) -> None:
    shape = op_of(app, "cpaas", "activateApp").bodies[JSON]
    shape.closed, shape.whole = False, lambda value: True


@fault("cpaas rename looks the media id up before the body", "cpaas", "R5a precedence", ("R5a.1",))
def _cpaas_id_first(app: Any) -> None:
    impl = impl_of(app, "cpaas")

    def exists(seen: Seen) -> tuple[int, Any] | None:
        found = re.fullmatch(r"/media/([0-9]{1,18})", seen.path)
        account = caller(app, "cpaas", seen) if found and seen.method == "PUT" else None
        if account is not None:
            row = impl._row(impl.store.db, int(found.group(1)))
            if row is None or row["account"] != account.name:
                return error(app, "cpaas", "renameMedia", 404)
        return None

    on_request(app, "cpaas", exists)


@fault("cpaas a media id that is no integer answers invalidSchemeError", "cpaas", "wrong error code", ("R5c.2",))
def _cpaas_id_scheme(app: Any) -> None:
    for op_id in ("getMedia", "renameMedia", "uploadMedia"):  # those that document invalidSchemeError
        for spec in op_of(app, "cpaas", op_id).path_fields:
            spec.code = "invalidSchemeError"


@fault("cpaas folders carry the zero time 0000-01-01 00:00:00", "cpaas", "no real time", ("R7.2",))
def _cpaas_zero_time(app: Any) -> None:
    rewrite_media(app, lambda m: {**m, "createdDateTime": "0000-01-01 00:00:00"} if m["isFolder"] else m)


@fault("cpaas isFolder as a JSON boolean", "cpaas", "wrong field type", ("R25.1",))
def _cpaas_bool_folder(app: Any) -> None:
    rewrite_media(app, lambda m: {**m, "isFolder": bool(m["isFolder"])})


@fault("cpaas rename of another account's media renames it", "cpaas", "forgotten ownership check", ("R23.3",))
def _cpaas_rename_anyones(app: Any) -> None:
    impl = impl_of(app, "cpaas")

    def rename(original: Callable, call: Any) -> Any:
        with impl.store.write() as db:
            row = impl._row(db, call.params["id"])
            if row is None:
                raise call.reject(404)
            db.execute("UPDATE cpaas_media SET name = ? WHERE id = ?", (call.body["name"], row["id"]))
        return impl.ok({"media": impl._media(impl._row(impl.store.db, row["id"]))})

    wrap_handler(app, "cpaas", "renameMedia", rename)


@fault("cpaas upload into a folder lands in the root", "cpaas", "upload into the wrong folder", ("R25.2",))
def _cpaas_upload_root(app: Any) -> None:
    impl = impl_of(app, "cpaas")

    def upload(original: Callable, call: Any) -> Any:
        with impl.store.write() as db:
            impl._folder(call, db, call.params["id"])
        return impl._store(call, None, call.body["file"], call.body["file"].filename)

    wrap_handler(app, "cpaas", "uploadMedia", upload)


@fault("cpaas GET /media lists every object, not the root only", "cpaas", "media tree", ("R25.4",))
def _cpaas_flat(app: Any) -> None:
    cpaas_listing(app, root_only=False)


@fault("cpaas rename gives the object a new id", "cpaas", "rename changes id", ("R25.6",))
def _cpaas_rename_new_id(app: Any) -> None:
    impl = impl_of(app, "cpaas")

    def rename(original: Callable, call: Any) -> Any:
        with impl.store.write() as db:  # copy under the new name, move the children, drop the old row
            row = impl._owned(call, db, call.params["id"])
            new = db.execute(
                "INSERT INTO cpaas_media (account, parent, name, is_folder, created, content_type, size, file)"
                " SELECT account, parent, ?, is_folder, created, content_type, size, file"
                " FROM cpaas_media WHERE id = ?",
                (call.body["name"], row["id"]),
            ).lastrowid
            db.execute("UPDATE cpaas_media SET parent = ? WHERE parent = ?", (new, row["id"]))
            db.execute("DELETE FROM cpaas_media WHERE id = ?", (row["id"],))
        return impl.ok({"media": impl._media(impl._row(impl.store.db, new))})

    wrap_handler(app, "cpaas", "renameMedia", rename)


@fault("cpaas a JSON body on POST /media/{id} makes a folder", "cpaas", "accepts invalid input", ("R25.7",))
def _cpaas_json_upload(app: Any) -> None:
    impl = impl_of(app, "cpaas")
    op_of(app, "cpaas", "uploadMedia").bodies[JSON] = op_of(app, "cpaas", "createMedia").bodies[JSON]

    def upload(original: Callable, call: Any) -> Any:
        if call.content_type == JSON:
            return impl._store(call, call.params["id"], None, call.body["name"])
        return original(call)

    wrap_handler(app, "cpaas", "uploadMedia", upload)


@fault("cpaas folder delete is not recursive", "cpaas", "delete not recursive", ("R25.8",))
def _cpaas_shallow_delete(app: Any) -> None:
    impl = impl_of(app, "cpaas")

    def delete(original: Callable, call: Any) -> Any:
        with impl.store.write() as db:  # ON DELETE SET NULL: the contents fall into the root
            row = impl._owned(call, db, call.params["id"])
            db.execute("UPDATE cpaas_media SET parent = NULL WHERE parent = ?", (row["id"],))
        return original(call)

    wrap_handler(app, "cpaas", "deleteMedia", delete)


@fault("cpaas names of 256 characters accepted", "cpaas", "off by one at a length edge", ("R25.9",))
def _cpaas_name_256(app: Any) -> None:
    valid = impl_of(app, "cpaas")._valid_name

    def check(value: Any) -> bool:
        return isinstance(value, str) and (valid(value) or (len(value) == 256 and valid(value[:255])))

    check_field(app, "cpaas", ["createMedia", "renameMedia"], "name", check)
    impl_of(app, "cpaas")._valid_name = check
    unchecked_success(app, "cpaas", CPAAS_MEDIA_OPS, {"status": "ok"})


@fault("cpaas names with C1 control characters accepted", "cpaas", "strict parsing", ("R25.9",))
def _cpaas_c1(app: Any) -> None:
    check = matches(r"[^/\x00-\x1f\x7f]{1,255}")  # Cc taken for the C0 range and DEL only
    check_field(app, "cpaas", ["createMedia", "renameMedia"], "name", check)
    impl_of(app, "cpaas")._valid_name = check
    unchecked_success(app, "cpaas", CPAAS_MEDIA_OPS, {"status": "ok"})


@fault("cpaas per_page 101 accepted", "cpaas", "off by one at a range edge", ("R24.1",))
def _cpaas_per_page_101(app: Any) -> None:
    for op_id in ("listMedia", "getMedia"):
        for spec in op_of(app, "cpaas", op_id).query_fields:
            if spec.name == "per_page":
                spec.check = lambda v: isinstance(v, int) and 1 <= v <= 101


@fault("cpaas disable_pagination=true is not honoured", "cpaas", "one spelling handled", ("R24.2",))
def _cpaas_disable_true(app: Any) -> None:
    cpaas_listing(app, disabling=("1",))


@fault("cpaas a page past the end reports no items", "cpaas", "pagination past the end", ("R24.3",))
def _cpaas_past_end(app: Any) -> None:
    def empty(body: dict) -> dict:
        if not body["media"] and body["pagination"]["currentPage"] > 1:
            body["pagination"].update(totalItems=0, totalPages=1)
        return body

    for op_id in ("listMedia", "getMedia"):
        rewrite_success(app, "cpaas", op_id, empty)


@fault("cpaas listings ordered by name", "cpaas", "pagination order", ("R24.4",))
def _cpaas_by_name(app: Any) -> None:
    cpaas_listing(app, order="name")


@fault("cpaas a page above 2^63-1 crashes", "cpaas", "server error at a range edge", ("R24.5",))
def _cpaas_huge_page(app: Any) -> None:
    cpaas_listing(app, guarded=False)


@fault("cpaas language fr-CA refused", "cpaas", "listed value refused", ("R26.1",))
def _cpaas_no_fr_ca(app: Any) -> None:
    for spec in body_fields(app, "cpaas", ["activateApp"], "language"):
        spec.check = lambda v, listed=spec.check: listed(v) and v != "fr-CA"


@fault("cpaas destAddr of 16 digits accepted", "cpaas", "off by one at a length edge", ("R26.2",))
def _cpaas_dest_16(app: Any) -> None:
    check_field(
        app,
        "cpaas",
        ["activateApp"],
        "destAddr",
        matches(r"[0-9]{7,16}"),
    )


@fault("cpaas requestId of 31 hex characters", "cpaas", "wrong field format", ("R26.3",))
def _cpaas_short_request_id(app: Any) -> None:
    rewrite_success(app, "cpaas", "activateApp", lambda body: {**body, "requestId": body["requestId"][:31]})


@fault("cpaas a refused activation still sends startCallback", "cpaas", "event for a refused request", ("R27.1",))
def _cpaas_start_on_refusal(app: Any) -> None:
    impl = impl_of(app, "cpaas")

    def started(seen: Seen, status: int) -> None:
        account = caller(app, "cpaas", seen)
        if seen.path == "/apps/activate" and status == 400 and account is not None:  # started before the checks
            reference = json.loads(seen.body or b"{}").get("reference")
            impl.ctx.emit(account, [("startCallback", {"type": "startCallback", "reference": reference}, 0)])

    on_request(app, "cpaas", after=started)


@fault("cpaas repeats send an endCallback per attempt", "cpaas", "duplicate event", ("R27.1",))
def _cpaas_end_per_attempt(app: Any) -> None:
    ctx = impl_of(app, "cpaas").ctx
    emit = ctx.emit

    def activate(original: Callable, call: Any) -> Any:
        attempts = 2 if call.body.get("isRepeat") == 1 else 1  # the first attempt's end, and the last one's
        ctx.emit = lambda account, steps: emit(
            account, [s for step in steps for s in [step] * (attempts if step[0] == "endCallback" else 1)]
        )
        try:
            return original(call)
        finally:
            ctx.emit = emit

    wrap_handler(app, "cpaas", "activateApp", activate)
