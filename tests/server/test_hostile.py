"""The reference server under attack: each hostile client of issue 9, over a real socket.

Most tests attack one `apicontract serve` (all four APIs) in its own process, as users run it; the
descriptor-limit and restart tests start their own. The timeout tests use an embedded server whose
bundles say 1 s for every timeout: the server reads its timeouts from the spec.

What is asserted: a body cut short changes nothing (SIM, upload); no input answers 5xx; every refusal is
JSON in the API's error shape; the server's memory stays bounded; an unrelated request stays fast while
a multipart bomb or a huge header is sent; a client is served while 1,100 idle connections are held
under a 1,024-descriptor limit; pending events are sent after a restart. Speed is measured by
`bench/hostile.py`; the bounds here are generous on purpose.
"""

from __future__ import annotations

import base64
import json
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from apicontract.paths import Layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer
from apicontract.server.store import FILENAME

from projectkit import free_port
from receiver import Receiver
from serverkit import ROOT, fixtures

SIM_V1_AUTH = "Basic " + base64.b64encode(b"sim-v1-demo-key-one:sim-v1-demo-secret-one").decode()
KEY = "YOUR-API-KEY"  # sim-v2 and sim-v3
ACCESS = "AccessKey d8ac9959r12b43545da9034"  # cpaas
UUID = "238991234567891"  # a provisioned sim-v1 SIM of the first demo account
IMSI = "238731234567891"  # a provisioned sim-v2 SIM of the first demo account
PROBE = f"GET /sim-v2/sim/{IMSI} HTTP/1.1\r\nHost: x\r\nAuthorization: {KEY}\r\n\r\n".encode()


