"""generated/ is fresh, deterministic, and importable as apicontract.models."""

from __future__ import annotations

import importlib
import shutil

import pytest

from apicontract.paths import layout, module_name
from apicontract.specs.build import render

from projectkit import APIS, ROOT, cli


def test_build_check_is_clean():
    done = cli("build", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fresh" in done.stderr


def test_render_is_deterministic(where):
    assert render(where, APIS) == render(where, APIS)


def test_build_check_reports_drift(tmp_path):
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "spec", root / "spec")
    shutil.copytree(ROOT / "generated", root / "generated")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    bundle = root / "generated" / "openapi" / "sim-v1.json"
    bundle.write_text(bundle.read_text().replace('"uuid_invalid"', '"uuid_broken"', 1))
    (root / "generated" / "models" / "stray.py").write_text("x = 1\n")
    done = cli("build", "--check", "--root", str(root))
    assert done.returncode == 1
    assert "generated/openapi/sim-v1.json: changed" in done.stdout
    assert "generated/models/stray.py: unexpected" in done.stdout
    assert "-" in done.stdout and "uuid_broken" in done.stdout
    rebuilt = cli("build", "--root", str(root))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert not (root / "generated" / "models" / "stray.py").exists()
    assert cli("build", "--check", "--root", str(root)).returncode == 0


def test_build_outside_a_checkout_is_a_clear_usage_error(tmp_path):
    done = cli("build", "--root", str(tmp_path))
    assert done.returncode == 2
    assert "no spec/ folder" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("api", APIS)
def test_models_import_as_apicontract_models(api):
    module = importlib.import_module(f"apicontract.models.{module_name(api)}")
    assert hasattr(module, "Error")


def test_installed_package_carries_spec_and_bundles(tmp_path, monkeypatch):
    """Outside a checkout the spec and bundles come with the package (the wheel's copy, or the checkout an
    editable install points at)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APICONTRACT_ROOT", raising=False)
    installed = layout()
    assert (installed.spec / "sim-v2" / "openapi.yaml").is_file()
    assert (installed.bundles / "cpaas.json").is_file()
    assert (installed.models / "sim_v1.py").is_file()
