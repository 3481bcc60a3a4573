"""HTTP fuzz of `labelcheck serve`: the real server (127.0.0.1, a token, a watch folder, a root for path submissions,
--fetch-urls, a 1 MB upload limit) under schemathesis (fuzz.schema_fuzz) and the hostile cases (fuzz.hostile), in a
network namespace with loopback alone (fuzz.netns: it refuses to run anywhere else).

Targets: 0 server errors (5xx), 0 auth bypasses (every route but /healthz, /readyz and /metrics answers 401 without
the token, the OpenAPI pages included), 0 non-public addresses fetched (listeners on them count connections, and the
reports are searched for what they serve), every hostile URL refused, the redirects to non-public addresses not
followed, oversized bodies answered 413 and unauthenticated ones 401 before the body is read, 0 tracebacks in the
server's log, 0 hangs, and at most 1 GB per item in the server's workers.

    unshare -n sh -c 'ip link set lo up && exec .venv/bin/python -m fuzz.http --requests 400'

Run it as a module (`python -m fuzz.http`), never as a script: as a script, this file would shadow the standard
library's `http` package.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from . import hostile, netns
from .canary import CANARY_SHA256, Canary
from .figures import Figure, finish, info, table, target
from .mutate import MEDIA, MEMORY_LIMIT_KB, ROOT, labelcheck_cmd
from .procs import Sampler
from .schema_fuzz import SchemaFuzz, Tally

OUT = ROOT / "build" / "fuzz" / "http"
DEFAULT_SEED = 20261122
LIMIT_MB = 1
DOC_PAGES = ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """`labelcheck serve` as a real process, its memory sampled while it runs."""

    tmp: Path
    token: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    sampler: Sampler | None = None
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def root(self) -> Path:
        return self.tmp / "root"

    @property
    def reports(self) -> Path:
        return self.tmp / "reports"

    def start(self) -> None:
        for d in ("reports", "watch", "root"):
            (self.tmp / d).mkdir()
        shutil.copyfile(MEDIA / "plain_camera.jpg", self.root / "ok.jpg")
        (self.root / "link-out").symlink_to("/etc/passwd")
        (self.root / "dir-link").symlink_to("/etc")
        cmd = [
            *labelcheck_cmd(), "serve", "--reports", str(self.reports), "--watch", str(self.tmp / "watch"),
            "--root", str(self.root), "--host", "127.0.0.1", "--port", str(self.port), "--fetch-urls",
            "--max-upload-mb", str(LIMIT_MB), "--workers", "1", "--settle", "0.2",
        ]  # fmt: skip
        env = {**os.environ, "LABELCHECK_TOKEN": self.token}
        with open(self.tmp / "server.log", "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.sampler = Sampler(self.proc.pid)
        threading.Thread(target=self._sample, daemon=True).start()
        deadline = time.monotonic() + 90
        probe = requests.Session()
        probe.trust_env = False  # no proxy, whatever the environment says
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"labelcheck serve exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
            try:
                if probe.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"labelcheck serve was not ready within 90 s:\n{self.log()[-3000:]}")

    def _sample(self) -> None:
        while not self.stopping.is_set() and self.proc is not None and self.proc.poll() is None:
            assert self.sampler is not None
            self.sampler.sample()
            time.sleep(0.25)

    def log(self) -> str:
        return (self.tmp / "server.log").read_text(encoding="utf-8", errors="replace")

    def stop(self, grace: float = 30.0) -> tuple[int | None, bool]:
        """SIGTERM, then (after `grace` s: a hang) SIGKILL. Returns the exit code and whether it hung."""
        self.stopping.set()
        assert self.proc is not None
        if self.proc.poll() is not None:
            return self.proc.returncode, False
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(grace), False
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(10), True


@dataclass
class Outcome:
    figures: list[Figure]
    findings: list[dict[str, Any]]


class HttpFuzz:
    def __init__(self, server: Server, canary: Canary, out: Path) -> None:
        self.server = server
        self.canary = canary
        self.out = out
        self.s = requests.Session()
        self.s.trust_env = False
        self.auth = {"Authorization": f"Bearer {server.token}"}
        self.findings: list[dict[str, Any]] = []
        self.hangs = 0
        self.server_errors = 0
        self.tracked: list[tuple[str, int]] = []  # (what, id): submissions to follow to their report

    def post(self, body: dict[str, Any]) -> tuple[int | None, Any]:
        try:
            r = self.s.post(self.server.base + "/v1/checks", json=body, headers=self.auth, timeout=(5, 30))
        except requests.Timeout:
            self.hangs += 1
            return None, "timeout"
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"
        try:
            doc = r.json()
        except ValueError:
            doc = r.text[:300]
        if r.status_code >= 500:
            self.server_errors += 1
            self.findings.append({"kind": "server error", "request": body, "status": r.status_code, "answer": doc})
        return r.status_code, doc

    def docs_without_token(self) -> tuple[int, list[str]]:
        """The OpenAPI description and the documentation pages need the token too (a page the server does not have,
        404 even with the token, is skipped)."""
        bypassed, checked = [], 0
        for page in DOC_PAGES:
            if self.s.get(self.server.base + page, headers=self.auth, timeout=(5, 30)).status_code == 404:
                continue
            for hdr in ({}, {"Authorization": "Bearer wrong"}):
                checked += 1
                r = self.s.get(self.server.base + page, headers=hdr, timeout=(5, 30))
                if r.status_code != 401:
                    variant = "wrong token" if hdr else "no token"
                    bypassed.append(f"{page} {variant}: {r.status_code}")
                    self.findings.append(
                        {
                            "kind": "auth bypass",
                            "request": f"GET {page} ({variant})",
                            "status": r.status_code,
                            "reproduce": f"curl -s -o /dev/null -w '%{{http_code}}' {self.server.base}{page}",
                        }
                    )
        return checked, bypassed

    def url_cases(self) -> tuple[int, int]:
        urls = hostile.url_cases(self.canary.port)
        refused = 0
        for u in urls:
            status, doc = self.post({"url": u})
            if status is not None and 400 <= status < 500 and status != 401:
                refused += 1
            else:
                self.findings.append(
                    {
                        "kind": "hostile URL not refused",
                        "url": u,
                        "status": status,
                        "answer": doc,
                        "reproduce": _curl_json(self.server.base, {"url": u}),
                    }
                )
                if status == 202 and isinstance(doc, dict):
                    self.tracked.append((f"hostile URL {u}", int(doc["id"])))
        return refused, len(urls)

    def ambiguous_cases(self) -> tuple[int, int]:
        """URLs parsers disagree on: refused, or accepted and fetched (the listeners see which host)."""
        urls = hostile.ambiguous_urls(self.canary.port)
        ok = 0
        for u in urls:
            status, doc = self.post({"url": u})
            if status == 202 and isinstance(doc, dict):
                self.tracked.append((f"ambiguous URL {u}", int(doc["id"])))
            if status is not None and (status == 202 or (400 <= status < 500 and status != 401)):
                ok += 1
            else:
                self.findings.append(
                    {
                        "kind": "ambiguous URL",
                        "url": u,
                        "status": status,
                        "answer": doc,
                        "reproduce": _curl_json(self.server.base, {"url": u}),
                    }
                )
        return ok, len(urls)

    def redirect_cases(self) -> tuple[int, int]:
        """The public stand-in: /ok.jpg must be fetched (the positive control), /r/N.jpg accepted, never followed."""
        base = f"http://{netns.PUBLIC}:{self.canary.port}"
        accepted = 0
        for what, url in [("positive control", f"{base}/ok.jpg")] + [
            (f"redirect to {t}", f"{base}/r/{n}.jpg") for n, t in enumerate(self.canary.redirects)
        ]:
            status, doc = self.post({"url": url})
            if status == 202 and isinstance(doc, dict):
                accepted += 1
                self.tracked.append((what, int(doc["id"])))
            else:
                self.findings.append(
                    {"kind": "public URL refused", "what": what, "url": url, "status": status, "answer": doc}
                )
        return accepted, len(self.canary.redirects) + 1

    def path_cases(self) -> tuple[int, int]:
        cases = hostile.path_cases(self.server.root)
        ok = 0
        for name, body, want in cases:
            status, doc = self.post(body)
            if status in want:
                ok += 1
            else:
                self.findings.append(
                    {
                        "kind": "path case",
                        "case": name,
                        "status": status,
                        "answer": doc,
                        "reproduce": _curl_json(self.server.base, body),
                    }
                )
        return ok, len(cases)

    def upload_name_case(self) -> bool:
        """A multipart file name that climbs out of the uploads directory must stay a name inside it."""
        marker = f"fuzz-escape-{secrets.token_hex(4)}.jpg"
        name = "../../../../../../tmp/" + marker
        r = self.s.post(
            self.server.base + "/v1/checks",
            headers=self.auth,
            timeout=(5, 30),
            files={"file": (name, (MEDIA / "plain_camera.jpg").read_bytes(), "image/jpeg")},
        )
        escaped = Path("/tmp", marker).exists() or any(
            p.name == marker for p in self.server.tmp.rglob("*") if "uploads" not in p.parts
        )
        if r.status_code >= 500:
            self.server_errors += 1
        ok = r.status_code == 202 and not escaped
        if not ok:
            self.findings.append(
                {"kind": "upload file name", "name": name, "status": r.status_code, "escaped": escaped}
            )
        return ok

    def body_cases(self) -> tuple[int, int]:
        cases = hostile.body_cases(self.server.port, self.server.token, LIMIT_MB << 20)
        ok = 0
        for c in cases:
            got = c.run()
            good = got.status == c.expect and got.seconds <= c.within
            ok += good
            if got.status is not None and got.status >= 500:
                self.server_errors += 1
            if not good:
                self.findings.append(
                    {
                        "kind": "body case",
                        "case": c.name,
                        "status": got.status,
                        "seconds": round(got.seconds, 2),
                        "body_bytes_sent": got.body_sent,
                        "client_error": got.error,
                    }
                )
        return ok, len(cases)

    def wait_tracked(self, limit: float = 180.0) -> dict[str, dict[str, Any]]:
        """Each followed submission's report (or its last state) once it is done, failed, or the time is up."""
        left = dict((what, n) for what, n in self.tracked)
        reports: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + limit
        while left and time.monotonic() < deadline:
            for what, n in list(left.items()):
                try:
                    r = self.s.get(f"{self.server.base}/v1/checks/{n}", headers=self.auth, timeout=(5, 30))
                    doc = r.json() if r.status_code == 200 else {"answer": f"HTTP {r.status_code}"}
                except (requests.RequestException, ValueError) as exc:
                    doc = {"answer": f"{type(exc).__name__}: {exc}"}
                reports[what] = doc
                if doc.get("state") not in ("queued", "checking"):  # a report, a final state, or no answer
                    del left[what]
            time.sleep(0.5)
        for what in left:
            reports[what] = {**reports.get(what, {}), "unfinished": True}
        return reports


