"""Every sample call of the published reference runs, as published, against the reference server.

The site is built with `apicontract docs`; every curl, Python and NodeJS sample is taken from its HTML
(what a reader copies), its placeholders filled from the demo accounts (`spec/<api>/fixtures.yaml`: the
base URL becomes the reference server's, `YOUR-API-KEY`/`YOUR-API-SECRET` the first account's HTTP Basic
credentials, `path/to/file` a small file), and run: curl in a shell, Python in a fresh interpreter (the
installed `apicontract` models importable, as the site tells readers to install them), NodeJS with node
and the `request` package pinned in tools/peers. Each must get the documented answer: the operation's
success status, with a body its success schema accepts.

The server is stateful and the samples of one page are a lifecycle (create, read, update, delete), so
each language runs a page's samples on a fresh server in that order: POST, then GET, then PUT, then
DELETE, page order otherwise. An operation with several samples (a form body and its JSON twin) has its
second sample run in a second round, on a fresh server, with the other operations' second samples. The
sequences run side by side, each against its own server; how each sample's answer is seen: curl's
`-w '%{http_code}'`, a `sitecustomize` that records httpx's answer, a `--require` hook around `request`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from apicontract.docs.samples import FILE_PLACEHOLDER, KEY_PLACEHOLDER, SECRET_PLACEHOLDER
from apicontract.specs.walk import deref, iter_operations

from projectkit import APIS, cli, peers_installed
from serverkit import bundle, fixtures, start

LANGUAGES = ("curl", "py", "node")
ORDER = {"post": 0, "get": 1, "put": 2, "delete": 3}

PYTHON_HOOK = """
import json, os
import httpx

_send = httpx.Client.send


def send(self, request, *args, **kwargs):
    response = _send(self, request, *args, **kwargs)
    response.read()
    with open(os.environ["SAMPLE_RECORD"], "w") as record:
        json.dump({"status": response.status_code, "body": response.text}, record)
    return response


httpx.Client.send = send
"""

NODE_HOOK = """
const Module = require("module");
const fs = require("fs");
const load = Module._load;
Module._load = function (name, ...rest) {
  const loaded = load.call(this, name, ...rest);
  if (name !== "request") return loaded;
  return function (options, callback) {
    return loaded(options, function (error, response, body) {
      if (response) {
        const text = typeof body === "string" ? body : JSON.stringify(body);
        fs.writeFileSync(process.env.SAMPLE_RECORD, JSON.stringify({ status: response.statusCode, body: text }));
      }
      callback(error, response, body);
    });
  };
};
"""


@dataclass
class Sample:
    api: str
    operation: str  # operationId
    index: int  # the sample's place among its operation's samples
    page_order: int
    code: dict[str, str]  # language -> the text as published


class SampleParser(HTMLParser):
    """The sample calls of one API page: `<article class="op" id="op-X">` ... `<pre class="tab tab-py">`."""

    def __init__(self, api: str):
        super().__init__(convert_charrefs=True)
        self.api = api
        self.samples: list[Sample] = []
        self.operation: str | None = None
        self.language: str | None = None
        self.text: list[str] = []
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "article" and "op" in classes and "webhook" not in classes:
            self.operation = (attributes.get("id") or "").removeprefix("op-")
        elif tag == "div" and "sample" in classes and self.operation:
            index = self.counts.get(self.operation, 0)
            self.counts[self.operation] = index + 1
            self.samples.append(Sample(self.api, self.operation, index, len(self.samples), {}))
        elif tag == "pre" and "tab" in classes and self.operation:
            self.language = next(c.removeprefix("tab-") for c in classes if c.startswith("tab-"))
            self.text = []

    def handle_endtag(self, tag):
        if tag == "pre" and self.language:
            self.samples[-1].code[self.language] = "".join(self.text)
            self.language = None
        elif tag == "article":
            self.operation = None

    def handle_data(self, data):
        if self.language:
            self.text.append(data)


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> list[Sample]:
    out = tmp_path_factory.mktemp("published-site")
    done = cli("docs", "--out", str(out))
    assert done.returncode == 0, done.stderr
    found = []
    for api in APIS:
        parser = SampleParser(api)
        parser.feed((out / f"{api}.html").read_text(encoding="utf-8"))
        assert parser.samples, f"{api}.html has no sample calls"
        found += parser.samples
    return found


@pytest.fixture(scope="session")
def node_request() -> Path:
    node = shutil.which("node")
    assert node, "node is needed to run the published NodeJS samples"
    return peers_installed()


def operation(doc: dict, operation_id: str):
    return next(op for op in iter_operations(doc) if op.node.get("operationId") == operation_id)


def documented_answer(doc: dict, operation_id: str) -> tuple[int, dict | None]:
    """The success status of an operation and the JSON schema of its body."""
    for status, response in operation(doc, operation_id).node["responses"].items():
        if status.startswith("2"):
            media = ((deref(doc, response) or {}).get("content") or {}).get("application/json") or {}
            return int(status), media.get("schema")
    raise AssertionError(f"{operation_id} documents no success")


def fill(text: str, api: str, base_url: str, upload: Path) -> str:
    """The reader's edits: the server they call, their credentials, their file."""
    doc = bundle(api)
    text = text.replace(doc["servers"][0]["url"], base_url)
    basic = (fixtures(api)["accounts"][0].get("credentials") or {}).get("basic")
    if basic:
        text = text.replace(KEY_PLACEHOLDER, basic["key"]).replace(SECRET_PLACEHOLDER, basic["secret"])
    return text.replace(FILE_PLACEHOLDER, str(upload))


