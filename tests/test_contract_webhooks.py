"""The contract suite's webhook checks catch faulty deliveries, and pass a correct server.

The reference server delivers to a relay that alters each delivery the way a faulty implementation
would (drops a field, wrong path, method, content type, credentials, order, a duplicate, local time)
before passing it on to the suite's endpoint; the suite must name the broken rule.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from apicontract.contracts.violations import Violation
from apicontract.paths import layout
from apicontract.server.app import ServerConfig
from apicontract.server.embedded import EmbeddedServer

from projectkit import free_port

ROOT = Path(__file__).resolve().parents[1]
# the suite in this process, where the plugin sees its outcomes (not in this project's xdist processes)
INNER = ["-p", "no:cacheprovider", "-q", "-o", "addopts="]

# A delivery as the relay sees it; a mutation returns the deliveries to pass on, each after a delay.
Sent = dict  # {method, path, query, headers, body}
Mutation = Callable[[Sent], list[tuple[float, Sent]]]


class Relay:
    """Receives the server's deliveries, answers 200, and forwards what `mutate` makes of them."""

    def __init__(self, downstream: str, mutate: Mutation):
        relay = self
        self.downstream = downstream
        self.mutate = mutate

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                sent = {"method": self.command, "path": parts.path, "query": parts.query, "headers": headers}
                for delay, out in relay.mutate({**sent, "body": body}):
                    if delay:  # later, out of order
                        threading.Thread(target=relay.forward, args=(delay, out), daemon=True).start()
                    else:  # before answering: the server sends its next event only after this answer
                        relay.forward(0, out)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _relay  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def forward(self, delay: float, sent: Sent) -> None:
        time.sleep(delay)
        url = self.downstream + sent["path"] + ("?" + sent["query"] if sent["query"] else "")
        httpx.request(sent["method"], url, headers=sent["headers"], content=sent["body"], timeout=5)

    def __enter__(self) -> Relay:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Outcomes:
    """Collects which suite checks failed, by test name."""

    def __init__(self):
        self.failed: dict[str, str] = {}
        self.passed: list[str] = []
        self.skipped: dict[str, str] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" and report.passed:
            self.passed.append(item.name)
        if report.skipped and isinstance(report.longrepr, tuple):
            self.skipped[item.name] = report.longrepr[2]
        if report.failed:
            error = call.excinfo.value if call.excinfo else None
            self.failed[item.name] = error.check if isinstance(error, Violation) else report.longreprtext[-500:]


class Rig:
    """One API of the reference server delivering through a relay whose fault can be swapped per run."""

    def __init__(self, api: str, data_dir: Path):
        self.api = api
        self.capture = f"http://127.0.0.1:{free_port()}"  # where the suite listens in every run
        self.relay = Relay(self.capture, identity).__enter__()
        config = ServerConfig(
            layout(ROOT),
            data_dir,
            [api],
            webhook_url=self.relay.url + "/hooks",
            callback_url=self.relay.url + "/callbacks",
            time_scale=0,
        )
        self.server = EmbeddedServer(config).start()

    def run(self, mutate: Mutation, select: str) -> Outcomes:
        self.relay.mutate = mutate
        outcomes = Outcomes()
        path = "/callbacks" if self.api == "cpaas" else "/hooks"
        args = ["--pyargs", "apicontract.contracts.test_webhooks", *INNER]
        args += ["-k", f"test_webhooks and ({select})", "--api", self.api, "--base-url", self.server.url(self.api)]
        args += ["--webhook-url", self.capture + path, "--contract-seed", "1", "--reference-fixtures"]
        pytest.main(args, plugins=[outcomes])
        return outcomes

    def stop(self) -> None:
        self.server.stop()
        self.relay.__exit__()


@pytest.fixture(scope="module")
def rigs(tmp_path_factory):
    started: dict[str, Rig] = {}

    def get(api: str) -> Rig:
        if api not in started:
            started[api] = Rig(api, tmp_path_factory.mktemp(api))
        return started[api]

    yield get
    for rig in started.values():
        rig.stop()


