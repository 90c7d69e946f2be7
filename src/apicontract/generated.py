"""The generated artefacts every consumer reads: bundled specs and pydantic models.

They are read from the checkout's `generated/` when running in one (so `apicontract build` takes
effect at once), else from the installed package.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from pathlib import Path
from types import ModuleType

from apicontract.paths import Layout, module_name

_LOADING = threading.Lock()  # servers started side by side in threads must not see a half-run module


class NotBuilt(Exception):
    """generated/ lacks a file: `apicontract build` has not been run."""


def load_bundle(where: Layout, api: str) -> dict:
    path = where.bundle(api)
    if not path.is_file():
        raise NotBuilt(f"{path} is missing: run `apicontract build`")
    return json.loads(path.read_text(encoding="utf-8"))


def load_models(where: Layout, api: str) -> ModuleType:
    """The generated models module of an API, imported from its file (one import per file per process)."""
    path: Path = where.models / f"{module_name(api)}.py"
    if not path.is_file():
        raise NotBuilt(f"{path} is missing: run `apicontract build`")
    name = f"apicontract._loaded_models.{module_name(api)}_{abs(hash(str(path.resolve())))}"
    with _LOADING:
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:  # never for a .py file
                raise ImportError(f"no loader for {path}", path=str(path))
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        return sys.modules[name]
