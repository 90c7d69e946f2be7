"""`apicontract lint`: the spec quality gate.

Each rule is a small function that yields located findings; a finding names the hand-written file and
line behind the problem, so an author can jump to it from the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from apicontract.paths import Layout
from apicontract.specs.bundle import Bundle, bundle, is_missing, pointer, resolve
from apicontract.specs.fixtures import Credentials, credentials
from apicontract.specs.promises import (
    also_answers,
    body_answers,
    body_error_kinds,
    causes,
    implementation_defined,
    listed_by,
    request_fields,
)
from apicontract.specs.walk import (
    Operation,
    cross_field_codes,
    declared_error_codes,
    deref,
    error_examples,
    error_field,
    iter_examples,
    iter_operations,
    merged,
    parameters,
    response_codes,
    schema_codes,
)
from apicontract.specs.yamlfile import SpecFileError, load

DIALECT = "https://json-schema.org/draft/2020-12/schema"
UNSPECIFIED_PREFIX = "Not specified by the source"
COMPONENT_KINDS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
)


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int | None
    where: str
    message: str

    def render(self, layout: Layout) -> str:
        location = layout.display(self.path) + (f":{self.line}" if self.line else "")
        return f"{location}: {self.where}: {self.message}" if self.where else f"{location}: {self.message}"


@dataclass
class Context:
    layout: Layout
    api: str
    bundle: Bundle
    rulings: set[str]

    @property
    def doc(self) -> dict:
        return self.bundle.doc

    def finding(self, parts: tuple[str, ...] | list[str], where: str, message: str) -> Finding:
        path, line = self.bundle.locate(list(parts))
        return Finding(path, line, where, message)


Rule = Callable[[Context], Iterator[Finding]]


def known_rulings(layout: Layout) -> set[str]:
    """Ruling ids (`R5`, `R5a`, ...) as `spec/rulings.md` defines them."""
    path = layout.spec / "rulings.md"
    if not path.is_file():
        return set()
    return set(re.findall(r"\*\*(R\d+[a-z]?)\b", path.read_text(encoding="utf-8")))


def lint(layout: Layout, apis: list[str] | None = None) -> list[Finding]:
    """All findings for the named APIs (all of them by default)."""
    rulings = known_rulings(layout)
    findings: list[Finding] = []
    if not rulings:
        findings.append(Finding(layout.spec / "rulings.md", None, "", "no rulings found (R1..R28 expected)"))
    for api in apis or layout.apis():
        try:
            bundled = bundle(api, layout.entry(api))
        except SpecFileError as exc:
            findings.append(Finding(exc.path, exc.line, "", str(exc)))
            continue
        ctx = Context(layout, api, bundled, rulings)
        for rule in RULES:
            findings.extend(_guarded(rule, ctx))
        findings.extend(check_fixtures(layout, api))
    return findings


def _guarded(rule: Rule, ctx: Context) -> list[Finding]:
    """A rule that cannot finish on a broken spec reports that, instead of stopping the whole lint."""
    found: list[Finding] = []
    try:
        found.extend(rule(ctx))
    except Exception as exc:  # noqa: BLE001 - e.g. a validator tripping over a reference check_refs reports
        reason = (str(exc).splitlines() or [type(exc).__name__])[0].split(" within {")[0][:200]
        found.append(Finding(ctx.bundle.entry, None, "", f"{rule.__name__} could not finish: {reason}"))
    return found


# --- rules -------------------------------------------------------------------------------------------


def check_structure(ctx: Context) -> Iterator[Finding]:
    """The OpenAPI 3.1 schema itself, as openapi-spec-validator reads it."""
    if ctx.doc.get("openapi") != "3.1.0":
        yield ctx.finding(["openapi"], "", f"openapi must be '3.1.0', not {ctx.doc.get('openapi')!r}")
    seen = set()
    for error in OpenAPIV31SpecValidator(ctx.doc).iter_errors():
        parts = [str(p) for p in error.path]
        key = (tuple(parts), error.message)
        if key in seen:
            continue
        seen.add(key)
        yield ctx.finding(parts, pointer(parts) or "document", f"OpenAPI: {error.message[:300]}")


def check_refs(ctx: Context) -> Iterator[Finding]:
    """Every local `$ref` points at something."""
    for ref, parts in _refs(ctx.doc, ()):
        if ref.startswith("#") and is_missing(resolve(ctx.doc, ref[1:])):
            yield ctx.finding(parts, pointer(list(parts)), f"$ref {ref!r} does not resolve")


def check_unused(ctx: Context) -> Iterator[Finding]:
    """No component that nothing uses."""
    refs = {ref for ref, _ in _refs(ctx.doc, ())}
    used_schemes: set[str] = set()
    for requirement_list in _security_lists(ctx.doc):
        for requirement in requirement_list or []:
            used_schemes.update(requirement or {})
    components = ctx.doc.get("components") or {}
    for kind in COMPONENT_KINDS:
        for name in components.get(kind) or {}:
            if kind == "securitySchemes":
                used = name in used_schemes
            else:
                target = f"#/components/{kind}/{name}"
                used = any(r == target or r.startswith(target + "/") for r in refs)
            if not used:
                yield ctx.finding(["components", kind, name], f"components/{kind}/{name}", "unused component")


def check_info(ctx: Context) -> Iterator[Finding]:
    info = ctx.doc.get("info") or {}
    if info.get("x-error-code-field") not in ("message", "status"):
        yield ctx.finding(["info"], "info", "x-error-code-field must name the error body field ('message' or 'status')")
    if not info.get("x-source"):
        yield ctx.finding(["info"], "info", "x-source must name the source document")
    if not ctx.doc.get("servers"):
        yield ctx.finding(["servers"], "servers", "the source's base URL must be listed in servers")


def check_operations(ctx: Context) -> Iterator[Finding]:
    """operationId, summary, a declared tag, the 401, a success response; webhooks declare delivery."""
    declared_tags = {t.get("name") for t in ctx.doc.get("tags") or [] if isinstance(t, dict)}
    seen_ids: dict[str, str] = {}
    for op in iter_operations(ctx.doc):
        parts = op.parts
        node = op.node
        op_id = node.get("operationId")
        if not op_id:
            yield ctx.finding(parts, op.label, "missing operationId")
        elif op_id in seen_ids:
            yield ctx.finding(
                (*parts, "operationId"), op.label, f"operationId {op_id!r} is also used by {seen_ids[op_id]}"
            )
        else:
            seen_ids[op_id] = op.label
        if not node.get("summary"):
            yield ctx.finding(parts, op.label, "missing summary")
        tags = node.get("tags") or []
        if not tags:
            yield ctx.finding(parts, op.label, "missing tag")
        for tag in tags:
            if tag not in declared_tags:
                yield ctx.finding((*parts, "tags"), op.label, f"tag {tag!r} is not declared in the top-level tags")
        responses = node.get("responses") or {}
        if not any(str(s).startswith("2") for s in responses):
            yield ctx.finding((*parts, "responses"), op.label, "no success (2xx) response")
        if op.is_webhook:
            delivery = node.get("x-delivery")
            if not isinstance(delivery, dict) or "path" not in delivery or "timeout_seconds" not in delivery:
                yield ctx.finding(parts, op.label, "x-delivery {path, timeout_seconds} is missing")
        elif "401" not in responses:
            yield ctx.finding((*parts, "responses"), op.label, "missing 401 response (R3)")


def check_error_responses(ctx: Context) -> Iterator[Finding]:
    """Every 4xx (and cpaas 502) names its error codes, with one example per code."""
    field = error_field(ctx.doc)
    for op in iter_operations(ctx.doc):
        if op.is_webhook:
            continue
        documented = response_codes(ctx.doc, op)
        for status, response in (op.node.get("responses") or {}).items():
            if not (status.startswith("4") or status == "502"):
                continue
            where = f"{op.label}: response {status}"
            parts = (*op.parts, "responses", status)
            codes = documented.get(status)
            if not codes:
                yield ctx.finding(
                    parts, where, f"no error code: the JSON body schema must restrict '{field}' with an enum"
                )
                continue
            examples = error_examples(ctx.doc, response)
            for code in codes:
                example = examples.get(code)
                if not isinstance(example, dict) or not isinstance(example.get("value"), dict):
                    yield ctx.finding(parts, where, f"error code {code!r} has no example named after it")
                elif str(example["value"].get(field)) != code:
                    yield ctx.finding(parts, where, f"example {code!r} carries {field}={example['value'].get(field)!r}")
                elif not example.get("summary"):
                    yield ctx.finding(parts, where, f"example {code!r} needs a summary saying when it happens")
        declared = {code for codes in documented.values() for code in codes}
        for code, parts in declared_error_codes(ctx.doc, op):
            if code not in declared:
                yield ctx.finding(
                    parts, op.label, f"x-error-code {code!r} is not among the operation's documented error codes"
                )


def check_examples(ctx: Context) -> Iterator[Finding]:
    """Every example validates against its schema; examples are named, never the singular `example`."""
    registry = Registry().with_resource(_URN, Resource.from_contents(ctx.doc, default_specification=DRAFT202012))
    for site in iter_examples(ctx.doc):
        schema = resolve(ctx.doc, pointer(list(site.schema_parts)))
        if is_missing(schema):
            continue
        validator = jsonschema.Draft202012Validator(
            {"$ref": _URN + "#" + pointer(list(site.schema_parts))}, registry=registry
        )
        try:
            errors = sorted(validator.iter_errors(site.value), key=lambda e: list(e.absolute_path))
        except jsonschema.exceptions.RefResolutionError as exc:  # pragma: no cover - check_refs reports it
            yield ctx.finding(site.example_parts, site.label, f"cannot validate: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - a broken schema must be a finding, not a traceback
            yield ctx.finding(site.example_parts, site.label, f"cannot validate: {exc}")
            continue
        for error in errors[:5]:
            at = pointer([str(p) for p in error.absolute_path]) or "/"
            yield ctx.finding(site.example_parts, site.label, f"{_short(error.message)} at {at}")
    for parts, node in _nodes(ctx.doc, ()):
        if isinstance(node, dict) and "example" in node and ("schema" in node or parts[-2:-1] == ("content",)):
            yield ctx.finding(parts, pointer(list(parts)), "use a named example under 'examples', not 'example'")


def check_rulings(ctx: Context) -> Iterator[Finding]:
    for parts, node in _nodes(ctx.doc, ()):
        if isinstance(node, dict) and "x-ruling" in node:
            ids = node["x-ruling"] if isinstance(node["x-ruling"], list) else [node["x-ruling"]]
            for ruling in ids:
                if ruling not in ctx.rulings:
                    yield ctx.finding(
                        (*parts, "x-ruling"), pointer(list(parts)), f"x-ruling {ruling!r} is not in spec/rulings.md"
                    )


def check_payload_files(ctx: Context) -> Iterator[Finding]:
    """Webhook payload files stay standalone JSON Schema 2020-12 documents."""
    for path, raw in ctx.bundle.sources.items():
        if path == ctx.bundle.entry:
            continue
        if raw.get("$schema") != DIALECT:
            yield Finding(path, None, "", f"$schema must be {DIALECT!r}")
        for key in ("$id", "title", "description"):
            if not raw.get(key):
                yield Finding(path, None, "", f"missing {key}")
        try:
            jsonschema.Draft202012Validator.check_schema(raw)
        except jsonschema.SchemaError as exc:
            yield Finding(
                path, None, pointer([str(p) for p in exc.absolute_path]), f"not a valid schema: {_short(exc.message)}"
            )
        for ref, parts in _refs(raw, ()):
            if not ref.startswith("#"):
                yield Finding(
                    path,
                    None,
                    pointer(list(parts)),
                    f"$ref {ref!r} leaves the file; payload schemas must be standalone",
                )


def check_closed_objects(ctx: Context) -> Iterator[Finding]:
    """Every named object schema says whether it is closed: R5 treats unknown body fields as malformed,
    and a checked response or payload must not carry fields the contract does not name."""
    for name, schema in ((ctx.doc.get("components") or {}).get("schemas") or {}).items():
        if isinstance(schema, dict) and "properties" in schema and "additionalProperties" not in schema:
            yield ctx.finding(
                ["components", "schemas", name],
                f"components/schemas/{name}",
                "object schema must state additionalProperties (false, or true where the source leaves it open)",
            )


def check_unspecified(ctx: Context) -> Iterator[Finding]:
    """What the source leaves open is said, never silently invented (see spec/CONVENTIONS.md)."""
    for entry in (ctx.doc.get("info") or {}).get("x-unspecified") or []:
        if not (isinstance(entry, dict) and entry.get("section") and entry.get("note")):
            yield ctx.finding(["info", "x-unspecified"], "info", "each x-unspecified entry needs a section and a note")
    for parts, node in _nodes(ctx.doc, ()):
        if parts[:1] == ("info",) or not isinstance(node, dict) or "x-unspecified" not in node:
            continue
        if not str(node.get("description", "")).startswith(UNSPECIFIED_PREFIX):
            yield ctx.finding(
                parts,
                pointer(list(parts)),
                f"an x-unspecified element's description starts with '{UNSPECIFIED_PREFIX}'",
            )


def check_runtime_extensions(ctx: Context) -> Iterator[Finding]:
    """The extensions a server reads to answer malformed requests name documented codes."""
    info = ctx.doc.get("info") or {}
    if not isinstance(info.get("x-max-body-bytes"), int):
        yield ctx.finding(["info"], "info", "x-max-body-bytes (the default body limit, R5) is missing")
    routes = info.get("x-route-errors") or {}
    if not (isinstance(routes, dict) and {"404", "405"} <= set(routes)):
        yield ctx.finding(["info"], "info", "x-route-errors must give the 404 and 405 codes (R5)")
    for op in iter_operations(ctx.doc):
        body = op.node.get("requestBody")
        if not isinstance(body, dict):
            continue
        codes = response_codes(ctx.doc, op)
        for kind, ctype, answers in body_error_kinds(body):
            label = f"{kind} {ctype}" if ctype else kind
            if not answers:
                yield ctx.finding(
                    (*op.parts, "requestBody", "x-body-errors"), op.label, f"x-body-errors {label}: no {{status, code}}"
                )
            for answer in answers:
                if answer.code not in codes.get(answer.status, []):
                    yield ctx.finding(
                        (*op.parts, "requestBody", "x-body-errors"),
                        op.label,
                        f"x-body-errors {label}: {answer.code!r} is not a documented {answer.status} code",
                    )


def check_missing_bodies(ctx: Context) -> Iterator[Finding]:
    """R5: a missing body is read as an empty object, so a body is `required` exactly when `{}` is refused
    (or when `x-body-errors.missing` answers a missing body otherwise)."""
    for op in iter_operations(ctx.doc):
        body = deref(ctx.doc, op.node.get("requestBody"))
        if op.is_webhook or not isinstance(body, dict) or body_answers(body, "missing"):
            continue
        content = body.get("content") or {}
        ctype = "application/json" if "application/json" in content else next(iter(content), None)
        if ctype is None:
            continue
        ref = op.node["requestBody"].get("$ref", "")
        base = tuple(ref[2:].split("/")) if ref.startswith("#/") else (*op.parts, "requestBody")
        empty_ok = _accepts(ctx, (*base, "content", ctype, "schema"), {})
        if bool(body.get("required")) == empty_ok:
            should = "false: an empty object is valid" if empty_ok else "true: an empty object is refused"
            yield ctx.finding((*op.parts, "requestBody"), op.label, f"requestBody required must be {should} (R5)")


def _accepts(ctx: Context, parts: tuple[str, ...], value: Any) -> bool:
    registry = Registry().with_resource(_URN, Resource.from_contents(ctx.doc, default_specification=DRAFT202012))
    validator = jsonschema.Draft202012Validator({"$ref": _URN + "#" + pointer(list(parts))}, registry=registry)
    return validator.is_valid(value)


def check_promises(ctx: Context) -> Iterator[Finding]:
    """R0's extensions say what the contract leaves to implementations; each must name real things."""
    doc, routes = ctx.doc, (ctx.doc.get("info") or {}).get("x-route-errors") or {}
    for parts, node in _nodes(doc, ()):
        if not isinstance(node, dict):
            continue
        marked = node.get("x-implementation-defined")
        if marked is not None:
            where = pointer(list(parts))
            if implementation_defined(node) is None:
                yield ctx.finding(parts, where, "x-implementation-defined must be {ruling: Rnn[, keywords: [...]]}")
            else:
                if marked["ruling"] not in ctx.rulings:
                    yield ctx.finding(parts, where, f"x-implementation-defined: {marked['ruling']!r} is no ruling")
                schema = node.get("schema") if "in" in node else node
                for keyword in marked.get("keywords") or []:
                    if keyword not in (deref(doc, schema) or {}):
                        yield ctx.finding(parts, where, f"x-implementation-defined: no {keyword!r} here to leave open")
            if "x-ruling" not in node:
                yield ctx.finding(parts, where, "x-implementation-defined needs x-ruling too")
        if "x-shape-error-code" in node and "x-error-code" not in node:
            yield ctx.finding(parts, pointer(list(parts)), "x-shape-error-code goes beside a root's x-error-code")
        if "x-identifies" in node and node["x-identifies"] not in ((doc.get("components") or {}).get("schemas") or {}):
            yield ctx.finding(parts, pointer(list(parts)), f"x-identifies {node['x-identifies']!r}: no such schema")
        if "x-identifier" in node:
            props = node.get("properties") or {}
            for name in [node["x-identifier"]] if isinstance(node["x-identifier"], str) else node["x-identifier"]:
                if name not in props:
                    yield ctx.finding(parts, pointer(list(parts)), f"x-identifier {name!r} is not a property")
    for op in iter_operations(doc):
        if op.is_webhook:
            continue
        codes = response_codes(doc, op)
        sites = [(p, parts) for p, parts in parameters(doc, op)]
        body = deref(doc, op.node.get("requestBody")) or {}
        medias = (body.get("content") or {}).values()
        sites += [(merged(doc, m.get("schema")), (*op.parts, "requestBody")) for m in medias]
        for node, parts in sites:
            for answer in also_answers(node):
                status_codes = codes.get(answer.status, [])
                if answer.status.startswith("2"):
                    continue
                if answer.code not in status_codes and routes.get(answer.status) != answer.code:
                    yield ctx.finding(
                        parts,
                        op.label,
                        f"x-also-answers: {answer.status} {answer.code!r} is neither a code the operation documents "
                        "nor its route answer",
                    )
                if isinstance(answer.select, str) and answer.select not in ("unroutable", "wrong-type"):
                    yield ctx.finding(parts, op.label, f"x-also-answers for {answer.select!r}: not a value class")
    operations = {op.node.get("operationId"): op for op in iter_operations(doc) if not op.is_webhook}
    events = {op.key for op in iter_operations(doc) if op.is_webhook}
    for cause in causes(doc):
        where = f"webhook {cause.event}"
        caused_by = operations.get(cause.operation)
        if caused_by is None:
            yield ctx.finding(("webhooks", cause.event), where, f"x-caused-by: no operation {cause.operation!r}")
            continue
        if cause.count not in ("one", "optional"):
            yield ctx.finding(("webhooks", cause.event), where, f"x-caused-by count {cause.count!r}: one or optional")
        if cause.request_subject not in request_fields(doc, caused_by):
            yield ctx.finding(
                ("webhooks", cause.event), where, f"x-caused-by: {caused_by.label} takes no {cause.request_subject!r}"
            )
        if cause.after is not None and cause.after not in events:
            yield ctx.finding(("webhooks", cause.event), where, f"x-caused-by after {cause.after!r}: no such event")
    for listing in listed_by(doc):
        if listing.operation not in operations:
            yield ctx.finding(("webhooks", listing.event), listing.event, f"x-listed-by: no {listing.operation!r}")


