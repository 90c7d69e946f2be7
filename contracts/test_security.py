"""Security: authentication on every operation (R3), accounts kept apart (R8, R23), HTTPS (R6)."""

from __future__ import annotations

import httpx
import pytest

from apicontract.contracts.requests import identifier_field, sim_identifiers, valid_request
from apicontract.contracts.target import Credentials, Target
from apicontract.contracts.violations import Violation
from apicontract.specs.walk import error_field, response_codes


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=20, follow_redirects=False) as session:
        yield session


def wrong(credentials: Credentials) -> Credentials:
    if credentials.basic:
        return Credentials(basic=(credentials.basic[0], credentials.basic[1] + "-wrong"))
    return Credentials(key=(credentials.key or "") + "-wrong")


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


@pytest.mark.parametrize("how", ["without credentials", "with wrong credentials"])
def test_every_operation_requires_authentication(target: Target, client, how):
    """R3: no or wrong credentials answer 401 with the documented body, on every operation."""
    for op in target.operations():
        request = valid_request(target, op, (sim_identifiers(target) or [None])[0])
        headers = {} if how == "without credentials" else target.headers(wrong(target.first))
        response = request.send(target, client, headers)
        expect_code(target, op, response, 401, f"authentication required ({how})", request.curl(target, headers))


def test_another_accounts_sim_is_forbidden_on_every_operation(target: Target, client):
    """R8: valid credentials for a SIM of another account's inventory answer 403 on every operation."""
    if target.second is None:
        pytest.skip("no second account (give --second-account)")
    theirs = sim_identifiers(target, 0, provisioned=None)
    if not theirs:
        pytest.skip(f"{target.api} has no SIM inventory")
    checked = 0
    for op in target.operations():
        if "403" not in response_codes(target.doc, op) or identifier_field(target.doc, op) is None:
            continue
        for identifier in (sim_identifiers(target, 0, True) or theirs)[:1] + sim_identifiers(target, 0, False)[:1]:
            request = valid_request(target, op, identifier)
            headers = target.headers(target.second)
            response = request.send(target, client, headers)
            expect_code(target, op, response, 403, "another account's SIM is forbidden", request.curl(target, headers))
            checked += 1
    assert checked, "no operation addresses a SIM"


@pytest.mark.apis("cpaas")
def test_cpaas_header_and_query_authentication_both_work(target: Target, client):
    """R23: the access key works as header and as query parameter; when both are sent, the header decides."""
    op = next(op for op in target.operations() if op.key == "/balance")
    ok, query = target.headers(), target.query_auth()
    cases = [
        ("header", ok, {}, 200),
        ("query parameter", {}, query, 200),
        ("wrong header beats a right query parameter", target.headers(wrong(target.first)), query, 401),
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


@pytest.mark.apis("cpaas")
def test_cpaas_another_accounts_media_is_not_found(target: Target, client):
    """R23: another account's media id answers 404 like an unknown one, never its content."""
    if target.second is None:
        pytest.skip("no second account")
    ids = [m["id"] for m in (target.accounts[0].get("media") or [])]
    if not ids:
        pytest.skip("the first account has no media")
    op = next(op for op in target.operations() if op.key == "/media/{id}" and op.method == "get")
    url = target.url(f"/media/{ids[0]}")
    response = client.get(url, headers=target.headers(target.second))
    expect_code(target, op, response, 404, "another account's media is not found", f"curl {url}")


def test_https_when_required(target: Target):
    """R6: the sources serve HTTPS only; with --require-https a plain-HTTP target is a violation."""
    if not target.require_https:
        pytest.skip("--require-https not given")
    if not target.base_url.startswith("https://"):
        raise Violation(target.api, "all operations", "HTTPS required (R6)", "an https:// base URL", target.base_url)
