"""Hostile clients against `apicontract serve`: what one attacker can cost everyone else (issue 9).

Each scenario starts its own `apicontract serve` (all four APIs, a fresh data dir) and attacks it over
loopback as a hostile client would:

  memory       1,000 requests with large distinct credentials and paths; the server's RSS before and after
  stall        4 multipart bombs (150,000 parts each), then a 64 MiB header, each sent while a prober asks
               another API every 20 ms; the prober's worst latency
  errors       hostile inputs (deep JSON, 5,000-digit numbers, huge repeat counts, duplicate credentials,
               oversized `_simulate`, malformed framing, thousands of headers); the 5xx and non-JSON answers
  cut          bodies cut short by a disconnect (sim-v1 update, cpaas upload); whether state changed
  connections  the server limited to 1,024 file descriptors; 1,100 idle connections held, then a client;
               whether it is served, and how fast
  keepalive    the same limit; 1,024 keep-alive clients asking every ~100 ms for 10 s (reconnecting once
               when their idle connection was closed); failures, timeouts, p50/p99

Usage: python bench/hostile.py [--only SCENARIO ...] [--server-root CHECKOUT]; writes bench/results/hostile.json.
`--server-root` attacks another checkout's server (its `src/` and `spec/`), e.g. an older commit's, for a
"before" figure: `git worktree add /tmp/before <commit>`, then `--server-root /tmp/before`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER_ROOT = ROOT  # the checkout whose server is attacked (--server-root: e.g. an older commit, for "before")
SIM_V2 = {"Authorization": "YOUR-API-KEY"}
CPAAS_KEY = "AccessKey d8ac9959r12b43545da9034"
V1_BASIC = "Basic " + __import__("base64").b64encode(b"sim-v1-demo-key-one:sim-v1-demo-secret-one").decode()
PROBE = b"GET /sim-v2/sim/238731234567891 HTTP/1.1\r\nHost: x\r\nAuthorization: YOUR-API-KEY\r\n\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`apicontract serve` (all APIs) in a subprocess, optionally with a file-descriptor limit."""

    def __init__(self, nofile: int | None = None):
        self.port = free_port()
        self.data = Path(tempfile.mkdtemp(prefix="hostile-"))

        def limit() -> None:
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apicontract",
                "serve",
                "--root",
                str(SERVER_ROOT),
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data),
                "--time-scale",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=limit,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(SERVER_ROOT / "src")},  # that checkout's server code
        )
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if request(self.port, PROBE, timeout=2)[0] == 200:
                    break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def read_response(sock: socket.socket) -> tuple[int | None, dict[str, str], bytes]:
    """One HTTP/1.1 response (status, headers, body); status None if the connection gave none."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            chunk = b""
        if not chunk:
            return None, {}, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", -1))
    while length < 0 or len(body) < length:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        body += chunk
    return status, headers, body[: length if length >= 0 else None]


def request(port: int, data: bytes | list[bytes], timeout: float = 30) -> tuple[int | None, dict[str, str], bytes]:
    """Send raw bytes (or chunks of them) on a new connection and read one response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close before everything is sent
            for chunk in data if isinstance(data, list) else [data]:
                sock.sendall(chunk)
        return read_response(sock)


