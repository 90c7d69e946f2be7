"""The search index, built at build time and shipped as a script (`window.SEARCH_INDEX = [...]`).

A script rather than a JSON file because pages opened from the file system may not fetch JSON. Each entry
is a term (`t`), extra words it also matches (`x`), what it is (`k`), a line of context (`d`) and the
link (`u`) to the element that documents it.
"""

from __future__ import annotations

import json

from apicontract.docs.schemas import EnumRow
from apicontract.docs.views import ApiView, OperationView


def entries(apis: list[ApiView]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for api in apis:
        for op in api.operations + api.webhooks:
            found += _operation(api, op)
        for schema in api.schemas:
            link = f"{api.page}#{schema.anchor}"
            found.append(_entry(schema.name, "schema", f"{api.name} schema", link, schema.title or ""))
            found += _values(schema.enum, f"value of {schema.name} · {api.name}", link)
            for row in schema.fields:
                context = f"field of {schema.name} · {api.name}"
                found.append(_entry(row.name, "field", context, link, row.error_code or ""))
                found += _values(row.enum, f"value of {schema.name}.{row.name} · {api.name}", link)
    return found


def _values(rows: list[EnumRow], context: str, link: str) -> list[dict[str, str]]:
    return [_entry(row.value, "value", context, link, f"{row.name or ''} {row.description or ''}") for row in rows]


def _operation(api: ApiView, op: OperationView) -> list[dict[str, str]]:
    link = f"{api.page}#{op.anchor}"
    where = f"{api.name} · {op.method} {op.path}"
    kind = "webhook" if op.is_webhook else "operation"
    found = [_entry(op.summary, kind, where, link, f"{op.id} {op.path} {op.tag}")]
    names: set[str] = set()
    for row in op.params + [row for body in op.bodies for row in body.fields]:
        if row.name not in names:
            names.add(row.name)
            found.append(_entry(row.name, "field", f"{row.where} · {where} ({op.summary})", link, row.error_code or ""))
    for error in op.errors:
        context = f"error {error.status} · {where} ({op.summary})"
        found.append(_entry(error.code, "error", context, f"{api.page}#{error.anchor}", op.id))
    return found


def _entry(term: str, kind: str, context: str, link: str, extra: str = "") -> dict[str, str]:
    entry = {"t": term, "k": kind, "d": context, "u": link}
    if extra.strip():
        entry["x"] = extra.strip()
    return entry


def script(apis: list[ApiView]) -> str:
    """The index as a script that sets `window.SEARCH_INDEX`; `<` escaped so no entry can close a tag."""
    data = json.dumps(entries(apis), ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f"window.SEARCH_INDEX = {data};\n"
