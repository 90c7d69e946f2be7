"""Fixtures seed the reference server and tell the suite its test identifiers; they must be usable."""

from __future__ import annotations

import pytest

from apicontract.specs.yamlfile import load

from projectkit import APIS, ROOT

SAMPLE_IDS = {
    "sim-v1": ("uuid", "238991234567890"),
    "sim-v2": ("imsi", "238731234567890"),
    "sim-v3": ("id", "192837465"),
}


def fixtures(api: str) -> dict:
    return load(ROOT / "spec" / api / "fixtures.yaml")


@pytest.mark.parametrize("api", APIS)
def test_two_accounts_with_distinct_credentials(api):
    accounts = fixtures(api)["accounts"]
    normal = [a for a in accounts if not a.get("prohibited")]
    assert len(normal) >= 2
    assert len({repr(sorted(a["credentials"].items())) for a in accounts}) == len(accounts)


@pytest.mark.parametrize("api", sorted(SAMPLE_IDS))
def test_source_sample_identifier_is_in_the_first_account_unprovisioned(api):
    key, value = SAMPLE_IDS[api]
    first = fixtures(api)["accounts"][0]
    sim = next((s for s in first["sims"] if s[key] == value), None)
    assert sim is not None, f"{value} missing from the first account"
    assert sim["provisioned"] is False  # the published create sample provisions it


@pytest.mark.parametrize("api", sorted(SAMPLE_IDS))
def test_each_account_has_provisioned_sims_and_identifiers_are_unique(api):
    key = SAMPLE_IDS[api][0]
    accounts = fixtures(api)["accounts"]
    every = [s[key] for a in accounts for s in a["sims"]]
    assert len(every) == len(set(every))
    assert all(any(s["provisioned"] for s in a["sims"]) for a in accounts)


def test_cpaas_first_account_has_the_sample_media():
    media = fixtures("cpaas")["accounts"][0]["media"]
    names = {m["name"]: m for m in media}
    assert names["Hymns"]["id"] == 65 and names["So young.mp3"]["id"] == 74
    children = {c["name"] for c in names["Hymns"]["children"]}
    assert {"Audio1.mp3", "Audio2.mp3"} <= children


SAMPLE_KEYS = {"sim-v2": ("api_key", "YOUR-API-KEY"), "sim-v3": ("api_key", "YOUR-API-KEY")}


@pytest.mark.parametrize("api", sorted(SAMPLE_KEYS))
def test_first_account_uses_the_published_samples_key(api):
    """The published samples run as printed: the demo server's first account has their placeholder key (the
    fixtures schema itself takes any key, so other fixtures can describe other accounts)."""
    name, value = SAMPLE_KEYS[api]
    assert fixtures(api)["accounts"][0]["credentials"][name] == value
