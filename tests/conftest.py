"""Shared test helpers: paths, a scan that always validates its report against the schema, corpus location."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from labelcheck.api import scan
from labelcheck.extract.c2pa import C2paSettings
from labelcheck.extract.gather import EvidenceOptions
from labelcheck.policy.judge import Judge
from labelcheck.render import document as report_mod

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
MEDIA = FIXTURES / "media"
TEST_CA = FIXTURES / "certs" / "test-ca.pem"
CORPUS = Path(os.environ.get("LABELCHECK_CORPUS", ROOT.parent / "shared" / "corpus"))


def run_cli(
    *args: Any, env: dict[str, str] | None = None, cwd: Any = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The installed command line as a real process (`python -m labelcheck ...`)."""
    return subprocess.run(
        [sys.executable, "-m", "labelcheck", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def fixture_manifest() -> dict[str, Any]:
    return json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))["fixtures"]


JUDGE_FIELDS = ("policies", "fail_on", "as_of", "waivers")


def options(**kw: Any) -> EvidenceOptions:
    """The evidence step's options, with the test CA trusted (`anchors`) and `c2pa` settings added."""
    anchors = kw.pop("anchors", (str(TEST_CA),))
    c2 = C2paSettings(trust_anchors=tuple(anchors), **kw.pop("c2pa", {}))
    return EvidenceOptions(c2pa=c2, **kw)


def judge_and_options(**kw: Any) -> tuple[Judge, EvidenceOptions]:
    """The Judge (policies, fail_on, as_of, waivers in `kw`) and the evidence options (the rest of `kw`)."""
    judging = {k: kw.pop(k) for k in JUDGE_FIELDS if k in kw}
    return Judge.of(**judging), options(**kw)


def checked_scan(paths: list[Any], **kw: Any) -> tuple[Any, dict[str, Any]]:
    """scan() plus its JSON document, validated against schemas/report.schema.json (every report the suite makes)."""
    judge, evidence = judge_and_options(**kw)
    rep = scan(paths, evidence, judge, clock=lambda: "2026-11-22T00:00:00+00:00")
    doc = report_mod.to_dict(rep)
    report_mod.validate(doc)
    json.dumps(doc)  # serialisable as it is
    return rep, doc


@pytest.fixture(scope="session")
def fixture_report() -> tuple[Any, dict[str, Any]]:
    return checked_scan([MEDIA])


@pytest.fixture(scope="session")
def fixture_results(fixture_report: Any) -> dict[str, dict[str, Any]]:
    return {Path(r["target"]).name: r for r in fixture_report[1]["results"]}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False, help="rewrite tests/golden/*")


# ---------------------------------------------------------------- processes (Linux /proc)


def children(pid: int) -> list[int]:
    """The live (not zombie) child processes of `pid`."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(d))
    return out


def descendants(pid: int) -> list[int]:
    """Children, their children, and so on (a fork server's workers, their exiftools)."""
    out, todo = [], [pid]
    while todo:
        found = children(todo.pop())
        out += found
        todo += found
    return out


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def eventually(condition: Any, seconds: float, message: str) -> None:
    """Assert that `condition()` comes true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.02)


class Server:
    """Serves a dict path -> bytes; '/404/...' answers 404, '/short/...' promises more bytes than it sends, '/loop'
    redirects to itself, '/stall' stops sending, '/drip' sends a byte now and then,
    '/slow/SECONDS/...' pauses first, '/gz/...' sends the stored bytes as gzip Content-Encoding, '/busy/...' answers
    429 (too many requests, Retry-After: 1) once and then the file, '/gone/...' answers 410."""

    def __init__(self, files: dict[str, bytes], root=None, headers=None):
        files_ = files
        extra = headers or {}  # path -> [(name, value)] sent with that file

        def lookup(path: str) -> bytes | None:
            if path in files_:
                return files_[path]
            if root is not None and (root / path.lstrip("/")).is_file():  # a directory a live encoder writes to
                return (root / path.lstrip("/")).read_bytes()
            return None

        hosts = self.hosts = []  # the Host header of each request, in order
        agents = self.agents = []  # and its User-Agent
        refused: set[str] = set()  # '/busy/...' paths already answered 429 once
        times = self.times = []  # (monotonic time, path) of each request

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                times.append((time.monotonic(), self.path))
                hosts.append(self.headers.get("Host"))
                agents.append(self.headers.get("User-Agent"))
                if self.path.startswith("/stall"):  # promises 10 MB, sends 1 KB, then nothing for a while
                    self.send_response(200)
                    self.send_header("Content-Length", str(10 << 20))
                    self.end_headers()
                    self.wfile.write(bytes(1024))
                    self.wfile.flush()
                    time.sleep(20)
                    return
                if self.path.startswith("/drip"):  # a byte every 0.2 s, for ever (until the client leaves)
                    self.send_response(200)
                    self.end_headers()
                    try:
                        for _ in range(1000):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.2)
                    except OSError:
                        pass
                    return
                if self.path.startswith("/slow/"):  # '/slow/SECONDS/path': the file at path, after a pause
                    _, _, seconds, rest = self.path.split("/", 3)
                    time.sleep(float(seconds))
                    self.path = "/" + rest
                if self.path.startswith(("/busy/", "/gone/")):  # '/busy/...': 429 on its first request, then the file
                    first = self.path not in refused
                    refused.add(self.path)
                    if self.path.startswith("/gone/") or first:
                        self.send_response(410 if self.path.startswith("/gone/") else 429)
                        self.send_header("Retry-After", "1")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.path = "/" + self.path.split("/", 2)[2]
                if self.path.startswith("/loop"):
                    self.send_response(302)
                    self.send_header("Location", self.path)
                    self.end_headers()
                    return
                encoded = self.path.startswith("/gz/")  # the stored bytes are gzip data, sent as Content-Encoding
                body = lookup(self.path.split("?")[0].removeprefix("/short").removeprefix("/gz"))
                if body is None or self.path.startswith("/404"):
                    self.send_error(404)
                    return
                self.send_response(200)
                declared = len(body) + (1000 if self.path.startswith("/short") else 0)
                self.send_header("Content-Length", str(declared))
                for name, value in extra.get(self.path.split("?")[0], ()):
                    self.send_header(name, value)
                if encoded:
                    self.send_header("Content-Encoding", "gzip")
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def unprivileged_cli(args: list[str]) -> list[str] | None:
    """The CLI command line run without privileges: as is for a normal user; for root, as root with every capability
    dropped (setpriv: none inherited, an empty bounding set, so none regained at exec). Without CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH, root is held to the permission bits like any user: a file of mode 000 cannot be read and a
    directory of mode 000 cannot be listed, even its own. The same interpreter, environment and checkout run it (a
    switch to another user, e.g. nobody, could not reach a checkout below a directory of mode 700). None when
    capabilities cannot be dropped here."""
    cmd = [sys.executable, "-m", "labelcheck", *args]
    if os.geteuid() != 0:
        return cmd
    if not shutil.which("setpriv"):
        return None
    drop = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]
    probe = subprocess.run(
        [*drop, sys.executable, "-c", "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0 or int(probe.stdout.strip() or "1", 16) != 0:
        return None
    return [*drop, *cmd]
