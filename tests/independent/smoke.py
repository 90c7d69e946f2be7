"""Smoke test of the independent server (plain Python, stdlib only).

    python tests/independent/smoke.py            # full run + a few faults
    python tests/independent/smoke.py --no-faults

Starts the server on a free port with a tiny local webhook receiver, then
walks each API's main lifecycle and a few malformed inputs, and finally checks
that a handful of --fault switches change what is observed.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from independent import faults as faults_mod  # noqa: E402
from independent.config import Fixtures  # noqa: E402

FX = Fixtures()
FAILURES: list[str] = []
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(what)
        print("  FAIL:", what)


# ---------------------------------------------------------------- webhook receiver
class Receiver:
    def __init__(self):
        self.events: list[dict] = []
        self.cond = threading.Condition()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                parts = urlsplit(self.path)
                with outer.cond:
                    outer.events.append({"method": self.command, "path": parts.path,
                                         "query": dict(parse_qsl(parts.query)),
                                         "auth": self.headers.get("Authorization"),
                                         "body": json.loads(body) if body else None})
                    outer.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _record

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def wait(self, pred, timeout=8.0, count=1):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                found = [e for e in self.events if pred(e)]
                if len(found) >= count:
                    return found
                left = deadline - time.time()
                if left <= 0:
                    return found
                self.cond.wait(left)

    def clear(self):
        with self.cond:
            self.events.clear()


# ---------------------------------------------------------------- server process
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProc:
    def __init__(self, hook_base=None, fault=None):
        self.port = free_port()
        cmd = [sys.executable, os.path.join(HERE, "server.py"), "--port", str(self.port),
               "--time-scale", "0.05"]
        if hook_base:
            cmd += ["--webhook-base", hook_base]
        if fault:
            cmd += ["--fault", fault]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        self.conn = None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        err = self.proc.stderr.read().decode(errors="replace")
        if "Traceback" in err:
            FAILURES.append("server printed a traceback:\n" + err)

    def call(self, method, path, body=None, headers=None, ctype=None, raw=False):
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            ctype = ctype or "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if ctype:
            headers["Content-Type"] = ctype
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        if raw:
            return resp.status, data, resp
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = ("NOT-JSON", data[:200])
        return resp.status, parsed


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


# ---------------------------------------------------------------- sim-v1
def smoke_v1(s: ServerProc, rx: Receiver):
    print("sim-v1")
    a1, a2 = FX.v1
    h1, h2 = basic(a1.key, a1.secret), basic(a2.key, a2.secret)
    u = a1.sims[0].uuid
    st, b = s.call("GET", "/mitto/")
    check(st == 401 and b == {"message": "unauthorized"}, f"v1 root no auth {st} {b}")
    st, b = s.call("GET", "/mitto/", headers=h1)
    check((st, b) == (200, {"message": "OK"}), f"v1 root {st} {b}")
    st, b = s.call("GET", f"/mitto/sim/{u}", headers=h1)
    check((st, b) == (404, {"message": "sim_not_found"}), f"v1 retrieve unprovisioned {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{u}", headers=h1, body="voice=true", ctype="application/x-www-form-urlencoded")
    check((st, b) == (404, {"message": "uuid_not_found"}), f"v1 update unprovisioned {st} {b}")
    st, b = s.call("POST", f"/mitto/sim/{u}", headers=h1, body="voice=true&sms=true&data=false",
                   ctype="application/x-www-form-urlencoded")
    check((st, b) == (200, {"message": "OK"}), f"v1 create {st} {b}")
    ev = rx.wait(lambda e: e["path"] == "/hooks/sim-v1/1/location_update")
    check(len(ev) == 1 and ev[0]["auth"] == basic(a1.hook_user, a1.hook_pass)["Authorization"]
          and ev[0]["body"]["imsi"] == u and ev[0]["body"]["type"] in ("cs", "ps"),
          f"v1 location_update {ev}")
    st, b = s.call("POST", f"/mitto/sim/{u}", headers=h1)
    check((st, b) == (409, {"message": "uuid_conflict"}), f"v1 create twice {st} {b}")
    st, b = s.call("GET", f"/mitto/sim/{u}", headers=h1)
    check(st == 200 and b["data"] is False and b["voice"] is True and re.fullmatch(r"\d{4}", b["pin"])
          and re.fullmatch(r"\d{8}", b["puk"]) and set(b) == {"uuid", "pin", "puk", "voice", "sms", "data"},
          f"v1 retrieve {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{u}", headers=h1, body={"sms": False})
    st, b = s.call("GET", f"/mitto/sim/{u}", headers=h1)
    check(b["sms"] is False and b["data"] is True and b["voice"] is True, f"v1 R9 update defaults {b}")
    st, b = s.call("GET", f"/mitto/sim/{u}", headers=h2)
    check((st, b) == (403, {"message": "uuid_forbidden"}), f"v1 cross account {st} {b}")
    st, b = s.call("GET", "/mitto/sim/12345", headers=h1)
    check((st, b) == (400, {"message": "uuid_invalid"}), f"v1 uuid invalid {st} {b}")
    st, b = s.call("GET", "/mitto/sim/999999999999999", headers=h1)
    check((st, b) == (404, {"message": "sim_not_found"}), f"v1 unknown uuid {st} {b}")
    st, b = s.call("POST", "/mitto/sim/999999999999999", headers=h1)
    check((st, b) == (404, {"message": "uuid_not_found"}), f"v1 create unknown {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{u}", headers=h1, body="voice=yes", ctype="application/x-www-form-urlencoded")
    check((st, b) == (400, {"message": "voice_invalid"}), f"v1 form bool {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{u}", headers=h1, body={"voice": "true"})
    check((st, b) == (400, {"message": "voice_invalid"}), f"v1 json str bool {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{u}", headers=h1, body={"colour": "red"})
    check((st, b) == (400, {"message": "body_invalid"}), f"v1 unknown field {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{u}", headers=h1, body={"colour": "red", "data": 1})
    check((st, b) == (400, {"message": "data_invalid"}), f"v1 documented before unknown {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{u}", headers=h1, body="{bad json", ctype="application/json")
    check((st, b) == (400, {"message": "body_invalid"}), f"v1 bad json {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{u}", headers=h1, body="voice=true", ctype="text/plain")
    check((st, b) == (415, {"message": "unsupported_media_type"}), f"v1 415 {st} {b}")
    st, b = s.call("PATCH", f"/mitto/sim/{u}", headers=h1)
    check((st, b) == (405, {"message": "method_not_allowed"}), f"v1 405 {st} {b}")
    st, b = s.call("GET", "/mitto/sim/24817031415%2F201", headers=h1)
    check((st, b) == (404, {"message": "not_found"}), f"v1 R5c {st} {b}")
    st, b = s.call("GET", "/elsewhere", headers=h1)
    check((st, b) == (404, {"message": "not_found"}), f"unknown prefix {st} {b}")
    # send SMS
    rx.clear()
    st, b = s.call("POST", f"/mitto/sms/{u}", headers=h1, body="from=Indie&text=Hello%2C%20World%21",
                   ctype="application/x-www-form-urlencoded")
    check((st, b) == (200, {"message": "OK"}), f"v1 sms {st} {b}")
    ev = rx.wait(lambda e: e["path"] == "/hooks/sim-v1/1/xdr")
    check(len(ev) == 1 and ev[0]["body"]["type"] == "sms" and ev[0]["body"]["error"] is None, f"v1 xdr {ev}")
    st, b = s.call("POST", f"/mitto/sms/{u}", headers=h1, body={"from": "A" * 12, "text": "x"})
    check((st, b) == (400, {"message": "from_invalid"}), f"v1 from 12 {st} {b}")
    st, b = s.call("POST", f"/mitto/sms/{u}", headers=h1, body={"from": "A" * 11, "text": "é" * 1600})
    check((st, b) == (200, {"message": "OK"}), f"v1 text 1600 {st} {b}")
    st, b = s.call("POST", f"/mitto/sms/{u}", headers=h1, body={"from": "A", "text": "x" * 1601})
    check((st, b) == (400, {"message": "text_invalid"}), f"v1 text 1601 {st} {b}")
    st, b = s.call("POST", f"/mitto/sms/{a1.sims[1].uuid}", headers=h1, body={"from": "A", "text": "x"})
    check((st, b) == (404, {"message": "sim_not_found"}), f"v1 sms unprovisioned {st} {b}")
    # delete, re-create with defaults
    st, b = s.call("DELETE", f"/mitto/sim/{u}", headers=h1)
    check((st, b) == (200, {"message": "OK"}), f"v1 delete {st} {b}")
    st, b = s.call("DELETE", f"/mitto/sim/{u}", headers=h1)
    check((st, b) == (404, {"message": "sim_not_found"}), f"v1 delete twice {st} {b}")
    rx.clear()
    st, b = s.call("POST", f"/mitto/sim/{u}", headers=h1)
    st, b = s.call("GET", f"/mitto/sim/{u}", headers=h1)
    check(st == 200 and b["voice"] and b["sms"] and b["data"], f"v1 re-create defaults {b}")
    ev = rx.wait(lambda e: "location_update" in e["path"])
    check(len(ev) == 1, "v1 re-create event")
    # second account's events go to its own endpoint with its own credentials
    u2 = a2.sims[0].uuid
    st, b = s.call("POST", f"/mitto/sim/{u2}", headers=h2)
    ev = rx.wait(lambda e: e["path"] == "/hooks/sim-v1/2/location_update")
    check(len(ev) == 1 and ev[0]["auth"] == basic(a2.hook_user, a2.hook_pass)["Authorization"],
          f"v1 account two event {ev}")
    st, b = s.call("DELETE", f"/mitto/sim/{u}", headers=h1)
    st, b = s.call("DELETE", f"/mitto/sim/{u2}", headers=h2)


# ---------------------------------------------------------------- sim-v2
def smoke_v2(s: ServerProc, rx: Receiver):
    print("sim-v2")
    a1, a2 = FX.v2
    h1, h2 = {"Authorization": a1.key}, {"Authorization": a2.key}
    imsi, imsi_b, imsi2 = a1.imsis[0], a1.imsis[1], a2.imsis[0]
    form = "application/x-www-form-urlencoded"
    st, b = s.call("GET", "/onomondo/v2/", headers={"Authorization": "nope"})
    check(st == 401, f"v2 401 {st}")
    # the published sample: MSISDN in the path, IMSI in the (form) body
    st, b = s.call("POST", "/onomondo/v2/sim/4571234567", headers=h1,
                   body=f"imsi={imsi}&voice=true&sms=true&data=true&data_throttling=false", ctype=form)
    check((st, b) == (200, {"message": "OK"}), f"v2 create by msisdn {st} {b}")
    st, b = s.call("GET", "/onomondo/v2/sim/4571234567", headers=h1)
    check(st == 200 and b == {"imsi": imsi, "msisdn": "4571234567", "voice": True, "sms": True,
                              "data": True, "data_throttling": False}, f"v2 retrieve by msisdn {st} {b}")
    st, b = s.call("GET", f"/onomondo/v2/sim/{imsi}", headers=h1)
    check(st == 200 and b["msisdn"] == "4571234567", f"v2 retrieve by imsi {st} {b}")
    st, b = s.call("GET", "/onomondo/v2/sim/4571234567", headers=h2)
    check((st, b) == (403, {"message": "imsi_forbidden"}), f"v2 msisdn other account {st} {b}")
    st, b = s.call("POST", "/onomondo/v2/sim/4571234567", headers=h2, body={"imsi": imsi2})
    check((st, b) == (403, {"message": "imsi_forbidden"}), f"v2 create other's msisdn path {st} {b}")
    st, b = s.call("POST", f"/onomondo/v2/sim/{imsi2}", headers=h2, body={"msisdn": "4571234567"})
    check((st, b) == (409, {"message": "msisdn_conflict"}), f"v2 msisdn taken {st} {b}")
    st, b = s.call("POST", f"/onomondo/v2/sim/{imsi2}", headers=h2)
    check((st, b) == (200, {"message": "OK"}), f"v2 create acct2 {st} {b}")
    st, b = s.call("GET", f"/onomondo/v2/sim/{imsi2}", headers=h2)
    check(st == 200 and b["msisdn"] is None, f"v2 msisdn null {b}")
    # update: R9 keep, R16 conflict after merge
    st, b = s.call("PUT", "/onomondo/v2/sim/4571234567", headers=h1, body={"data": False})
    check((st, b) == (200, {"message": "OK"}), f"v2 update {st} {b}")
    st, b = s.call("PUT", f"/onomondo/v2/sim/{imsi}", headers=h1, body={"data_throttling": True})
    check((st, b) == (409, {"message": "data_data_throttling_conflict"}), f"v2 R16 after R9 {st} {b}")
    st, b = s.call("GET", f"/onomondo/v2/sim/{imsi}", headers=h1)
    check(b["data"] is False and b["voice"] is True and b["data_throttling"] is False, f"v2 R9 keeps {b}")
    st, b = s.call("PUT", f"/onomondo/v2/sim/{imsi}", headers=h1, body={"imsi": imsi_b})
    check((st, b) == (400, {"message": "imsi_invalid"}), f"v2 imsi mismatch {st} {b}")
    st, b = s.call("PUT", f"/onomondo/v2/sim/{imsi}", headers=h1, body={"msisdn": "4579999999"})
    st, b = s.call("GET", "/onomondo/v2/sim/4579999999", headers=h1)
    check(st == 200 and b["imsi"] == imsi, f"v2 msisdn changed {st} {b}")
    st, b = s.call("GET", "/onomondo/v2/sim/4571234567", headers=h1)
    check((st, b) == (404, {"message": "sim_not_found"}), f"v2 old msisdn gone {st} {b}")
    st, b = s.call("GET", "/onomondo/v2/sim/12ab", headers=h1)
    check((st, b) == (400, {"message": "msisdn_invalid"}), f"v2 bad path {st} {b}")
    st, b = s.call("POST", f"/onomondo/v2/sim/{imsi_b}", headers=h1, body="imsi=x", ctype="application/json")
    check((st, b) == (400, {"message": "body_invalid"}), f"v2 json ct + form body {st} {b}")
    st, b = s.call("POST", f"/onomondo/v2/sim/{imsi_b}", headers=h1, body={"data": False, "data_throttling": True})
    check((st, b) == (409, {"message": "data_data_throttling_conflict"}), f"v2 create conflict {st} {b}")
    st, b = s.call("POST", "/onomondo/v2/sim/4570000000", headers=h1)
    check((st, b) == (400, {"message": "imsi_invalid"}), f"v2 create without imsi {st} {b}")
    st, b = s.call("POST", "/onomondo/v2/sim/999999999999999", headers=h1)
    check((st, b) == (404, {"message": "imsi_not_found"}), f"v2 create unknown {st} {b}")
    # delete by MSISDN releases it; re-create with the same number
    st, b = s.call("DELETE", "/onomondo/v2/sim/4579999999", headers=h1)
    check((st, b) == (200, {"message": "OK"}), f"v2 delete by msisdn {st} {b}")
    st, b = s.call("POST", f"/onomondo/v2/sim/{imsi2}", headers=h2, body={"msisdn": "4579999999"})
    check((st, b) == (409, {"message": "imsi_conflict"}), f"v2 conflict acct2 {st} {b}")
    st, b = s.call("PUT", f"/onomondo/v2/sim/{imsi2}", headers=h2, body={"msisdn": "4579999999"})
    check((st, b) == (200, {"message": "OK"}), f"v2 released msisdn reusable {st} {b}")
    st, b = s.call("POST", f"/onomondo/v2/sim/{imsi}", headers=h1)
    st, b = s.call("GET", f"/onomondo/v2/sim/{imsi}", headers=h1)
    check(b == {"imsi": imsi, "msisdn": None, "voice": True, "sms": True, "data": True,
                "data_throttling": False}, f"v2 re-create fresh {b}")
    # SMS and connectors
    st, b = s.call("POST", "/onomondo/v2/sms/4512345678", headers=h1,
                   body="from=Indie&text=Hello%2C%20World%21", ctype=form)
    check((st, b) == (200, {"message": "OK"}), f"v2 sms {st} {b}")
    st, b = s.call("POST", "/onomondo/v2/sms/+4512345678", headers=h1, body={"from": "a", "text": "b"})
    check((st, b) == (400, {"message": "to_invalid"}), f"v2 sms + {st} {b}")
    st, b = s.call("POST", "/onomondo/v2/connector/c-1", headers=h1, body={"url": "http://x", "n": [1, 2]})
    check(st == 200, f"v2 connector post {st} {b}")
    st, b = s.call("GET", "/onomondo/v2/connector/c-1", headers=h1)
    check(st == 200 and b["url"] == "http://x" and b["n"] == [1, 2] and b["id"] == "c-1", f"v2 connector get {b}")
    st, b = s.call("GET", "/onomondo/v2/connector/c-1", headers=h2)
    check(st == 404, f"v2 connector other account {st}")
    st, b = s.call("DELETE", "/onomondo/v2/connector/c-1", headers=h1)
    st, b = s.call("GET", "/onomondo/v2/connector/c-1", headers=h1)
    check(st == 404, f"v2 connector deleted {st}")
    for imsi_x, h in ((imsi, h1), (imsi2, h2)):
        s.call("DELETE", f"/onomondo/v2/sim/{imsi_x}", headers=h)


# ---------------------------------------------------------------- sim-v3
def smoke_v3(s: ServerProc, rx: Receiver):
    print("sim-v3")
    a1, a2 = FX.v3
    h1, h2 = {"Authorization": a1.key}, {"Authorization": a2.key}
    i1, i1b, i2 = a1.ids[0], a1.ids[1], a2.ids[0]
    rx.clear()
    t0 = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 2))
    st, b = s.call("POST", "/onomondo/v3/sim", headers=h1, body={"id": i1, "alias": "My-Lego-Drone01", "active": True})
    check((st, b) == (200, {"message": "OK"}), f"v3 create {st} {b}")
    ev = rx.wait(lambda e: e["path"].startswith("/hooks/sim-v3/1/"), count=3)
    kinds = [e["path"].rsplit("/", 1)[1] for e in ev]
    check(kinds == ["network_registration", "network_validation", "usage"]
          and all(e["auth"] == FX.v3_hook_key for e in ev), f"v3 events {kinds}")
    st, b = s.call("GET", "/onomondo/v3/sim", headers=h1, body={"id": i1})
    check((st, b) == (200, {"id": i1, "alias": "My-Lego-Drone01", "active": True}), f"v3 retrieve {st} {b}")
    st, b = s.call("GET", "/onomondo/v3/sim", headers=h1)
    check((st, b) == (400, {"message": "id_invalid"}), f"v3 get without body {st} {b}")
    st, b = s.call("GET", "/onomondo/v3/sim", headers=h2, body={"id": i1})
    check((st, b) == (403, {"message": "id_forbidden"}), f"v3 cross account {st} {b}")
    st, b = s.call("POST", "/onomondo/v3/sim", headers=h1, body={"id": "999999999"})
    check((st, b) == (403, {"message": "id_forbidden"}), f"v3 create unknown {st} {b}")
    st, b = s.call("POST", "/onomondo/v3/sim", headers=h1, body={"id": i1})
    check((st, b) == (409, {"message": "id_conflict"}), f"v3 create twice {st} {b}")
    st, b = s.call("POST", "/onomondo/v3/sim", headers=h1, body={"id": i1b, "alias": "My-Lego-Drone01"})
    check((st, b) == (409, {"message": "alias_conflict"}), f"v3 alias conflict {st} {b}")
    st, b = s.call("POST", "/onomondo/v3/sim", headers=h2, body={"id": i2, "alias": "My-Lego-Drone01"})
    check((st, b) == (200, {"message": "OK"}), f"v3 alias per account {st} {b}")
    st, b = s.call("POST", "/onomondo/v3/sim", headers=h1, body={"id": i1b, "alias": "x" * 65})
    check((st, b) == (400, {"message": "alias_invalid"}), f"v3 alias 65 {st} {b}")
    st, b = s.call("PUT", "/onomondo/v3/sim", headers=h1, body={"id": i1, "active": False})
    st, b = s.call("GET", "/onomondo/v3/sim", headers=h1, body={"id": i1})
    check(b == {"id": i1, "alias": "My-Lego-Drone01", "active": False}, f"v3 update keeps alias {b}")
    st, b = s.call("PUT", "/onomondo/v3/sim", headers=h1, body={"id": i1, "alias": None})
    st, b = s.call("GET", "/onomondo/v3/sim", headers=h1, body={"id": i1})
    check(b == {"id": i1, "alias": None, "active": True}, f"v3 alias null + active default {b}")
    st, b = s.call("PUT", "/onomondo/v3/sim", headers=h1, body={"id": i1, "active": "false"})
    check((st, b) == (400, {"message": "active_invalid"}), f"v3 active string {st} {b}")
    st, b = s.call("PUT", "/onomondo/v3/sim", headers=h1, body=[1, 2])
    check((st, b) == (400, {"message": "body_invalid"}), f"v3 array body {st} {b}")
    # usage
    t1 = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 2))
    st, b = s.call("GET", "/onomondo/v3/usage", headers=h1, body={"sim_id": i1, "time_begin": t0, "time_end": t1})
    usage_ev = [e for e in ev if e["path"].endswith("/usage")]
    check(st == 200 and usage_ev and b["usage"] == [usage_ev[0]["body"]], f"v3 usage {st} {b} {usage_ev}")
    rec_t = usage_ev[0]["body"]["time"] if usage_ev else t0
    st, b = s.call("GET", "/onomondo/v3/usage", headers=h1, body={"sim_id": i1, "time_begin": t0, "time_end": rec_t})
    check(st == 200 and b["usage"] == [], f"v3 usage end exclusive {b}")
    st, b = s.call("GET", "/onomondo/v3/usage", headers=h1, body={"sim_id": i1, "time_begin": rec_t, "time_end": rec_t})
    check(st == 200 and b["usage"] == [], f"v3 usage empty window {st} {b}")
    st, b = s.call("GET", "/onomondo/v3/usage", headers=h1,
                   body={"sim_id": i1, "time_begin": "2021-02-30 10:00:00", "time_end": t1})
    check((st, b) == (400, {"message": "time_begin_invalid"}), f"v3 feb 30 {st} {b}")
    st, b = s.call("GET", "/onomondo/v3/usage", headers=h1, body={"sim_id": i1, "time_begin": t1, "time_end": t0})
    check((st, b) == (400, {"message": "time_end_invalid"}), f"v3 end before begin {st} {b}")
    st, b = s.call("GET", "/onomondo/v3/usage", headers=h2, body={"sim_id": i1, "time_begin": t0, "time_end": t1})
    check((st, b) == (403, {"message": "sim_id_forbidden"}), f"v3 usage foreign {st} {b}")
    # delete + re-create
    st, b = s.call("DELETE", "/onomondo/v3/sim", headers=h1, body={"id": i1})
    check((st, b) == (200, {"message": "OK"}), f"v3 delete {st} {b}")
    st, b = s.call("GET", "/onomondo/v3/sim", headers=h1, body={"id": i1})
    check((st, b) == (404, {"message": "sim_not_found"}), f"v3 after delete {st} {b}")
    st, b = s.call("POST", "/onomondo/v3/sim", headers=h1, body={"id": i1})
    st, b = s.call("GET", "/onomondo/v3/sim", headers=h1, body={"id": i1})
    check(b == {"id": i1, "alias": None, "active": True}, f"v3 re-create {b}")
    # connectors
    st, b = s.call("POST", "/onomondo/v3/connector", headers=h1, body={"id": "hook-a", "kind": "mqtt"})
    st, b = s.call("GET", "/onomondo/v3/connector", headers=h1, body={"id": "hook-a"})
    check(st == 200 and b["kind"] == "mqtt" and b["id"] == "hook-a", f"v3 connector {st} {b}")
    st, b = s.call("DELETE", "/onomondo/v3/connector", headers=h1, body={"id": "hook-a"})
    st, b = s.call("GET", "/onomondo/v3/connector", headers=h1, body={"id": "hook-a"})
    check(st == 404, f"v3 connector deleted {st}")
    st, b = s.call("GET", "/onomondo/v3/connector", body={"id": "hook-a"})
    check(st == 401, f"v3 connector 401 {st}")
    for sid, h in ((i1, h1), (i2, h2)):
        s.call("DELETE", "/onomondo/v3/sim", headers=h, body={"id": sid})


# ---------------------------------------------------------------- cpaas
def multipart(name, data, ctype="audio/mpeg", field="file"):
    bnd = "----indieBoundary7MA4YWxk"
    body = (f"--{bnd}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            f"Content-Type: {ctype}\r\n\r\n").encode() + data + f"\r\n--{bnd}--\r\n".encode()
    return body, f"multipart/form-data; boundary={bnd}"


def smoke_cpaas(s: ServerProc, rx: Receiver):
    print("cpaas")
    a1, a2 = FX.cpaas
    h1 = {"X-Authorization": f"AccessKey {a1.token}"}
    h2 = {"X-Authorization": f"AccessKey {a2.token}"}
    st, b = s.call("GET", "/voice/api/balance")
    check((st, b) == (401, {"status": "invalidAccessKeyError"}), f"cpaas 401 {st} {b}")
    st, b = s.call("GET", "/voice/api/balance?X-Authorization=AccessKey%20" + a1.token)
    check((st, b) == (200, {"status": "ok", "personalAccountId": a1.personal_account_id,
                            "balance": a1.balance}), f"cpaas balance via query {st} {b}")
    st, b = s.call("GET", "/voice/api/balance?X-Authorization=AccessKey%20" + a1.token,
                   headers={"X-Authorization": "AccessKey wrong"})
    check(st == 401, f"cpaas header decides {st}")
    st, b = s.call("GET", "/voice/api/media", headers=h1)
    check(b == {"status": "ok", "pagination": {"totalItems": 0, "currentPage": 1, "totalPages": 1},
                "media": []}, f"cpaas empty library {b}")
    st, b = s.call("POST", "/voice/api/media", headers=h1, body={"name": "Hymns"})
    check(st == 200 and b["media"]["isFolder"] == 1 and b["media"]["id"] >= 5000, f"cpaas folder {st} {b}")
    folder = b["media"]["id"]
    body, ct = multipart("so young.mp3", b"ID3\x00\xffbytes")
    st, b = s.call("POST", f"/voice/api/media/{folder}", headers=h1, body=body, ctype=ct)
    check(st == 200 and b["media"]["isFolder"] == 0 and b["media"]["name"] == "so young.mp3"
          and b["media"]["id"] == folder + 7, f"cpaas upload into folder {st} {b}")
    child = b["media"]["id"]
    body, ct = multipart("root.wav", b"RIFF....", "audio/wav")
    st, b = s.call("POST", "/voice/api/media", headers=h1, body=body, ctype=ct)
    rootfile = b["media"]["id"]
    st, b = s.call("GET", "/voice/api/media", headers=h1)
    check([m["id"] for m in b["media"]] == [folder, rootfile] and b["pagination"]["totalItems"] == 2,
          f"cpaas root list {b}")
    st, b = s.call("GET", f"/voice/api/media/{folder}", headers=h1)
    check([m["id"] for m in b["media"]] == [child], f"cpaas folder list {b}")
    st, data, resp = s.call("GET", f"/voice/api/media/{child}", headers=h1, raw=True)
    check(st == 200 and data == b"ID3\x00\xffbytes" and resp.getheader("Content-Type") == "audio/mpeg",
          f"cpaas download {st} {data} {resp.getheader('Content-Type')}")
    st, b = s.call("PUT", f"/voice/api/media/{child}", headers=h1, body={"name": "renamed.mp3"})
    check(st == 200 and b["media"]["name"] == "renamed.mp3" and b["media"]["id"] == child, f"cpaas rename {b}")
    st, b = s.call("GET", f"/voice/api/media/{folder}", headers=h1)
    check(b["media"][0]["name"] == "renamed.mp3", f"cpaas rename stored {b}")
    st, b = s.call("GET", f"/voice/api/media/{child}", headers=h2)
    check((st, b) == (404, {"status": "invalidDataError"}), f"cpaas foreign media {st} {b}")
    st, b = s.call("POST", f"/voice/api/media/{folder}", headers=h1, body={"name": "x"})
    check((st, b) == (400, {"status": "invalidSchemeError"}), f"cpaas json on folder upload {st} {b}")
    st, b = s.call("PUT", f"/voice/api/media/{child}", headers=h1, body="name=x", ctype="text/plain")
    check((st, b) == (400, {"status": "requiredJsonError"}), f"cpaas requiredJson {st} {b}")
    st, b = s.call("PUT", f"/voice/api/media/{child}", headers=h1, body={"name": 5})
    check((st, b) == (400, {"status": "invalidSchemeError"}), f"cpaas scheme {st} {b}")
    st, b = s.call("PUT", f"/voice/api/media/{child}", headers=h1, body={"name": "a/b"})
    check((st, b) == (400, {"status": "invalidDataError"}), f"cpaas data {st} {b}")
    st, b = s.call("PUT", "/voice/api/media/abc", headers=h1, body={"name": "ok"})
    check((st, b) == (404, {"status": "invalidDataError"}), f"cpaas bad id {st} {b}")
    st, b = s.call("POST", "/voice/api/media", headers=h1, body="hello", ctype="text/plain")
    check((st, b) == (415, {"status": "invalidDataError"}), f"cpaas upload 415 {st} {b}")
    # pagination
    for i in range(4):
        s.call("POST", "/voice/api/media", headers=h1, body={"name": f"f{i}"})
    st, b = s.call("GET", "/voice/api/media?page=2&per_page=4", headers=h1)
    check(b["pagination"] == {"totalItems": 6, "currentPage": 2, "totalPages": 2} and len(b["media"]) == 2,
          f"cpaas page 2 {b}")
    st, b = s.call("GET", "/voice/api/media?page=3&per_page=4", headers=h1)
    check(st == 200 and b["media"] == [] and b["pagination"]["totalItems"] == 6, f"cpaas past end {st} {b}")
    st, b = s.call("GET", "/voice/api/media?page=99999999999999999999", headers=h1)
    check(st == 200 and b["media"] == [], f"cpaas huge page {st} {b}")
    st, b = s.call("GET", "/voice/api/media?per_page=101", headers=h1)
    check((st, b) == (400, {"status": "invalidDataError"}), f"cpaas per_page 101 {st} {b}")
    st, b = s.call("GET", "/voice/api/media?per_page=1&disable_pagination=true", headers=h1)
    check(b["pagination"] == {"totalItems": 6, "currentPage": 1, "totalPages": 1} and len(b["media"]) == 6,
          f"cpaas disabled {b}")
    # delete of a folder deletes its contents
    st, b = s.call("DELETE", f"/voice/api/media/{folder}", headers=h1)
    check((st, b) == (200, {"status": "ok"}), f"cpaas delete folder {st} {b}")
    st, b = s.call("GET", f"/voice/api/media/{child}", headers=h1)
    check(st == 404, f"cpaas child gone {st}")
    # activation + callbacks
    rx.clear()
    act = {"reference": "ref 42&x", "sourceAddr": "4512345678", "destAddr": "4587654321",
           "gender": 2, "volume": 1, "language": "da-DK", "rate": 0, "scenarioData": "text=Hej, hvordan går det?"}
    st, b = s.call("POST", "/voice/api/apps/activate", headers=h1, body=act)
    check(st == 200 and b["status"] == "ok" and re.fullmatch(r"[0-9a-f]{32}", b["requestId"]), f"cpaas activate {b}")
    ev = rx.wait(lambda e: e["path"] == "/hooks/cpaas/1", count=2)
    types = [e["query"].get("type") for e in ev]
    check(types == ["startCallback", "endCallback"] and all(e["query"].get("tenant") == "indie" for e in ev)
          and all(e["query"].get("reference") == "ref 42&x" for e in ev)
          and all(e["auth"] == basic(a1.callback_user, a1.callback_pass)["Authorization"] for e in ev),
          f"cpaas callbacks {ev}")
    if len(ev) == 2:
        q = ev[1]["query"]
        check(q.get("state") == "2" and q.get("error") == "0" and q.get("appKey") == a1.app_key
              and q.get("duration", "").isdigit(), f"cpaas endCallback {q}")
    for bad, code in (({**act, "volume": 3}, "invalidDataError"), ({**act, "gender": 0}, "invalidDataError"),
                      ({**act, "rate": True}, "invalidSchemeError"), ({**act, "extra": 1}, "invalidSchemeError"),
                      ({"reference": "r", "sourceAddr": "4512345678"}, "invalidSchemeError"),
                      ({**act, "reference": "r" * 256}, "invalidDataError"),
                      ({**act, "language": "en-us"}, "invalidDataError")):
        st, b = s.call("POST", "/voice/api/apps/activate", headers=h1, body=bad)
        check((st, b) == (400, {"status": code}), f"cpaas activate {bad} -> {st} {b}")
    st, b = s.call("POST", "/voice/api/apps/activate", headers=h1)
    check((st, b) == (400, {"status": "requiredJsonError"}), f"cpaas no body {st} {b}")
    st, b = s.call("POST", "/voice/api/apps/activate", headers=h1, body=b'{"reference": "\xff"}',
                   ctype="application/json")
    check((st, b) == (400, {"status": "requiredJsonError"}), f"cpaas invalid utf-8 {st} {b}")
    time.sleep(0.2)
    ev2 = [e for e in rx.events if e["path"].startswith("/hooks/cpaas")]
    check(len(ev2) == 2, f"refused activations caused no callbacks {len(ev2)}")
    # account two sees an empty library and gets ids from the same counter
    st, b = s.call("POST", "/voice/api/media", headers=h2, body={"name": "two"})
    check(st == 200 and (b["media"]["id"] - 5000) % 7 == 0, f"cpaas shared counter {b}")
    st, b = s.call("GET", "/voice/api/media", headers=h2)
    check(b["pagination"]["totalItems"] == 1, f"cpaas account two list {b}")


def smoke_transport(s: ServerProc):
    print("transport")
    a1 = FX.v1[0]
    h1 = basic(a1.key, a1.secret)
    # chunked body
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    conn.putrequest("PUT", f"/mitto/sim/{a1.sims[4].uuid}")
    for k, v in {**h1, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}.items():
        conn.putheader(k, v)
    conn.endheaders()
    conn.send(b"5\r\n{\"voi\r\na\r\nce\": true}\r\n0\r\n\r\n")
    resp = conn.getresponse()
    check(resp.status == 404 and json.loads(resp.read()) == {"message": "uuid_not_found"}, "chunked body read")
    # keep-alive: second request on the same connection
    conn.request("GET", "/mitto/", headers=h1)
    resp = conn.getresponse()
    check(resp.status == 200 and json.loads(resp.read()) == {"message": "OK"}, "keep-alive")
    # oversize
    conn.request("PUT", f"/mitto/sim/{a1.sims[4].uuid}", body=b"a" * (1024 * 1024 + 1),
                 headers={**h1, "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    check(resp.status == 413 and json.loads(resp.read()) == {"message": "payload_too_large"}, "413")
    conn.request("GET", "/mitto/", headers=h1)
    resp = conn.getresponse()
    check(resp.status == 200, "keep-alive after 413")
    resp.read()
    conn.close()
    st, b = s.call("GET", "/mitto/sim/%ff%fe", headers=h1)
    check((st, b) == (404, {"message": "not_found"}), f"non-UTF-8 path {st} {b}")
    st, b = s.call("PUT", f"/mitto/sim/{a1.sims[4].uuid}", headers=h1, body=b"voice=%ff",
                   ctype="application/x-www-form-urlencoded")
    check((st, b) == (400, {"message": "body_invalid"}), f"invalid utf-8 form {st} {b}")


# ---------------------------------------------------------------- faults
def fault_checks(rx: Receiver):
    print("faults")

    def with_fault(name, probe):
        s = ServerProc(rx.base, fault=name)
        try:
            got = probe(s)
        finally:
            s.stop()
        return got

    v1 = FX.v1[0]
    h1 = basic(v1.key, v1.secret)

    def uuid14(s):
        return s.call("GET", "/mitto/sim/12345678901234", headers=h1)[0]
    check(with_fault(None, uuid14) == 400 and with_fault("v1-uuid-14-digits", uuid14) == 404, "fault v1-uuid-14-digits")

    c1 = FX.cpaas[0]
    hc = {"X-Authorization": f"AccessKey {c1.token}"}

    def per_page_101(s):
        return s.call("GET", "/voice/api/media?per_page=101", headers=hc)[0]
    check(with_fault("cpaas-per-page-101", per_page_101) == 200, "fault cpaas-per-page-101")

    def folder_delete(s):
        folder = s.call("POST", "/voice/api/media", headers=hc, body={"name": "d"})[1]["media"]["id"]
        body, ct = multipart("a.mp3", b"x")
        child = s.call("POST", f"/voice/api/media/{folder}", headers=hc, body=body, ctype=ct)[1]["media"]["id"]
        s.call("DELETE", f"/voice/api/media/{folder}", headers=hc)
        return s.call("GET", f"/voice/api/media/{child}", headers=hc)[0]
    check(with_fault("cpaas-folder-delete-orphans", folder_delete) == 200, "fault cpaas-folder-delete-orphans")

    v2 = FX.v2[0]
    h2 = {"Authorization": v2.key}

    def throttle(s):
        s.call("POST", f"/onomondo/v2/sim/{v2.imsis[0]}", headers=h2, body={"data": False})
        return s.call("PUT", f"/onomondo/v2/sim/{v2.imsis[0]}", headers=h2, body={"data_throttling": True})[0]
    check(with_fault("v2-throttle-body-only", throttle) == 200, "fault v2-throttle-body-only")

    v3 = FX.v3[0]
    h3 = {"Authorization": v3.key}

    def alias_null(s):
        s.call("POST", "/onomondo/v3/sim", headers=h3, body={"id": v3.ids[0], "alias": "a1"})
        s.call("PUT", "/onomondo/v3/sim", headers=h3, body={"id": v3.ids[0], "alias": None})
        return s.call("GET", "/onomondo/v3/sim", headers=h3, body={"id": v3.ids[0]})[1]["alias"]
    check(with_fault("v3-alias-null-ignored", alias_null) == "a1", "fault v3-alias-null-ignored")

    def array_body(s):
        return s.call("PUT", "/onomondo/v3/sim", headers=h3, body=[1])[0]
    check(with_fault("v3-array-body-500", array_body) == 500, "fault v3-array-body-500")

    def hook_creds(s):
        rx.clear()
        h = basic(FX.v1[1].key, FX.v1[1].secret)
        s.call("POST", f"/mitto/sim/{FX.v1[1].sims[0].uuid}", headers=h)
        ev = rx.wait(lambda e: "location_update" in e["path"])
        return ev[0]["auth"] if ev else None
    check(with_fault("v1-webhook-account-one-creds", hook_creds)
          == basic(v1.hook_user, v1.hook_pass)["Authorization"], "fault v1-webhook-account-one-creds")


def static_fault_check():
    """Every registered fault is used in the code, and every used name is registered."""
    used = set()
    for fn in os.listdir(HERE):
        if fn.endswith(".py") and fn not in ("faults.py", "smoke.py"):
            with open(os.path.join(HERE, fn), encoding="utf-8") as fh:
                used |= set(re.findall(r'faults\.on\(\s*"([^"]+)"', fh.read()))
    names = set(faults_mod.NAMES)
    check(used == names, f"faults registered vs used: unused={names - used} unregistered={used - names}")
    check(len(faults_mod.NAMES) >= 40, "at least 40 faults")


def main():
    rx = Receiver()
    static_fault_check()
    s = ServerProc(rx.base)
    try:
        smoke_v1(s, rx)
        smoke_v2(s, rx)
        smoke_v3(s, rx)
        smoke_cpaas(s, rx)
        smoke_transport(s)
    finally:
        s.stop()
    if "--no-faults" not in sys.argv:
        fault_checks(rx)
    print(f"{CHECKS} checks, {len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
