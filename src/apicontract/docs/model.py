"""One bundled spec turned into what the reference pages show: operations, webhooks, schemas, errors.

Everything is read from the bundle with the shared readers of `specs.walk` (operations, parameters,
error codes by status), so the pages say exactly what the linter, the server and the suite read. Every
element that carries `x-ruling` keeps its marks with its JSON pointer, and every `x-unspecified` is
collected, so the pages can show both where they occur and list the latter in one place.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from apicontract.docs.answers import CAUSED, Link, also, body_errors, caused_by
from apicontract.docs.consumers import consumers
from apicontract.docs.samples import Context, operation_samples
from apicontract.docs.schemas import (
    Field,
    base_type,
    describe,
    enum_rows,
    fields,
    implementation,
    marks,
    named,
    ref_parts,
    type_refs,
)
from apicontract.docs.views import (
    ApiView,
    Body,
    Content,
    ErrorRow,
    Example,
    OperationView,
    Response,
    SchemaView,
    Tag,
    Unspecified,
)
from apicontract.docs.views import Scheme as SchemeView
from apicontract.docs.webhooks import describe_webhook
from apicontract.paths import Layout, module_name
from apicontract.specs.bundle import component_name, pointer
from apicontract.specs.fixtures import Credentials, first_credentials
from apicontract.specs.inputs import Parameter, body_limits, operation_parameters
from apicontract.specs.promises import shape_code
from apicontract.specs.security import API_KEY, BASIC, Scheme, security_schemes
from apicontract.specs.walk import (
    Operation,
    deref,
    error_field,
    iter_operations,
    merged,
    response_codes,
)
from apicontract.specs.webhooks import webhook_operation
from apicontract.specs.yamlfile import SpecFileError, load


def load_api(layout: Layout, api: str) -> ApiView:
    """Read the API's bundle (and its fixtures and model names, for the samples) into page data."""
    doc = json.loads(layout.bundle(api).read_text(encoding="utf-8"))
    view = ApiBuilder(
        doc, api, _model_names(layout.models / f"{module_name(api)}.py"), _credentials(layout, api)
    ).build()
    files = payload_schemas(layout, api)
    view.payload_files = [(path.name, payload_href(api, path.name)) for path in files]
    by_component = {component_name(path): (path.name, payload_href(api, path.name)) for path in files}
    for webhook in view.webhooks:
        webhook.payload_file = next((by_component[t.schema] for t in webhook.payload if t.schema in by_component), None)
    return view


def bundle_href(api: str) -> str:
    """Where the site offers the API's bundled spec for download."""
    return f"openapi/{api}.json"


def payload_href(api: str, name: str) -> str:
    """Where the site offers a webhook or callback payload schema for download."""
    return f"schemas/{api}/{name}"


def payload_schemas(layout: Layout, api: str) -> list[Path]:
    """The API's standalone payload schema files (spec/<api>/webhooks/*.schema.json)."""
    return sorted((layout.spec / api / "webhooks").glob("*.schema.json"))