def on(name: str, change: Callable[[Sent], Sent]) -> Mutation:
    """Apply `change` to deliveries of one webhook (path ending or callback type), pass the rest on."""

    def mutate(sent: Sent) -> list[tuple[float, Sent]]:
        matches = sent["path"].endswith("/" + name) or f"type={name}" in sent["query"]
        return [(0, change(sent) if matches else sent)]

    return mutate


def json_body(change: Callable[[dict], dict]) -> Callable[[Sent], Sent]:
    return lambda sent: {**sent, "body": json.dumps(change(json.loads(sent["body"]))).encode()}


def local_time(payload: dict) -> dict:
    shifted = datetime.strptime(payload["time"], "%Y-%m-%d %H:%M:%S") + timedelta(hours=2)
    return {**payload, "time": shifted.strftime("%Y-%m-%d %H:%M:%S")}


def query(change: Callable[[dict], dict]) -> Callable[[Sent], Sent]:
    return lambda sent: {**sent, "query": urlencode(change(dict(parse_qsl(sent["query"]))))}


def reorder(sent: Sent) -> list[tuple[float, Sent]]:
    return [(0.15 if "type=startCallback" in sent["query"] else 0, sent)]


def twice(name: str) -> Mutation:
    return lambda sent: [(0, sent), (0.02, sent)] if f"type={name}" in sent["query"] else [(0, sent)]


def identity(sent: Sent) -> list[tuple[float, Sent]]:
    return [(0, sent)]


def headers(change: Callable[[dict], dict]) -> Callable[[Sent], Sent]:
    return lambda sent: {**sent, "headers": change(dict(sent["headers"]))}


def without(h: dict, name: str) -> dict:
    return {k: v for k, v in h.items() if k.lower() != name.lower()}


def without_auth(h: dict) -> dict:
    return without(h, "authorization")


SIM_V1 = ("test_sim_events_are_delivered_as_documented", "sim-v1")
SIM_V3 = ("test_sim_events_are_delivered_as_documented", "sim-v3")
CPAAS = ("test_cpaas_activation_sends_start_then_end_callback", "cpaas")


def failed_check(outcomes: Outcomes, test: tuple[str, str]) -> set[str]:
    """The checks the given suite test named in its failures (for every account it ran for)."""
    name, api = test
    return {check for item, check in outcomes.failed.items() if item.startswith(name + "[") and api in item}


DEMO_API_KEY = "Basic " + base64.b64encode(b"sim-v1-demo-key-one:sim-v1-demo-secret-one").decode()


def drop(name: str) -> Callable[[dict], dict]:
    return lambda payload: {k: v for k, v in payload.items() if k != name}


def put(**values) -> Callable[[dict], dict]:
    return lambda payload: {**payload, **values}


def auth(value: str | None) -> Callable[[Sent], Sent]:
    return headers(lambda h: {**without_auth(h), **({"Authorization": value} if value else {})})


def flip_state(q: dict) -> dict:
    return {**q, "state": "2" if q["state"] == "5" else "5"}


