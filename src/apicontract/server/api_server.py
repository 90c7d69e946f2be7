"""One API of the reference server: authentication, routing, the spec's checks, a handler, the answer.

Handlers (in `server/apis/`) hold only what the spec cannot say: state and its rules (ownership,
existence, conflicts). Success bodies go through the generated pydantic model of the operation's
success schema, so a handler cannot answer a shape the contract does not allow.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from apicontract.server.accounts import Account, Authenticator
from apicontract.server.compiled import Answer, CompiledApi, Rejection
from apicontract.server.request_input import Call, check_size, load_json, prepare, within_limits
from apicontract.specs.inputs import api_body_limit

log = logging.getLogger("apicontract.server")

Send = Callable[[dict], Awaitable[None]]
Receive = Callable[[], Awaitable[dict]]
INTERNAL = b"x-apicontract-internal"
EVENTS_PAGE, EVENTS_MAX_PAGE = 100, 1000  # GET /_events: events per page, by default and at most
CLOSE = (b"connection", b"close")
# Bodies larger than this are parsed and checked off the event loop (a 1 MiB form takes ~200 ms to parse),
# one at a time, so that no request waits behind another's parsing; smaller ones are not worth the hop.
OFFLOAD_BYTES = 64 * 1024
_parser: ThreadPoolExecutor | None = None


class BodyCut(Exception):
    """The client went away before its whole body arrived: nothing is done, and no one is left to answer."""


class Refused(Exception):
    """An internal trigger (`_simulate`) refuses its input: the transaction it is in rolls back."""

    def __init__(self, status: int, body: dict):
        super().__init__(status, body)
        self.status, self.body = status, body


class BodyTooSlow(Exception):
    """The body did not arrive within `x-timeouts.body`."""


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
        self.max_body = api_body_limit(compiled.doc)  # internal bodies

    async def handle(self, scope: dict, receive: Receive, send: Send, path: str) -> None:
        """Answer one request; a request changes state only once its whole body has arrived."""
        deadline = asyncio.get_running_loop().time() + self.compiled.limits.body_seconds
        try:
            await self._handle(scope, receive, send, path, deadline)
        except BodyCut:
            return  # the request never fully arrived: it changes nothing, and the client is gone
        except BodyTooSlow:
            await send_answer(send, self.compiled.http_errors[408])

    async def _handle(self, scope: dict, receive: Receive, send: Send, path: str, deadline: float) -> None:
        raw_headers = scope["headers"]
        headers = dict(raw_headers)
        repeated = _repeated(raw_headers) if len(headers) != len(raw_headers) else frozenset()
        query = _query(scope.get("query_string", b""))
        account = self.auth.authenticate(headers, query, repeated)
        if account is None:
            return await send_answer(send, _closing(self.compiled.unauthorized, await _drain(receive, deadline)))
        if path.startswith("/_"):
            body = await read_body(receive, self.max_body, deadline)
            return await self.internal(send, scope["method"], path, account, body, query)
        op, values, route_answer = self.compiled.route(scope["method"], path)
        if route_answer is not None:
            return await send_answer(send, _closing(route_answer, await _drain(receive, deadline)))
        assert op is not None  # the route gives an operation or else an answer
        try:
            body = b""
            if op.bodies:
                check_size(op, _content_length(headers))
                body = await read_body(receive, op.max_body, deadline)
                if body is None:
                    raise op.reject(413)
            elif b"content-length" in headers or b"transfer-encoding" in headers:
                drained = await _drain(receive, deadline)  # a body the operation does not take: read and ignored
                if not drained:
                    raise BodyTooSlow
            ctype = headers.get(b"content-type")
            ctype_text = ctype.decode("latin-1") if ctype else None
            if len(body) > OFFLOAD_BYTES:
                call = await asyncio.get_running_loop().run_in_executor(
                    _parsing(), prepare, op, account, values, query, ctype_text, body
                )
            else:
                call = prepare(op, account, values, query, ctype_text, body)
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

    async def internal(
        self,
        send: Send,
        method: str,
        path: str,
        account: Account,
        body: bytes | None,
        query: list[tuple[str, str]],
    ) -> None:
        """Endpoints outside the documented API (marked by `X-Apicontract-Internal`): events and triggers."""
        if path == "/_events" and method == "GET":
            return await self.list_events(send, account, query)
        if path.startswith("/_simulate/") and method == "POST":
            name = path[len("/_simulate/") :]
            simulate = getattr(self.impl, f"simulate_{name}", None)
            if simulate is None:
                return await send_internal(send, 404, {"error": f"nothing to simulate called {name!r}"})
            if body is None:
                limit = f"the body is larger than {self.max_body} bytes (x-max-body-bytes)"
                return await send_internal(send, 413, {"error": limit})
            limits = self.compiled.limits
            try:
                payload = load_json((body or b"{}").decode("utf-8"), limits)
            except (ValueError, RecursionError):
                return await send_internal(send, 400, {"error": "the body must be a JSON object"})
            if not isinstance(payload, dict):
                return await send_internal(send, 400, {"error": "the body must be a JSON object"})
            if not within_limits(payload, limits):
                too_much = (
                    f"the body nests deeper than {limits.json_depth} levels or holds a number longer than"
                    f" {limits.number_length} characters (x-max-json-depth, x-max-number-length)"
                )
                return await send_internal(send, 400, {"error": too_much})
            try:
                status, result = simulate(account, payload)
            except Refused as refused:  # raised inside a write: nothing it wrote (a serial, a record) is kept
                status, result = refused.status, refused.body
            return await send_internal(send, status, result)
        return await send_internal(
            send, 404, {"error": "unknown internal endpoint", "known": ["GET /_events", "POST /_simulate/<event>"]}
        )

    async def list_events(self, send: Send, account: Account, query: list[tuple[str, str]]) -> None:
        """`GET /_events?after=<id>&limit=<n>`: the account's events in id order, `limit` (1–1000, default 100)
        at a time after event `after`; `next_after` is where the next page starts (null on the last)."""
        given = dict(query)
        after, limit = given.get("after", "0"), given.get("limit", str(EVENTS_PAGE))
        if not (after.isascii() and after.isdigit() and len(after) <= 19 and limit.isascii() and limit.isdigit()):
            return await send_internal(send, 400, {"error": "after and limit must be decimal integers"})
        if not 1 <= int(limit[:5]) <= EVENTS_MAX_PAGE:
            return await send_internal(send, 400, {"error": f"limit must be 1 to {EVENTS_MAX_PAGE}"})
        events = self.impl.ctx.events(account, int(after), int(limit) + 1)
        more = len(events) > int(limit)
        events = events[: int(limit)]
        return await send_internal(send, 200, {"events": events, "next_after": events[-1]["id"] if more else None})


def _query(raw: bytes) -> list[tuple[str, str]]:
    if not raw:
        return []
    try:
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        return []


def _repeated(raw_headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """Header names sent more than once."""
    seen: set[bytes] = set()
    twice: set[bytes] = set()
    for name, _ in raw_headers:
        if name in seen:
            twice.add(name)
        seen.add(name)
    return frozenset(twice)


def _closing(answer: Answer, drained: bool) -> Answer:
    """The answer, telling the client the connection closes when the rest of its body was not read."""
    if drained:
        return answer
    return Answer(answer.status, answer.body, (*answer.headers, CLOSE), answer.content_type)


def _parsing() -> ThreadPoolExecutor:
    global _parser
    if _parser is None:
        _parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apicontract-parse")
    return _parser


def _content_length(headers: dict[bytes, bytes]) -> int | None:
    value = headers.get(b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def read_body(receive: Receive, limit: int, deadline: float) -> bytes | None:
    """The whole request body, or None once it grows past `limit` (the rest is drained, never buffered).

    Raises BodyCut when the client disconnects first (a body cut short is never handled as if it were
    whole) and BodyTooSlow when it has not all arrived by `deadline` (the loop's clock).
    """
    chunks, size = [], 0
    more = True
    try:
        async with asyncio.timeout_at(deadline):
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise BodyCut
                chunk = message.get("body", b"")
                more = message.get("more_body", False)
                size += len(chunk)
                if size > limit:
                    break
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTooSlow from None
    if size > limit:
        await _drain(receive, deadline, more)
        return None
    return b"".join(chunks)


async def _drain(receive: Receive, deadline: float, more: bool = True) -> bool:
    """Read and drop the rest of a body; False if it has not all arrived by `deadline`; BodyCut if the client left."""
    try:
        async with asyncio.timeout_at(deadline):
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise BodyCut
                more = message.get("more_body", False)
    except TimeoutError:
        return False
    return True


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
