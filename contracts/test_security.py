"""Security: authentication on every operation (R3), accounts kept apart (R8, R23), HTTPS (R6)."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest

from apicontract.contracts.target import Target
from apicontract.contracts.valid_requests import identifier_field, valid_request
from apicontract.contracts.violations import Violation, curl
from apicontract.specs.walk import deref, error_field, merged, response_codes


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=20, follow_redirects=False) as session:
        yield session


def expect_code(target: Target, op, response: httpx.Response, status: int, check: str, sent: str) -> None:
    field = error_field(target.doc)
    codes = response_codes(target.doc, op).get(str(status), [])
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != status or not isinstance(body, dict) or str(body.get(field)) not in codes:
        raise Violation(
            target.api,
            f"{op.method.upper()} {op.key}",
            check,
            f"{status} with {field} in {codes}",
            f"{response.status_code} {response.text[:200]}",
            sent,
        )
    for name, values in fixed_headers(target.doc, op, str(status)).items():
        if response.headers.get(name) not in values:
            raise Violation(
                target.api,
                f"{op.method.upper()} {op.key}",
                f"{check}: header {name} (R3)",
                f"{name}: {' or '.join(values)}",
                f"{name}: {response.headers.get(name)}" if name in response.headers else "no such header",
                sent,
            )


def fixed_headers(doc: dict, op, status: str) -> dict[str, list[str]]:
    """Required response headers whose schema allows only some values (sim-v1's `WWW-Authenticate`, R3)."""
    response = deref(doc, (op.node.get("responses") or {}).get(status)) or {}
    found = {}
    for name, header in (response.get("headers") or {}).items():
        header = deref(doc, header) or {}
        schema = merged(doc, header.get("schema")) or {}
        values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
        if header.get("required") and values:
            found[name] = [str(v) for v in values]
    return found


@pytest.mark.check("security: credentials required ({how})")
@pytest.mark.clauses("R3.1", "R3.2", "R3.3", "R18.3")
@pytest.mark.parametrize("how", ["without credentials", "with wrong credentials"])
def test_every_operation_requires_authentication(target: Target, client, how):
    """R3: no or wrong credentials answer 401 with the documented body, on every operation."""
    for op in target.operations():
        request = valid_request(target, op, (cast("list[str | None]", target.inventory(0)) or [None])[0])
        headers = {} if how == "without credentials" else target.headers(target.first.wrong())
        response = request.send(target, client, headers)
        expect_code(target, op, response, 401, f"authentication required ({how})", request.curl(target, headers))


@pytest.mark.check("security: another account's SIM is 403")
@pytest.mark.clauses("R3.4", "R8.4")
def test_another_accounts_sim_is_forbidden_on_every_operation(target: Target, client):
    """R8: valid credentials for a SIM of another account's inventory answer 403 on every operation."""
    if target.second is None:
        pytest.skip("no second account (give --second-account)")
    ours = target.inventory(0)
    if not ours:
        pytest.skip(f"no SIMs of {target.api}'s first account are known (list them in the target file)")
    checked = 0
    for op in target.operations():
        if "403" not in response_codes(target.doc, op) or identifier_field(target.doc, op) is None:
            continue
        for identifier in ours[:2]:
            request = valid_request(target, op, identifier)
            headers = target.headers(target.second)
            response = request.send(target, client, headers)
            expect_code(target, op, response, 403, "another account's SIM is forbidden", request.curl(target, headers))
            checked += 1
    assert checked, "no operation addresses a SIM"


@pytest.mark.check("security: key in header or query")
@pytest.mark.clauses("R23.4")
@pytest.mark.apis("cpaas")
def test_cpaas_header_and_query_authentication_both_work(target: Target, client):
    """R23: the access key works as header and as query parameter; when both are sent, the header decides."""
    op = next(op for op in target.operations() if op.key == "/balance")
    ok, query = target.headers(), target.query_auth()
    cases = [
        ("header", ok, {}, 200),
        ("query parameter", {}, query, 200),
        ("wrong header beats a right query parameter", target.headers(target.first.wrong()), query, 401),
    ]
    for label, headers, params, status in cases:
        response = client.get(target.url("/balance"), headers=headers, params=params)
        if response.status_code != status:
            raise Violation(
                target.api,
                f"GET {op.key}",
                f"access key in the {label}",
                str(status),
                f"{response.status_code} {response.text[:200]}",
            )


@pytest.mark.check("security: another account's media is 404")
@pytest.mark.clauses("R23.3")
@pytest.mark.apis("cpaas")
def test_cpaas_another_accounts_media_is_not_found(target: Target, client):
    """R23: another account's media id answers 404 like an unknown one, never its content: a folder the
    suite makes as the first account is not found by the second, on every operation on an id."""
    if target.second is None:
        pytest.skip("no second account")
    made = client.post(target.url("/media"), json={"name": "apicontract-security-check"}, headers=target.headers())
    media_id = (made.json().get("media") or {}).get("id") if made.status_code == 200 else None
    if not isinstance(media_id, int):
        pytest.skip(f"could not make a folder to test with ({made.status_code} {made.text[:120]})")
    try:
        theirs = target.headers(target.second)
        for op in target.operations():
            if op.key != "/media/{id}":
                continue
            url = target.url(f"/media/{media_id}")
            kwargs: dict[str, Any] = {"json": {"name": "renamed"}} if op.method == "put" else {}
            if op.method == "post":
                kwargs = {"files": {"file": ("x.txt", b"x", "text/plain")}}
            response = client.request(op.method.upper(), url, headers=theirs, **kwargs)
            sent = curl(op.method.upper(), url, theirs)
            expect_code(target, op, response, 404, "another account's media is not found (R23)", sent)
        still = client.get(target.url(f"/media/{media_id}"), headers=target.headers())
        if still.status_code != 200:
            what = "another account's requests change nothing"
            raise Violation(target.api, "GET /media/{id}", what, "200", str(still.status_code))
    finally:
        client.delete(target.url(f"/media/{media_id}"), headers=target.headers())


@pytest.mark.check("security: HTTPS (--require-https)")
@pytest.mark.clauses("R6.1")
def test_https_when_required(target: Target):
    """R6: the sources serve HTTPS only; with --require-https a plain-HTTP target is a violation."""
    if not target.require_https:
        pytest.skip("--require-https not given")
    if not target.base_url.startswith("https://"):
        raise Violation(target.api, "all operations", "HTTPS required (R6)", "an https:// base URL", target.base_url)