def _model_names(path: Path) -> frozenset[str]:
    """Class names the generated models module defines (samples only import what exists)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return frozenset()
    return frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))


def _credentials(layout: Layout, api: str) -> Credentials:
    """The first demo account's credentials: the published samples' keys are those (spec/CONVENTIONS.md)."""
    try:
        fixtures = load(layout.spec / api / "fixtures.yaml")
    except (OSError, SpecFileError):
        return Credentials()
    return first_credentials(fixtures)


def operation_anchor(op: Operation) -> str:
    if op.is_webhook:
        return f"webhook-{op.key}"
    return f"op-{op.node.get('operationId') or op.method + op.key}"


class ApiBuilder:
    """Builds one ApiView; remembers which operations use which shared component, to link to them."""

    def __init__(self, doc: dict, api: str, models: frozenset[str], credentials: Credentials):
        self.doc = doc
        self.api = api
        self.users: dict[str, list[OperationView]] = {}
        servers = doc.get("servers") or [{}]
        self.ctx = Context(doc, module_name(api), servers[0].get("url", ""), models, credentials)
        self.models = models
        self.field = error_field(doc)

    def build(self) -> ApiView:
        doc, info = self.doc, self.doc.get("info") or {}
        ops = sorted(iter_operations(doc), key=lambda op: _written_order(doc, op))
        webhook_counts: dict[str, int] = {}
        for op in ops:
            if op.is_webhook:
                webhook_counts[op.key] = webhook_counts.get(op.key, 0) + 1
        views = [self.operation(op, webhook_counts.get(op.key, 0) > 1) for op in ops]
        operations = [v for v in views if not v.is_webhook]
        webhooks = [v for v in views if v.is_webhook]
        self.causes(ops, views)
        tag_names = [t.get("name") for t in doc.get("tags") or [] if isinstance(t, dict)]
        tags = [
            Tag(t["name"], t.get("description"), [v for v in views if v.tag == t["name"]])
            for t in doc.get("tags") or []
            if isinstance(t, dict)
        ]
        untagged = [v for v in views if v.tag not in tag_names]
        if untagged:
            tags.append(Tag("Other", None, untagged))
        view = ApiView(
            name=self.api,
            page=f"{self.api}.html",
            title=info.get("title", self.api),
            summary=info.get("summary"),
            description=info.get("description"),
            version=str(info.get("version", "")),
            source=info.get("x-source"),
            servers=[(s.get("url", ""), s.get("description")) for s in doc.get("servers") or []],
            error_field=self.field,
            schemes=self.schemes(webhooks),
            security=[list(req) for req in doc.get("security") or []],
            tags=[t for t in tags if t.operations],
            operations=operations,
            webhooks=webhooks,
            schemas=self.schemas(),
            unspecified=[],
            module=module_name(self.api),
            bundle_file=bundle_href(self.api),
        )
        view.unspecified = self.unspecified(view)
        view.consumers = consumers(self.ctx, self.api, view.module, view.bundle_file)
        return view

    def causes(self, ops: list[Operation], views: list[OperationView]) -> None:
        """What causes each webhook (`x-caused-by`, `x-listed-by`), and on each operation what it causes."""
        by_id = {v.id: v for v in views if not v.is_webhook and v.id}
        links = {key: Link(f"`{v.method} {v.path}` ({v.summary})", "#" + v.anchor) for key, v in by_id.items()}
        events: dict[str, Link] = {}
        for v in views:
            if v.is_webhook:
                events.setdefault(v.path, Link(f"`{v.path}`", "#" + v.anchor))
        for op, view in zip(ops, views, strict=True):
            if not op.is_webhook:
                continue
            view.causes = caused_by(self.doc, op.node, op.parts, links, events)
            for cause in view.causes.causes:
                if cause.operation_id in by_id:
                    how = CAUSED.get(cause.count_key, cause.count_key)
                    by_id[cause.operation_id].caused.append((events[view.path], how))

    # operations -----------------------------------------------------------------------------------------

    def operation(self, op: Operation, several_methods: bool) -> OperationView:
        doc, node = self.doc, op.node
        anchor = operation_anchor(op) + (f"-{op.method}" if several_methods else "")
        security = node.get("security", doc.get("security")) or []
        body = node.get("requestBody")
        body_parts = (
            ref_parts(body["$ref"]) if isinstance(body, dict) and "$ref" in body else (*op.parts, "requestBody")
        )
        body = deref(doc, body) if body is not None else None
        tags = node.get("tags") or []
        view = OperationView(
            id=node.get("operationId", ""),
            anchor=anchor,
            method=op.method.upper(),
            path=op.key,
            url=self.ctx.server.rstrip("/") + op.key,
            summary=node.get("summary") or op.label,
            description=node.get("description"),
            tag=tags[0] if tags else "Other",
            marks=marks(node, op.parts),
            at=pointer(list(op.parts)),
            security=[list(req) for req in security],
            body_limit=self.body_limit(body),
            params=[self.parameter(param) for param in operation_parameters(doc, op)],
            body_description=body.get("description") if isinstance(body, dict) else None,
            body_required=bool(body.get("required")) if isinstance(body, dict) else False,
            body_marks=marks(body, body_parts),
            bodies=self.bodies(body, body_parts),
            responses=[],
            errors=[],
            samples=[] if op.is_webhook else operation_samples(self.ctx, op),
            is_webhook=op.is_webhook,
        )
        view.responses, view.errors = self.responses(op, view)
        view.body_errors = body_errors(body)
        anchors = {row.code: row.anchor for row in reversed(view.errors)}
        for found in view.bodies:
            found.shape_href = "#" + anchors[found.shape_code] if found.shape_code in anchors else None
        if op.is_webhook:
            describe_webhook(self.doc, webhook_operation(self.doc, op), view, self.ctx.module, self.models)
        for param in node.get("parameters") or []:
            if isinstance(param, dict) and "$ref" in param:
                self.users.setdefault(param["$ref"], []).append(view)
        return view

    def body_limit(self, body: Any) -> str | None:
        """The body size limit (`x-max-body-bytes`): the request body's own, else the API's; per media type too."""
        if not isinstance(body, dict):
            return None
        sizes = body_limits(self.doc, body)
        parts = [_size(sizes.default)]
        parts += [f"{_size(limit)} for {ctype}" for ctype, limit in sizes.by_type.items()]
        return "; ".join(parts)

    def parameter(self, parameter: Parameter) -> Field:
        param, parts = parameter.node, parameter.parts
        row = describe(
            self.doc,
            param.get("schema"),
            (*parts, "schema"),
            param.get("name", ""),
            param.get("in", ""),
            bool(param.get("required")),
            param.get("description"),
        )
        row.marks = marks(param, parts) + [m for m in row.marks if m not in marks(param, parts)]
        row.error_code = parameter.code
        row.also = also(param, parts, base_type(merged(self.doc, param.get("schema"))))
        row.implementation = implementation(self.doc, param, parts) or row.implementation
        row.unspecified = param.get("x-unspecified", row.unspecified)
        if "x-ruling" in param or "x-unspecified" in param:
            row.at = pointer(list(parts))
        return row

    def bodies(self, body: Any, parts: tuple[str, ...]) -> list[Body]:
        if not isinstance(body, dict):
            return []
        found = []
        for ctype, media in (body.get("content") or {}).items():
            if not isinstance(media, dict):
                continue
            media_parts = (*parts, "content", ctype)
            schema = media.get("schema")
            root_parts = (*media_parts, "schema")
            if isinstance(schema, dict) and named(schema.get("$ref")):
                root_parts = ref_parts(schema["$ref"])
            root = merged(self.doc, schema)
            found.append(
                Body(
                    content_type=ctype,
                    types=type_refs(self.doc, schema),
                    fields=fields(self.doc, schema, (*media_parts, "schema")),
                    examples=self.examples(media, media_parts),
                    marks=marks(media, media_parts),
                    at=pointer(list(media_parts)),
                    also=also(root, root_parts, base_type(root), body=True),
                    implementation=implementation(self.doc, schema, root_parts),
                    shape_code=shape_code(root),
                )
            )
        return found

    def examples(self, media: dict, parts: tuple[str, ...], status: str | None = None) -> list[Example]:
        found = []
        for name, example in (media.get("examples") or {}).items():
            where = (*parts, "examples", name)
            if isinstance(example, dict) and "$ref" in example:
                where = ref_parts(example["$ref"])
                example = deref(self.doc, example)
            if not isinstance(example, dict) or "value" not in example:
                continue
            found.append(
                Example(
                    name=name,
                    summary=example.get("summary"),
                    description=example.get("description"),
                    json=json.dumps(example["value"], indent=2, ensure_ascii=False),
                    marks=marks(example, where),
                    at=pointer(list(where)),
                    implementation=implementation(self.doc, example, where, status),
                )
            )
        return found

    def responses(self, op: Operation, view: OperationView) -> tuple[list[Response], list[ErrorRow]]:
        codes = response_codes(self.doc, op)
        plain: list[Response] = []
        errors: list[ErrorRow] = []
        seen: set[str] = set()
        for status, response in (op.node.get("responses") or {}).items():
            parts = (*op.parts, "responses", status)
            if isinstance(response, dict) and "$ref" in response:
                self.users.setdefault(response["$ref"], []).append(view)
                parts = ref_parts(response["$ref"])
                response = deref(self.doc, response)
            if not isinstance(response, dict):
                continue
            if status not in codes:
                plain.append(self.response(status, response, parts))
                continue
            media = (response.get("content") or {}).get("application/json") or {}
            by_code = self.examples_by_code(media, (*parts, "content", "application/json"), status)
            rows = []
            for code in codes[status]:
                example = by_code.get(code)
                anchor = f"err-{view.id}-{code}" + (f"-{status}" if code in seen else "")
                seen.add(code)
                rows.append(
                    ErrorRow(
                        status=status,
                        code=code,
                        anchor=anchor,
                        when=example.summary if example else None,
                        marks=example.marks if example else [],
                        at=example.at if example else pointer(list(parts)),
                        rowspan=0,
                        implementation=example.implementation if example else None,
                    )
                )
            if rows:
                rows[0].rowspan = len(rows)
                rows[0].response_description = response.get("description")
                rows[0].response_marks = marks(response, parts)
                rows[0].response_implementation = implementation(self.doc, response, parts, status)
            errors += rows
        return plain, errors

    def examples_by_code(self, media: dict, parts: tuple[str, ...], status: str) -> dict[str, Example]:
        """Each error example by the code it shows: it is named after it (spec/CONVENTIONS.md; lint checks it)."""
        return {example.name: example for example in self.examples(media, parts, status)}

    def response(self, status: str, response: dict, parts: tuple[str, ...]) -> Response:
        content = []
        for ctype, media in (response.get("content") or {}).items():
            if isinstance(media, dict):
                schema = media.get("schema")
                content.append(
                    Content(
                        content_type=ctype,
                        types=type_refs(self.doc, schema),
                        description=(deref(self.doc, schema) or {}).get("description")
                        if isinstance(schema, dict) and "$ref" not in schema
                        else None,
                        examples=self.examples(media, (*parts, "content", ctype), status),
                    )
                )
        return Response(
            status=status,
            description=response.get("description"),
            marks=marks(response, parts),
            unspecified=response.get("x-unspecified"),
            at=pointer(list(parts)),
            content=content,
            implementation=implementation(self.doc, response, parts, status),
        )

    # components -----------------------------------------------------------------------------------------

    def schemes(self, webhooks: list[OperationView]) -> list[SchemeView]:
        webhook_schemes = {name for w in webhooks for req in w.security for name in req}
        found = []
        for name, scheme in security_schemes(self.doc).items():
            parts = ("components", "securitySchemes", name)
            found.append(
                SchemeView(
                    name=name,
                    anchor=f"auth-{name}",
                    kind=scheme_kind(scheme),
                    description=scheme.description,
                    marks=marks(scheme.node, parts),
                    at=pointer(list(parts)),
                    for_webhooks=name in webhook_schemes,
                )
            )
        return found

    def schemas(self) -> list[SchemaView]:
        found = []
        for name, schema in ((self.doc.get("components") or {}).get("schemas") or {}).items():
            if not isinstance(schema, dict):
                continue
            parts = ("components", "schemas", name)
            found.append(
                SchemaView(
                    name=name,
                    anchor=f"schema-{name}",
                    title=schema.get("title"),
                    description=schema.get("description"),
                    types=type_refs(self.doc, schema),
                    fields=fields(self.doc, schema, parts),
                    enum=enum_rows(self.doc, schema),
                    marks=marks(schema, parts),
                    unspecified=schema.get("x-unspecified"),
                    examples=[json.dumps(e, indent=2, ensure_ascii=False) for e in schema.get("examples") or []],
                    at=pointer(list(parts)),
                    also=also(schema, parts, base_type(schema), body=True),
                    implementation=implementation(self.doc, schema, parts),
                    shape_code=shape_code(schema),
                )
            )
        return found

    # what the source leaves open ------------------------------------------------------------------------

    def unspecified(self, view: ApiView) -> list[Unspecified]:
        """`info.x-unspecified` sections first, then every element marked `x-unspecified`, where it is."""
        found = []
        for entry in (self.doc.get("info") or {}).get("x-unspecified") or []:
            if isinstance(entry, dict):
                found.append(
                    Unspecified(str(entry.get("section", "")), entry.get("note"), "the whole section", "", "/info")
                )
        for parts, value in _walk(self.doc, ()):
            if parts[:1] == ("info",):
                continue
            where, href = self.locate(view, parts)
            note = _node(self.doc, parts).get("description")
            found.append(Unspecified(str(value), note, where, href, pointer(list(parts))))
        return found

    def locate(self, view: ApiView, parts: tuple[str, ...]) -> tuple[str, str]:
        """A reader's name for the element at `parts`, and the anchor of the place that shows it."""
        by_parts = {ops.at: ops for ops in view.operations + view.webhooks}
        if parts[:1] in (("paths",), ("webhooks",)) and len(parts) >= 3:
            op = by_parts.get(pointer(list(parts[:3])))
            if op:
                label = f"{'webhook ' + op.path if op.is_webhook else op.method + ' ' + op.path} ({op.summary})"
                return _with_rest(label, parts[3:]), "#" + op.anchor
        if parts[:2] == ("components", "schemas") and len(parts) >= 3:
            rest = ".".join(p for p in parts[3:] if p not in ("properties", "items"))
            return f"schema {parts[2]}" + (f" › {rest}" if rest else ""), f"#schema-{parts[2]}"
        if parts[:1] == ("components",) and len(parts) >= 3:
            users = self.users.get("#" + pointer(list(parts[:3])), [])
            label = f"{parts[1][:-1]} {parts[2]}"
            if users:
                label += " (" + ", ".join(sorted({u.method + " " + u.path for u in users})) + ")"
                return label, "#" + users[0].anchor
            return label, ""
        return pointer(list(parts)), ""