LIMIT_KEYS = ("x-max-header-bytes", "x-max-header-count", "x-max-json-depth", "x-max-number-length")
MULTIPART_LIMIT_KEYS = ("x-max-multipart-parts", "x-max-part-header-bytes")
TIMEOUT_KEYS = ("idle", "header", "body")
HTTP_ERROR_STATUSES = ("400", "408", "431")


def check_request_limits(ctx: Context) -> Iterator[Finding]:
    """What one request may cost (R5): every limit a server reads is there, positive, and answers an API code."""
    info = ctx.doc.get("info") or {}
    takes_multipart = any(
        "multipart/form-data" in ((deref(ctx.doc, op.node.get("requestBody")) or {}).get("content") or {})
        for op in iter_operations(ctx.doc)
        if not op.is_webhook
    )
    for key in LIMIT_KEYS + (MULTIPART_LIMIT_KEYS if takes_multipart else ()):
        if not _positive(info.get(key)):
            yield ctx.finding(["info"], "info", f"{key} (a request limit, R5) must be a positive integer")
    timeouts = info.get("x-timeouts")
    if not (isinstance(timeouts, dict) and all(_positive(timeouts.get(k)) for k in TIMEOUT_KEYS)):
        yield ctx.finding(["info"], "info", "x-timeouts must give idle, header and body as positive seconds (R5)")
    errors = info.get("x-http-errors")
    if not (isinstance(errors, dict) and set(HTTP_ERROR_STATUSES) <= set(errors)):
        yield ctx.finding(["info"], "info", "x-http-errors must give the 400, 408 and 431 codes (R5)")
        return
    known = schema_codes(ctx.doc, {"$ref": "#/components/schemas/Error"}, error_field(ctx.doc))
    for status in HTTP_ERROR_STATUSES:
        code = errors[status]
        if not isinstance(code, str) or not (code in known if known else re.fullmatch(r"[a-z][a-z0-9_]*", code)):
            yield ctx.finding(
                ["info", "x-http-errors"], "info", f"x-http-errors {status}: {code!r} is not an error code of the API"
            )


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _by_type(kind: str, answer: Any) -> bool:
    """`rejected`, and `unparseable` where it gives one answer per content type, map content type -> answer."""
    return kind == "rejected" or (kind == "unparseable" and isinstance(answer, dict) and "code" not in answer)


