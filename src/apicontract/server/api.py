"""One API of the reference server: authentication, routing, the spec's checks, a handler, the answer.

Handlers (in `server/apis/`) hold only what the spec cannot say: state and its rules (ownership,
existence, conflicts). Success bodies go through the generated pydantic model of the operation's
success schema, so a handler cannot answer a shape the contract does not allow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from apicontract.server.accounts import Account, Authenticator
from apicontract.server.contract import Answer, CompiledApi, Rejection
from apicontract.server.requests import Call, check_size, prepare

log = logging.getLogger("apicontract.server")

Send = Callable[[dict], Awaitable[None]]
Receive = Callable[[], Awaitable[dict]]
INTERNAL = b"x-apicontract-internal"


@dataclass
class Reply:
    """A handler's success: `data` for the documented JSON body, or `raw` bytes (a media download)."""

    data: Any = None
    raw: bytes | None = None
    content_type: str = "application/octet-stream"


class ApiServer:
    """Serves one API under its prefix."""

    def __init__(self, compiled: CompiledApi, accounts: list[Account], implementation: Any, models: ModuleType):
        self.compiled = compiled
        self.accounts = accounts
        self.auth = Authenticator(compiled.security, accounts)
        self.impl = implementation
        self.models = models
        self.handlers: dict[str, Callable[[Call], Reply | None]] = {}
        for op_id in compiled.operations:
            handler = getattr(implementation, op_id, None)
            if handler is None:
                raise TypeError(f"{compiled.name}: no handler for operation {op_id}")
            self.handlers[op_id] = handler
        self.success_models = {
            op.id: getattr(models, op.success_model) for op in compiled.operations.values() if op.success_model
        }

    async def handle(self, scope: dict, receive: Receive, send: Send, path: str) -> None:
        headers = dict(scope["headers"])
        query = _query(scope.get("query_string", b""))
        account = self.auth.authenticate(headers, query)
        if account is None:
            await _drain(receive)
            return await send_answer(send, self.compiled.unauthorized)
        if path.startswith("/_"):
            body = await read_body(receive, 1024 * 1024)
            return await self.internal(send, scope["method"], path, account, body)
        op, values, route_answer = self.compiled.route(scope["method"], path)
        if route_answer is not None:
            await _drain(receive)
            return await send_answer(send, route_answer)
        try:
            body = b""
            if op.bodies:
                check_size(op, _content_length(headers))
                body = await read_body(receive, op.max_body)
                if body is None:
                    raise op.reject(413)
            elif b"content-length" in headers or b"transfer-encoding" in headers:
                await _drain(receive)  # a body the operation does not take: read and ignored
            ctype = headers.get(b"content-type")
            call = prepare(op, account, values, query, ctype.decode("latin-1") if ctype else None, body)
            self.impl.before(call)
            reply = self.handlers[op.id](call)
        except Rejection as rejection:
            return await send_answer(send, rejection.answer)
        await self.respond(send, op.id, op.success_status, reply)

    async def respond(self, send: Send, op_id: str, status: int, reply: Reply | None) -> None:
        if reply is not None and reply.raw is not None:
            return await send_bytes(send, status, reply.raw, reply.content_type.encode("latin-1"))
        model = self.success_models.get(op_id)
        data = reply.data if reply is not None else None
        if model is None:
            body = json.dumps(data if data is not None else {}, ensure_ascii=False, separators=(",", ":")).encode()
        elif hasattr(model, "__pydantic_serializer__"):  # the generated model, through pydantic-core directly
            instance = model.__pydantic_validator__.validate_python(data if data is not None else {})
            body = model.__pydantic_serializer__.to_json(instance, by_alias=True)
        else:
            body = model.model_validate(data if data is not None else {}).model_dump_json(by_alias=True).encode()
        await send_bytes(send, status, body, b"application/json")

    async def internal(self, send: Send, method: str, path: str, account: Account, body: bytes | None) -> None:
        """Endpoints outside the documented API (marked by `X-Apicontract-Internal`): events and triggers."""
        if path == "/_events" and method == "GET":
            return await send_internal(send, 200, {"events": self.impl.ctx.events(account)})
        if path.startswith("/_simulate/") and method == "POST":
            name = path[len("/_simulate/") :]
            simulate = getattr(self.impl, f"simulate_{name}", None)
            if simulate is None:
                return await send_internal(send, 404, {"error": f"nothing to simulate called {name!r}"})
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                return await send_internal(send, 400, {"error": "the body must be a JSON object"})
            if not isinstance(payload, dict):
                return await send_internal(send, 400, {"error": "the body must be a JSON object"})
            status, result = simulate(account, payload)
            return await send_internal(send, status, result)
        return await send_internal(
            send, 404, {"error": "unknown internal endpoint", "known": ["GET /_events", "POST /_simulate/<event>"]}
        )


def _query(raw: bytes) -> list[tuple[str, str]]:
    if not raw:
        return []
    try:
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        return []


def _content_length(headers: dict[bytes, bytes]) -> int | None:
    value = headers.get(b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it grows past `limit` (the rest is drained, never buffered)."""
    chunks, size = [], 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _drain(receive, message.get("more_body", False))
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _drain(receive: Receive, more: bool = True) -> None:
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more_body", False)


async def send_bytes(
    send: Send, status: int, body: bytes, content_type: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_answer(send: Send, answer: Answer) -> None:
    await send_bytes(send, answer.status, answer.body, answer.content_type, answer.headers)


async def send_internal(send: Send, status: int, value: Any) -> None:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    await send_bytes(send, status, body, b"application/json", ((INTERNAL, b"not part of the documented API"),))
