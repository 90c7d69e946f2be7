"""Storage: acknowledged writes survive restarts and `kill -9`; concurrent writers stay consistent.

The server runs as `apicontract serve` in its own process here, so it can be killed for real.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from projectkit import free_port
from serverkit import ROOT, fixtures

KEY = {"Authorization": "YOUR-API-KEY"}


class Served:
    """`apicontract serve sim-v2` in a subprocess."""

    def __init__(self, data_dir: Path, *extra: str):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apicontract",
                "serve",
                "sim-v2",
                "--root",
                str(ROOT),
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}/sim-v2"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/", headers=KEY, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.process.stdout.read()}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=15)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)


def test_restart_with_data_dir_keeps_every_write(tmp_path):
    data = tmp_path / "data"
    first = Served(data)
    try:
        assert (
            httpx.post(first.url + "/sim/238731234567894", json={"msisdn": "4533333333"}, headers=KEY).status_code
            == 200
        )
        assert httpx.delete(first.url + "/sim/238731234567891", headers=KEY).status_code == 200
        assert httpx.post(first.url + "/connector/keep", json={"a": [1, 2]}, headers=KEY).status_code == 200
    finally:
        first.stop()
    second = Served(data)
    try:
        assert httpx.get(second.url + "/sim/4533333333", headers=KEY).json()["imsi"] == "238731234567894"
        assert httpx.get(second.url + "/sim/238731234567891", headers=KEY).status_code == 404  # not re-seeded
        assert httpx.get(second.url + "/connector/keep", headers=KEY).json() == {"a": [1, 2]}
    finally:
        second.stop()


def test_kill_9_during_write_load_loses_no_acknowledged_write(tmp_path):
    data = tmp_path / "data"
    server = Served(data)
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer(index: int) -> None:
        with httpx.Client(timeout=5) as client:
            for n in range(10_000):
                if stop.is_set():
                    return
                name = f"w{index}-{n}"
                try:
                    response = client.post(
                        f"{server.url}/connector/{name}", json={"n": n, "pad": "x" * 200}, headers=KEY
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    acknowledged.append(name)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()  # in the middle of the load
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= 150
    with sqlite3.connect(data / "apicontract.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restarted = Served(data)
    try:
        with httpx.Client(timeout=5) as client:
            missing = [
                n for n in acknowledged if client.get(f"{restarted.url}/connector/{n}", headers=KEY).status_code != 200
            ]
        assert missing == []
    finally:
        restarted.stop()


def test_concurrent_writers_equal_a_sequential_model(server_factory, tmp_path):
    """16 threads mix create/update/delete; each owns its SIMs, all compete for a few MSISDNs.

    Per SIM the final state must be what that thread's sequential model predicts from the answers it got,
    and no MSISDN may end up on two SIMs.
    """
    threads, sims_each = 16, 6
    spec = fixtures("sim-v2")
    owner = spec["accounts"][0]
    own = {f"2387399{t:02d}{s:06d}"[:15]: t for t in range(threads) for s in range(sims_each)}
    owner["sims"] += [
        {
            "imsi": imsi,
            "msisdn": None,
            "provisioned": False,
            "voice": True,
            "sms": True,
            "data": True,
            "data_throttling": False,
        }
        for imsi in own
    ]
    path = tmp_path / "fixtures.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    base = server_factory(["sim-v2"], fixtures={"sim-v2": path}).url("sim-v2")
    msisdns = [f"45700000{n:02d}" for n in range(8)]
    models: dict[str, dict | None] = {}
    failures: list[str] = []

    def work(t: int) -> None:
        import random

        rng = random.Random(t)
        mine = [imsi for imsi, owner_thread in own.items() if owner_thread == t]
        state: dict[str, dict | None] = dict.fromkeys(mine)
        with httpx.Client(timeout=10, headers=KEY) as client:
            for _ in range(40):
                imsi = rng.choice(mine)
                action = rng.choice(["create", "update", "delete"])
                msisdn = rng.choice(msisdns + [None])
                body = {"sms": rng.random() < 0.5} | ({"msisdn": msisdn} if msisdn else {})
                if action == "create":
                    r = client.post(f"{base}/sim/{imsi}", json=body)
                    if state[imsi] is not None:
                        ok = r.status_code == 409 and r.json()["message"] == "imsi_conflict"
                    elif r.status_code == 200:
                        state[imsi] = {"msisdn": msisdn, "sms": body["sms"]}
                        ok = True
                    else:
                        ok = r.status_code == 409 and r.json()["message"] == "msisdn_conflict"
                elif action == "update":
                    r = client.put(f"{base}/sim/{imsi}", json=body)
                    if state[imsi] is None:
                        ok = r.status_code == 404
                    elif r.status_code == 200:
                        kept = state[imsi]["msisdn"]
                        state[imsi] = {"msisdn": msisdn or kept, "sms": body["sms"]}
                        ok = True
                    else:
                        ok = r.status_code == 409 and r.json()["message"] == "msisdn_conflict" and msisdn is not None
                else:
                    r = client.delete(f"{base}/sim/{imsi}")
                    ok = r.status_code == (404 if state[imsi] is None else 200)
                    state[imsi] = None
                if not ok:
                    failures.append(f"thread {t}: {action} {imsi} {body} -> {r.status_code} {r.text}")
        models.update(state)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    held: dict[str, str] = {}
    with httpx.Client(timeout=10, headers=KEY) as client:
        for imsi, expected in models.items():
            r = client.get(f"{base}/sim/{imsi}")
            if expected is None:
                assert r.status_code == 404, imsi
                continue
            actual = r.json()
            assert (actual["msisdn"], actual["sms"]) == (expected["msisdn"], expected["sms"]), imsi
            if actual["msisdn"]:
                assert actual["msisdn"] not in held, f"{actual['msisdn']} on {imsi} and {held.get(actual['msisdn'])}"
                held[actual["msisdn"]] = imsi
