"""The independent implementation (tests/independent/), run as a separate process, as another provider's
server would be: its own code, credentials, identifiers and choices, described to the suite by the target
file it writes."""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runs import ROOT, free_port

SERVER = ROOT / "tests" / "independent" / "server.py"
API_OF = {"v1": "sim-v1", "v2": "sim-v2", "v3": "sim-v3", "cpaas": "cpaas"}


@dataclass(frozen=True)
class IndependentFault:
    name: str
    ruling: str
    what: str

    @property
    def api(self) -> str:
        return API_OF[self.name.split("-", 1)[0]]


def faults() -> list[IndependentFault]:
    done = subprocess.run([sys.executable, str(SERVER), "--list-faults"], capture_output=True, text=True, check=True)
    rows = [line.split("\t") for line in done.stdout.splitlines() if line.strip()]
    return [IndependentFault(name, ruling, what) for name, ruling, what in rows]


@contextmanager
def running(tmp_path: Path, fault: str | None = None):
    """The implementation on a free port, delivering to a free port; yields its target file."""
    target = tmp_path / "independent-target.yaml"
    command = [sys.executable, str(SERVER), "--port", "0", "--write-target", str(target), "--time-scale", "0.01"]
    command += ["--webhook-base", f"http://127.0.0.1:{free_port()}/hooks"]
    if fault:
        command += ["--fault", fault]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not target.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the independent implementation did not start: {process.stderr.read()}")
            time.sleep(0.05)
        time.sleep(0.1)  # the file is written before the socket serves
        yield target
    finally:
        process.terminate()
        process.wait(timeout=10)