def run(language: str, code: str, work: Path, node_modules: Path) -> tuple[int | None, str, str]:
    """Run one sample; (status, body) of the answer it got, and what it printed."""
    record = work / "answer.json"
    record.unlink(missing_ok=True)
    env = {**os.environ, "SAMPLE_RECORD": str(record)}
    if language == "curl":
        command = ["bash", "-c", code + f" -sS -o {work / 'body'} -w '%{{http_code}}'"]
    elif language == "py":
        (work / "sample.py").write_text(code)
        env["PYTHONPATH"] = str(work / "hook") + os.pathsep + env.get("PYTHONPATH", "")
        command = [sys.executable, str(work / "sample.py")]
    else:
        (work / "sample.js").write_text(code)
        env["NODE_PATH"] = str(node_modules)
        command = ["node", "--require", str(work / "hook.js"), str(work / "sample.js")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=work, timeout=60)
    said = done.stdout + done.stderr
    if language == "curl":
        status = int(done.stdout.strip()[-3:]) if done.stdout.strip()[-3:].isdigit() else None
        body = (work / "body").read_text() if (work / "body").is_file() else ""
        return status, body, said
    if not record.is_file():
        return None, "", said
    answer = json.loads(record.read_text())
    if language == "py" and done.returncode != 0:  # raise_for_status() refused the answer
        return None, f"{answer['status']} {answer['body']}", said
    return answer["status"], answer["body"], said


def rounds(page: list[Sample]) -> list[list[Sample]]:
    """Round r: each operation's r-th sample; in lifecycle order (POST, GET, PUT, DELETE), then page order."""
    count = max(s.index for s in page) + 1
    doc = bundle(page[0].api)
    key = lambda s: (ORDER.get(operation(doc, s.operation).method, 9), s.page_order)  # noqa: E731
    return [sorted((s for s in page if s.index == r), key=key) for r in range(count)]


def run_sequence(api: str, language: str, sequence: list[Sample], work: Path, node_modules: Path) -> list[str]:
    """Run samples in order against a fresh server of the API; the problems found."""
    work.mkdir(parents=True)
    (work / "hook").mkdir()
    (work / "hook" / "sitecustomize.py").write_text(PYTHON_HOOK)
    (work / "hook.js").write_text(NODE_HOOK)
    upload = work / "tune.mp3"
    upload.write_bytes(b"ID3" + bytes(range(256)))
    doc = bundle(api)
    problems = []
    server = start([api], work / "data")
    try:
        for sample in sequence:
            code = fill(sample.code[language], api, server.url(api), upload)
            status, body, said = run(language, code, work, node_modules)
            expected, schema = documented_answer(doc, sample.operation)
            where = f"{api} {sample.operation} sample {sample.index + 1} ({language})"
            if status != expected:
                problems.append(f"{where}: expected {expected}, got {status} {body[:200]}\n{said[-800:]}")
                continue
            if schema is not None:
                errors = list(
                    jsonschema.Draft202012Validator({"allOf": [schema], "components": doc["components"]}).iter_errors(
                        json.loads(body)
                    )
                )
                if errors:
                    problems.append(f"{where}: the answer breaks its schema: {errors[0].message}")
    finally:
        server.stop()
    return problems


def test_every_published_sample_runs_and_gets_the_documented_answer(samples, node_request, tmp_path):
    jobs = []
    for api in APIS:
        page = [s for s in samples if s.api == api]
        for language in LANGUAGES:
            for number, sequence in enumerate(rounds(page)):
                jobs.append((api, language, sequence, tmp_path / f"{api}-{language}-{number}"))
    with ThreadPoolExecutor(4) as pool:
        found = pool.map(lambda job: run_sequence(*job, node_request), jobs)
        problems = [problem for batch in found for problem in batch]
    ran = sum(len(sequence) for _, _, sequence, _ in jobs)
    assert ran == len(samples) * len(LANGUAGES)
    assert problems == [], "\n\n".join(problems)