class Serve:
    """`apicontract serve` in its own process (optionally with a file-descriptor limit)."""

    def __init__(self, data_dir: Path, *extra: str, nofile: int | None = None):
        self.port = free_port()
        self.data_dir = data_dir

        def limit() -> None:
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.process = subprocess.Popen(
            [sys.executable, "-m", "apicontract", "serve", "--root", str(ROOT), "--port", str(self.port)]
            + ["--data-dir", str(data_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=limit,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if raw(self.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"the server did not start: {self.process.stdout.read().decode()[-2000:]}")
            time.sleep(0.05)

    def url(self, api: str) -> str:
        return f"http://127.0.0.1:{self.port}/{api}"

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    cpaas_port = free_port()
    server = Serve(tmp_path_factory.mktemp("hostile"), "--time-scale", "0", "--api-port", f"cpaas={cpaas_port}")
    server.cpaas_port = cpaas_port
    yield server
    server.stop()


# --- raw HTTP: what a hostile client sends ---------------------------------------------------------


def read_response(sock: socket.socket) -> tuple[int | None, dict[str, str], bytes]:
    """One response: (status, headers, body); status None if the server closed without one."""
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
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body[:length]


def raw(port: int, data: bytes | list[bytes], timeout: float = 10, pause: float = 0) -> tuple:
    """Send raw bytes (or chunks, `pause` s apart) on a new connection; one response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            for chunk in data if isinstance(data, list) else [data]:
                sock.sendall(chunk)
                if pause:
                    time.sleep(pause)
        except OSError:  # the server answered and closed before all was sent
            pass
        return read_response(sock)


def request(method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_request(method: str, target: str, auth: dict[str, str], body: bytes) -> bytes:
    return request(method, target, {**auth, "Content-Type": "application/json"}, body)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def answer_of(result: tuple) -> tuple[int | None, dict | None]:
    status, headers, body = result
    assert status is None or headers.get("content-type") == "application/json", (status, headers, body[:200])
    return status, (json.loads(body) if status is not None else None)


V2 = {"Authorization": KEY}
V3 = {"Authorization": KEY}
CPAAS = {"X-Authorization": ACCESS}
ACTIVATION = {"reference": "hostile", "sourceAddr": "4512345678", "destAddr": "4512345617"}


# --- a request changes state only when its whole body arrived ---------------------------------------


def test_a_sim_update_cut_short_changes_nothing(served):
    form = {"Authorization": SIM_V1_AUTH, "Content-Type": "application/x-www-form-urlencoded"}
    assert raw(served.port, request("PUT", f"/sim-v1/sim/{UUID}", form, b"voice=true&sms=false&data=false"))[0] == 200
    before = raw(served.port, request("GET", f"/sim-v1/sim/{UUID}", {"Authorization": SIM_V1_AUTH}))[2]
    # 32 bytes announced, `voice=false` sent, then the client goes away: R9 would set sms and data to true
    head = request("PUT", f"/sim-v1/sim/{UUID}", form).replace(b"Content-Length: 0", b"Content-Length: 32")
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head + b"voice=false")
        time.sleep(0.2)
    v2_head = json_request("PUT", f"/sim-v2/sim/{IMSI}", V2, b"").replace(b"Content-Length: 0", b"Content-Length: 40")
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(v2_head + b'{"voice": false}')  # a whole JSON object, but not the whole body
        sock.shutdown(socket.SHUT_WR)
        assert read_response(sock)[0] is None  # nobody is answered for a body that never came
    time.sleep(0.2)
    assert raw(served.port, request("GET", f"/sim-v1/sim/{UUID}", {"Authorization": SIM_V1_AUTH}))[2] == before
    assert json.loads(raw(served.port, request("GET", f"/sim-v2/sim/{IMSI}", V2))[2])["voice"] is True


def test_an_upload_cut_short_stores_nothing(served):
    listing = request("GET", "/cpaas/media?disable_pagination=1", CPAAS)
    count = json.loads(raw(served.port, listing)[2])["pagination"]["totalItems"]
    files = sorted(p.name for p in (served.data_dir / "media").iterdir())
    body = (
        b'--cut\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nthe whole first part\r\n--cut\r\n"
        b'Content-Disposition: form-data; name="second"\r\n\r\nthe sec'
    )
    head = request("POST", "/cpaas/media", {**CPAAS, "Content-Type": "multipart/form-data; boundary=cut"})
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head.replace(b"Content-Length: 0", b"Content-Length: 4096") + body)
        time.sleep(0.2)
    time.sleep(0.2)
    assert json.loads(raw(served.port, listing)[2])["pagination"]["totalItems"] == count
    assert sorted(p.name for p in (served.data_dir / "media").iterdir()) == files


# --- input that must be refused, never a 5xx ---------------------------------------------------------

BIG = "9" * 5000
REFUSED = [
    # (what, request, status, code): JSON nesting past x-max-json-depth, numbers past x-max-number-length
    ("sim-v2 connector 300 deep", json_request("POST", "/sim-v2/connector/deep", V2, b'{"a":' + nested(300) + b"}"),
     400, "body_invalid"),
    ("sim-v2 connector 33 deep", json_request("POST", "/sim-v2/connector/d33", V2, b'{"a":' + nested(32) + b"}"),
     400, "body_invalid"),
    ("sim-v3 connector 500 deep",
     json_request("POST", "/sim-v3/connector", V3, b'{"id":"deep","x":' + nested(500) + b"}"), 400, "body_invalid"),
    ("sim-v2 connector 1e400", json_request("POST", "/sim-v2/connector/inf", V2, b'{"a":1e400}'), 400, "body_invalid"),
    ("sim-v2 connector 4000 digits", json_request("POST", "/sim-v2/connector/n", V2, b'{"a":' + b"7" * 4000 + b"}"),
     400, "body_invalid"),
    ("sim-v2 update voice 40 deep", json_request("PUT", f"/sim-v2/sim/{IMSI}", V2, b'{"voice":' + nested(40) + b"}"),
     400, "voice_invalid"),
    ("sim-v2 update 100,000 deep",  # past the parser's own recursion limit: the body's code
     json_request("PUT", f"/sim-v2/sim/{IMSI}", V2, b'{"voice":' + nested(100_000) + b"}"), 400, "body_invalid"),
    ("sim-v3 id 5,000 digits",
     json_request("GET", "/sim-v3/sim", V3, b'{"id":' + BIG.encode() + b"}"), 400, "id_invalid"),
    ("cpaas page 5,000 digits", request("GET", f"/cpaas/media?page={BIG}", CPAAS), 400, "invalidDataError"),
    ("cpaas per_page 5,000 digits", request("GET", f"/cpaas/media?per_page={BIG}", CPAAS), 400, "invalidDataError"),
    ("cpaas media id 5,000 digits", request("GET", f"/cpaas/media/{BIG}", CPAAS), 400, "invalidDataError"),
    ("cpaas volume 5,000 digits", json_request("POST", "/cpaas/apps/activate", CPAAS,
     json.dumps(ACTIVATION)[:-1].encode() + b',"volume":' + BIG.encode() + b"}"), 400, "invalidDataError"),
    ("cpaas name 40 deep", json_request("POST", "/cpaas/media", CPAAS, b'{"name":' + nested(40) + b"}"),
     400, "invalidDataError"),  # the field's code, as for any name that is not a string
    # repeats past the spec's bounds (R5, R26)
    *[
        (f"cpaas {field}={value}", json_request("POST", "/cpaas/apps/activate", CPAAS, json.dumps(
            {**ACTIVATION, "isRepeat": 1, "repeatBusy": 1, "repeatBusyCount": 1, "repeatBusyInt": 1, field: value}
        ).encode()), 400, "invalidDataError")
        for field, value in (("repeatBusyCount", 101), ("repeatBusyInt", 86401), ("repeatBusyCount", 10**30),
                             ("repeatBusyInt", 10**30))
    ],
    # the HTTP layer: x-http-errors, in the shape of the API the path names
    ("sim-v2 malformed request line", b"GET /sim-v2/sim/1 HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400, "bad_request"),
    ("cpaas header without a colon",
     b"GET /cpaas/balance HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n", 400, "invalidDataError"),
    ("sim-v1 bad Content-Length",
     b"PUT /sim-v1/sim/1 HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n", 400, "bad_request"),
    ("sim-v3 101 headers", b"GET /sim-v3/ HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(101)) + b"\r\n",
     431, "request_header_fields_too_large"),
    ("sim-v2 header of 1 MiB", request("GET", "/sim-v2/", {**V2, "X-Big": "a" * (1 << 20)}), 431,
     "request_header_fields_too_large"),
    ("cpaas path of 20 KiB", request("GET", "/cpaas/media/" + "1" * 20480, CPAAS), 431, "invalidDataError"),
    ("cpaas credential of 17 KiB", request("GET", "/cpaas/balance", {"X-Authorization": "AccessKey " + "k" * 17408}),
     431, "invalidDataError"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "data", "status", "code"), REFUSED, ids=[r[0] for r in REFUSED])
def test_hostile_input_is_refused_in_the_apis_shape(served, what, data, status, code):
    answer = answer_of(raw(served.port, data))
    field = "status" if b"/cpaas" in data.split(b"\r\n", 1)[0] else "message"
    assert answer == (status, {field: code})


def test_nothing_refused_was_stored_and_reads_never_fail(served):
    for name in ("deep", "d33", "inf", "n"):
        assert answer_of(raw(served.port, request("GET", f"/sim-v2/connector/{name}", V2)))[0] == 404
    assert answer_of(raw(served.port, json_request("GET", "/sim-v3/connector", V3, b'{"id":"deep"}')))[0] == 404
    deep_enough = b'{"a":' + nested(31) + b',"n":' + b"9" * 64 + b"}"  # at the limits: kept and read back
    assert answer_of(raw(served.port, json_request("POST", "/sim-v2/connector/edge", V2, deep_enough)))[0] == 200
    status, body = answer_of(raw(served.port, request("GET", "/sim-v2/connector/edge", V2)))
    assert status == 200 and body["n"] == int("9" * 64)


def test_framing_refused_before_any_api_is_json_too(served):
    status, headers, body = raw(served.port, b"NOT HTTP AT ALL\r\n\r\n")
    assert (status, headers["content-type"]) == (400, "application/json")
    assert "error" in json.loads(body) and headers["x-apicontract-internal"]
    # on an API's own port, the API is known even when the request is not
    assert answer_of(raw(served.cpaas_port, b"NOT HTTP AT ALL\r\n\r\n")) == (400, {"status": "invalidDataError"})
    too_many = b"GET /balance HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n"
    assert answer_of(raw(served.cpaas_port, too_many)) == (431, {"status": "invalidDataError"})


def test_two_credentials_are_refused_not_resolved_by_order(served):
    for first, second in ((KEY, "wrong"), ("wrong", KEY)):
        data = (
            f"GET /sim-v2/sim/{IMSI} HTTP/1.1\r\nHost: x\r\nAuthorization: {first}\r\nAuthorization: {second}\r\n\r\n"
        )
        assert answer_of(raw(served.port, data.encode())) == (401, {"message": "unauthorized"})
    both = f"GET /sim-v1/sim/{UUID} HTTP/1.1\r\nHost: x\r\nAuthorization: {SIM_V1_AUTH}\r\nAuthorization: {SIM_V1_AUTH}"
    status, headers, _ = raw(served.port, (both + "\r\n\r\n").encode())
    assert (status, headers["www-authenticate"]) == (401, 'Basic realm="sim-v1"')
    twice = request("GET", "/cpaas/balance", CPAAS).replace(
        b"\r\n\r\n", f"\r\nX-Authorization: {ACCESS}\r\n\r\n".encode()
    )
    assert answer_of(raw(served.port, twice)) == (401, {"status": "invalidAccessKeyError"})
    key = ACCESS.replace(" ", "%20")
    twice = request("GET", f"/cpaas/balance?X-Authorization={key}&X-Authorization=AccessKey%20other")
    assert answer_of(raw(served.port, twice)) == (401, {"status": "invalidAccessKeyError"})
    header_decides = request("GET", f"/cpaas/balance?X-Authorization={key}&X-Authorization=x", CPAAS)
    assert answer_of(raw(served.port, header_decides))[0] == 200  # R23: the header decides


def test_a_body_too_large_is_413_and_the_rest_of_it_is_not_read_for_ever(served):
    head = json_request("PUT", f"/sim-v2/sim/{IMSI}", V2, b"").replace(b"Length: 0", b"Length: 1000000000000000")
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        sock.sendall(head + b"{" + b" " * 65536)
        assert answer_of(read_response(sock)) == (413, {"message": "payload_too_large"})
        started = time.monotonic()
        with pytest.raises(OSError):  # the server stops reading and closes, however much more is sent
            while time.monotonic() - started < 10:
                sock.sendall(b" " * 65536)
        assert time.monotonic() - started < 5


# --- memory and stalls -------------------------------------------------------------------------------


def test_memory_stays_bounded_across_1000_requests_with_large_distinct_headers(served):
    for _ in range(50):
        raw(served.port, PROBE)
    before = served.rss_bytes()
    statuses = set()
    for n in range(1000):
        unique = f"{n:06d}" * 2000  # 12 KB: inside the header limit, so each one is parsed, checked and refused
        if n % 4 == 0:
            data = request("GET", "/cpaas/balance", {"X-Authorization": "AccessKey " + unique})
        elif n % 4 == 1:
            data = request("GET", f"/sim-v2/sim/{IMSI}", {"Authorization": unique})
        elif n % 4 == 2:
            data = request("GET", f"/sim-v2/connector/{unique}", V2)  # an authenticated, distinct long path
        else:
            data = request("GET", "/sim-v3/", {"Authorization": unique + unique * 20})  # 252 KB: over the limit
        statuses.add(raw(served.port, data)[0])
    growth = served.rss_bytes() - before
    assert statuses <= {400, 401, 404, 431}
    assert growth < 50 * 1024 * 1024, f"RSS grew {growth / 2**20:.1f} MiB"


def worst_latency_while(port: int, attack, attackers: int, seconds: float) -> tuple[float, list]:
    """`attackers` threads run `attack()` for `seconds`; meanwhile an unrelated client asks every 20 ms."""
    results: list = []
    stop = time.monotonic() + seconds

    def attacker() -> None:
        while time.monotonic() < stop:
            results.append(attack())

    threads = [threading.Thread(target=attacker) for _ in range(attackers)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    worst, samples = 0.0, 0
    with httpx.Client(timeout=10, headers=V2) as client:
        while any(t.is_alive() for t in threads):
            started = time.monotonic()
            assert client.get(f"http://127.0.0.1:{port}/sim-v2/sim/{IMSI}").status_code == 200
            worst = max(worst, time.monotonic() - started)
            samples += 1
            time.sleep(0.02)
    for thread in threads:
        thread.join()
    assert samples >= 10
    return worst, results


def test_an_unrelated_request_is_fast_while_multipart_bombs_are_sent(served):
    part = b'--b0mb\r\nContent-Disposition: form-data; name="p"\r\n\r\nx\r\n'
    body = part * 150_000 + b"--b0mb--\r\n"  # 8 MB of parts: 10 s of parsing before the part limit
    head = request("POST", "/cpaas/media", {**CPAAS, "Content-Type": "multipart/form-data; boundary=b0mb"})
    head = head.replace(b"Content-Length: 0", f"Content-Length: {len(body)}".encode())
    chunks = [head] + [body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20)]

    worst, answers = worst_latency_while(served.port, lambda: answer_of(raw(served.port, chunks, pause=0.02)), 1, 2)
    assert worst < 0.2, f"an unrelated request took {worst * 1000:.0f} ms"
    assert set(map(json.dumps, answers)) == {json.dumps([400, {"status": "invalidDataError"}])}


def test_an_unrelated_request_is_fast_while_huge_headers_are_sent(served):
    head = b"GET /sim-v1/ HTTP/1.1\r\nHost: x\r\nAuthorization: " + SIM_V1_AUTH.encode() + b"\r\nX-Big: "
    chunks = [head] + [b"a" * 65536] * 1024  # 64 MiB, never finished

    worst, answers = worst_latency_while(served.port, lambda: answer_of(raw(served.port, chunks)), 1, 2)
    assert worst < 0.2, f"an unrelated request took {worst * 1000:.0f} ms"
    assert {json.dumps(a) for a in answers} <= {
        json.dumps([431, {"message": "request_header_fields_too_large"}]),
        json.dumps([None, None]),  # the answer can be lost when the server closes on a client still sending
    }
    assert answers.count((431, {"message": "request_header_fields_too_large"})) >= len(answers) // 2


# --- connections ---------------------------------------------------------------------------------------


def test_a_client_is_served_while_1100_idle_connections_are_held(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        if hard != resource.RLIM_INFINITY and hard < 2048:
            pytest.skip(f"this test process may open only {hard} descriptors")
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    server = Serve(tmp_path / "data", "sim-v2", nofile=1024)  # the server may hold 1,024 descriptors
    held: list[socket.socket] = []
    try:
        for _ in range(1100):
            held.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(0.5)
        started = time.monotonic()
        assert raw(server.port, PROBE, timeout=10)[0] == 200
        assert time.monotonic() - started < 5
        with httpx.Client(timeout=10, headers=V2) as client:  # and keep-alive clients keep being served
            for _ in range(20):
                assert client.get(f"{server.url('sim-v2')}/sim/{IMSI}").status_code == 200
    finally:
        for sock in held:
            sock.close()
        server.stop()
        if soft < 2048:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def short_timeouts(tmp_path: Path, apis: list[str], **options) -> EmbeddedServer:
    """An embedded server whose bundles say 1 s for every timeout (the rest of the spec as it is)."""
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    for api in apis:
        doc = json.loads((ROOT / "generated" / "openapi" / f"{api}.json").read_text())
        doc["info"]["x-timeouts"] = {"idle": 1, "header": 1, "body": 1}
        (bundles / f"{api}.json").write_text(json.dumps(doc))
    where = Layout(spec=ROOT / "spec", bundles=bundles, models=ROOT / "generated" / "models", root=ROOT)
    return EmbeddedServer(ServerConfig(where, tmp_path / "data", apis, **options)).start()


def test_idle_slow_header_and_slow_body_connections_are_timed_out(tmp_path):
    server = short_timeouts(tmp_path, ["sim-v2"])
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as idle:
            started = time.monotonic()
            assert idle.recv(1) == b""  # closed, without a request ever begun
            assert 0.8 < time.monotonic() - started < 3
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as slow:
            slow.sendall(f"GET /sim-v2/sim/{IMSI} HTTP/1.1\r\nHost: x\r\n".encode())  # and then nothing
            started = time.monotonic()
            assert answer_of(read_response(slow)) == (408, {"message": "request_timeout"})
            assert time.monotonic() - started < 3
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as slow:
            head = json_request("PUT", f"/sim-v2/sim/{IMSI}", V2, b"").replace(b"Length: 0", b"Length: 64")
            slow.sendall(head + b'{"voice": false')  # then a byte now and then
            for _ in range(4):
                time.sleep(0.3)
                slow.sendall(b" ")
            status, headers, body = read_response(slow)
            assert (status, json.loads(body), headers["connection"]) == (408, {"message": "request_timeout"}, "close")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as kept:
            kept.sendall(PROBE)
            assert read_response(kept)[0] == 200
            assert kept.recv(1) == b""  # keep-alive: closed after the idle time
        assert httpx.get(f"{server.url('sim-v2')}/sim/{IMSI}", headers=V2).json()["voice"] is True
    finally:
        server.stop()


# --- events: restart, queue, pagination, triggers ------------------------------------------------------


def busy_activation(reference: str, interval: int) -> dict:
    """An activation whose call is busy (the fixtures' suffix 17), repeated once after `interval` s."""
    return {**ACTIVATION, "reference": reference, "isRepeat": 1, "repeatBusy": 1, "repeatBusyCount": 1,
            "repeatBusyInt": interval}  # fmt: skip


def events_in(data_dir: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(data_dir / FILENAME) as db:
        rows = db.execute("SELECT event, outcome, detail FROM events WHERE api = 'cpaas' ORDER BY id").fetchall()
    return {event: (outcome, detail) for event, outcome, detail in rows}


def test_events_pending_at_shutdown_are_sent_after_a_restart(tmp_path):
    data = tmp_path / "data"
    with Receiver() as hook:
        first = Serve(data, "cpaas", "--callback-url", hook.url)
        try:
            answer = httpx.post(
                f"{first.url('cpaas')}/apps/activate", json=busy_activation("resumed", 3), headers=CPAAS
            )
            assert answer.status_code == 200
            hook.wait(1)  # the start callback; the end one is due 3 s later
        finally:
            first.stop()
        stopped = time.monotonic()
        assert events_in(data)["endCallback"][0] == "pending"
        second = Serve(data, "cpaas", "--callback-url", hook.url)
        try:
            end = hook.wait(2, timeout=10)[1]
            assert "type=endCallback" in end.query and "reference=resumed" in end.query
            assert time.monotonic() - stopped < 8
            deadline = time.monotonic() + 5
            while events_in(data)["endCallback"][0] == "pending" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert events_in(data)["endCallback"][0] == "delivered"
        finally:
            second.stop()


def test_pending_events_that_cannot_be_sent_after_a_restart_are_discarded_with_the_reason(tmp_path):
    with Receiver() as hook:
        server = EmbeddedServer(ServerConfig(layout_of_root(), tmp_path / "data", ["cpaas"], callback_url=hook.url))
        server.start()
        try:
            assert httpx.post(f"{server.url('cpaas')}/apps/activate", json=busy_activation("gone", 600),
                              headers=CPAAS).status_code == 200  # fmt: skip
            hook.wait(1)
        finally:
            server.stop()
    renamed = fixtures("cpaas")
    renamed["accounts"][0]["name"] = "someone-else"
    path = tmp_path / "fixtures.yaml"
    path.write_text(json.dumps(renamed))
    server = EmbeddedServer(ServerConfig(layout_of_root(), tmp_path / "data", ["cpaas"], fixtures={"cpaas": path}))
    server.start()
    server.stop()
    outcome, detail = events_in(tmp_path / "data")["endCallback"]
    assert outcome == "discarded"
    assert "after a restart" in detail and "not in the fixtures" in detail


def layout_of_root() -> Layout:
    return Layout(spec=ROOT / "spec", bundles=ROOT / "generated" / "openapi", models=ROOT / "generated" / "models",
                  root=ROOT)  # fmt: skip


def test_the_delivery_queue_has_a_cap_and_says_what_it_discarded(tmp_path):
    with Receiver() as hook:
        config = ServerConfig(
            layout_of_root(), tmp_path / "data", ["cpaas"], callback_url=hook.url, max_pending_events=2
        )
        server = EmbeddedServer(config).start()
        try:
            base = server.url("cpaas")
            for reference in ("one", "two"):
                answer = httpx.post(f"{base}/apps/activate", json=busy_activation(reference, 600), headers=CPAAS)
                assert answer.status_code == 200
                hook.wait(1)  # one's start is sent; its end waits: 1 of the 2 places is taken
            events = httpx.get(f"{base}/_events", headers=CPAAS).json()["events"]
            assert [(e["payload"]["reference"], e["event"], e["outcome"]) for e in events] == [
                ("one", "startCallback", "delivered"),
                ("one", "endCallback", "pending"),
                ("two", "startCallback", "discarded"),
                ("two", "endCallback", "discarded"),
            ]
            assert "the delivery queue was full" in events[2]["detail"]
        finally:
            server.stop()


def test_events_are_paginated(served):
    base = served.url("sim-v3")
    for _ in range(5):
        answer = httpx.post(f"{base}/_simulate/network_validation", json={"sim_id": "192837466"}, headers=V3)
        assert answer.status_code == 200
    everything = httpx.get(f"{base}/_events", params={"limit": 1000}, headers=V3).json()
    assert everything["next_after"] is None
    pages, after = [], 0
    while after is not None:
        page = httpx.get(f"{base}/_events", params={"after": after, "limit": 2}, headers=V3).json()
        assert len(page["events"]) <= 2
        pages += page["events"]
        after = page["next_after"]
    assert pages == everything["events"] and len(pages) >= 5
    for bad in ({"limit": 0}, {"limit": 1001}, {"after": "x"}, {"limit": BIG}):
        assert httpx.get(f"{base}/_events", params=bad, headers=V3).status_code == 400


def test_a_refused_simulate_changes_nothing_and_an_oversized_one_is_413(served):
    base = served.url("sim-v3")

    def bill() -> int:
        answer = httpx.post(f"{base}/_simulate/usage", json={"sim_id": "192837466"}, headers=V3)
        assert answer.status_code == 200
        return int(answer.json()["payload"]["bill_id"].split("-")[1])

    first = bill()
    refused = httpx.post(f"{base}/_simulate/usage", json={"sim_id": "192837466", "upload": 12}, headers=V3)
    assert refused.status_code == 400  # upload must be a decimal string
    assert bill() == first + 1  # the refused one used no serial
    oversized = b'{"sim_id":"192837466","pad":"' + b"x" * (2 << 20) + b'"}'
    answer = httpx.post(f"{base}/_simulate/usage", content=oversized, headers=V3)
    assert answer.status_code == 413 and "x-max-body-bytes" in answer.json()["error"]
    deep = httpx.post(f"{base}/_simulate/usage", content=b'{"sim_id":"192837466","x":' + nested(40) + b"}",
                      headers=V3)  # fmt: skip
    assert deep.status_code == 400 and "x-max-json-depth" in deep.json()["error"]
    assert bill() == first + 2


def test_temporary_upload_files_are_removed_at_start(tmp_path):
    data = tmp_path / "data"
    first = EmbeddedServer(ServerConfig(layout_of_root(), data, ["cpaas"])).start()
    upload = httpx.post(f"{first.url('cpaas')}/media", files={"file": ("kept.txt", b"kept")}, headers=CPAAS)
    first.stop()
    kept = upload.json()["media"]["id"]
    media = data / "media"
    (media / f".{kept + 1}.abc.part").write_bytes(b"half an upload: kill -9 between write and rename")
    (media / str(kept + 1)).write_bytes(b"renamed, but its row never committed")
    second = EmbeddedServer(ServerConfig(layout_of_root(), data, ["cpaas"])).start()
    try:
        assert sorted(p.name for p in media.iterdir() if not p.name.isdigit() or int(p.name) >= kept) == [str(kept)]
        assert httpx.get(f"{second.url('cpaas')}/media/{kept}", headers=CPAAS).content == b"kept"
    finally:
        second.stop()
