"""`apicontract lint` catches deliberately broken specs, with a located, specific message and exit 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from apicontract.specs.yamlfile import load

from projectkit import ROOT, cli


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "spec", root / "spec")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def mutate(root: Path, api: str, change) -> None:
    path = root / "spec" / api / "openapi.yaml"
    doc = json.loads(json.dumps(load(path)))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def run_lint(root: Path, api: str) -> tuple[int, list[str]]:
    done = cli("lint", api, "--root", str(root))
    assert "Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stdout.splitlines()


def first_json_example(op: dict) -> dict:
    media = op["requestBody"]["content"]["application/json"]
    return next(iter(media["examples"].values()))


def test_unchanged_copy_is_clean(checkout):
    code, lines = run_lint(checkout, "sim-v1")
    assert (code, lines) == (0, [])


def test_bad_example(checkout):
    def change(doc):
        first_json_example(doc["paths"]["/sim/{uuid}"]["post"])["value"]["voice"] = "yes"

    mutate(checkout, "sim-v1", change)
    code, lines = run_lint(checkout, "sim-v1")
    assert code == 1
    assert any(
        line.startswith("spec/sim-v1/openapi.yaml:")
        and "POST /sim/{uuid}: example" in line
        and "(request application/json): 'yes' is not of type 'boolean' at /voice" in line
        for line in lines
    ), lines


def test_unresolved_ref(checkout):
    def change(doc):
        doc["paths"]["/sim/{uuid}"]["get"]["responses"]["401"] = {"$ref": "#/components/responses/Nope"}

    mutate(checkout, "sim-v1", change)
    code, lines = run_lint(checkout, "sim-v1")
    assert code == 1
    assert any("$ref '#/components/responses/Nope' does not resolve" in line for line in lines), lines
    assert all(line.startswith("spec/sim-v1/") for line in lines)


def test_missing_401(checkout):
    def change(doc):
        del doc["paths"]["/sim/{uuid}"]["delete"]["responses"]["401"]

    mutate(checkout, "sim-v1", change)
    code, lines = run_lint(checkout, "sim-v1")
    assert code == 1
    assert any(
        line.startswith("spec/sim-v1/openapi.yaml:") and "DELETE /sim/{uuid}: missing 401 response (R3)" in line
        for line in lines
    ), lines


def test_missing_payload_file(checkout):
    (checkout / "spec" / "sim-v1" / "webhooks" / "xdr.schema.json").unlink()
    code, lines = run_lint(checkout, "sim-v1")
    assert code == 1
    assert any("names a file that does not exist" in line and "xdr.schema.json" in line for line in lines), lines


def test_duplicate_yaml_key_is_located(checkout):
    path = checkout / "spec" / "sim-v1" / "openapi.yaml"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("openapi:"))
    lines.insert(at + 1, lines[at])
    path.write_text("\n".join(lines) + "\n")
    code, lines = run_lint(checkout, "sim-v1")
    assert code == 1
    assert lines == [f"spec/sim-v1/openapi.yaml:{at + 2}: duplicate key 'openapi'"]


def test_unknown_ruling_unused_component_and_undocumented_code(checkout):
    def change(doc):
        retrieve = doc["paths"]["/sim/{uuid}"]["get"]
        retrieve["x-ruling"] = "R99"
        doc["components"]["schemas"]["Orphan"] = {"type": "string"}
        media = retrieve["responses"]["404"]["content"]["application/json"]
        media["examples"].clear()

    mutate(checkout, "sim-v1", change)
    code, lines = run_lint(checkout, "sim-v1")
    text = "\n".join(lines)
    assert code == 1
    assert "x-ruling 'R99' is not in spec/rulings.md" in text
    assert "components/schemas/Orphan: unused component" in text
    assert "GET /sim/{uuid}: response 404: error code 'sim_not_found' has no example named after it" in text


def test_invalid_fixtures(checkout):
    path = checkout / "spec" / "sim-v1" / "fixtures.yaml"
    path.write_text(path.read_text().replace('"238991234567890"', '"23899"', 1))
    code, lines = run_lint(checkout, "sim-v1")
    assert code == 1
    assert any(line.startswith("spec/sim-v1/fixtures.yaml:") and "'23899'" in line for line in lines), lines


def test_unknown_api_is_a_usage_error():
    done = cli("lint", "sim-v9")
    assert done.returncode == 2
    assert "unknown API sim-v9" in done.stderr


def test_open_object_schema_and_undocumented_sibling_code(checkout):
    def change(doc):
        del doc["components"]["schemas"]["Sim"]["additionalProperties"]
        form = doc["components"]["schemas"]["CreateSimForm"]["properties"]["voice"]
        assert "$ref" in form  # the code sits beside a $ref: it must still be seen
        form["x-error-code"] = "voice_wrong"

    mutate(checkout, "sim-v2", change)
    code, lines = run_lint(checkout, "sim-v2")
    text = "\n".join(lines)
    assert code == 1
    assert "components/schemas/Sim: object schema must state additionalProperties" in text
    assert "POST /sim/{sim}: x-error-code 'voice_wrong' is not among the operation's documented error codes" in text


def test_request_limits_must_be_complete_and_answer_api_codes(checkout):
    def change(doc):
        del doc["info"]["x-max-json-depth"]
        del doc["info"]["x-max-multipart-parts"]  # cpaas takes multipart uploads
        doc["info"]["x-timeouts"]["body"] = 0
        doc["info"]["x-http-errors"]["431"] = "headersTooLarge"  # not a cpaas status value

    mutate(checkout, "cpaas", change)
    code, lines = run_lint(checkout, "cpaas")
    text = "\n".join(lines)
    assert code == 1
    assert "x-max-json-depth (a request limit, R5) must be a positive integer" in text
    assert "x-max-multipart-parts (a request limit, R5) must be a positive integer" in text
    assert "x-timeouts must give idle, header and body as positive seconds (R5)" in text
    assert "x-http-errors 431: 'headersTooLarge' is not an error code of the API" in text
