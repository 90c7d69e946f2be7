"""What every generated client (`apicontract.clients.<api>`) shares: sending a request, reading its answer.

`apicontract build` writes one client module per API from the bundled spec (`specs/clients.py`): a table
row (`Operation`) and a typed method per operation. This module is the part that does not depend on any
operation: it fills the path, carries the credentials the way the API's security scheme says (HTTP Basic,
a key in a header or in the query, with the scheme's `x-value-prefix`; `specs.security` encodes them),
encodes a body by its content type (JSON, also on GET and DELETE; form; multipart), and reads the answer
by the media type it came with: a pydantic model for JSON, bytes for anything else (a cpaas file
download). Any non-2xx answer raises an `ApiError` (by status: `BadRequest`, `NotFound`, ...) carrying the
status and the error code read from the field the spec names (`info.x-error-code-field`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from apicontract.specs.fixtures import Credentials
from apicontract.specs.security import API_KEY, AUTHORIZATION, BASIC, Scheme

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class Upload:
    """A file to send in a multipart part: its bytes, the file name and (optionally) its content type."""

    content: bytes
    filename: str
    content_type: str | None = None


@dataclass(frozen=True)
class Credential:
    """How one security scheme carries the credentials: `basic`, or a key `in` a `header` or the `query`."""

    kind: str  # "basic", "header" or "query"
    name: str = ""  # the header or query parameter
    prefix: str = ""  # the scheme's x-value-prefix ("AccessKey ")
    value: str | tuple[str, str] = ""

    @property
    def scheme(self) -> Scheme:
        """The spec's security scheme this credential is sent by (it encodes it: `specs.security`)."""
        if self.kind == BASIC:
            return Scheme("", BASIC, "header", AUTHORIZATION)
        return Scheme("", API_KEY, self.kind, self.name, self.prefix)

    @property
    def credentials(self) -> Credentials:
        """The value as the credentials the scheme encodes: the (user, secret) pair, or the key."""
        if isinstance(self.value, tuple):
            return Credentials(basic=self.value)
        return Credentials(key=str(self.value))


@dataclass(frozen=True)
class Operation:
    """One operation as the generated client sends it (written by `apicontract build`, never by hand)."""

    operation_id: str
    method: str
    path: str
    path_params: tuple[tuple[str, str], ...] = ()  # (python name, name in the path template)
    query_params: tuple[tuple[str, str], ...] = ()  # (python name, name on the wire)
    bodies: Mapping[str, Any] = field(default_factory=dict)  # content type -> model class (None: no model)
    answers: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)  # 2xx -> media type -> model/bytes
    errors: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # status -> documented codes
    secured: bool = True


class ApiError(Exception):
    """The API answered with an error status. `code` is the error code of the body (None when it has none)."""

    def __init__(self, operation: Operation, response: httpx.Response, code: str | None, body: Any):
        self.operation = operation
        self.response = response
        self.status = response.status_code
        self.code = code
        self.body = body
        super().__init__(f"{operation.method} {operation.path} ({operation.operation_id}): {self.status} {code}")

    @property
    def documented(self) -> bool:
        """Whether the spec lists this code for this operation and status."""
        return self.code in self.operation.errors.get(self.status, ())


class BadRequest(ApiError):
    """400"""


class Unauthorized(ApiError):
    """401"""


class Forbidden(ApiError):
    """403"""


class NotFound(ApiError):
    """404"""


class Conflict(ApiError):
    """409"""


class PayloadTooLarge(ApiError):
    """413"""


class UnsupportedMediaType(ApiError):
    """415"""


class ServerError(ApiError):
    """5xx"""


BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


class UnexpectedResponse(Exception):
    """A 2xx answer the spec does not describe (a body its model rejects)."""

    def __init__(self, operation: Operation, response: httpx.Response, reason: str):
        self.operation = operation
        self.response = response
        super().__init__(f"{operation.method} {operation.path} ({operation.operation_id}): {reason}")


