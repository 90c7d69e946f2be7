"""Delivery never blocks the API: a receiver that stalls past the spec's 15 s holds up nothing.

One receiver stalls on `/location_update` longer than the window; deliveries to `/xdr` and API requests
carry on meanwhile, and the stalled event ends up discarded after the spec's timeout.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from apicontract.specs.yamlfile import load

from serverkit import ROOT

AUTH = ("sim-v1-demo-key-one", "sim-v1-demo-secret-one")


class StallingReceiver:
    """Answers /xdr at once; holds /location_update open for `stall` seconds."""

    def __init__(self, stall: float):
        self.arrivals: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.arrivals.setdefault(self.path, time.monotonic())
                if self.path.endswith("/location_update"):
                    time.sleep(stall)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the server gave up on us, as it should

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_stalled_receiver_holds_up_nothing(server_factory):
    window = load(ROOT / "spec" / "sim-v1" / "openapi.yaml")["webhooks"]["location_update"]["post"]["x-delivery"]
    timeout = float(window["timeout_seconds"])
    receiver = StallingReceiver(stall=timeout + 5)
    base = server_factory(["sim-v1"], webhook_url=receiver.url).url("sim-v1")
    with httpx.Client(auth=AUTH, timeout=5) as client:
        started = time.monotonic()
        assert client.post(f"{base}/sim/238991234567893", data={"voice": "true"}).status_code == 200
        # while that location_update stalls: the API answers at once, and an SMS's xdr is delivered
        slowest = 0.0
        for _ in range(30):
            t = time.monotonic()
            assert client.get(f"{base}/sim/238991234567891").status_code == 200
            slowest = max(slowest, time.monotonic() - t)
        assert slowest < 1.0
        assert client.post(f"{base}/sms/238991234567891", data={"from": "Mitto", "text": "hi"}).status_code == 200
        deadline = time.monotonic() + 5
        while "/xdr" not in receiver.arrivals and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.arrivals["/xdr"] - started < 5, "an xdr waited behind the stalled location_update"
        # after the window, the stalled event is discarded (and logged), not retried or left pending
        events = []
        while time.monotonic() - started < timeout + 8:
            events = client.get(f"{base}/_events").json()["events"]
            stalled = [e for e in events if e["event"] == "location_update"]
            if stalled and stalled[0]["outcome"] != "pending":
                break
            time.sleep(0.25)
        assert stalled[0]["outcome"] == "discarded", stalled
        assert f"{timeout:g} s" in stalled[0]["detail"]
        assert time.monotonic() - started >= timeout - 0.5
        assert any(e["event"] == "xdr" and e["outcome"] == "delivered" for e in events)
