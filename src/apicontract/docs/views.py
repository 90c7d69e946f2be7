"""The page data: what one API's reference page shows, as plain dataclasses the templates read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apicontract.docs.answers import BodyError, Causes, Link
from apicontract.docs.consumers import Consumers
from apicontract.docs.samples import Sample
from apicontract.docs.schemas import Also, EnumRow, Field, Implementation, Mark, TypeRef


@dataclass
class Example:
    name: str
    summary: str | None
    description: str | None
    json: str
    marks: list[Mark]
    at: str
    implementation: Implementation | None = None


@dataclass
class Body:
    content_type: str
    types: list[TypeRef]
    fields: list[Field]
    examples: list[Example]
    marks: list[Mark]
    at: str
    also: list[Also] = field(default_factory=list)  # `x-also-answers` of the body's root schema
    implementation: Implementation | None = None  # `x-implementation-defined` of the root schema
    shape_code: str | None = None  # `x-shape-error-code` of the root schema
    shape_href: str | None = None  # the error row that documents it


@dataclass
class Content:
    content_type: str
    types: list[TypeRef]
    description: str | None
    examples: list[Example]


@dataclass
class Response:
    status: str
    description: str | None
    marks: list[Mark]
    unspecified: str | None
    at: str
    content: list[Content]
    implementation: Implementation | None = None


@dataclass
class ErrorRow:
    status: str
    code: str
    anchor: str
    when: str | None
    marks: list[Mark]
    at: str
    rowspan: int  # rows of this status, on the first row of the status; 0 on the others
    response_description: str | None = None
    response_marks: list[Mark] = field(default_factory=list)
    implementation: Implementation | None = None  # of the code's example
    response_implementation: Implementation | None = None  # of the status' response (first row only)


@dataclass
class Delivery:
    path: str | None
    timeout_seconds: Any
    description: str | None
    unspecified: str | None
    marks: list[Mark]
    at: str


@dataclass
class Received:
    """What a webhook/callback receiver gets, shown as the HTTP request."""

    title: str
    text: str
    marks: list[Mark]


@dataclass
class OperationView:
    id: str
    anchor: str
    method: str
    path: str
    url: str
    summary: str
    description: str | None
    tag: str
    marks: list[Mark]
    at: str
    security: list[list[str]]  # alternatives; [] = no authentication
    body_limit: str | None
    params: list[Field]
    body_description: str | None
    body_required: bool
    body_marks: list[Mark]
    bodies: list[Body]
    responses: list[Response]
    errors: list[ErrorRow]
    samples: list[Sample]
    is_webhook: bool = False
    delivery: Delivery | None = None
    received: list[Received] = field(default_factory=list)
    payload: list[TypeRef] = field(default_factory=list)
    receiver_code: str | None = None
    payload_file: tuple[str, str] | None = None  # (file name, the site's copy) of a webhook's payload schema
    body_errors: list[BodyError] = field(default_factory=list)  # `x-body-errors` of the request body
    causes: Causes = field(default_factory=Causes)  # of a webhook: `x-caused-by`, `x-listed-by`
    caused: list[tuple[Link, str]] = field(default_factory=list)  # of an operation: (webhook, how many) it causes

    @property
    def request_content_types(self) -> list[str]:
        return [body.content_type for body in self.bodies]


@dataclass
class SchemaView:
    name: str
    anchor: str
    title: str | None
    description: str | None
    types: list[TypeRef]
    fields: list[Field]
    enum: list[EnumRow]
    marks: list[Mark]
    unspecified: str | None
    examples: list[str]
    at: str
    also: list[Also] = field(default_factory=list)
    implementation: Implementation | None = None
    shape_code: str | None = None
    shape_href: str | None = None


@dataclass
class Scheme:
    name: str
    anchor: str
    kind: str
    description: str | None
    marks: list[Mark]
    at: str
    for_webhooks: bool


@dataclass
class Unspecified:
    what: str
    note: str | None
    where: str
    href: str
    at: str


@dataclass
class Tag:
    name: str
    description: str | None
    operations: list[OperationView]


@dataclass
class ApiView:
    name: str
    page: str
    title: str
    summary: str | None
    description: str | None
    version: str
    source: str | None
    servers: list[tuple[str, str | None]]
    error_field: str
    schemes: list[Scheme]
    security: list[list[str]]
    tags: list[Tag]
    operations: list[OperationView]
    webhooks: list[OperationView]
    schemas: list[SchemaView]
    unspecified: list[Unspecified]
    module: str
    bundle_file: str = ""  # the site's copy of the bundle, for download
    payload_files: list[tuple[str, str]] = field(default_factory=list)  # (file name, the site's copy)
    consumers: Consumers | None = None

    @property
    def base_url(self) -> str:
        return self.servers[0][0] if self.servers else ""

    @property
    def request_content_types(self) -> list[str]:
        found: list[str] = []
        for op in self.operations:
            found += [c for c in op.request_content_types if c not in found]
        return found