def _size(count: Any) -> str:
    if isinstance(count, int) and count >= 1024 and count % 1024 == 0:
        for unit in ("KiB", "MiB", "GiB"):
            count //= 1024
            if count < 1024 or count % 1024:
                return f"{count} {unit}"
    return f"{count} bytes"


def scheme_kind(scheme: Scheme) -> str:
    """`HTTP Basic`, or where an API key goes: `API key in the header `X-Authorization``."""
    if scheme.kind == BASIC:
        return "HTTP Basic"
    if scheme.kind == API_KEY:
        where = "query parameter" if scheme.location == "query" else scheme.location
        return f"API key in the {where} `{scheme.carrier}`"
    if scheme.get("type") == "http":  # a scheme the spec model does not read: named as the spec types it
        return f"HTTP {str(scheme.get('scheme', '')).capitalize()}"
    return str(scheme.get("type", ""))


def _with_rest(label: str, rest: tuple[str, ...]) -> str:
    words = {"responses": "response", "requestBody": "request body", "x-delivery": "delivery", "content": ""}
    tail = " ".join(words.get(p, p) for p in rest if p not in ("content", "schema")).strip()
    return f"{label} › {tail}" if tail else label


def _written_order(doc: dict, op: Operation) -> tuple[int, int, int]:
    """Operations in the order the spec writes them (a path item's methods included)."""
    section = doc.get(op.section) or {}
    item = deref(doc, section.get(op.key)) or {}
    keys = list(item) if isinstance(item, dict) else []
    return (
        0 if op.section == "paths" else 1,
        list(section).index(op.key),
        keys.index(op.method) if op.method in keys else len(keys),
    )


def _walk(node: Any, parts: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        if node.get("x-unspecified") and not isinstance(node.get("x-unspecified"), list):
            yield parts, node["x-unspecified"]
        for key, value in node.items():
            if key != "x-unspecified":
                yield from _walk(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*parts, str(index)))


def _node(doc: Any, parts: tuple[str, ...]) -> dict:
    for part in parts:
        doc = doc[int(part)] if isinstance(doc, list) else doc.get(part) if isinstance(doc, dict) else None
    return doc if isinstance(doc, dict) else {}
