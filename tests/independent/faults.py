"""Deliberate, realistic bugs that `--fault NAME` switches on (one at a time).

Each API module asks `faults.on("name")` at the single place where the bug
lives. With no fault active the server follows every ruling.
"""
from __future__ import annotations

FAULTS: list[tuple[str, str, str]] = [
    # ---------------------------------------------------------------- sim-v1
    ("v1-uuid-14-digits", "R10", "uuid pattern accepts 14 digits as well as 15 (off by one)"),
    ("v1-uuid-16-digits", "R10", "uuid pattern accepts 16 digits as well as 15 (off by one)"),
    ("v1-update-omitted-keeps", "R9",
     "PUT keeps the stored voice/sms/data for omitted fields instead of the default true"),
    ("v1-form-bool-lenient", "R10", "form booleans also accept 1/0/yes/no/True/False"),
    ("v1-json-string-bool", "R5", "JSON strings \"true\"/\"false\" accepted for booleans"),
    ("v1-from-12-chars", "R12", "send SMS `from` accepts 12 characters (limit off by one)"),
    ("v1-from-empty", "R12", "send SMS accepts an empty `from`"),
    ("v1-text-1601", "R12", "send SMS `text` accepts 1601 characters (limit off by one)"),
    ("v1-text-empty", "R12", "send SMS accepts an empty `text`"),
    ("v1-webhook-account-one-creds", "R13", "every account's webhooks carry account one's Basic credentials"),
    ("v1-event-on-conflict", "R13a", "a create refused with 409 uuid_conflict still sends a location_update"),
    ("v1-no-sms-xdr", "R13a", "send SMS answers OK but emits no xdr event"),
    ("v1-update-sim-not-found", "R8",
     "PUT of an unprovisioned SIM answers 404 sim_not_found instead of uuid_not_found"),
    ("v1-recreate-keeps-flags", "R8",
     "delete leaves voice/sms/data stored; a re-create without fields resurrects them"),
    ("v1-foreign-404", "R5a",
     "retrieve checks existence before ownership: another account's SIM answers 404 sim_not_found"),
    ("v1-sms-unprovisioned", "R12", "send SMS to an own but unprovisioned SIM is accepted"),
    ("v1-existence-before-body", "R5a", "create checks ownership/existence (403/404) before body fields (400)"),
    ("v1-unknown-field-ok", "R5", "an undocumented body field is ignored instead of 400 body_invalid"),
    ("v1-no-www-authenticate", "R3", "401 answers lack the WWW-Authenticate header"),
    ("v1-invalid-utf8-form", "R5",
     "invalid UTF-8 in a form body is decoded with replacement characters instead of 400"),
    # ---------------------------------------------------------------- sim-v2
    ("v2-msisdn-leak", "R8", "lookup by MSISDN path ignores the account: another account's SIM is returned"),
    ("v2-msisdn-kept-on-delete", "R15", "delete keeps the MSISDN reserved: re-using it answers 409 msisdn_conflict"),
    ("v2-msisdn-unique-per-account", "R15", "MSISDN uniqueness only checked within the caller's account"),
    ("v2-throttle-body-only", "R16", "data/data_throttling conflict checked on the body only, before the R9 merge"),
    ("v2-update-omitted-defaults", "R9",
     "omitted update fields take the create defaults instead of keeping stored values"),
    ("v2-msisdn-6-digits", "R14", "MSISDN pattern accepts 6 digits (lower edge off by one)"),
    ("v2-msisdn-16-digits", "R14", "MSISDN pattern accepts 16 digits (upper edge off by one)"),
    ("v2-imsi-mismatch-ignored", "R15", "path IMSI and a different body imsi: the body imsi is used silently"),
    ("v2-delete-by-msisdn-404", "R14", "DELETE with an MSISDN path looks it up as an IMSI: 404 sim_not_found"),
    ("v2-create-upsert", "R8", "create of a provisioned SIM overwrites it (200) instead of 409 imsi_conflict"),
    ("v2-json-ct-form-body", "R17",
     "JSON content type with a urlencoded body is parsed as a form instead of 400 body_invalid"),
    ("v2-sms-to-plus", "R17a", "send SMS accepts a `to` with a leading +"),
    ("v2-msisdn-omitted-when-unset", "R15", "retrieve omits msisdn when unset instead of null"),
    ("v2-connector-delete-noop", "R18", "connector DELETE answers 200 but the connector still reads back"),
    ("v2-second-account-msisdn", "R14",
     "the MSISDN index only covers account one: account two's SIMs answer 404 by MSISDN"),
    ("v2-405-as-404", "R5", "a wrong method on a known path answers 404 not_found instead of 405"),
    # ---------------------------------------------------------------- sim-v3
    ("v3-alias-65", "R20", "alias accepts 65 characters (upper edge off by one)"),
    ("v3-alias-empty", "R20", "an empty alias is accepted (lower edge)"),
    ("v3-alias-null-ignored", "R20", "explicit \"alias\": null on update keeps the alias instead of unsetting it"),
    ("v3-alias-case-insensitive", "R20", "alias uniqueness compared case-insensitively"),
    ("v3-alias-global", "R20", "alias uniqueness enforced across all accounts, not per account"),
    ("v3-active-omitted-keeps", "R9", "omitted `active` on update keeps the stored value instead of the default true"),
    ("v3-usage-end-inclusive", "R21", "usage window includes records at time_end"),
    ("v3-usage-begin-exclusive", "R21", "usage window excludes records at time_begin"),
    ("v3-time-not-calendar", "R7", "times checked by shape only: 2021-02-30 10:00:00 is accepted"),
    ("v3-equal-window-invalid", "R21", "time_end equal to time_begin is refused with time_end_invalid"),
    ("v3-no-registration", "R22a", "create sends no network_registration event"),
    ("v3-webhook-bearer", "R22", "webhooks send `Authorization: Bearer <key>` instead of the raw key"),
    ("v3-events-to-account-one", "R22a", "every account's events go to account one's endpoint"),
    ("v3-alias-kept-on-delete", "R8", "delete keeps the alias: it stays reserved and reappears on re-create"),
    ("v3-create-unknown-404", "R8",
     "create of an id in no inventory answers 404 sim_not_found instead of 403 id_forbidden"),
    ("v3-usage-not-stored", "R22a", "the usage event is delivered but GET /usage does not return the record"),
    ("v3-array-body-500", "R5", "a JSON body whose root is not an object crashes with 500"),
    ("v3-ownership-before-body", "R5a", "update checks ownership (403) before alias/active (400)"),
    # ---------------------------------------------------------------- cpaas
    ("cpaas-per-page-101", "R24", "per_page accepts 101 (upper edge off by one)"),
    ("cpaas-per-page-0-default", "R24", "per_page=0 is treated as the default 20 instead of 400"),
    ("cpaas-page-past-end-404", "R24", "a page past the end answers 404 invalidDataError instead of an empty list"),
    ("cpaas-order-by-name", "R24", "listings are ordered by name instead of id"),
    ("cpaas-total-pages-floor", "R25", "totalPages uses floor division (last partial page not counted)"),
    ("cpaas-folder-delete-orphans", "R25", "deleting a folder leaves its files readable"),
    ("cpaas-rename-not-saved", "R25", "rename answers the new name but does not store it"),
    ("cpaas-upload-to-root", "R25", "upload to /media/{folder_id} lands in the root"),
    ("cpaas-download-octet", "R25", "downloads always carry application/octet-stream instead of the stored type"),
    ("cpaas-list-all-levels", "R25", "GET /media lists files inside folders too, not the root only"),
    ("cpaas-foreign-media", "R23", "another account's media id is readable"),
    ("cpaas-volume-3", "R26", "volume accepts 3 (upper edge off by one)"),
    ("cpaas-rate-negative", "R26", "rate accepts -1 (lower edge)"),
    ("cpaas-gender-0", "R26", "gender accepts 0"),
    ("cpaas-name-256", "R25", "media name accepts 256 characters"),
    ("cpaas-name-empty", "R25", "an empty media name is accepted"),
    ("cpaas-name-c1-control", "R25", "the control-character check misses U+007F-U+009F"),
    ("cpaas-reference-256", "R26", "reference accepts 256 characters"),
    ("cpaas-reference-empty", "R26", "an empty reference is accepted"),
    ("cpaas-type-as-data", "R23a",
     "a property of the wrong JSON type answers invalidDataError instead of invalidSchemeError"),
    ("cpaas-unknown-property-ok", "R23a", "an undocumented JSON property is ignored instead of invalidSchemeError"),
    ("cpaas-bool-as-int", "R23a", "JSON true/false accepted for int properties (bool is an int)"),
    ("cpaas-balance-number", "R28", "balance is a JSON number instead of a decimal string"),
    ("cpaas-balance-no-status", "R23", "the balance response has no status"),
    ("cpaas-request-id-dashed", "R26", "requestId is a dashed uuid (36 characters)"),
    ("cpaas-no-end-callback", "R27", "endCallback is never sent"),
    ("cpaas-callback-drops-query", "R27", "the callback URL's own query (tenant) is dropped"),
    ("cpaas-query-auth-wins", "R23", "the query X-Authorization overrides the header"),
    ("cpaas-disable-pagination-yes", "R24", "disable_pagination accepts yes/no"),
    ("cpaas-put-wrong-ct-415", "R23a",
     "PUT /media/{id} with a non-JSON content type answers 415 instead of 400 requiredJsonError"),
    ("cpaas-invalid-utf8-ok", "R23a", "invalid UTF-8 in a JSON body is decoded with replacement characters"),
    ("cpaas-json-folder-upload", "R25",
     "a JSON body on POST /media/{folder_id} makes a folder instead of invalidSchemeError"),
    ("cpaas-language-case", "R26", "language compared case-insensitively (en-us accepted)"),
    ("cpaas-addr-6-digits", "R26", "sourceAddr/destAddr of 6 digits accepted (lower edge off by one)"),
    ("cpaas-callback-no-auth", "R27", "callbacks are sent without the account's Basic credentials"),
]

NAMES = frozenset(name for name, _, _ in FAULTS)
assert len(NAMES) == len(FAULTS), "duplicate fault name"

_active: str | None = None


def activate(name: str | None) -> None:
    global _active
    if name is not None and name not in NAMES:
        raise SystemExit(f"unknown fault {name!r} (see --list-faults)")
    _active = name


def active() -> str | None:
    return _active


def on(name: str) -> bool:
    if name not in NAMES:  # a typo in the code would silently disable a fault
        raise KeyError(f"unregistered fault {name!r}")
    return _active == name


def listing() -> str:
    return "".join(f"{name}\t{ruling}\t{desc}\n" for name, ruling, desc in FAULTS)
