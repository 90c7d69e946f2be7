"""How many of the independent implementation's deliberate faults the suite catches, and how long each takes.

The independent implementation (tests/independent/, written from the sources and rulings alone) has
switchable realistic bugs (`--fault NAME`, each naming the ruling it breaks). For each one, this starts it
as its own process and runs `apicontract check` on the fault's API, only the checks of that ruling
(`--clause`), as the proof-of-power tests do; exit 1 is a catch. A measurement, not a test: CI runs a few of
them (tests/contracts/test_independent.py); this runs them all.

Usage: python bench/independent_faults.py [--examples 25] [--jobs 2] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "independent" / "server.py"
API_OF = {"v1": "sim-v1", "v2": "sim-v2", "v3": "sim-v3", "cpaas": "cpaas"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def faults() -> list[tuple[str, str, str]]:
    done = subprocess.run([sys.executable, str(SERVER), "--list-faults"], capture_output=True, text=True, check=True)
    return [tuple(line.split("\t")) for line in done.stdout.splitlines() if line.strip()]  # type: ignore[misc]


def run(name: str, ruling: str, examples: int) -> dict:
    api = API_OF[name.split("-", 1)[0]]
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "target.yaml"
        command = [sys.executable, str(SERVER), "--port", "0", "--write-target", str(target), "--time-scale", "0.01"]
        command += ["--webhook-base", f"http://127.0.0.1:{free_port()}/hooks", "--fault", name]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not target.exists():
                time.sleep(0.05)
            time.sleep(0.1)
            started = time.monotonic()
            check = [sys.executable, "-m", "apicontract", "check", api, "--target", str(target), "--root", str(ROOT)]
            check += ["--clause", ruling, "--examples", str(examples), "--seed", "7"]
            done = subprocess.run(check, capture_output=True, text=True)
            seconds = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(timeout=10)
    return {"fault": name, "ruling": ruling, "api": api, "exit": done.returncode, "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    chosen = [f for f in faults() if not args.names or f[0] in args.names]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda f: run(f[0], f[1], args.examples), chosen))
    for row in rows:
        verdict = "caught" if row["exit"] == 1 else "MISSED" if row["exit"] == 0 else f"exit {row['exit']}"
        print(f"{row['fault']:<32} {row['ruling']:<6} {verdict:<8} {row['seconds']:6.1f} s")
    caught = sum(1 for r in rows if r["exit"] == 1)
    print(f"caught {caught} of {len(rows)} ({100 * caught / max(1, len(rows)):.0f}%)")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "independent_faults.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
