"""How long the default `apicontract check` of all four APIs takes, and how it grows with --examples.

Each run starts its own embedded reference server, as a user's first `apicontract check` does.
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


def run(examples: int) -> tuple[float, int]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "apicontract", "check", "--root", str(ROOT), "--examples", str(examples), "--seed", "1"],
        capture_output=True, text=True,
    )
    return time.monotonic() - started, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, nargs="+", default=[5, 25, 50])
    args = parser.parse_args()
    rows = []
    for examples in args.examples:
        seconds, code = run(examples)
        rows.append({"examples": examples, "seconds": round(seconds, 1), "exit": code})
        print(f"--examples {examples:>4}: {seconds:6.1f} s (exit {code})", flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "check_speed.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
