"""The code type-checks: mypy, as configured in pyproject.toml ([tool.mypy]), finds nothing.

mypy runs as a developer runs it, `mypy` at the checkout's root, so it checks exactly the config's `files`
(src/apicontract, the generated models and the contract suite; whatever is added there is checked here too).
Its cache is the checkout's git-ignored .mypy_cache/, which keeps a second run to a few seconds.
"""

from __future__ import annotations

import subprocess
import sys

from projectkit import ROOT


def test_mypy_is_clean():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, f"mypy (exit {done.returncode}) reports:\n{report}"
