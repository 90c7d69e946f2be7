"""Checks that every --fault changes something observable (in-process, stdlib only).

    python tests/independent/faultcheck.py [NAME ...]

For each fault a probe runs twice, against a fresh correct server and a fresh
server with that fault on; the two observations must differ.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import sys
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from independent import faults  # noqa: E402
from independent.config import Fixtures, Options  # noqa: E402
from independent.server import App, Server  # noqa: E402

FX = Fixtures()
FORM = "application/x-www-form-urlencoded"


class Receiver:
    def __init__(self):
        self.events: list[dict] = []
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                parts = urlsplit(self.path)
                with outer.lock:
                    outer.events.append({"path": parts.path, "query": dict(parse_qsl(parts.query)),
                                         "auth": self.headers.get("Authorization"),
                                         "body": json.loads(body) if body else None})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _record

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


RX = Receiver()
_RUN = iter(range(1, 10 ** 6))


class Client:
    def __init__(self, port: int, run: str):
        self.port = port
        self.run = run

    def events(self, wait=0.4, path_part=""):
        time.sleep(wait)
        with RX.lock:
            return [e for e in RX.events if e["path"].startswith(f"/{self.run}/") and path_part in e["path"]]

    def call(self, method, path, body=None, headers=None, ctype=None):
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body, ctype = json.dumps(body).encode(), ctype or "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if ctype:
            headers["Content-Type"] = ctype
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data
        return resp.status, parsed, resp

    # per-API shortcuts: account index 0 or 1
    def v1(self, method, path, body=None, ctype=None, acct=0):
        a = FX.v1[acct]
        auth = "Basic " + base64.b64encode(f"{a.key}:{a.secret}".encode()).decode()
        return self.call(method, "/mitto" + path, body, {"Authorization": auth}, ctype)

    def v2(self, method, path, body=None, ctype=None, acct=0):
        return self.call(method, "/onomondo/v2" + path, body, {"Authorization": FX.v2[acct].key}, ctype)

    def v3(self, method, path, body=None, ctype=None, acct=0):
        return self.call(method, "/onomondo/v3" + path, body, {"Authorization": FX.v3[acct].key}, ctype)

    def cp(self, method, path, body=None, ctype=None, acct=0, headers=None):
        h = {"X-Authorization": f"AccessKey {FX.cpaas[acct].token}", **(headers or {})}
        return self.call(method, "/voice/api" + path, body, h, ctype)


def run_probe(fault, probe):
    faults.activate(fault)
    run = f"run{next(_RUN)}"
    options = Options(webhook_base=f"{RX.base}/{run}", time_scale=0.02)
    app = App(Fixtures(), options)
    server = Server(("127.0.0.1", 0), app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        return probe(Client(server.server_address[1], run))
    except Exception as exc:  # a probe that breaks is an observation too
        return f"probe error: {exc!r}"
    finally:
        server.shutdown()
        server.server_close()
        app.dispatcher.close()
        faults.activate(None)


# ---------------------------------------------------------------- probes
U1 = [s.uuid for s in FX.v1[0].sims]
U2 = [s.uuid for s in FX.v1[1].sims]
I1, I2 = FX.v2[0].imsis, FX.v2[1].imsis
S1, S2 = FX.v3[0].ids, FX.v3[1].ids
ACT = {"reference": "r1", "sourceAddr": "4512345678", "destAddr": "4587654321"}


def st(resp):
    return resp[0], resp[1]


def v1_created(c, body=None, ctype=None):
    c.v1("POST", f"/sim/{U1[0]}", body, ctype)
    return c


def v3_usage_window(c, delta_begin, delta_end):
    c.v3("POST", "/sim", {"id": S1[0]})
    rec = c.v3("GET", "/usage", {"sim_id": S1[0], "time_begin": "2000-01-01 00:00:00",
                                  "time_end": "9999-12-31 23:59:59"})[1]["usage"][0]
    t = datetime.strptime(rec["time"], "%Y-%m-%d %H:%M:%S")
    fmt = "%Y-%m-%d %H:%M:%S"
    return len(c.v3("GET", "/usage", {"sim_id": S1[0], "time_begin": (t + delta_begin).strftime(fmt),
                                       "time_end": (t + delta_end).strftime(fmt)})[1]["usage"])


def cp_folder(c, name="f", acct=0):
    return c.cp("POST", "/media", {"name": name}, acct=acct)[1]["media"]["id"]


def cp_upload(c, parent=None, name="a.mp3", ctype="audio/mpeg", data=b"ID3data"):
    bnd = "bNd42"
    body = (f"--{bnd}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: {ctype}\r\n\r\n").encode() + data + f"\r\n--{bnd}--\r\n".encode()
    path = "/media" if parent is None else f"/media/{parent}"
    return c.cp("POST", path, body, f"multipart/form-data; boundary={bnd}")[1]["media"]["id"]


def v3_usage_status(c, begin, end):
    c.v3("POST", "/sim", {"id": S1[0]})
    return st(c.v3("GET", "/usage", {"sim_id": S1[0], "time_begin": begin, "time_end": end}))


def cp_orphan_status(c):
    folder = cp_folder(c)
    child = cp_upload(c, folder)
    c.cp("DELETE", f"/media/{folder}")
    return c.cp("GET", f"/media/{child}")[0]


def cp_renamed(c):
    folder = cp_folder(c, "old")
    c.cp("PUT", f"/media/{folder}", {"name": "new"})
    return c.cp("GET", "/media")[1]["media"][0]["name"]


TOKEN1 = FX.cpaas[0].token
BAD_UTF8_ACT = b'{"reference": "r\xff", "sourceAddr": "4512345678", "destAddr": "4587654321"}'


def cp_callbacks(c):
    c.cp("POST", "/apps/activate", ACT)
    return c.events(wait=0.8)


PROBES = {
    # sim-v1
    "v1-uuid-14-digits": lambda c: st(c.v1("GET", "/sim/" + "1" * 14)),
    "v1-uuid-16-digits": lambda c: st(c.v1("GET", "/sim/" + "1" * 16)),
    "v1-update-omitted-keeps": lambda c: (v1_created(c), c.v1("PUT", f"/sim/{U1[0]}", {"voice": False}),
                                          c.v1("PUT", f"/sim/{U1[0]}", {}),
                                          c.v1("GET", f"/sim/{U1[0]}")[1]["voice"])[-1],
    "v1-form-bool-lenient": lambda c: st(c.v1("POST", f"/sim/{U1[0]}", "voice=1", FORM)),
    "v1-json-string-bool": lambda c: st(c.v1("POST", f"/sim/{U1[0]}", {"voice": "true"})),
    "v1-from-12-chars": lambda c: st(v1_created(c).v1("POST", f"/sms/{U1[0]}", {"from": "A" * 12, "text": "t"})),
    "v1-from-empty": lambda c: st(v1_created(c).v1("POST", f"/sms/{U1[0]}", {"from": "", "text": "t"})),
    "v1-text-1601": lambda c: st(v1_created(c).v1("POST", f"/sms/{U1[0]}", {"from": "A", "text": "t" * 1601})),
    "v1-text-empty": lambda c: st(v1_created(c).v1("POST", f"/sms/{U1[0]}", {"from": "A", "text": ""})),
    "v1-webhook-account-one-creds": lambda c: (c.v1("POST", f"/sim/{U2[0]}", acct=1),
                                               [e["auth"] for e in c.events()])[-1],
    "v1-event-on-conflict": lambda c: (v1_created(c), c.v1("POST", f"/sim/{U1[0]}"),
                                       len(c.events(path_part="location_update")))[-1],
    "v1-no-sms-xdr": lambda c: (v1_created(c), c.v1("POST", f"/sms/{U1[0]}", {"from": "A", "text": "t"}),
                                len(c.events(path_part="xdr")))[-1],
    "v1-update-sim-not-found": lambda c: st(c.v1("PUT", f"/sim/{U1[0]}", {})),
    "v1-recreate-keeps-flags": lambda c: (v1_created(c, {"sms": False}), c.v1("DELETE", f"/sim/{U1[0]}"),
                                          c.v1("POST", f"/sim/{U1[0]}"),
                                          c.v1("GET", f"/sim/{U1[0]}")[1])[-1],
    "v1-foreign-404": lambda c: st(c.v1("GET", f"/sim/{U2[0]}")),
    "v1-sms-unprovisioned": lambda c: st(c.v1("POST", f"/sms/{U1[1]}", {"from": "A", "text": "t"})),
    "v1-existence-before-body": lambda c: st(c.v1("POST", "/sim/999999999999999", {"voice": 1})),
    "v1-unknown-field-ok": lambda c: st(c.v1("POST", f"/sim/{U1[0]}", {"colour": "red"})),
    "v1-no-www-authenticate": lambda c: c.call("GET", "/mitto/")[2].getheader("WWW-Authenticate"),
    "v1-invalid-utf8-form": lambda c: st(v1_created(c).v1("POST", f"/sms/{U1[0]}", "from=A&text=%FF", FORM)),
    # sim-v2
    "v2-msisdn-leak": lambda c: (c.v2("POST", f"/sim/{I2[0]}", {"msisdn": "4570000001"}, acct=1),
                                 st(c.v2("GET", "/sim/4570000001")))[-1],
    "v2-msisdn-kept-on-delete": lambda c: (c.v2("POST", f"/sim/{I1[0]}", {"msisdn": "4570000001"}),
                                           c.v2("DELETE", "/sim/4570000001"),
                                           st(c.v2("POST", f"/sim/{I1[1]}", {"msisdn": "4570000001"})))[-1],
    "v2-msisdn-unique-per-account": lambda c: (c.v2("POST", f"/sim/{I1[0]}", {"msisdn": "4570000001"}),
                                               st(c.v2("POST", f"/sim/{I2[0]}", {"msisdn": "4570000001"}, acct=1)))[-1],
    "v2-throttle-body-only": lambda c: (c.v2("POST", f"/sim/{I1[0]}", {"data": False}),
                                        st(c.v2("PUT", f"/sim/{I1[0]}", {"data_throttling": True})))[-1],
    "v2-update-omitted-defaults": lambda c: (c.v2("POST", f"/sim/{I1[0]}", {"voice": False}),
                                             c.v2("PUT", f"/sim/{I1[0]}", {}),
                                             c.v2("GET", f"/sim/{I1[0]}")[1])[-1],
    "v2-msisdn-6-digits": lambda c: st(c.v2("GET", "/sim/123456")),
    "v2-msisdn-16-digits": lambda c: st(c.v2("GET", "/sim/1234567890123456")),
    "v2-imsi-mismatch-ignored": lambda c: st(c.v2("POST", f"/sim/{I1[0]}", {"imsi": I1[1]})),
    "v2-delete-by-msisdn-404": lambda c: (c.v2("POST", f"/sim/{I1[0]}", {"msisdn": "4570000001"}),
                                          st(c.v2("DELETE", "/sim/4570000001")))[-1],
    "v2-create-upsert": lambda c: (c.v2("POST", f"/sim/{I1[0]}"), st(c.v2("POST", f"/sim/{I1[0]}")))[-1],
    "v2-json-ct-form-body": lambda c: st(c.v2("POST", f"/sim/{I1[0]}", "voice=true", "application/json")),
    "v2-sms-to-plus": lambda c: st(c.v2("POST", "/sms/+4512345678", {"from": "A", "text": "t"})),
    "v2-msisdn-omitted-when-unset": lambda c: (c.v2("POST", f"/sim/{I1[0]}"), c.v2("GET", f"/sim/{I1[0]}")[1])[-1],
    "v2-connector-delete-noop": lambda c: (c.v2("POST", "/connector/k1", {"a": 1}), c.v2("DELETE", "/connector/k1"),
                                           st(c.v2("GET", "/connector/k1")))[-1],
    "v2-second-account-msisdn": lambda c: (c.v2("POST", f"/sim/{I2[0]}", {"msisdn": "4570000002"}, acct=1),
                                           st(c.v2("GET", "/sim/4570000002", acct=1)))[-1],
    "v2-405-as-404": lambda c: st(c.v2("PATCH", f"/sim/{I1[0]}")),
    # sim-v3
    "v3-alias-65": lambda c: st(c.v3("POST", "/sim", {"id": S1[0], "alias": "a" * 65})),
    "v3-alias-empty": lambda c: st(c.v3("POST", "/sim", {"id": S1[0], "alias": ""})),
    "v3-alias-null-ignored": lambda c: (c.v3("POST", "/sim", {"id": S1[0], "alias": "x1"}),
                                        c.v3("PUT", "/sim", {"id": S1[0], "alias": None}),
                                        c.v3("GET", "/sim", {"id": S1[0]})[1])[-1],
    "v3-alias-case-insensitive": lambda c: (c.v3("POST", "/sim", {"id": S1[0], "alias": "Drone"}),
                                            st(c.v3("POST", "/sim", {"id": S1[1], "alias": "drone"})))[-1],
    "v3-alias-global": lambda c: (c.v3("POST", "/sim", {"id": S1[0], "alias": "Drone"}),
                                  st(c.v3("POST", "/sim", {"id": S2[0], "alias": "Drone"}, acct=1)))[-1],
    "v3-active-omitted-keeps": lambda c: (c.v3("POST", "/sim", {"id": S1[0], "active": False}),
                                          c.v3("PUT", "/sim", {"id": S1[0]}),
                                          c.v3("GET", "/sim", {"id": S1[0]})[1])[-1],
    "v3-usage-end-inclusive": lambda c: v3_usage_window(c, timedelta(seconds=-5), timedelta(0)),
    "v3-usage-begin-exclusive": lambda c: v3_usage_window(c, timedelta(0), timedelta(seconds=5)),
    "v3-time-not-calendar": lambda c: v3_usage_status(c, "2021-02-30 10:00:00", "2021-03-30 10:00:00"),
    "v3-equal-window-invalid": lambda c: v3_usage_status(c, "2021-01-01 10:00:00", "2021-01-01 10:00:00"),
    "v3-no-registration": lambda c: (c.v3("POST", "/sim", {"id": S1[0]}),
                                     len(c.events(path_part="network_registration")))[-1],
    "v3-webhook-bearer": lambda c: (c.v3("POST", "/sim", {"id": S1[0]}), {e["auth"] for e in c.events()})[-1],
    "v3-events-to-account-one": lambda c: (c.v3("POST", "/sim", {"id": S2[0]}, acct=1),
                                           sorted({e["path"].split("/")[3] for e in c.events()}))[-1],
    "v3-alias-kept-on-delete": lambda c: (c.v3("POST", "/sim", {"id": S1[0], "alias": "kept"}),
                                          c.v3("DELETE", "/sim", {"id": S1[0]}),
                                          st(c.v3("POST", "/sim", {"id": S1[1], "alias": "kept"})))[-1],
    "v3-create-unknown-404": lambda c: st(c.v3("POST", "/sim", {"id": "999999999"})),
    "v3-usage-not-stored": lambda c: len(v3_usage_status(c, "2000-01-01 00:00:00", "9999-12-31 23:59:59")[1]["usage"]),
    "v3-array-body-500": lambda c: st(c.v3("PUT", "/sim", [1])),
    "v3-ownership-before-body": lambda c: st(c.v3("PUT", "/sim", {"id": S2[0], "active": "x"})),
    # cpaas
    "cpaas-per-page-101": lambda c: st(c.cp("GET", "/media?per_page=101")),
    "cpaas-per-page-0-default": lambda c: st(c.cp("GET", "/media?per_page=0")),
    "cpaas-page-past-end-404": lambda c: st(c.cp("GET", "/media?page=5")),
    "cpaas-order-by-name": lambda c: (cp_folder(c, "b"), cp_folder(c, "a"),
                                      [m["name"] for m in c.cp("GET", "/media")[1]["media"]])[-1],
    "cpaas-total-pages-floor": lambda c: ([cp_folder(c) for _ in range(3)],
                                          c.cp("GET", "/media?per_page=2")[1]["pagination"])[-1],
    "cpaas-folder-delete-orphans": lambda c: cp_orphan_status(c),
    "cpaas-rename-not-saved": lambda c: cp_renamed(c),
    "cpaas-upload-to-root": lambda c: (cp_upload(c, cp_folder(c)), c.cp("GET", "/media")[1]["pagination"])[-1],
    "cpaas-download-octet": lambda c: c.cp("GET", f"/media/{cp_upload(c)}")[2].getheader("Content-Type"),
    "cpaas-list-all-levels": lambda c: (cp_upload(c, cp_folder(c)), c.cp("GET", "/media")[1]["pagination"])[-1],
    "cpaas-foreign-media": lambda c: st(c.cp("GET", f"/media/{cp_folder(c, acct=1)}")),
    "cpaas-volume-3": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "volume": 3})),
    "cpaas-rate-negative": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "rate": -1})),
    "cpaas-gender-0": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "gender": 0})),
    "cpaas-name-256": lambda c: st(c.cp("POST", "/media", {"name": "n" * 256})),
    "cpaas-name-empty": lambda c: st(c.cp("POST", "/media", {"name": ""})),
    "cpaas-name-c1-control": lambda c: st(c.cp("POST", "/media", {"name": "a\u0085b"})),
    "cpaas-reference-256": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "reference": "r" * 256})),
    "cpaas-reference-empty": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "reference": ""})),
    "cpaas-type-as-data": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "volume": "1"})),
    "cpaas-unknown-property-ok": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "speed": 1})),
    "cpaas-bool-as-int": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "volume": True})),
    "cpaas-balance-number": lambda c: type(c.cp("GET", "/balance")[1].get("balance")).__name__,
    "cpaas-balance-no-status": lambda c: "status" in c.cp("GET", "/balance")[1],
    "cpaas-request-id-dashed": lambda c: len(c.cp("POST", "/apps/activate", ACT)[1]["requestId"]),
    "cpaas-no-end-callback": lambda c: [e["query"].get("type") for e in cp_callbacks(c)],
    "cpaas-callback-drops-query": lambda c: [e["query"].get("tenant") for e in cp_callbacks(c)],
    "cpaas-query-auth-wins": lambda c: st(c.call("GET", f"/voice/api/balance?X-Authorization=AccessKey%20{TOKEN1}",
                                                 headers={"X-Authorization": "AccessKey nope"})),
    "cpaas-disable-pagination-yes": lambda c: st(c.cp("GET", "/media?disable_pagination=yes")),
    "cpaas-put-wrong-ct-415": lambda c: st(c.cp("PUT", f"/media/{cp_folder(c)}", "name=x", "text/plain")),
    "cpaas-invalid-utf8-ok": lambda c: st(c.cp("POST", "/apps/activate", BAD_UTF8_ACT, "application/json")),
    "cpaas-json-folder-upload": lambda c: st(c.cp("POST", f"/media/{cp_folder(c)}", {"name": "x"})),
    "cpaas-language-case": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "language": "en-us"})),
    "cpaas-addr-6-digits": lambda c: st(c.cp("POST", "/apps/activate", {**ACT, "destAddr": "123456"})),
    "cpaas-callback-no-auth": lambda c: [e["auth"] is None for e in cp_callbacks(c)],
}


def main(names) -> int:
    missing = set(faults.NAMES) - set(PROBES)
    if missing:
        print("faults without a probe:", sorted(missing))
    failures = 0
    for name in names or [n for n, _, _ in faults.FAULTS]:
        good = run_probe(None, PROBES[name])
        bad = run_probe(name, PROBES[name])
        ok = good != bad and not str(good).startswith("probe error")
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} {name}: correct={good!r} fault={bad!r}"[:220])
    print(f"{failures} faults not observable")
    return 1 if failures or missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
