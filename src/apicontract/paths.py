"""Where the spec, bundles and models live: a checkout when we run inside one, else the installed package.

A developer who edits `spec/` and runs `apicontract build` expects every other command run from the
checkout to see the change at once, without reinstalling; a user of the installed wheel has no checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ENTRY = "openapi.yaml"


@dataclass(frozen=True)
class Layout:
    """The folders one run works with."""

    spec: Path
    bundles: Path
    models: Path
    root: Path | None  # the checkout, or None for the installed package

    def apis(self) -> list[str]:
        """API names, one per spec folder with an entry file, in a stable order."""
        return sorted(p.parent.name for p in self.spec.glob(f"*/{ENTRY}"))

    def entry(self, api: str) -> Path:
        return self.spec / api / ENTRY

    def bundle(self, api: str) -> Path:
        return self.bundles / f"{api}.json"

    def display(self, path: Path) -> str:
        """A path as a user should read it: relative to the checkout (`spec/sim-v2/openapi.yaml`)."""
        base = self.root if self.root is not None else self.spec.parent
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            return str(path)


def module_name(api: str) -> str:
    """`sim-v1` -> `sim_v1`: the importable name of an API's generated models."""
    return api.replace("-", "_")


def find_checkout(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` holding `spec/` and `pyproject.toml` of this project."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "spec").is_dir() and (folder / "pyproject.toml").is_file():
            text = (folder / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
            if 'name = "apicontract"' in text:
                return folder
    return None


def layout(root: Path | None = None) -> Layout:
    """The checkout given (or found from the working directory, or `APICONTRACT_ROOT`), else the package."""
    env = os.environ.get("APICONTRACT_ROOT")
    checkout = root or (Path(env) if env else None) or find_checkout()
    if checkout is not None:
        checkout = checkout.resolve()
        return Layout(
            spec=checkout / "spec",
            bundles=checkout / "generated" / "openapi",
            models=checkout / "generated" / "models",
            root=checkout,
        )
    pkg = Path(str(resources.files("apicontract")))
    if not (pkg / "spec").is_dir():  # an editable install (`pip install -e .`): the package is the checkout's src/
        source = find_checkout(pkg)
        if source is not None:
            return layout(source)
    return Layout(spec=pkg / "spec", bundles=pkg / "bundles", models=pkg / "models", root=None)
