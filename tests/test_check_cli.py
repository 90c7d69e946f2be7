"""`apicontract check` from the command line, as a user runs it: exit codes, messages, JUnit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from projectkit import cli


def test_a_target_that_does_not_answer_is_exit_2_never_a_pass(tmp_path):
    done = cli("check", "sim-v2", "--base-url", "http://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 2
    assert "does not answer" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_unknown_api_and_misplaced_credentials_are_usage_errors(tmp_path):
    assert cli("check", "sim-v9").returncode == 2
    done = cli("check", "sim-v2", "--basic", "a:b")
    assert done.returncode == 2
    assert "--basic is for sim-v1" in done.stderr


def test_embedded_check_passes_and_writes_junit(tmp_path):
    report = tmp_path / "contract.xml"
    done = cli("check", "sim-v2", "-k", "security or error_codes", "--seed", "3", "--junit-xml", str(report))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "contract check passed (sim-v2)" in done.stdout
    suite = ET.parse(report).getroot().find("testsuite")
    assert int(suite.get("tests")) > 5 and suite.get("failures") == "0" and suite.get("errors") == "0"
    assert any("sim-v2" in case.get("name", "") for case in suite.iter("testcase"))


def test_several_apis_are_checked_in_parallel_processes_by_default(tmp_path):
    args = ("check", "sim-v2", "sim-v3", "-k", "security", "--seed", "3")
    parallel, single = cli(*args, cwd=tmp_path), cli(*args, "--workers", "1", cwd=tmp_path)
    for done in (parallel, single):
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        assert "contract check passed (sim-v2, sim-v3)" in done.stdout
    assert "in parallel processes" in parallel.stdout and "in parallel processes" not in single.stdout
