"""Fixture accounts and inventory (this implementation's own), plus run options.

All identifiers are derived deterministically from fixed seeds so that the
target file is stable between runs.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(("indie/" + seed).encode()).hexdigest()[:n]


def _digits(seed: str, n: int) -> str:
    return str(int(_hex(seed, 32), 16))[-n:].rjust(n, "0")


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None)


def fmt_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------ sim-v1
@dataclass
class V1Sim:
    uuid: str
    pin: str
    puk: str
    imei: str
    msisdn: str          # only used as the `called` number in XDRs


@dataclass
class V1Account:
    index: int
    key: str
    secret: str
    hook_user: str
    hook_pass: str
    sims: list = field(default_factory=list)


def _v1_accounts() -> list[V1Account]:
    out = []
    for idx, base in ((1, 9200), (2, 9300)):
        sims = []
        for i in range(1, 6):
            uuid = f"24817031415{base + i}"
            sims.append(V1Sim(uuid=uuid, pin=_digits("pin" + uuid, 4),
                              puk=_digits("puk" + uuid, 8),
                              imei="35" + _digits("imei" + uuid, 14),
                              msisdn="3161" + _digits("msisdn" + uuid, 7)))
        out.append(V1Account(index=idx, key=f"indie-v1-{idx}-" + _hex(f"v1key{idx}", 12),
                             secret=_hex(f"v1secret{idx}", 28),
                             hook_user=f"indie-hook-v1-{idx}", hook_pass=_hex(f"v1hook{idx}", 18),
                             sims=sims))
    return out


# ------------------------------------------------------------------ sim-v2
@dataclass
class V2Account:
    index: int
    key: str
    imsis: list


def _v2_accounts() -> list[V2Account]:
    return [V2Account(index=idx, key=_hex(f"v2key{idx}", 40),
                      imsis=[f"2040866200{start + i:05d}" for i in range(5)])
            for idx, start in ((1, 11), (2, 21))]


# ------------------------------------------------------------------ sim-v3
@dataclass
class V3Account:
    index: int
    key: str
    ids: list


V3_HOOK_KEY = "indie-v3-hook-" + _hex("v3hook", 26)


def _v3_accounts() -> list[V3Account]:
    return [V3Account(index=idx, key="v3_" + _hex(f"v3key{idx}", 37),
                      ids=[f"5803{start + i:05d}" for i in range(5)])
            for idx, start in ((1, 101), (2, 201))]


# ------------------------------------------------------------------ cpaas
@dataclass
class CpaasAccount:
    index: int
    token: str
    app_key: str
    personal_account_id: str
    balance: str
    callback_user: str | None = None
    callback_pass: str | None = None


def _cpaas_accounts() -> list[CpaasAccount]:
    return [
        CpaasAccount(index=1, token="ak" + _hex("cpaas1", 30), app_key=_hex("app1", 32),
                     personal_account_id="3141592653", balance="482.15",
                     callback_user="indie-cb", callback_pass=_hex("cbpass1", 16)),
        CpaasAccount(index=2, token="ak" + _hex("cpaas2", 30), app_key=_hex("app2", 32),
                     personal_account_id="2718281828", balance="9.90"),
    ]


MEDIA_ID_START = 5000
MEDIA_ID_STEP = 7


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 0
    webhook_base: str | None = None
    time_scale: float = 0.25
    verbose: bool = False


@dataclass
class Fixtures:
    v1: list = field(default_factory=_v1_accounts)
    v2: list = field(default_factory=_v2_accounts)
    v3: list = field(default_factory=_v3_accounts)
    v3_hook_key: str = V3_HOOK_KEY
    cpaas: list = field(default_factory=_cpaas_accounts)


def endpoint(options: Options, api: str, index: int) -> str | None:
    """Where account `index` of `api` gets its webhooks (None: no deliveries)."""
    if not options.webhook_base:
        return None
    url = f"{options.webhook_base.rstrip('/')}/{api}/{index}"
    if api == "cpaas":
        url += "?tenant=indie"
    return url
