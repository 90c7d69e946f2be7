"""A schemathesis configuration per API, generated from the spec, for people who run plain schemathesis.

schemathesis knows OpenAPI, not what this spec adds: where a schema-valid request may still be refused
(codes marked `x-cross-field`, answers `x-also-answers` lists for some values) and where the contract
leaves an answer to the implementation (`x-implementation-defined`: any 4xx may then refuse what the
reference server's own pattern or bound accepts). `st run --config-file generated/schemathesis/<api>.toml`
then reports nothing against a conforming server; everything else schemathesis checks as usual.
"""

from __future__ import annotations

import json

from apicontract.specs.promises import also_answers, contract_view
from apicontract.specs.walk import cross_field_codes, deref, iter_operations, merged, parameters

__all__ = ["render_config"]

# what schemathesis accepts for schema-valid data by default, less 5xx: a server error is never right
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]


def render_config(api: str, doc: dict) -> str:
    """The TOML text: one `[[operations]]` table per operation that needs more than schemathesis's defaults."""
    view = contract_view(doc)
    lines = [
        f"# schemathesis configuration for {api}, generated from spec/{api}/openapi.yaml by `apicontract build`.",
        "# Use: st run --config-file <this file> generated/openapi/" + f"{api}.json --url <base URL> -H <auth>",
        "",
    ]
    for op in iter_operations(view):
        if op.is_webhook:
            continue
        statuses = set(cross_field_codes(view, op))
        statuses |= {a.status for p, _ in parameters(view, op) for a in also_answers(p) if a.code}
        body = deref(view, op.node.get("requestBody")) or {}
        for media in (body.get("content") or {}).values():
            statuses |= {a.status for a in also_answers(merged(view, media.get("schema"))) if a.code}
        if "4XX" in (op.node.get("responses") or {}):
            statuses.add("4xx")
        if not statuses:
            continue
        expected = sorted({*ACCEPTED, *statuses})
        if set(expected) == set(ACCEPTED):
            continue
        lines += [
            "[[operations]]",
            f'include-operation-id = "{op.node["operationId"]}"',
            f"checks.positive_data_acceptance.expected-statuses = {json.dumps(expected)}",
            "",
        ]
    return "\n".join(lines)