# (api, fault, the suite test that must fail, the check it must name)
FAULTS = [
    (
        "sim-v1",
        on("location_update", json_body(drop("imei"))),
        SIM_V1,
        "payload valid against location_update.schema.json",
    ),
    ("sim-v1", on("xdr", json_body(put(retries=3))), SIM_V1, "payload valid against xdr.schema.json"),
    ("sim-v1", on("xdr", json_body(put(type="voice"))), SIM_V1, "payload valid against xdr.schema.json"),
    ("sim-v1", on("location_update", json_body(local_time)), SIM_V1, "time is now, in UTC (R7)"),
    (
        "sim-v1",
        on("location_update", lambda s: {**s, "path": s["path"] + "s"}),
        SIM_V1,
        "delivered to a documented path",
    ),
    ("sim-v1", on("xdr", lambda s: {**s, "method": "PUT"}), SIM_V1, "method"),
    (
        "sim-v1",
        on("xdr", headers(lambda h: {**without(h, "content-type"), "Content-Type": "text/plain"})),
        SIM_V1,
        "content type",
    ),
    ("sim-v1", on("location_update", auth(None)), SIM_V1, "documented authentication"),
    ("sim-v1", on("location_update", auth(DEMO_API_KEY)), SIM_V1, "documented authentication"),
    ("sim-v3", on("network_registration", auth("YOUR-API-KEY")), SIM_V3, "documented authentication"),
    (
        "sim-v3",
        on("network_registration", json_body(put(country_code="DK"))),
        SIM_V3,
        "payload valid against network_registration.schema.json",
    ),
    ("sim-v3", on("network_registration", json_body(put(sim_id="192837466"))), SIM_V3, "delivered within 15 s"),
    ("cpaas", reorder, CPAAS, "delivery order"),
    ("cpaas", twice("startCallback"), CPAAS, "sent once per trigger"),
    ("cpaas", on("endCallback", query(flip_state)), CPAAS, "payload state"),
    ("cpaas", on("endCallback", query(put(appKey="someone-elses"))), CPAAS, "payload appKey"),
    ("cpaas", on("startCallback", query(put(extra="1"))), CPAAS, "payload valid against startCallback.schema.json"),
    ("cpaas", on("startCallback", query(put(type="start"))), CPAAS, "payload names its event"),
    ("cpaas", on("endCallback", auth("Bearer x")), CPAAS, "documented authentication"),
    ("cpaas", on("endCallback", auth(None)), CPAAS, "documented authentication"),
]


@pytest.mark.parametrize("api", ["sim-v1", "sim-v3", "cpaas"])
def test_a_correct_server_passes(rigs, api: str):
    outcomes = rigs(api).run(identity, "webhook")
    assert outcomes.failed == {}
    assert len(outcomes.passed) >= 2


@pytest.mark.parametrize(("api", "mutate", "test", "check"), FAULTS, ids=[f"{f[0]}-{f[3]}" for f in FAULTS])
def test_a_faulty_delivery_fails_its_check(rigs, api: str, mutate: Mutation, test: tuple[str, str], check: str):
    outcomes = rigs(api).run(mutate, "delivered_as_documented or activation_sends")
    assert failed_check(outcomes, test) == {check}, outcomes.failed


def test_an_event_for_a_refused_request_fails(tmp_path: Path, monkeypatch):
    """A server that reports a SIM's registration before it checks the caller may provision it."""
    from apicontract.server.apis.sim_v1 import SimV1

    original = SimV1.createSim

    def leaky(self, call):
        self.ctx.emit(call.account, [("location_update", self._location_update(call.params["uuid"]), 0)])
        return original(self, call)

    monkeypatch.setattr(SimV1, "createSim", leaky)  # before the server starts: it binds its handlers then
    rig = Rig("sim-v1", tmp_path)
    try:
        outcomes = rig.run(identity, "refused")
    finally:
        rig.stop()
    refused = ("test_refused_sim_requests_send_no_webhook", "sim-v1")
    assert failed_check(outcomes, refused) == {"a refused request sends no webhook (R13a, R22a)"}, outcomes.failed


def test_no_webhook_url_skips_with_a_reason(rigs):
    rig = rigs("sim-v1")
    outcomes = Outcomes()
    args = ["--pyargs", "apicontract.contracts.test_webhooks", *INNER]
    pytest.main([*args, "--api", "sim-v1", "--base-url", rig.server.url("sim-v1")], plugins=[outcomes])
    assert outcomes.failed == {} and outcomes.passed == []
    reasons = [r for name, r in outcomes.skipped.items() if "sim-v1" in name]
    assert reasons and all("no webhook URL for sim-v1" in r for r in reasons)
