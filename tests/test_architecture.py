"""The layering of ARCHITECTURE.md holds: the spec model at the bottom, the server, the suite, the docs and
the webhook tool on top of it and never importing each other, the runner above them and the CLI on top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from projectkit import ROOT

LAYER = {
    "paths": 0,
    "generated": 0,
    "specs": 0,
    "server": 1,
    "contracts": 1,
    "docs": 1,
    "webhooks": 1,
    "client_runtime": 1,
    "clients": 1,
    "models": 0,
    "checking": 2,
    "cli": 3,
    "__main__": 3,
}


def _modules() -> list[tuple[str, Path]]:
    found = [("contracts", path) for path in (ROOT / "contracts").rglob("*.py")]
    for path in (ROOT / "src" / "apicontract").rglob("*.py"):
        parts = path.relative_to(ROOT / "src" / "apicontract").parts
        if parts == ("__init__.py",):
            continue
        found.append((parts[0].removesuffix(".py"), path))
    return found


def _imports(path: Path) -> list[str]:
    """Every `apicontract.<part>` a module imports, at its top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [n.split(".")[1] for n in names if n.startswith("apicontract.") and n.count(".") >= 1]
    return found


@pytest.mark.parametrize("part,path", _modules(), ids=lambda v: str(v).removeprefix(str(ROOT) + "/"))
def test_imports_follow_the_layers(part: str, path: Path):
    assert part in LAYER, f"{path}: a new top-level part; give it a layer in ARCHITECTURE.md and here"
    for other in _imports(path):
        if other == part:
            continue
        assert other in LAYER, f"{path} imports apicontract.{other}, which has no layer"
        if LAYER[other] == LAYER[part] == 1:
            pytest.fail(f"{path}: {part} imports {other}: consumers of the spec model never import each other")
        where = f"{path}: {part} (layer {LAYER[part]}) imports {other} (layer {LAYER[other]})"
        assert LAYER[other] <= LAYER[part], where


def test_the_suite_never_imports_the_server():
    for path in (ROOT / "contracts").rglob("*.py"):
        assert "server" not in _imports(path), f"{path}: the suite tests any target over HTTP"
