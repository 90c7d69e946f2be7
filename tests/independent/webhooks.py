"""Background delivery of webhooks and callbacks.

One worker thread per endpoint key keeps each account's events in order;
a slow receiver never blocks the request that caused the event nor other
accounts. Each delivery has 15 s to be answered, then it is discarded
(no retries, as the sources say).
"""
from __future__ import annotations

import base64
import json
import queue
import sys
import threading
import urllib.request

TIMEOUT_S = 15.0


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class Dispatcher:
    def __init__(self, verbose: bool = False):
        self._queues: dict[str, queue.Queue] = {}
        self._lock = threading.Lock()
        self._verbose = verbose
        # never route loopback deliveries through an environment proxy
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- public API ---------------------------------------------------------
    def post_json(self, key: str, url: str, payload: dict, headers: dict) -> None:
        body = json.dumps(payload).encode("utf-8")
        hdrs = {"Content-Type": "application/json", **headers}
        self._enqueue(key, ("POST", url, body, hdrs))

    def get(self, key: str, url: str, headers: dict, delay: float = 0.0) -> None:
        item = ("GET", url, None, dict(headers))
        if delay > 0:
            timer = threading.Timer(delay, self._enqueue, args=(key, item))
            timer.daemon = True
            timer.start()
        else:
            self._enqueue(key, item)

    def get_sequence(self, key: str, steps: list[tuple[float, str, dict]]) -> None:
        """GET each (delay, url, headers) in order, each `delay` s after the previous."""
        if not steps:
            return
        delay, url, headers = steps[0]

        def fire():
            self._enqueue(key, ("GET", url, None, dict(headers)))
            self.get_sequence(key, steps[1:])

        timer = threading.Timer(max(0.0, delay), fire)
        timer.daemon = True
        timer.start()

    # -- internals ----------------------------------------------------------
    def _enqueue(self, key: str, item) -> None:
        with self._lock:
            q = self._queues.get(key)
            if q is None:
                q = self._queues[key] = queue.Queue()
                threading.Thread(target=self._worker, args=(q,), name=f"hook-{key}",
                                 daemon=True).start()
        q.put(item)

    def close(self) -> None:
        """Stop the workers once their queues are empty (used by in-process tests)."""
        with self._lock:
            for q in self._queues.values():
                q.put(None)
            self._queues.clear()

    def _worker(self, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            method, url, body, headers = item
            try:
                req = urllib.request.Request(url, data=body, method=method, headers=headers)
                with self._opener.open(req, timeout=TIMEOUT_S) as resp:
                    resp.read()
                if self._verbose:
                    print(f"[hook] {method} {url} -> {resp.status}", file=sys.stderr)
            except Exception as exc:  # discarded, as documented
                if self._verbose:
                    print(f"[hook] {method} {url} failed: {exc}", file=sys.stderr)
