"""Deliberately different but conformant implementations: the reference server, changed to take another
answer the contract allows (R0), or to read an open point another way.

Each variant names what the rulings leave open and which answer it takes instead of the reference
server's. The suite must pass against every one of them: a failure is a false alarm, an expectation no
source sentence or ruling supports. Variants are applied to a running `ReferenceServer`, like the faults;
some also change how the target is described (other accounts, another base path).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apicontract.server.api_server import Reply
from apicontract.server.compiled import Answer, Rejection
from apicontract.specs.promises import unroutable

from faults import rewrite_success, server_of, wrap_handler


@dataclass(frozen=True)
class Variant:
    name: str
    apis: tuple[str, ...]
    reading: str  # what the contract leaves open, and the answer this variant gives
    apply: Callable[[Any], None] = lambda app: None
    options: dict[str, Any] = field(default_factory=dict)  # how the target is run or described


VARIANTS: list[Variant] = []


def variant(name: str, apis: tuple[str, ...], reading: str, **options: Any):
    def register(apply: Callable[[Any], None]) -> Callable[[Any], None]:
        VARIANTS.append(Variant(name, apis, reading, apply, options))
        return apply

    return register


def _json_reply(status: int, body: dict) -> Rejection:
    return Rejection(Answer(status, json.dumps(body).encode()))


# --- Connectors (R18: everything but method, path, id, 401, JSON objects, read-back and delete) ----------------


@variant(
    "connectors-upsert",
    ("sim-v2", "sim-v3"),
    "R18: another answer for existing and unknown connectors: create replaces an existing one, update "
    "creates a missing one, an unknown one is 404 `no_such_connector`, and a read-back adds `id` and `created`",
)
def _upsert(app: Any) -> None:
    for api in ("sim-v2", "sim-v3"):
        served = server_of(app, api)
        impl = served.impl

        def save(original: Callable, call: Any, impl=impl) -> Reply:
            key = (impl.ctx.name, call.account.name, impl.connector_id(call))
            with impl.store.write() as db:
                db.execute("DELETE FROM connectors WHERE api = ? AND account = ? AND id = ?", key)
                db.execute(
                    "INSERT INTO connectors (api, account, id, body) VALUES (?, ?, ?, ?)", (*key, json.dumps(call.body))
                )
            return Reply(data={"stored": True})

        def read(original: Callable, call: Any, impl=impl) -> Reply:
            stored = impl._connector(call)
            if stored is None:
                raise _json_reply(404, {"message": "no_such_connector"})
            return Reply(data={**stored, "id": impl.connector_id(call), "created": "2026-12-02 10:00:00"})

        def remove(original: Callable, call: Any, impl=impl) -> Reply:
            key = (impl.ctx.name, call.account.name, impl.connector_id(call))
            with impl.store.write() as db:
                db.execute("DELETE FROM connectors WHERE api = ? AND account = ? AND id = ?", key)
            return Reply(data={"deleted": True})

        for op_id, handler in (
            ("createConnector", save),
            ("updateConnector", save),
            ("retrieveConnector", read),
            ("deleteConnector", remove),
        ):
            wrap_handler(app, api, op_id, handler)
            served.success_models.pop(op_id, None)  # its own success bodies, not the reference server's


@variant(
    "connector-ids-any-string",
    ("sim-v2", "sim-v3"),
    "R18: another `id` syntax: any non-empty string, up to 200 characters, is a connector id",
)
def _any_ids(app: Any) -> None:
    for api in ("sim-v2", "sim-v3"):
        compiled = server_of(app, api).compiled
        for op_id, op in compiled.operations.items():
            if "Connector" not in op_id:
                continue
            for spec in op.path_fields:
                spec.check = lambda value: isinstance(value, str) and 0 < len(value) <= 200
            for shape in op.bodies.values():
                for spec in shape.fields:
                    if spec.name == "id":
                        spec.check = lambda value: isinstance(value, str) and 0 < len(value) <= 200
                shape.closed = False
                shape.whole = lambda value: True


# --- Events (R22a: network_validation and usage may also be sent) --------------------------------------------


@variant(
    "sim-v3-extra-events",
    ("sim-v3",),
    "R22a: a create also sends network_validation and a usage record about the SIM (stored, so GET /usage "
    "lists it), both before network_registration",
)
def _extra_events(app: Any) -> None:
    impl = server_of(app, "sim-v3").impl

    def create(original: Callable, call: Any) -> Any:
        sim_id = call.body["id"]
        impl.simulate_network_validation(call.account, {"sim_id": sim_id})
        reply = original(call)
        impl.simulate_usage(call.account, {"sim_id": sim_id})
        return reply

    wrap_handler(app, "sim-v3", "createSim", create)


# --- R5c: path values that cannot be identifiers ---------------------------------------------------------------


@variant(
    "r5c-unknown-path",
    ("sim-v1", "sim-v2", "cpaas"),
    "R5c: a path value holding `/`, a control character or non-UTF-8 bytes answers as an unknown path",
)
def _r5c(app: Any) -> None:
    for api in ("sim-v1", "sim-v2", "cpaas"):
        compiled = server_of(app, api).compiled
        original = compiled.route

        def route(method: str, path: str, original=original, compiled=compiled):
            op, values, answer = original(method, path)
            if op is not None and any(unroutable(v) for v in values.values()):
                return None, values, compiled.route_answers[404]
            return op, values, answer

        compiled.route = route


@variant(
    "cpaas-media-id-existence",
    ("cpaas",),
    "R5c: a media id that is not a positive integer is an unknown media id, 404, after the body's checks",
)
def _id_existence(app: Any) -> None:
    served = server_of(app, "cpaas")
    for op in served.compiled.operations.values():
        for spec in op.path_fields:
            if spec.name == "id":
                spec.kind, spec.check = "string", lambda value: True

    def existence(original: Callable, call: Any) -> Any:
        raw = str(call.params.get("id", ""))
        if not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise call.reject(404)
        call.params["id"] = int(raw)
        return original(call)

    for op_id, op in served.compiled.operations.items():
        if any(spec.name == "id" for spec in op.path_fields):
            wrap_handler(app, "cpaas", op_id, existence)


# --- cpaas: ids, requestIds, huge pages, error values ----------------------------------------------------------


@variant(
    "cpaas-media-ids-elsewhere",
    ("cpaas",),
    "R25: media ids are the implementation's: new ones start at 7000 and skip by 7",
)
def _ids(app: Any) -> None:
    impl = server_of(app, "cpaas").impl
    original = impl._insert

    def insert(db: Any, account: str, parent: Any, name: str, created: str, data: Any, ctype: Any, media_id=None):
        if media_id is None:
            highest = db.execute("SELECT COALESCE(MAX(id), 0) FROM cpaas_media").fetchone()[0]
            media_id = max(int(highest), 6993) + 7
        return original(db, account, parent, name, created, data, ctype, media_id)

    impl._insert = insert


@variant("cpaas-request-ids", ("cpaas",), "R26: another requestId: 32 hex characters of its own making, upper case")
def _request_ids(app: Any) -> None:
    rewrite_success(app, "cpaas", "activateApp", lambda body: {**body, "requestId": uuid.uuid4().hex.upper()})


@variant(
    "cpaas-huge-page-refused",
    ("cpaas",),
    "R24: a page above 2^63−1 is refused, 400 invalidDataError, instead of answered as past the end",
)
def _huge_page(app: Any) -> None:
    def refuse(original: Callable, call: Any) -> Any:
        if int(call.params.get("page", 1)) > 2**63 - 1:
            raise _json_reply(400, {"status": "invalidDataError"})
        return original(call)

    for op_id in ("listMedia", "getMedia"):
        wrap_handler(app, "cpaas", op_id, refuse)


@variant(
    "cpaas-upload-type-415",
    ("cpaas",),
    "R23a: a POST /media body neither multipart nor JSON is 415 invalidDataError, not 400 requiredJsonError",
)
def _upload_415(app: Any) -> None:
    op = server_of(app, "cpaas").compiled.operations["createMedia"]
    errors = dict(op.body.get("x-body-errors") or {})
    errors["unsupported"] = list(reversed(errors["unsupported"]))
    op.body = {**op.body, "x-body-errors": errors}


# --- SIM APIs: wrong JSON types (R5), other inventories, other accounts -----------------------------------------


@variant(
    "sim-wrong-type-body-invalid",
    ("sim-v1", "sim-v2", "sim-v3"),
    "R5: a JSON field of the wrong type is malformed input: 400 body_invalid instead of the field's own code",
)
def _wrong_type(app: Any) -> None:
    for api in ("sim-v1", "sim-v2", "sim-v3"):
        for op in server_of(app, api).compiled.operations.values():
            shape = op.bodies.get("application/json")
            if shape is None or not shape.closed:
                continue
            for spec in shape.fields:
                if spec.types:
                    spec.check = _typed_first(op, spec, spec.check)


def _typed_first(op: Any, spec: Any, original: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not spec.right_type(value):
            raise Rejection(op.code_answer("body_invalid"))
        return original(value)

    return check


# --- how the target is run ----------------------------------------------------------------------------------------


@variant(
    "other-operator",
    ("sim-v1", "sim-v2", "sim-v3", "cpaas"),
    "other credentials (keys with `:` and `.`), other SIM identifiers, nothing provisioned, empty media "
    "libraries, one webhook key shared by both accounts (sim-v3); checked through a target file",
    fixtures="other",
)
def _other(app: Any) -> None:
    pass


@variant(
    "other-base-path",
    ("sim-v2", "cpaas"),
    "the APIs served below another base path (`/gateway/v9/...`), as behind a real API gateway",
    base_path="/gateway/v9",
)
def _base_path(app: Any) -> None:
    pass


@variant(
    "json-spelling",
    ("sim-v1", "sim-v3", "cpaas"),
    "R1: JSON spelled otherwise: `application/json; charset=utf-8`, indented, keys in another order",
    spelling=True,
)
def _spelling(app: Any) -> None:
    pass