def http(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_body(method: str, path: str, headers: dict[str, str], value: object) -> bytes:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return http(method, path, {**headers, "Content-Type": "application/json"}, raw)


# --- memory ----------------------------------------------------------------------------------------------


def memory() -> dict:
    server = Server()
    try:
        for _ in range(200):  # warm-up: every API answered once, caches of ordinary requests filled
            request(server.port, PROBE)
        time.sleep(0.5)
        before = server.rss_mb()
        statuses: dict[str, int] = {}
        started = time.monotonic()
        for n in range(1000):
            if n % 3 == 0:
                raw = http("GET", "/cpaas/balance", {"X-Authorization": "AccessKey " + secrets.token_hex(128 * 1024)})
            elif n % 3 == 1:
                raw = http("GET", "/sim-v2/sim/238731234567891", {"Authorization": secrets.token_hex(128 * 1024)})
            else:
                raw = http("GET", "/sim-v2/connector/" + secrets.token_hex(30 * 1024), SIM_V2)
            status = request(server.port, raw)[0]
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        elapsed = time.monotonic() - started
        time.sleep(1)
        after = server.rss_mb()
        alive = request(server.port, PROBE)[0]
    finally:
        server.stop()
    return {
        "requests": 1000,
        "kinds": "256 KiB distinct X-Authorization (cpaas), 256 KiB distinct Authorization (sim-v2), "
        "60 KiB distinct authenticated paths (sim-v2)",
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "rss_growth_mb": round(after - before, 1),
        "statuses": statuses,
        "seconds": round(elapsed, 2),
        "served_afterwards": alive,
    }


# --- stall -----------------------------------------------------------------------------------------------


class Prober(threading.Thread):
    """An unrelated client: GET a sim-v2 SIM every 20 ms on one keep-alive connection."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[tuple[float, float, int | None]] = []  # (start, seconds, status)
        self.stop = threading.Event()

    def run(self) -> None:
        sock = None
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
                sock.sendall(PROBE)
                status = read_response(sock)[0]
            except OSError:
                status = None
            if status is None and sock is not None:
                sock.close()
                sock = None
            self.samples.append((started, time.monotonic() - started, status))
            time.sleep(0.02)
        if sock is not None:
            sock.close()

    def worst_between(self, start: float, end: float) -> float:
        during = [s for t, s, _ in self.samples if start <= t <= end or (t < start and t + s > start)]
        return max(during, default=0.0)


def multipart_bomb(parts: int) -> bytes:
    boundary = "b0mb"
    piece = f'--{boundary}\r\nContent-Disposition: form-data; name="p"\r\n\r\nx\r\n'.encode()
    file_part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nhello\r\n"
    ).encode()
    body = piece * parts + file_part + f"--{boundary}--\r\n".encode()
    headers = {"X-Authorization": CPAAS_KEY, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    return http("POST", "/cpaas/media", headers, body)


def huge_header(mib: int) -> list[bytes]:
    head = b"GET /sim-v1/ HTTP/1.1\r\nHost: x\r\nAuthorization: " + V1_BASIC.encode() + b"\r\nX-Big: "
    chunk = b"a" * 65536
    return [head, *([chunk] * (mib * 16)), b"\r\n\r\n"]


def attack_while_probing(server: Server, attack: bytes | list[bytes], attackers: int, seconds: float) -> dict:
    """`attackers` threads send `attack` again and again for `seconds` (each at least once) while the prober
    asks another API every 20 ms; the prober's latencies in that window."""
    prober = Prober(server.port)
    prober.start()
    time.sleep(0.3)
    results: list[tuple[int | None, float]] = []
    start = time.monotonic()

    def attacker() -> None:
        while True:
            started = time.monotonic()
            status = request(server.port, attack, timeout=120)[0]
            results.append((status, time.monotonic() - started))
            if time.monotonic() - start > seconds:
                return

    threads = [threading.Thread(target=attacker) for _ in range(attackers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end = time.monotonic()
    time.sleep(0.3)
    prober.stop.set()
    prober.join()
    during = sorted(s for t, s, _ in prober.samples if start <= t <= end)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "attackers": attackers,
        "attacks_sent": len(results),
        "attack_statuses": statuses,
        "slowest_attack_seconds": round(max(t for _, t in results), 2),
        "window_seconds": round(end - start, 1),
        "probes": len(during),
        "probe_failures": sum(1 for t, _, st in prober.samples if start <= t <= end and st != 200),
        "median_unrelated_ms": round(during[len(during) // 2] * 1000, 1) if during else None,
        "worst_unrelated_ms": round(prober.worst_between(start, end) * 1000, 1),
    }


def stall() -> dict:
    server = Server()
    try:
        bombs = attack_while_probing(server, multipart_bomb(150_000), attackers=4, seconds=5)
        header = attack_while_probing(server, huge_header(64), attackers=1, seconds=5)
    finally:
        server.stop()
    return {"multipart_bombs_150000_parts": bombs, "header_64_mib": header}


# --- errors ----------------------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


def hostile_requests() -> list[tuple[str, bytes | list[bytes]]]:
    big = "9" * 5000
    v3 = {"Authorization": "YOUR-API-KEY"}
    cpaas = {"X-Authorization": CPAAS_KEY}
    activation = {
        "reference": "r",
        "sourceAddr": "4512345678",
        "destAddr": "4512345617",
        "isRepeat": 1,
        "repeatBusy": 1,
        "repeatBusyCount": 10**30,
        "repeatBusyInt": 10**30,
    }
    return [
        ("sim-v2 connector 300 levels deep: store", json_body("POST", "/sim-v2/connector/deep", SIM_V2, nested(300))),
        ("sim-v2 connector 300 levels deep: read", http("GET", "/sim-v2/connector/deep", SIM_V2)),
        ("sim-v2 connector 900 levels deep: store", json_body("POST", "/sim-v2/connector/deeper", SIM_V2, nested(900))),
        ("sim-v2 connector 900 levels deep: read", http("GET", "/sim-v2/connector/deeper", SIM_V2)),
        (
            "sim-v3 connector 500 levels deep: store",
            json_body("POST", "/sim-v3/connector", v3, b'{"id":"deep","x":' + nested(500) + b"}"),
        ),
        ("sim-v3 connector 500 levels deep: read", json_body("GET", "/sim-v3/connector", v3, {"id": "deep"})),
        ("sim-v2 connector 1e400: store", json_body("POST", "/sim-v2/connector/inf", SIM_V2, b'{"a":1e400}')),
        ("sim-v2 connector 1e400: read", http("GET", "/sim-v2/connector/inf", SIM_V2)),
        (
            "sim-v2 connector 4000-digit number",
            json_body("POST", "/sim-v2/connector/n", SIM_V2, b'{"a":' + b"7" * 4000 + b"}"),
        ),
        (
            "sim-v2 SIM update 100,000 levels deep",
            json_body(
                "PUT", "/sim-v2/sim/238731234567891", SIM_V2, b'{"voice":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            ),
        ),
        ("cpaas page of 5,000 digits", http("GET", f"/cpaas/media?page={big}", cpaas)),
        ("cpaas per_page of 5,000 digits", http("GET", f"/cpaas/media?per_page={big}", cpaas)),
        ("cpaas media id of 5,000 digits", http("GET", f"/cpaas/media/{big}", cpaas)),
        ("cpaas activation repeats 10^30", json_body("POST", "/cpaas/apps/activate", cpaas, activation)),
        (
            "cpaas volume of 5,000 digits",
            json_body(
                "POST",
                "/cpaas/apps/activate",
                cpaas,
                b'{"reference":"r","sourceAddr":"4512345678","destAddr":"4512345678","volume":' + big.encode() + b"}",
            ),
        ),
        (
            "two Authorization headers, valid last",
            b"GET /sim-v2/sim/238731234567891 HTTP/1.1\r\nHost: x\r\nAuthorization: wrong\r\n"
            b"Authorization: YOUR-API-KEY\r\n\r\n",
        ),
        (
            "two Authorization headers, valid first",
            b"GET /sim-v2/sim/238731234567891 HTTP/1.1\r\nHost: x\r\nAuthorization: YOUR-API-KEY\r\n"
            b"Authorization: wrong\r\n\r\n",
        ),
        (
            "_simulate body of 2 MiB",
            json_body(
                "POST", "/sim-v3/_simulate/usage", v3, b'{"sim_id":"192837466","pad":"' + b"x" * (2 << 20) + b'"}'
            ),
        ),
        ("malformed request line", b"GET /sim-v2/ HTTP/1.1 extra\r\nHost: x\r\n\r\n"),
        ("header without a colon", b"GET /sim-v2/ HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n"),
        (
            "5,000 headers",
            b"GET /sim-v2/ HTTP/1.1\r\nHost: x\r\nAuthorization: YOUR-API-KEY\r\n"
            + b"".join(b"X-H%d: v\r\n" % n for n in range(5000))
            + b"\r\n",
        ),
        ("header of 1 MiB", http("GET", "/sim-v2/", {**SIM_V2, "X-Big": "a" * (1 << 20)})),
        ("path of 1 MiB", http("GET", "/sim-v2/sim/" + "1" * (1 << 20), SIM_V2)),
    ]


def errors() -> dict:
    server = Server()
    answers = []
    try:
        for label, raw in hostile_requests():
            status, headers, body = request(server.port, raw, timeout=60)
            answers.append(
                {
                    "request": label,
                    "status": status,
                    "content_type": headers.get("content-type"),
                    "body": body[:80].decode("utf-8", "replace"),
                }
            )
    finally:
        server.stop()
    return {
        "requests": len(answers),
        "5xx": sum(1 for a in answers if a["status"] is not None and a["status"] >= 500),
        "non_json": sum(1 for a in answers if a["status"] is not None and a["content_type"] != "application/json"),
        "no_answer": sum(1 for a in answers if a["status"] is None),
        "duplicate_credentials_accepted": sum(
            1 for a in answers if a["request"].startswith("two Authorization") and a["status"] == 200
        ),
        "huge_repeats_accepted": sum(1 for a in answers if "10^30" in a["request"] and a["status"] == 200),
        "answers": answers,
    }


# --- cut bodies ------------------------------------------------------------------------------------------


def cut() -> dict:
    server = Server()
    uuid = "238991234567891"
    basic = {"Authorization": V1_BASIC}
    form = {**basic, "Content-Type": "application/x-www-form-urlencoded"}
    try:
        request(server.port, http("PUT", f"/sim-v1/sim/{uuid}", form, b"voice=true&sms=false&data=false"))
        before = request(server.port, http("GET", f"/sim-v1/sim/{uuid}", basic))[2]
        head = (
            f"PUT /sim-v1/sim/{uuid} HTTP/1.1\r\nHost: x\r\nAuthorization: {V1_BASIC}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 32\r\n\r\nvoice=false"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(head)
            time.sleep(0.3)
        time.sleep(0.3)
        after = request(server.port, http("GET", f"/sim-v1/sim/{uuid}", basic))[2]
        cpaas = {"X-Authorization": CPAAS_KEY}
        listing = http("GET", "/cpaas/media?disable_pagination=1", cpaas)
        media_before = json.loads(request(server.port, listing)[2])["pagination"]["totalItems"]
        body = (
            b'--cut\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nthe first part\r\n--cut\r\n"
            b'Content-Disposition: form-data; name="second"\r\n\r\nthe secon'
        )
        head = (
            f"POST /cpaas/media HTTP/1.1\r\nHost: x\r\nX-Authorization: {CPAAS_KEY}\r\n"
            "Content-Type: multipart/form-data; boundary=cut\r\nContent-Length: 4096\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(head + body)
            time.sleep(0.3)
        time.sleep(0.3)
        media_after = json.loads(request(server.port, listing)[2])["pagination"]["totalItems"]
    finally:
        server.stop()
    return {
        "sim_v1_update_cut_changed_state": before != after,
        "sim_before": before.decode(),
        "sim_after": after.decode(),
        "cpaas_upload_cut_stored": media_after - media_before,
    }


# --- connections -----------------------------------------------------------------------------------------


def connections() -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    server = Server(nofile=1024)
    held: list[socket.socket] = []
    try:
        for _ in range(1100):
            sock = socket.socket()
            sock.settimeout(5)
            try:
                sock.connect(("127.0.0.1", server.port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
        time.sleep(1.0)
        started = time.monotonic()
        try:
            status = request(server.port, PROBE, timeout=20)[0]
        except OSError:
            status = None
        latency = time.monotonic() - started
        # how many of the held connections the server has closed by now (timeouts or eviction)
        closed = 0
        for sock in held:
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
    finally:
        for sock in held:
            sock.close()
        server.stop()
    return {
        "server_nofile": 1024,
        "idle_connections_opened": len(held),
        "client_status": status,
        "client_seconds": round(latency, 3),
        "held_connections_closed_by_server": closed,
    }


def keepalive() -> dict:
    """1,024 keep-alive clients against a server limited to 1,024 descriptors, each asking every ~100 ms for
    10 s; a client whose idle connection was closed reconnects and asks again, as HTTP clients do."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    server = Server(nofile=1024)
    latencies: list[float] = []
    failures = {"after_retry": 0, "timeouts": 0, "reconnects": 0}

    async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        writer.write(PROBE)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        return int(head.split()[1])

    async def client(stop: float, rng: random.Random) -> None:
        streams = None
        while time.monotonic() < stop:
            started = time.monotonic()
            for attempt in (1, 2):
                try:
                    if streams is None:
                        streams = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), 10)
                    status = await asyncio.wait_for(ask(*streams), 10)
                except TimeoutError:
                    failures["timeouts"] += 1
                    streams = None
                    break
                except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
                    if streams is not None:
                        streams[1].close()
                    streams = None
                    if attempt == 2:
                        failures["after_retry"] += 1
                    else:
                        failures["reconnects"] += 1
                    continue
                if status == 200:
                    latencies.append(time.monotonic() - started)
                break
            await asyncio.sleep(rng.uniform(0.05, 0.15))
        if streams is not None:
            streams[1].close()

    async def run() -> None:
        stop = time.monotonic() + 10
        await asyncio.gather(*(client(stop, random.Random(n)) for n in range(1024)))

    try:
        asyncio.run(run())
    finally:
        server.stop()
    latencies.sort()
    return {
        "server_nofile": 1024,
        "clients": 1024,
        "answered": len(latencies),
        "failed_after_a_retry": failures["after_retry"],
        "timed_out_10s": failures["timeouts"],
        "reconnects": failures["reconnects"],
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
    }


SCENARIOS = {
    "memory": memory,
    "stall": stall,
    "errors": errors,
    "cut": cut,
    "connections": connections,
    "keepalive": keepalive,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="run only these scenarios")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "hostile.json")
    parser.add_argument(
        "--server-root", type=Path, default=ROOT, help="checkout whose server to attack (default: this)"
    )
    args = parser.parse_args()
    global SERVER_ROOT
    SERVER_ROOT = args.server_root.resolve()
    results = {}
    for name, scenario in SCENARIOS.items():
        if args.only and name not in args.only:
            continue
        started = time.monotonic()
        results[name] = scenario()
        results[name]["scenario_seconds"] = round(time.monotonic() - started, 1)
        shown = {k: v for k, v in results[name].items() if k != "answers"}
        print(f"{name}: {json.dumps(shown, indent=2)}", flush=True)
    if "errors" in results:
        for answer in results["errors"]["answers"]:
            a = answer
            print(f"  {a['status']!s:>4} {a['content_type']!s:<28} {a['request']}: {a['body'][:50]}")
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
