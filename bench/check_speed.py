"""How long the default `apicontract check` of all four APIs takes, and how it grows with --examples.

Each run starts its own embedded reference server, as a user's first `apicontract check` does.
Each `--examples` value is run twice: with the default processes (one per core, one per API at most) and
with `--workers 1` (one process, as before parallel checking was the default).
Usage: python bench/check_speed.py [--examples 5 25 50]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(examples: int, workers: list[str]) -> tuple[float, int]:
    started = time.monotonic()
    command = [sys.executable, "-m", "apicontract", "check", "--root", str(ROOT), "--examples", str(examples)]
    done = subprocess.run([*command, "--seed", "1", *workers], capture_output=True, text=True)
    return time.monotonic() - started, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, nargs="+", default=[5, 25, 50])
    args = parser.parse_args()
    rows = []
    for examples in args.examples:
        for mode, workers in (("default", []), ("--workers 1", ["--workers", "1"])):
            seconds, code = run(examples, workers)
            rows.append({"examples": examples, "processes": mode, "seconds": round(seconds, 1), "exit": code})
            print(f"--examples {examples:>4} ({mode}): {seconds:6.1f} s (exit {code})", flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "check_speed.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
