"""What the contract promises beside the reference server's own answers, in a reader's words (R0).

The spec describes the reference server completely and says where the contract is wider: further answers
that conform (`x-also-answers`, answer lists in `x-body-errors`), the code of a body's shape errors
(`x-shape-error-code`), and which operation causes which webhook or callback (`x-caused-by`,
`x-listed-by`). The readers of `specs.promises` parse them, as the server and the suite do; this module
only words them and keeps each entry's ruling marks with its JSON pointer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from apicontract.docs.schemas import Also, Mark, display, marks
from apicontract.specs.bundle import pointer
from apicontract.specs.promises import (
    UNROUTABLE,
    WRONG_TYPE,
    AlsoAnswer,
    BodyAnswer,
    also_answers,
    body_error_kinds,
    listed_by,
)

UNROUTABLE_VALUES = "a value holding `/`, a control character or bytes that are not UTF-8"
STAGES = {"existence": "after the body's checks, as an unknown id"}
BODY_ERROR_KINDS = {
    "missing": "No body",
    "unparseable": "A body that does not parse",
    "unsupported": "A content type the operation does not take",
    "rejected": "A body sent as",
}


# x-also-answers --------------------------------------------------------------------------------------------


def also(node: Any, parts: tuple[str, ...], kind: str | None, body: bool = False) -> list[Also]:
    """The `x-also-answers` of a parameter (or of a body's root schema, `body=True`) at `parts`, in words.

    `kind` is the JSON type of the parameter's schema: values a `for` schema selects are read as it.
    """
    raw = node.get("x-also-answers") if isinstance(node, dict) else None
    found = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        for answer in also_answers({"x-also-answers": [item]}):
            where = (*parts, "x-also-answers", str(index))
            found.append(
                Also(
                    status=answer.status,
                    code=answer.code,
                    values=values(answer, kind, body),
                    stage=STAGES.get(answer.stage or "", answer.stage),
                    marks=marks(item, where),
                    at=pointer(list(where)),
                )
            )
    return found


def values(answer: AlsoAnswer, kind: str | None, body: bool = False) -> str:
    """Which values an `x-also-answers` entry is for, as inline markdown."""
    if answer.select == UNROUTABLE:
        return UNROUTABLE_VALUES
    if answer.select == WRONG_TYPE:
        if body:
            return "a property value of the wrong JSON type"
        return "a value that is not of the parameter's type" + (f" ({kind})" if kind else "")
    if isinstance(answer.select, dict):
        phrase = schema_phrase(answer.select, kind)
        noun_first = phrase.startswith(("not ", "a ", "an ", "one of"))
        return f"a value that is {phrase}" if noun_first else f"a value {phrase}"
    return f"`{answer.select}`"


def schema_phrase(schema: Any, kind: str | None = None) -> str:
    """A short description of the values a JSON Schema selects: `above 9223372036854775807`,
    `not a positive integer`. The noun is left out where it is `kind` (the values are read as that type)."""
    if not isinstance(schema, dict):
        return "any value" if schema is True else "no value"
    if "not" in schema and len(schema) == 1:
        return "not " + _with_noun(schema["not"], kind)
    for key in ("anyOf", "oneOf"):
        if key in schema and len(schema) == 1:
            return " or ".join(_with_noun(branch, kind) for branch in schema[key])
    if schema.get("type") == "integer" and set(schema) == {"type", "minimum"} and schema["minimum"] in (0, 1):
        return "a positive integer" if schema["minimum"] == 1 else "a non-negative integer"
    words = _qualifiers(schema)
    noun = _noun(schema)
    if noun and (schema.get("type") != kind or not words):
        return " ".join([noun, *words[:1]] + [f"and {w}" for w in words[1:]])
    return " and ".join(words) if words else "any value"


def _with_noun(schema: Any, kind: str | None) -> str:
    """A phrase that reads after "a value that is": a bare qualifier gets its noun back."""
    phrase = schema_phrase(schema, kind)
    if phrase.startswith(("not ", "a ", "an ", "one of", "any ", "no ")):
        return phrase
    return f"{_noun(schema) or 'a value'} {phrase}"


def _noun(schema: dict) -> str | None:
    kind = schema.get("type")
    return (
        {
            "integer": "an integer",
            "number": "a number",
            "string": "a string",
            "boolean": "a boolean",
            "array": "an array",
            "object": "an object",
            "null": "null",
        }.get(kind)
        if isinstance(kind, str)
        else None
    )


def _qualifiers(schema: dict) -> list[str]:
    words = []
    integer = schema.get("type") == "integer"
    if "minimum" in schema:
        low = schema["minimum"]
        words.append(f"above {low - 1}" if integer and isinstance(low, int) else f"at least {low}")
    if "exclusiveMinimum" in schema:
        words.append(f"above {schema['exclusiveMinimum']}")
    if "maximum" in schema:
        high = schema["maximum"]
        words.append(f"below {high + 1}" if integer and isinstance(high, int) else f"at most {high}")
    if "exclusiveMaximum" in schema:
        words.append(f"below {schema['exclusiveMaximum']}")
    if "minLength" in schema:
        words.append(f"at least {schema['minLength']} characters long")
    if "maxLength" in schema:
        words.append(f"at most {schema['maxLength']} characters long")
    if "pattern" in schema:
        words.append(f"matching `{schema['pattern']}`")
    if "enum" in schema:
        words.append("one of " + ", ".join(f"`{display(v)}`" for v in schema["enum"]))
    if "const" in schema:
        words.append(f"equal to `{display(schema['const'])}`")
    return words


# x-body-errors ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyError:
    """One situation of `x-body-errors`: what happens, and its answers (the first is the reference server's)."""

    situation: str  # inline markdown
    answers: list[BodyAnswer]

    @property
    def own(self) -> BodyAnswer:
        return self.answers[0]

    @property
    def others(self) -> list[BodyAnswer]:
        return self.answers[1:]


def body_errors(body: Any) -> list[BodyError]:
    """Every situation `x-body-errors` names, in the spec's order."""
    found = []
    for kind, ctype, answers in body_error_kinds(body if isinstance(body, dict) else None):
        if not answers:
            continue
        situation = BODY_ERROR_KINDS.get(kind, kind)
        if ctype:
            situation += f" `{ctype}`" if kind == "rejected" else f" as `{ctype}`"
        found.append(BodyError(situation, answers))
    return found


# x-caused-by, x-listed-by ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    text: str  # inline markdown
    href: str


@dataclass
class Cause:
    """One documented cause of a webhook or callback: an operation's success."""

    operation_id: str
    count_key: str  # "one" or "optional"
    operation: Link
    count: str  # "each success causes exactly one", ...
    subject: str | None  # inline markdown
    payload: list[tuple[str, str]]  # fixed payload values (field, value as JSON)
    after: Link | None
    marks: list[Mark]
    at: str


@dataclass
class Listing:
    """`x-listed-by`: every delivered record is one an operation lists."""

    operation: Link
    text: str  # inline markdown, after the operation's link
    marks: list[Mark]
    at: str


@dataclass
class Causes:
    """What causes one webhook or callback, and what an operation causes (the reverse links)."""

    causes: list[Cause] = field(default_factory=list)
    listing: Listing | None = None


CAUSED = {"one": "exactly one per success", "optional": "at most one per success, if the implementation sends it"}
COUNTS = {
    "one": "each success causes exactly one",
    "optional": "an implementation may also send one per success (at most one)",
}


def caused_by(
    doc: dict, node: dict, parts: tuple[str, ...], operations: dict[str, Link], events: dict[str, Link]
) -> Causes:
    """The causes a webhook operation (`node`, at `parts`) names; `operations` and `events` are the links
    to operations by `operationId` and to webhooks by name."""
    found = Causes()
    raw = node.get("x-caused-by")
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict) or "operation" not in item:
            continue
        where = (*parts, "x-caused-by", str(index))
        subject = item["subject"] if isinstance(item.get("subject"), dict) else {}
        payload = item["payload"] if isinstance(item.get("payload"), dict) else {}
        after = item.get("after")
        count = str(item.get("count", "one"))
        found.causes.append(
            Cause(
                operation_id=str(item["operation"]),
                count_key=count,
                operation=operations.get(str(item["operation"]), Link(f"`{item['operation']}`", "")),
                count=COUNTS.get(count, f"count `{count}`"),
                subject=_subject(subject.get("payload"), subject.get("request")),
                payload=[(str(k), json.dumps(v, ensure_ascii=False)) for k, v in payload.items()],
                after=events.get(str(after), Link(f"`{after}`", "")) if after else None,
                marks=marks(item, where),
                at=pointer(list(where)),
            )
        )
    listing = node.get("x-listed-by")
    event = parts[1] if len(parts) > 1 else ""
    for item in [i for i in listed_by(doc) if i.event == event] if isinstance(listing, dict) else []:
        where = (*parts, "x-listed-by")
        found.listing = Listing(
            operation=operations.get(item.operation, Link(f"`{item.operation}`", "")),
            text=(
                f"lists (in `{item.list}`) for its `{item.payload_subject}` (the request's `{item.request_subject}`)"
                f" and a window containing its time: `{item.since}` ≤ `{item.time}` < `{item.until}`"
            ),
            marks=marks(listing, where),
            at=pointer(list(where)),
        )
    return found


def _subject(payload: Any, request: Any) -> str | None:
    if not payload or not request:
        return None
    return f"its `{payload}` is the request's `{request}`"
