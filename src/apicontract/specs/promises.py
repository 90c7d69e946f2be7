"""What the contract promises, as opposed to what the reference server happens to answer (R0).

The spec describes the reference server completely; these readers say where the contract is narrower
or wider than that description: answers that are the implementation's choice (`x-implementation-defined`),
further answers that conform (`x-also-answers`, answer lists in `x-body-errors`), the code of a body's
shape errors (`x-shape-error-code`), which operation causes which event (`x-caused-by`, `x-listed-by`)
and which value names which resource (`x-identifier`, `x-identifies`). The server reads them to make its
one choice; the suite reads them, and `contract_view`, to assert nothing more than the contract.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from apicontract.specs.walk import Operation, deref, iter_operations, merged, parameters

__all__ = [
    "AlsoAnswer",
    "BodyAnswer",
    "Cause",
    "Listing",
    "Subject",
    "also_answers",
    "alternatives",
    "body_answers",
    "causes",
    "contract_view",
    "identifiers",
    "identifying",
    "implementation_defined",
    "listed_by",
    "request_fields",
    "shape_code",
    "subject",
    "unroutable",
]

UNROUTABLE = "unroutable"
WRONG_TYPE = "wrong-type"
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f/]")


@dataclass(frozen=True)
class BodyAnswer:
    status: str
    code: str


def body_answers(body: dict | None, kind: str, content_type: str | None = None) -> list[BodyAnswer]:
    """The answers `x-body-errors.<kind>` allows (first: the reference server's), [] when it says nothing.

    Each entry is one `{status, code}`, a list of them, or (`rejected`, and `unparseable` where content
    types differ) a map from content type to either.
    """
    found = ((body or {}).get("x-body-errors") or {}).get(kind)
    if isinstance(found, dict) and "code" not in found:
        found = found.get(content_type or "")
    if found is None:
        return []
    items = found if isinstance(found, list) else [found]
    return [BodyAnswer(str(a["status"]), str(a["code"])) for a in items if isinstance(a, dict) and "code" in a]


def body_error_kinds(body: dict | None) -> Iterator[tuple[str, str | None, list[BodyAnswer]]]:
    """Every (kind, content type or None, answers) an `x-body-errors` holds, for lint and docs."""
    for kind, found in ((body or {}).get("x-body-errors") or {}).items():
        if isinstance(found, dict) and "code" not in found:
            for ctype in found:
                yield kind, ctype, body_answers(body, kind, ctype)
        else:
            yield kind, None, body_answers(body, kind)


@dataclass(frozen=True)
class AlsoAnswer:
    """A further conforming answer for the values `select` picks (R5c, R23a, R24)."""

    select: str | dict  # "unroutable", "wrong-type", or a JSON Schema of the value read as its type
    status: str
    code: str | None
    stage: str | None = None  # "existence": after the body's checks (R5a), like an unknown identifier


def also_answers(node: Any) -> list[AlsoAnswer]:
    """`x-also-answers` of a parameter or a body's root schema."""
    found = []
    for item in (node or {}).get("x-also-answers") or [] if isinstance(node, dict) else []:
        if isinstance(item, dict) and "for" in item and "status" in item:
            found.append(AlsoAnswer(item["for"], str(item["status"]), item.get("code"), item.get("stage")))
    return found


def unroutable(raw: str | bytes) -> bool:
    """R5c: a path value holding `/` (raw or encoded), a control character (Cc) or bytes that are not UTF-8."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return bool(_CONTROL.search(raw)) or "%2f" in raw.lower()


def shape_code(schema: Any) -> str | None:
    """`x-shape-error-code` of a body's root schema (cpaas `invalidSchemeError`, R23a)."""
    return schema.get("x-shape-error-code") if isinstance(schema, dict) else None


@dataclass(frozen=True)
class ImplementationDefined:
    ruling: str
    keywords: tuple[str, ...] = ()


def implementation_defined(node: Any) -> ImplementationDefined | None:
    value = node.get("x-implementation-defined") if isinstance(node, dict) else None
    if not isinstance(value, dict) or "ruling" not in value:
        return None
    return ImplementationDefined(str(value["ruling"]), tuple(value.get("keywords") or ()))


@dataclass(frozen=True)
class Cause:
    """One documented cause of an event: `operation` succeeding (R13a, R22a, R27)."""

    event: str  # the webhook's name
    operation: str  # operationId
    count: str  # "one" or "optional"
    payload_subject: str  # the payload field naming the resource
    request_subject: str  # the request's parameter or body field naming it
    payload: dict[str, Any] = field(default_factory=dict)  # fixed payload values
    after: str | None = None  # an event of the same cause that must arrive first
    ruling: str | None = None


def causes(doc: dict) -> list[Cause]:
    """Every `x-caused-by` of every webhook, in the spec's order."""
    found = []
    for op in iter_operations(doc):
        if not op.is_webhook:
            continue
        for item in op.node.get("x-caused-by") or []:
            subject = item.get("subject") or {}
            found.append(
                Cause(
                    op.key,
                    str(item["operation"]),
                    str(item.get("count", "one")),
                    str(subject.get("payload")),
                    str(subject.get("request")),
                    dict(item.get("payload") or {}),
                    item.get("after"),
                    item.get("x-ruling"),
                )
            )
    return found


@dataclass(frozen=True)
class Listing:
    """`x-listed-by`: a delivered payload is one of the records an operation lists (R22a)."""

    event: str
    operation: str
    list: str
    payload_subject: str
    request_subject: str
    time: str
    since: str
    until: str


def listed_by(doc: dict) -> list[Listing]:
    found = []
    for op in iter_operations(doc):
        item = op.node.get("x-listed-by") if op.is_webhook else None
        if isinstance(item, dict):
            subject, time = item.get("subject") or {}, item.get("time") or {}
            found.append(
                Listing(
                    op.key,
                    str(item["operation"]),
                    str(item["list"]),
                    str(subject.get("payload")),
                    str(subject.get("request")),
                    str(time.get("payload")),
                    str(time.get("from")),
                    str(time.get("until")),
                )
            )
    return found


def identifiers(doc: dict, resource: str) -> list[str]:
    """The properties that identify one `resource` (`x-identifier` of its component schema)."""
    schema = ((doc.get("components") or {}).get("schemas") or {}).get(resource) or {}
    value = schema.get("x-identifier")
    return [value] if isinstance(value, str) else list(value or [])


@dataclass(frozen=True)
class Subject:
    """Where an operation takes the resource it acts on."""

    location: str  # "path" or "body"
    name: str
    resource: str  # the component schema name (`Sim`, `Media`, `Connector`)


def identifying(doc: dict, schema: Any, resource: str) -> list[str]:
    """The properties of a body schema that name a `resource` (`x-identifies`)."""
    props = (merged(doc, schema) or {}).get("properties") or {}
    return [n for n, p in props.items() if (merged(doc, p) or {}).get("x-identifies") == resource]


def subject(doc: dict, op: Operation) -> Subject | None:
    """The parameter or JSON body property marked `x-identifies`, if the operation has one."""
    for param, _ in parameters(doc, op):
        if param.get("in") == "path" and param.get("x-identifies"):
            return Subject("path", param["name"], str(param["x-identifies"]))
    body = deref(doc, op.node.get("requestBody")) or {}
    schema = merged(doc, ((body.get("content") or {}).get("application/json") or {}).get("schema")) or {}
    for name, prop in (schema.get("properties") or {}).items():
        resource = (merged(doc, prop) or {}).get("x-identifies") if isinstance(prop, dict) else None
        if resource:
            return Subject("body", name, str(resource))
    return None


def request_fields(doc: dict, op: Operation) -> list[str]:
    """The names a request of `op` can carry: its path and query parameters, its JSON body's properties."""
    names = [p["name"] for p, _ in parameters(doc, op) if p.get("in") in ("path", "query")]
    body = deref(doc, op.node.get("requestBody")) or {}
    schema = merged(doc, ((body.get("content") or {}).get("application/json") or {}).get("schema")) or {}
    return names + list(schema.get("properties") or {})


def alternatives(doc: dict, op: Operation) -> set[tuple[str, str]]:
    """(status, code) listed only as answers another implementation may give: the reference server's own
    choice for the same situation is another answer (`x-also-answers`, later entries of `x-body-errors`)."""
    body = deref(doc, op.node.get("requestBody")) or {}
    also = {(a.status, a.code) for a in _also_of(doc, op) if a.code}
    listed = [answers for _, _, answers in body_error_kinds(body)]
    also |= {(a.status, a.code) for answers in listed for a in answers[1:]}
    chosen = {(a.status, a.code) for answers in listed for a in answers[:1]}
    return also - chosen


def _also_of(doc: dict, op: Operation) -> list[AlsoAnswer]:
    found = [a for param, _ in parameters(doc, op) for a in also_answers(param)]
    body = deref(doc, op.node.get("requestBody")) or {}
    return found + [a for m in (body.get("content") or {}).values() for a in also_answers(merged(doc, m.get("schema")))]


# --- the contract view ------------------------------------------------------------------------------------


def contract_view(doc: dict) -> dict:
    """A copy of a bundle that promises only the contract, for tools that test other implementations.

    - keywords marked `x-implementation-defined` are dropped from their schema (any value may then be
      accepted; a refusal is any 4xx in the API's error shape);
    - a response marked so is replaced by the status class (`2XX`/`4XX`) in the API's shape, and a code
      marked so is dropped from its response, the class added: any status of the class, with any code
      where the operation's own documented codes do not name the situation, conforms;
    - the statuses and codes of `x-also-answers` and of `x-body-errors` answer lists are documented on
      their operations, so those answers conform too.
    """
    view = copy.deepcopy(doc)
    error = {"$ref": "#/components/schemas/Error"}
    for op in list(iter_operations(view)):
        if op.is_webhook:
            continue
        widened = _drop_keywords(view, op)
        responses = op.node.setdefault("responses", {})
        for status in list(responses):
            response = deref(view, responses[status])
            if not isinstance(response, dict) or not status[:1].isdigit():
                continue
            if implementation_defined(response):
                del responses[status]
                widened.add(status[0])
                continue
            examples = ((response.get("content") or {}).get("application/json") or {}).get("examples") or {}
            chosen = [name for name, e in examples.items() if implementation_defined(deref(view, e))]
            if chosen:
                kept = _without_codes(view, response, chosen)
                if kept is None:
                    del responses[status]
                else:
                    responses[status] = kept
                widened.add(status[0])
        if widened & {"4", "5"}:
            responses.setdefault("4XX", _range_response("Another error (the implementation's choice).", error))
        if "2" in widened:
            responses.setdefault("2XX", _range_response("Success (the implementation's choice).", {}))
        for status, code in _extra_answers(view, op):
            _document(view, op, status, code)
    return view


def _without_codes(view: dict, response: dict, codes: list[str]) -> dict | None:
    """A copy of an error response without the codes the reference server alone chose (None: none left)."""
    response = copy.deepcopy(response)
    media = (response.get("content") or {}).get("application/json") or {}
    for code in codes:
        (media.get("examples") or {}).pop(code, None)
    if not media.get("examples"):
        return None
    # any code may answer here now: the schema is the API's error shape, and the codes the contract still
    # names for this status are its remaining named examples
    media["schema"] = {"$ref": "#/components/schemas/Error"}
    return response


def _range_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _drop_keywords(view: dict, op: Operation) -> set[str]:
    """Remove the implementation-defined keywords of the operation's parameters and body schemas."""
    widened: set[str] = set()
    for param, _ in parameters(view, op):
        marked = implementation_defined(param)
        if marked and marked.keywords:
            schema = param.get("schema")
            if isinstance(schema, dict) and "$ref" in schema:
                param["schema"] = schema = dict(merged(view, schema))
            for keyword in marked.keywords:
                (schema or {}).pop(keyword, None)
            widened.add("4")
    body = deref(view, op.node.get("requestBody")) or {}
    for media in (body.get("content") or {}).values():
        if _drop_in_schema(view, media.get("schema"), set()):
            widened.add("4")
    return widened


def _drop_in_schema(view: dict, schema: Any, seen: set[int]) -> bool:
    target = deref(view, schema)
    if not isinstance(target, dict) or id(target) in seen:
        return False
    seen.add(id(target))
    found = False
    for node in (schema, target) if schema is not target else (target,):
        marked = implementation_defined(node)
        if marked and marked.keywords:
            for keyword in marked.keywords:
                node.pop(keyword, None)
            found = True
    for prop in (target.get("properties") or {}).values():
        found |= _drop_in_schema(view, prop, seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in target.get(key) or []:
            found |= _drop_in_schema(view, branch, seen)
    return found


def _extra_answers(view: dict, op: Operation) -> list[tuple[str, str]]:
    """(status, code) the spec lists as also conforming: `x-also-answers`, `x-body-errors` lists."""
    found = [(a.status, a.code) for a in _also_of(view, op) if a.code]
    body = deref(view, op.node.get("requestBody")) or {}
    for _, _, answers in body_error_kinds(body):
        found += [(a.status, a.code) for a in answers]
    return found


def _document(view: dict, op: Operation, status: str, code: str) -> None:
    """Make `code` a documented answer of `status` on this operation (in the view only)."""
    if status.startswith("2"):
        return
    responses = op.node["responses"]
    field_name = (view.get("info") or {}).get("x-error-code-field", "message")
    response = responses.get(status)
    if response is None:
        if f"{status[0]}XX" in responses:
            return
        responses[status] = {
            "description": "Also conforms (x-also-answers).",
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [
                            {"$ref": "#/components/schemas/Error"},
                            {"properties": {field_name: {"enum": [code]}}},
                        ]
                    },
                    "examples": {code: {"value": {field_name: code}}},
                }
            },
        }
        return
    response = copy.deepcopy(deref(view, response))
    media = (response.get("content") or {}).get("application/json")
    if not isinstance(media, dict):
        return
    for branch in (media.get("schema") or {}).get("allOf") or []:
        prop = ((branch or {}).get("properties") or {}).get(field_name)
        if isinstance(prop, dict) and isinstance(prop.get("enum"), list) and code not in prop["enum"]:
            prop["enum"].append(code)
    examples = media.setdefault("examples", {})
    examples.setdefault(code, {"value": {field_name: code}})
    responses[status] = response
