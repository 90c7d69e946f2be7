"""Reference server vs Prism: GET /sim-v2/sim/{imsi} on one worker, load from wrk on another core.

Both servers run pinned to core 0 (`taskset -c 0`), wrk to core 1, one after the other in the same run.
Reported: requests/s, latency percentiles at 32 connections, server CPU time per request (user+system
of the server's process tree over the run / requests), and the reference server's time from process
start to the first served request. Usage: python bench/server_throughput.py [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
IMSI = "238731234567891"  # provisioned in the first sim-v2 demo account
KEY = "YOUR-API-KEY"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_seconds(pid: int) -> float:
    """user+system CPU of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except OSError:
            pass
        todo.extend(children.get(current, []))
    return total


def wait_ready(url: str, headers: dict, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(url, headers=headers, timeout=0.5).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer 200 within {timeout} s")


def wrk(url: str, duration: int, connections: int = 32) -> dict:
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
               "-H", f"Authorization: {KEY}", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    for pct in ("50", "90", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()
        result[f"p{pct}_ms"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return result


def measure(name: str, command: list[str], url: str, duration: int) -> dict:
    process = subprocess.Popen(["taskset", "-c", "0", *command], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(url, {"Authorization": KEY})
        wrk(url, 2)  # warm-up
        before = tree_cpu_seconds(process.pid)
        result = wrk(url, duration)
        used = tree_cpu_seconds(process.pid) - before
        result["server_cpu_us_per_request"] = used / max(result["requests"], 1) * 1e6
        result["name"] = name
        return result
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def startup_seconds(runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        port, data = free_port(), tempfile.mkdtemp()
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "apicontract", "serve", "--root", str(ROOT), "--port", str(port), "--data-dir", data],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_ready(f"http://127.0.0.1:{port}/sim-v2/sim/{IMSI}", {"Authorization": KEY})
        times.append(time.monotonic() - started)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    prism = BENCH / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)
    bundle = ROOT / "generated" / "openapi" / "sim-v2.json"
    ours_port, prism_port = free_port(), free_port()
    data = tempfile.mkdtemp()
    results = [
        measure("apicontract serve (1 worker, full validation, SQLite)",
                [sys.executable, "-m", "apicontract", "serve", "sim-v2", "--root", str(ROOT),
                 "--port", str(ours_port), "--data-dir", data],
                f"http://127.0.0.1:{ours_port}/sim-v2/sim/{IMSI}", args.duration),
        measure("prism mock -v silent",
                [str(prism), "mock", "-h", "127.0.0.1", "-p", str(prism_port), "-v", "silent", str(bundle)],
                f"http://127.0.0.1:{prism_port}/sim/{IMSI}", args.duration),
    ]
    shutil.rmtree(data, ignore_errors=True)
    starts = startup_seconds()
    ratio = results[0]["requests_per_second"] / results[1]["requests_per_second"]
    print(f"{'server':<55} {'req/s':>9} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'non-2xx':>8}")
    for r in results:
        print(f"{r['name']:<55} {r['requests_per_second']:>9.0f} {r['p50_ms']:>7.2f} {r['p90_ms']:>7.2f} "
              f"{r['p99_ms']:>7.2f} {r['server_cpu_us_per_request']:>10.1f} {r['non_2xx']:>8}")
    print(f"throughput ratio (reference server / Prism): {ratio:.2f}x")
    print(f"startup to first served request (all four APIs), {len(starts)} runs: median "
          f"{statistics.median(starts):.3f} s, max {max(starts):.3f} s")
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "server_throughput.json").write_text(json.dumps(
        {"results": results, "ratio": ratio, "startup_seconds": starts}, indent=2) + "\n")


if __name__ == "__main__":
    main()
