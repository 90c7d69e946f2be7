"""Turn `spec/<api>/openapi.yaml` and the JSON Schema files it references into one self-contained document.

External tools (schemathesis, Prism, Redoc, datamodel-code-generator) load single files best, and the
webhook payload schemas must stay standalone files for consumers; the bundle is where both meet. Each
referenced file becomes `components/schemas/<Name>` (file stem in PascalCase) and its `$defs` become
`components/schemas/<Name><Def>`, so every reference in the bundle is a local JSON pointer.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apicontract.specs.yamlfile import SpecFileError, line_of, load

DROPPED_KEYWORDS = ("$schema", "$id")


class BundleError(SpecFileError):
    """A reference that cannot be resolved while bundling."""


@dataclass
class Bundle:
    """A bundled API document plus what is needed to point at the hand-written line behind any part."""

    api: str
    entry: Path
    doc: dict
    sources: dict[Path, Any] = field(default_factory=dict)  # file -> its raw loaded content
    origins: dict[str, Path] = field(default_factory=dict)  # component schema name -> file it came from

    def locate(self, parts: list[str]) -> tuple[Path, int | None]:
        """The hand-written file and line behind a JSON-pointer path into the bundle."""
        if len(parts) >= 3 and parts[:2] == ["components", "schemas"] and parts[2] in self.origins:
            path = self.origins[parts[2]]
            name = component_name(path)
            rest = parts[3:]
            if parts[2] != name:  # a lifted $defs entry
                rest = ["$defs", parts[2][len(name) :], *rest]
            return path, line_of(self.sources.get(path), rest)
        return self.entry, line_of(self.sources.get(self.entry), parts)


def component_name(path: Path) -> str:
    """`location_update.schema.json` -> `LocationUpdate`; `endCallback.schema.json` -> `EndCallback`."""
    stem = path.name.split(".")[0]
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-.\s]+", stem) if part)


def pointer(parts: list[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def unpointer(ptr: str) -> list[str]:
    if not ptr:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr.lstrip("/").split("/")]


def bundle(api: str, entry: Path) -> Bundle:
    """Load the entry file, lift every referenced schema file into components, return the result."""
    raw = load(entry)
    if not isinstance(raw, dict):
        raise SpecFileError(entry, "the entry file must hold a mapping (an OpenAPI document)")
    result = Bundle(api=api, entry=entry, doc=copy.deepcopy(raw), sources={entry: raw})
    schemas = result.doc.setdefault("components", {}).setdefault("schemas", {})
    handwritten = set(schemas)
    _rewrite(result, result.doc, entry, [], schemas, handwritten)
    return result


def _rewrite(result: Bundle, node: Any, base: Path, at: list[str], schemas: dict, handwritten: set) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            node["$ref"] = _lift(result, ref, base, at, schemas, handwritten)
        for key, value in list(node.items()):
            _rewrite(result, value, base, [*at, key], schemas, handwritten)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _rewrite(result, value, base, [*at, str(index)], schemas, handwritten)


def _lift(result: Bundle, ref: str, base: Path, at: list[str], schemas: dict, handwritten: set) -> str:
    """Lift the file a reference names into components; return the local pointer that replaces it."""
    target, _, fragment = ref.partition("#")
    where = result.locate(at)
    if "://" in target:
        raise BundleError(where[0], f"{pointer(at)}: remote reference {ref!r} is not allowed", where[1])
    path = (base.parent / target).resolve()
    if not path.is_file():
        raise BundleError(where[0], f"{pointer(at)}: $ref {ref!r} names a file that does not exist", where[1])
    name = component_name(path)
    if name in handwritten:
        raise BundleError(where[0], f"component {name!r} is written by hand and also lifted from {target}", where[1])
    if result.origins.get(name, path) != path:
        raise BundleError(where[0], f"two files lift to the component name {name!r}", where[1])
    if name not in result.origins:
        raw = load(path)
        if not isinstance(raw, dict):
            raise BundleError(path, "a referenced schema file must hold an object")
        result.sources[path] = raw
        result.origins[name] = path
        schema = copy.deepcopy(raw)
        for keyword in DROPPED_KEYWORDS:
            schema.pop(keyword, None)
        defs = schema.pop("$defs", {}) or {}
        schemas[name] = schema
        _local_defs(schema, name)
        _rewrite(result, schema, path, ["components", "schemas", name], schemas, handwritten)
        for def_name, definition in defs.items():
            if name + def_name in schemas:
                raise BundleError(path, f"$defs/{def_name} lifts to {name + def_name!r}, which exists already")
            result.origins[name + def_name] = path
            schemas[name + def_name] = definition
            _local_defs(definition, name)
            _rewrite(result, definition, path, ["components", "schemas", name + def_name], schemas, handwritten)
    return "#" + _map_fragment(result, name, fragment, where)


def _map_fragment(result: Bundle, name: str, fragment: str, where: tuple[Path, int | None]) -> str:
    parts = unpointer(fragment)
    if parts[:1] == ["$defs"] and len(parts) >= 2:
        mapped = ["components", "schemas", name + parts[1], *parts[2:]]
    else:
        mapped = ["components", "schemas", name, *parts]
    if resolve(result.doc, pointer(mapped)) is _MISSING:
        raise BundleError(
            where[0], f"$ref fragment #{fragment} does not exist in {result.origins[name].name}", where[1]
        )
    return pointer(mapped)


def _local_defs(node: Any, name: str) -> None:
    """Point `#/$defs/X` references inside a lifted file at their lifted components."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            parts = unpointer(ref[1:])
            node["$ref"] = "#" + pointer(["components", "schemas", name + parts[1], *parts[2:]])
        elif isinstance(ref, str) and ref.startswith("#") and not ref.startswith("#/components/"):
            node["$ref"] = "#" + pointer(["components", "schemas", name, *unpointer(ref[1:])])
        for value in node.values():
            _local_defs(value, name)
    elif isinstance(node, list):
        for value in node:
            _local_defs(value, name)


_MISSING = object()


def resolve(doc: Any, ptr: str) -> Any:
    """The node a local JSON pointer names, or the module's _MISSING sentinel."""
    node = doc
    for part in unpointer(ptr):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def is_missing(value: Any) -> bool:
    return value is _MISSING


def dumps(doc: dict) -> str:
    """The bundle as committed: stable, readable JSON."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
