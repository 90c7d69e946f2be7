"""A strict YAML reader for spec files: YAML 1.2 booleans, no duplicate keys, and line numbers kept.

PyYAML reads `no` as False and silently keeps the last of two equal keys; both turn a typo in a
hand-written spec into a wrong contract, so we refuse them and remember where each key was written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml


class SpecFileError(Exception):
    """A spec file that cannot be read; `line` is 1-based when known."""

    def __init__(self, path: Path, message: str, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class LineDict(dict):
    """A mapping that remembers the line each key was written on."""

    lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lines = {}


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present


class _Loader(_SafeLoader):  # our rules on top
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} must be a string (quote it)", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path: Path) -> Any:
    """Read a YAML or JSON spec file; raise SpecFileError with the line on any defect."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecFileError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise SpecFileError(path, f"not UTF-8: {exc.reason}") from None
    if path.suffix == ".json":
        try:
            return json.loads(text, object_pairs_hook=_json_pairs)
        except json.JSONDecodeError as exc:
            raise SpecFileError(path, exc.msg, exc.lineno) from None
        except ValueError as exc:
            raise SpecFileError(path, str(exc)) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SpecFileError(path, exc.problem or str(exc), mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise SpecFileError(path, str(exc)) from None


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def line_of(doc: Any, parts: list[str]) -> int | None:
    """The line of the deepest key along a JSON-pointer path that the document remembers."""
    line = None
    node = doc
    for part in parts:
        if isinstance(node, LineDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            break
    return line