class BaseClient:
    """The HTTP side of a generated client: one `httpx.Client`, the base URL and the credentials."""

    def __init__(
        self,
        base_url: str,
        credential: Credential | None,
        error_field: str,
        *,
        timeout: float | None = 30.0,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.credential = credential
        self.error_field = error_field
        self._own = http_client is None
        self.http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self.headers = dict(headers or {})

    def close(self) -> None:
        if self._own:
            self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # sending ------------------------------------------------------------------------------------------

    def _send(
        self,
        op: Operation,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        parts: Mapping[str, Any] | None = None,
    ) -> Any:
        url = op.path
        for python_name, wire in op.path_params:
            url = url.replace("{" + wire + "}", quote(str((path or {})[python_name]), safe=""))
        given = query or {}
        params = {wire: _query_value(given[name]) for name, wire in op.query_params if given.get(name) is not None}
        headers = dict(self.headers)
        if op.secured and self.credential is not None:
            self._authenticate(self.credential, headers, params)
        request: dict[str, Any] = {}
        if parts is not None and any(value is not None for value in parts.values()):
            request = _multipart(parts)
        elif body is not None:
            request = _encode(op, body)
        headers.update(request.pop("headers", {}))
        response = self.http.request(op.method, self.base_url + url, params=params, headers=headers, **request)
        return self._answer(op, response)

    def _authenticate(self, cred: Credential, headers: dict[str, str], params: dict[str, Any]) -> None:
        carried = cred.scheme.encode(cred.credentials)
        if carried is not None:
            headers.update(carried.headers)
            params.update(carried.query)

    # reading ------------------------------------------------------------------------------------------

    def _answer(self, op: Operation, response: httpx.Response) -> Any:
        if not 200 <= response.status_code < 300:
            raise _error(op, response, self.error_field)
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        documented = op.answers.get(response.status_code) or {}
        if not response.content and not documented:
            return None
        kind = _matching(documented, media)
        if kind is bytes:
            return response.content
        if not _is_json(media):
            return response.content if kind is None else _unexpected(op, response, f"a {media or 'untyped'} body")
        try:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                return kind.model_validate_json(response.content)
            return response.json()
        except (ValidationError, ValueError) as exc:
            if any(choice is bytes for choice in documented.values()):
                return response.content  # a file stored as JSON, say: a body the API documents as bytes too
            return _unexpected(op, response, f"the body does not match the spec: {exc}")


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.value if hasattr(value, "value") and not isinstance(value, (str, int)) else value


def _encode(op: Operation, body: Any) -> dict[str, Any]:
    """The body's content type follows its model (each content type of an operation has its own schema);
    a plain dict is sent as it is (unvalidated: the server judges it), as JSON when the operation takes JSON,
    else as its first content type."""
    chosen = None
    if isinstance(body, BaseModel):
        chosen = next((ctype for ctype, model in op.bodies.items() if model is type(body)), None)
        if chosen is None:
            raise TypeError(f"{op.operation_id} takes {_names(op)}, not {type(body).__name__}")
    else:
        chosen = JSON if JSON in op.bodies else next((c for c in op.bodies if c != MULTIPART), None)
        if chosen is None:
            raise TypeError(f"{op.operation_id} takes no body of this kind")
    data = body.model_dump(mode="json", by_alias=True, exclude_unset=True) if isinstance(body, BaseModel) else body
    if chosen == FORM:
        return {"data": {key: _form_value(value) for key, value in data.items()}}
    return {"content": json.dumps(data, ensure_ascii=False).encode(), "headers": {"Content-Type": chosen}}


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _multipart(parts: Mapping[str, Any]) -> dict[str, Any]:
    files, data = {}, {}
    for name, value in parts.items():
        if value is None:
            continue
        if isinstance(value, Upload):
            files[name] = (
                (value.filename, value.content, value.content_type)
                if value.content_type
                else (value.filename, value.content)
            )
        else:
            data[name] = _form_value(value)
    return {"files": files, "data": data}


def _names(op: Operation) -> str:
    return " or ".join(model.__name__ for model in op.bodies.values() if model is not None) or "no model"


def _matching(documented: Mapping[str, Any], media: str) -> Any:
    """The documented answer for a media type: exact, then `type/*`, then `*/*` (None: not documented)."""
    for key in (media, media.split("/")[0] + "/*", "*/*"):
        if key in documented:
            return documented[key]
    return None


def _is_json(media: str) -> bool:
    return media == JSON or media.endswith("+json")


def _error(op: Operation, response: httpx.Response, field_name: str) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    code = body.get(field_name) if isinstance(body, dict) else None
    kind = BY_STATUS.get(response.status_code, ServerError if response.status_code >= 500 else ApiError)
    return kind(op, response, code if isinstance(code, str) else None, body)


def _unexpected(op: Operation, response: httpx.Response, reason: str) -> Any:
    raise UnexpectedResponse(op, response, f"{response.status_code} {reason}")