def _curl_json(base: str, body: dict[str, Any]) -> str:
    return (
        f"curl -sS -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' "
        f"--data-binary {json.dumps(json.dumps(body))} {base}/v1/checks"
    )


def _reports_with_canary(reports: Path) -> list[str]:
    """Reports whose item is the canary's answer: something was fetched from a non-public address."""
    hits = []
    for p in reports.rglob("*.json"):
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if CANARY_SHA256 in text:
            hits.append(str(p))
    return hits


def _result_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The item's result in a report document (a whole report, or one result)."""
    if doc.get("type") == "result":
        return doc
    results = doc.get("results")
    return results[0] if isinstance(results, list) and results else doc


def fuzz(requests_budget: int, seed: int, out: Path) -> Outcome:
    netns.require_isolation()
    not_added = netns.add_aliases()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="labelcheck-httpfuzz-"))
    canary = Canary(MEDIA / "plain_camera.jpg", [])
    canary.start()
    canary.redirects = hostile.redirect_targets(canary.port)
    server = Server(tmp, secrets.token_urlsafe(24))
    t0 = time.monotonic()
    try:
        server.start()
        fz = HttpFuzz(server, canary, out)
        r = fz.s.get(server.base + "/openapi.json", headers=fz.auth, timeout=(5, 30))
        if r.status_code != 200:
            raise SystemExit(f"GET /openapi.json with the token answered {r.status_code}: {r.text[:500]}")
        doc = r.json()
        (out / "openapi.json").write_text(json.dumps(doc, indent=1))
        v: dict[str, Any] = {"not_added": not_added}  # the figures' raw values, by name

        def phase(name: str, run: Any, failed: Any) -> Any:
            """One phase; if the server stops answering in it, the phase counts as failed and the fuzz goes on."""
            try:
                return run()
            except (requests.RequestException, OSError) as exc:
                fz.findings.append({"kind": "phase aborted: no answer", "phase": name, "error": f"{exc!r}"[:500]})
                return failed

        v["docs_checked"], v["docs_bypassed"] = phase("docs", fz.docs_without_token, (0, ["no answer"]))
        tally = SchemaFuzz(doc, server.base, server.token, out).run(requests_budget, seed)
        v["urls_refused"], v["urls"] = phase("urls", fz.url_cases, (0, -1))
        v["ambiguous_ok"], v["ambiguous"] = phase("ambiguous urls", fz.ambiguous_cases, (0, -1))
        v["accepted"], v["public_urls"] = phase("redirects", fz.redirect_cases, (0, -1))
        v["paths_ok"], v["paths"] = phase("paths", fz.path_cases, (0, -1))
        v["name_ok"] = phase("upload name", fz.upload_name_case, False)
        v["bodies_ok"], v["bodies"] = phase("bodies", fz.body_cases, (0, -1))
        followed = fz.wait_tracked()
        v["alive"] = server.proc is not None and server.proc.poll() is None
        try:
            v["healthy"] = fz.s.get(server.base + "/healthz", timeout=(5, 30)).status_code == 200
        except requests.RequestException:
            v["healthy"] = False
        v["code"], v["stop_hung"] = server.stop()
        v["log"] = server.log()
        (out / "server.log").write_text(v["log"])
        v["wall"] = time.monotonic() - t0
        result = _outcome(fz, tally, canary, server, followed, v)
        (out / "findings.json").write_text(json.dumps(result.findings, indent=1, default=str))
        return result
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop(5)
        canary.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _outcome(
    fz: HttpFuzz, t: Tally, canary: Canary, server: Server, followed: dict[str, Any], v: dict[str, Any]
) -> Outcome:
    non_public = canary.non_public()
    canary_reports = _reports_with_canary(server.reports)
    control = followed.get("positive control", {})
    control_fetched = bool(canary.public()) and _result_of(control).get("sha256") is not None
    tracebacks = v["log"].count("Traceback")
    server_errors = len(t.server_errors) + fz.server_errors
    bypasses = len(t.bypasses) + len(v["docs_bypassed"])
    reached = sum(1 for b in t.bypasses if b["kind"] == "reached")
    hangs = t.hangs + fz.hangs + int(v["stop_hung"])
    peaks = server.sampler.peaks if server.sampler else None
    worker_kb = peaks.worst_worker if peaks else 0
    hwm_kb, hwm_name = peaks.worst_process if peaks else (0, "-")
    statuses = " ".join(f"{k}:{n}" for k, n in sorted(t.statuses.items()))
    figures = [
        info("requests with the token (schemathesis)", f"{t.sent} over {len(t.by_operation)} operations"),
        info("answers by status", statuses),
        target("server errors (5xx)", server_errors, "0", server_errors == 0),
        target("requests without an answer (reset, refused)", len(t.no_answer), "0", not t.no_answer),
        info("schemathesis check failures (other than 5xx)", sum(t.check_failures.values())),
        info("requests replayed without / with a wrong token", t.replays + v["docs_checked"]),
        target("auth bypasses (not 401)", f"{bypasses} ({reached} reached the route)", "0", bypasses == 0),
        target("hostile URLs refused (4xx)", f"{v['urls_refused']}/{v['urls']}", "all", v["urls_refused"] == v["urls"]),
        target(
            "URLs parsers disagree on: refused or accepted",
            f"{v['ambiguous_ok']}/{v['ambiguous']}",
            "all",
            v["ambiguous_ok"] == v["ambiguous"],
        ),
        target(
            "non-public addresses fetched",
            len(non_public) + len(canary_reports),
            "0",
            not non_public and not canary_reports,
        ),
        target("positive control: public stand-in fetched", "yes" if control_fetched else "NO", "yes", control_fetched),
        target(
            "public URLs accepted (control + redirects)",
            f"{v['accepted']}/{v['public_urls']}",
            "all",
            v["accepted"] == v["public_urls"],
        ),
        target(
            "path submissions answered as documented",
            f"{v['paths_ok']}/{v['paths']}",
            "all",
            v["paths_ok"] == v["paths"],
        ),
        target("upload file name kept inside uploads", "yes" if v["name_ok"] else "NO", "yes", v["name_ok"]),
        target(
            "oversized / unauthenticated bodies (413, 401 unread)",
            f"{v['bodies_ok']}/{v['bodies']}",
            "all",
            v["bodies_ok"] == v["bodies"],
        ),
        target("tracebacks in the server's log", tracebacks, "0", tracebacks == 0),
        target("hangs (answer > 30 s, stop > 30 s)", hangs, "0", hangs == 0),
        target(
            "server alive and healthy at the end",
            "yes" if v["alive"] and v["healthy"] else "NO",
            "yes",
            v["alive"] and v["healthy"],
        ),
        info("server exit code on SIGTERM", v["code"]),
        target(
            "peak memory per item: worker + its tools (PSS)",
            f"{worker_kb / 1024:.0f} MB",
            "<= 1024 MB",
            worker_kb <= MEMORY_LIMIT_KB,
        ),
        info("peak RSS of any one server process (VmHWM)", f"{hwm_kb / 1024:.0f} MB ({hwm_name})"),
        info("wall time", f"{v['wall']:.1f} s"),
    ]
    if v["not_added"]:
        figures.append(info("addresses not added to lo (their fetches unseen)", " ".join(v["not_added"])))
    findings = list(fz.findings)
    findings.append({"kind": "requests by operation", "counts": dict(t.by_operation), "info": True})
    findings += [{"kind": "server error", **e} for e in t.server_errors]
    findings += [{"kind": "no answer", **e} for e in t.no_answer]
    findings += [{**b, "kind": f"auth bypass ({b['kind']})"} for b in t.bypasses]
    findings += [
        {"kind": "non-public fetch", "local": h.local, "port": h.port, "request": h.request} for h in non_public
    ]
    findings += [{"kind": "canary in a report", "report": p} for p in canary_reports]
    for what, doc in followed.items():
        res = _result_of(doc)
        findings.append(
            {
                "kind": "followed submission",
                "what": what,
                "status": res.get("status", doc.get("state")),
                "errors": [e.get("message", "")[:200] for e in res.get("errors") or []],
                "unfinished": doc.get("unfinished", False),
                "info": True,
            }
        )
    for key, n in t.check_failures.most_common():
        findings.append(
            {"kind": "schemathesis check", "check": key, "count": n, "example": t.check_examples[key], "info": True}
        )
    findings += [{"kind": "generation", "detail": g, "info": True} for g in t.generation_errors]
    if tracebacks:
        at = v["log"].find("Traceback")
        findings.append({"kind": "traceback", "detail": v["log"][max(0, at - 300) : at + 3000]})
    return Outcome(figures, findings)


def report(result: Outcome, title: str, out: Path) -> None:
    """The figures' table and the defects found (those that are not for information), as fuzz() wrote them."""
    print(table(title, result.figures))
    defects = [f for f in result.findings if not f.get("info")]
    if defects:
        print(f"findings ({len(defects)}; all in {out / 'findings.json'}):")
        for f in defects[:40]:
            print("  - " + json.dumps(f, default=str)[:600])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz.http", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--requests", type=int, default=400, help="schemathesis requests with the token")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    result = fuzz(args.requests, args.seed, args.out)
    report(result, f"labelcheck serve, HTTP fuzz ({args.out})", args.out)
    return finish(result.figures, args.json)


if __name__ == "__main__":
    if __package__ in (None, ""):
        raise SystemExit("run it as a module from the repository's root: python -m fuzz.http")
    sys.exit(main())