def check_cross_field(ctx: Context) -> Iterator[Finding]:
    for op in iter_operations(ctx.doc):
        for status, codes in cross_field_codes(ctx.doc, op).items():
            for code in codes:
                if code not in response_codes(ctx.doc, op).get(status, []):
                    yield ctx.finding(
                        (*op.parts, "responses", status), op.label, f"x-cross-field on {code!r}, not a code"
                    )


RULES: list[Rule] = [
    check_structure,
    check_refs,
    check_unused,
    check_info,
    check_operations,
    check_error_responses,
    check_examples,
    check_rulings,
    check_payload_files,
    check_closed_objects,
    check_unspecified,
    check_runtime_extensions,
    check_missing_bodies,
    check_promises,
    check_request_limits,
    check_cross_field,
]


def check_fixtures(layout: Layout, api: str) -> Iterator[Finding]:
    """Fixtures satisfy their own schema and give every account distinct credentials."""
    path = layout.spec / api / "fixtures.yaml"
    schema_path = layout.spec / api / "fixtures.schema.json"
    if not path.is_file() or not schema_path.is_file():
        yield Finding(path, None, "", "fixtures.yaml and fixtures.schema.json are required")
        return
    try:
        fixtures = load(path)
        schema = load(schema_path)
    except SpecFileError as exc:
        yield Finding(exc.path, exc.line, "", str(exc))
        return
    try:
        validator = jsonschema.Draft202012Validator(schema)
        errors = list(validator.iter_errors(fixtures))
    except Exception as exc:  # noqa: BLE001
        yield Finding(schema_path, None, "", f"not a valid schema: {exc}")
        return
    for error in errors:
        parts = [str(p) for p in error.absolute_path]
        from apicontract.specs.yamlfile import line_of

        yield Finding(path, line_of(fixtures, parts), pointer(parts) or "/", _short(error.message))
    if errors:
        return
    accounts = fixtures.get("accounts") or []
    seen: dict[Credentials, int] = {}
    for index, account in enumerate(accounts):
        key = credentials(account)
        if key in seen:
            yield Finding(path, None, f"/accounts/{index}", f"same credentials as account {seen[key]}")
        seen[key] = index


# --- helpers -------------------------------------------------------------------------------------------

_URN = "urn:apicontract:bundle"


def _short(message: str, limit: int = 240) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _nodes(node: Any, parts: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield parts, node
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("examples", "example", "default", "const", "enum") and parts[-1:] != ("properties",):
                continue  # example values are data, not spec
            yield from _nodes(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, (*parts, str(index)))


def _refs(node: Any, parts: tuple[str, ...]) -> Iterator[tuple[str, tuple[str, ...]]]:
    for where, value in _nodes(node, parts):
        if isinstance(value, dict) and isinstance(value.get("$ref"), str):
            yield value["$ref"], where


def _security_lists(doc: dict) -> Iterator[list]:
    yield doc.get("security") or []
    for op in iter_operations(doc):
        yield op.node.get("security") or []


def _unused_helpers() -> tuple[Any, ...]:  # keep imports used by type checkers only
    return (Operation, parameters)
