"""`apicontract webhooks test-receiver` against real local receivers: a correct one passes, one that
ignores authentication or stalls past the window fails, and usage or connection problems exit 2."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from jsonschema import Draft202012Validator

from apicontract.paths import layout
from apicontract.specs.webhooks import webhooks
from apicontract.webhooks.sender import check_receiver

from projectkit import ROOT, cli

WHERE = layout(ROOT)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A consumer's endpoint: accepts what carries `auth` (the Authorization value; None: anything),
    401 otherwise; `ignore_auth` accepts everything; `stall` seconds before answering."""

    def __init__(self, auth: str | None = None, ignore_auth: bool = False, stall: float = 0.0):
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(
                    Received(
                        self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), headers, body
                    )
                )
                if stall:
                    time.sleep(stall)
                ok = ignore_auth or auth is None or headers.get("authorization") == auth
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_correct_sim_v1_receiver_passes_and_gets_valid_signed_posts():
    with Receiver(auth=basic("hook-user", "hook-pass")) as receiver:
        result = cli(
            "webhooks",
            "test-receiver",
            receiver.url,
            "--api",
            "sim-v1",
            "--basic",
            "hook-user:hook-pass",
            "--examples",
            "3",
            "--seed",
            "7",
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "receiver check passed" in result.stdout and "location_update" in result.stdout
    hooks = webhooks(WHERE, "sim-v1")
    for name, hook in hooks.items():
        mine = [r for r in receiver.received if r.path == "/hooks" + hook.path]
        assert len(mine) == 3 + 2  # valid deliveries, then wrong and no credentials
        for delivery in mine[:3]:
            assert delivery.method == "POST" and delivery.headers["content-type"] == "application/json"
            assert delivery.headers["authorization"] == basic("hook-user", "hook-pass")
            assert Draft202012Validator(hook.schema).is_valid(json.loads(delivery.body)), name
        assert mine[3].headers["authorization"] != basic("hook-user", "hook-pass")
        assert "authorization" not in mine[4].headers


def test_a_receiver_that_ignores_authentication_fails():
    with Receiver(ignore_auth=True) as receiver:
        result = cli(
            "webhooks", "test-receiver", receiver.url, "--api", "sim-v3", "--api-key", "OUR-API-KEY", "--examples", "2"
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "receiver check failed" in result.stdout
    assert "wrong credentials: expected refused (not 2xx), got 200" in result.stdout
    assert "no credentials: expected refused (not 2xx), got 200" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_receiver_that_stalls_past_the_window_fails():
    with Receiver(auth="KEY", stall=1.0) as receiver:
        attempts = check_receiver(WHERE, "sim-v3", receiver.url, key="KEY", examples=1, timeout=0.3)
    valid = [a for a in attempts if a.should_accept]
    assert valid and all(not a.passed and a.error == "no answer within 0.3 s" for a in valid)
    assert all(a.passed for a in attempts if not a.should_accept)  # no 2xx in time is not accepting


def test_sim_v3_deliveries_carry_the_raw_key():
    with Receiver(auth="OUR-API-KEY") as receiver:
        attempts = check_receiver(WHERE, "sim-v3", receiver.url, key="OUR-API-KEY", examples=2, seed=1)
    assert all(a.passed for a in attempts), [(a.webhook, a.label, a.answer) for a in attempts if not a.passed]
    assert {r.path for r in receiver.received} == {"/hooks" + h.path for h in webhooks(WHERE, "sim-v3").values()}
    signed = [r for r in receiver.received if r.headers.get("authorization") == "OUR-API-KEY"]
    assert len(signed) == 2 * 3 and len(receiver.received) == (2 + 2) * 3  # 2 valid + 2 bad per webhook


def test_cpaas_callbacks_are_gets_with_a_valid_query_appended_to_the_url():
    with Receiver() as receiver:
        url = receiver.url + "?tenant=42"
        attempts = check_receiver(WHERE, "cpaas", url, examples=3, seed=3)
    assert all(a.passed for a in attempts)
    assert all(a.should_accept for a in attempts)  # no --basic: the receiver takes callbacks without auth
    hooks = webhooks(WHERE, "cpaas")
    assert len(receiver.received) == 3 * len(hooks)
    for delivery in receiver.received:
        assert delivery.method == "GET" and delivery.path == "/hooks" and delivery.body == b""
        query = dict(delivery.query)
        assert query.pop("tenant") == "42"
        hook = hooks[query["type"]]
        assert Draft202012Validator(hook.schema).is_valid(query)


def test_cpaas_with_basic_checks_bad_credentials_too():
    with Receiver(auth=basic("cb", "secret")) as receiver:
        attempts = check_receiver(WHERE, "cpaas", receiver.url, basic=("cb", "secret"), examples=1)
    assert [a.label for a in attempts if not a.should_accept] == ["wrong credentials", "no credentials"] * 2
    assert all(a.passed for a in attempts)


def test_the_same_seed_sends_the_same_payloads():
    sent = []
    for _ in range(2):
        with Receiver(auth="K") as receiver:
            check_receiver(WHERE, "sim-v3", receiver.url, key="K", examples=4, seed=11)
        sent.append([(r.path, r.body) for r in receiver.received])
    assert sent[0] == sent[1] and len(sent[0]) == 3 * (4 + 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--api", "sim-v2"], "--api sim-v2: choose one of"),
        (["--api", "sim-v1"], "give the credentials your receiver expects (--basic USER:PASS)"),
        (["--api", "sim-v1", "--api-key", "K"], "do not carry an API key: use --basic"),
        (["--api", "sim-v3", "--basic", "a:b"], "do not use HTTP Basic: use --api-key"),
        (["--api", "sim-v1", "--basic", "nocolon"], "--basic takes USER:PASS"),
        (["--api", "sim-v1", "--basic", "a:b", "--timeout", "1"], "No such option"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(args, message):
    result = cli("webhooks", "test-receiver", "http://127.0.0.1:9/hooks", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:{closed}/hooks", "ftp://127.0.0.1/hooks", "not a url"])
def test_an_unreachable_or_bad_url_exits_2(url):
    url = url.format(closed=closed_port())
    result = cli("webhooks", "test-receiver", url, "--api", "cpaas")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stdout + result.stderr


def test_the_command_reads_its_window_from_the_spec():
    assert {h.timeout for api in ("sim-v1", "sim-v3", "cpaas") for h in webhooks(WHERE, api).values()} == {15.0}
