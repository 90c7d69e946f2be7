"""Read and validate a target file: one implementation under test, described once (`--target FILE`).

The file's shape is `target.schema.json`; its values are held to the API's own schemas (a SIM
identifier must be one the API's `Sim` schema allows, credentials must be of the kind the API's security
scheme takes), never to the reference server's demo data. Every problem is reported with where it is, and
nothing runs until the file is right.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from apicontract.specs.promises import identifiers
from apicontract.specs.security import credential_kind
from apicontract.specs.walk import merged
from apicontract.specs.yamlfile import SpecFileError, load

__all__ = ["ApiTarget", "TargetFileError", "check_entries", "read_target_file"]

SCHEMA = Path(__file__).with_name("target.schema.json")


class TargetFileError(Exception):
    """The target file cannot be used; `problems` says where and why, one line each."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path, self.problems = Path(path), problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass
class ApiTarget:
    """One API's part of a target file, as written (validated)."""

    base_url: str | None
    webhook_url: str | None
    accounts: list[dict[str, Any]]
    shared_hook: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def _where(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the file)"


def _parse(path: Path) -> Any:
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(path.read_text(encoding="utf-8"))
        if path.suffix.lower() == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        return load(path)
    except FileNotFoundError:
        raise TargetFileError(path, ["no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetFileError(path, [f"cannot be read: {exc}"]) from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, SpecFileError) as exc:
        raise TargetFileError(path, [f"not valid {path.suffix.lstrip('.').upper() or 'YAML'}: {exc}"]) from None


def read_target_file(path: Path | str, bundles: dict[str, dict]) -> dict[str, ApiTarget]:
    """The file's APIs, each checked against its bundle; raises TargetFileError listing every problem."""
    path = Path(path)
    raw = _parse(path)
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    problems = [
        f"{_where(list(e.absolute_path))}: {e.message}"
        for e in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        raise TargetFileError(path, problems)
    found: dict[str, ApiTarget] = {}
    for api, entry in raw["apis"].items():
        base = entry.get("base_url")
        if base is None and raw.get("base_url"):
            base = raw["base_url"].rstrip("/") + entry.get("path", f"/{api}")
        if base is None:
            problems.append(f"apis.{api}: no base_url (give one here, or a top-level base_url)")
        if api not in bundles:
            continue
        problems += [f"apis.{api}.{p}" for p in check_entries(api, bundles[api], entry["accounts"])]
        found[api] = ApiTarget(
            base,
            entry.get("webhook_url") or raw.get("webhook_url"),
            entry["accounts"],
            entry.get("webhook"),
        )
    if problems:
        raise TargetFileError(path, problems)
    return found


def check_entries(api: str, doc: dict, accounts: list[dict]) -> list[str]:
    """Problems of account entries against the API's own schemas: credential kind and identifiers."""
    problems = []
    kinds = _credential_kinds(doc)
    names = identifiers(doc, "Sim")
    sim_schema = merged(doc, ((doc.get("components") or {}).get("schemas") or {}).get("Sim")) or {}
    props = sim_schema.get("properties") or {}
    seen: dict[str, str] = {}
    for index, account in enumerate(accounts):
        where = f"accounts[{index}]"
        given = set(account.get("credentials") or {})
        if given and not given & kinds:
            problems.append(f"{where}.credentials: {api} takes {' or '.join(sorted(kinds))}, not {', '.join(given)}")
        for number, sim in enumerate(account.get("sims") or []):
            at = f"{where}.sims[{number}]"
            if not names:
                problems.append(f"{at}: {api} has no SIMs")
                break
            if names[0] not in sim:
                problems.append(f"{at}: the SIM's {names[0]} is missing")
            for name in names:
                value = sim.get(name)
                if value is None:
                    continue
                schema = {k: v for k, v in (merged(doc, props.get(name)) or {}).items() if not k.startswith("x-")}
                if not jsonschema.Draft202012Validator(schema).is_valid(value):
                    problems.append(f"{at}.{name}: {value!r} is not a {name} {api} accepts ({_shape(schema)})")
                elif name == names[0]:
                    if str(value) in seen:
                        problems.append(f"{at}.{name}: {value} is listed twice ({seen[str(value)]})")
                    seen[str(value)] = at
            if "provisioned" in sim and not isinstance(sim["provisioned"], bool):
                problems.append(f"{at}.provisioned: true or false")
    return problems


def _credential_kinds(doc: dict) -> set[str]:
    kind = credential_kind(doc)
    return {"api_key", "access_key"} if kind != "basic" else {kind}  # a key, by either name


def _shape(schema: dict) -> str:
    if "pattern" in schema:
        return f"pattern {schema['pattern']}"
    return json.dumps({k: v for k, v in schema.items() if k != "description"})[:80]
