"""Schemathesis against the server's own OpenAPI description: each operation, with positive and negative data, until
the request budget is spent; every request sent with the token, its answer checked (5xx, schemathesis's response
checks), then sent again without the token and with a wrong one, which every route but the open ones (the probes and
the metrics, docs/service.md) must answer with 401.

The description says nothing of the JSON bodies `POST /v1/checks` also takes ({"path": ...} or {"url": ...}), and its
multipart `file` is a plain string (sent without a file name, which the server does not take as a file): both are
added to it here (augment), so that schemathesis fuzzes uploads, URL and path submissions too."""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

OPEN = {"/healthz", "/readyz", "/metrics"}
SUBMISSION = {  # POST /v1/checks as JSON: {"path": ...} or {"url": ...}
    "type": "object",
    "properties": {
        "path": {"type": "string", "minLength": 1, "maxLength": 4096},
        "url": {
            "anyOf": [
                {"type": "string", "pattern": "^https?://[a-z0-9.:\\[\\]@%-]{1,40}/[a-z0-9._-]{0,20}$"},
                {"type": "string", "format": "uri"},
                {"type": "string", "maxLength": 4096},
            ]
        },
    },
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}
UPLOAD = {  # POST /v1/checks as multipart: a file (the description's plain string field is sent without a file name)
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
    "additionalProperties": False,
}
TIMEOUT = (5, 30)  # connect, read: an answer slower than this is a hang


def augment(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    post = doc.get("paths", {}).get("/v1/checks", {}).get("post")
    if post is not None:
        content = post.setdefault("requestBody", {}).setdefault("content", {})
        content.setdefault("application/json", {"schema": SUBMISSION})
        content["multipart/form-data"] = {"schema": UPLOAD}
    return doc


@dataclass
class Tally:
    sent: int = 0  # requests with the token
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    no_answer: list[dict[str, Any]] = field(default_factory=list)  # connection errors and timeouts
    hangs: int = 0
    not_sent: int = 0  # cases the HTTP client itself refused (invalid header values and the like)
    check_failures: Counter[str] = field(default_factory=Counter)
    check_examples: dict[str, str] = field(default_factory=dict)
    replays: int = 0  # the same requests without the token / with a wrong one
    replay_statuses: Counter[int] = field(default_factory=Counter)
    bypasses: list[dict[str, Any]] = field(default_factory=list)
    generation_errors: list[str] = field(default_factory=list)


def _without_auth(headers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in headers.items() if k.lower() != "authorization"}


class SchemaFuzz:
    def __init__(self, doc: dict[str, Any], base: str, token: str, out: Path) -> None:
        import schemathesis

        self.schema = schemathesis.openapi.from_dict(augment(doc))
        self.base = base
        self.token = token
        self.out = out
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy, whatever the environment says
        self.tally = Tally()

    def operations(self) -> list[Any]:
        from schemathesis.core.result import Ok

        return [r.ok() for r in self.schema.get_all_operations() if isinstance(r, Ok)]

    def run(self, budget: int, seed: int) -> Tally:
        """Spend `budget` requests with the token over the operations and both generation modes: each round shares
        what is left between the slots still producing new cases."""
        from schemathesis import GenerationMode

        slots = [(op, mode) for op in self.operations() for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        remaining, rnd = budget, 0
        while remaining > 0 and slots:
            share = max(1, remaining // len(slots))
            productive = []
            for n, (op, mode) in enumerate(slots):
                if remaining <= 0:
                    break
                want = min(share, remaining)
                made = self._slot(op, mode, want, seed * 1000 + rnd * 97 + n)
                remaining -= made
                if made >= want:
                    productive.append((op, mode))
            slots, rnd = productive, rnd + 1
        return self.tally

    def _slot(self, op: Any, mode: Any, want: int, seed: int) -> int:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hseed

        made = 0

        @hseed(seed)
        @settings(
            max_examples=want,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        )
        @given(case=op.as_strategy(generation_mode=mode, headers=self._auth_header(op)))
        def test(case: Any) -> None:
            nonlocal made
            if made >= want:
                return
            made += self.one(case)

        try:
            test()
        except Exception as exc:  # noqa: BLE001 - an operation schemathesis cannot generate for, in one mode
            self.tally.generation_errors.append(f"{op.label} {mode.value}: {type(exc).__name__}: {str(exc)[:200]}")
        return made

    def _auth_header(self, op: Any) -> dict[str, str]:
        """The token, under the name the operation's header parameter has (if it declares one): fixed, so that neither
        generation mode fuzzes it (the replays below are what tests the token)."""
        try:
            names = [p.name for p in op.headers if p.name.lower() == "authorization"]
        except (AttributeError, TypeError):
            names = []
        return {(names[0] if names else "Authorization"): f"Bearer {self.token}"}

    def one(self, case: Any) -> int:
        """Send one case with the token, check the answer, replay it without. Returns 1 if it was sent."""
        kw = case.as_transport_kwargs(base_url=self.base)
        kw.pop("auth", None)
        kw["headers"] = {**_without_auth(kw.get("headers") or {}), "Authorization": f"Bearer {self.token}"}
        label = case.operation.label
        try:
            resp = self.session.request(**kw, timeout=TIMEOUT, allow_redirects=False)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError, UnicodeError):
            self.tally.not_sent += 1
            return 0
        except requests.RequestException as exc:
            self.tally.sent += 1
            self.tally.hangs += isinstance(exc, requests.Timeout)
            self.tally.no_answer.append(self._record(label, kw, None, f"{type(exc).__name__}: {exc}"))
            return 1
        t = self.tally
        t.sent += 1
        t.statuses[resp.status_code] += 1
        t.by_operation[label] += 1
        if resp.status_code >= 500:
            t.server_errors.append(self._record(label, kw, resp))
        self._checks(case, resp, kw)
        if case.operation.path not in OPEN:
            self._replay(label, kw)
        return 1

    def _checks(self, case: Any, resp: requests.Response, kw: dict[str, Any]) -> None:
        from schemathesis import checks

        wanted = [
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            checks.negative_data_rejection,
        ]
        try:
            case.validate_response(resp, checks=wanted, headers=kw["headers"])
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - Failure / FailureGroup (a BaseExceptionGroup)
            for f in getattr(exc, "exceptions", None) or [exc]:
                name = getattr(f, "title", None) or type(f).__name__
                key = f"{name} ({case.operation.label}, {resp.status_code})"
                self.tally.check_failures[key] += 1
                self.tally.check_examples.setdefault(key, str(getattr(f, "message", f))[:300])

    def _replay(self, label: str, kw: dict[str, Any]) -> None:
        for variant, value in (("no token", None), ("wrong token", f"Bearer x{self.token}")):
            again = dict(kw)
            again["headers"] = _without_auth(kw["headers"]) | ({"Authorization": value} if value else {})
            self.tally.replays += 1
            try:
                resp = self.session.request(**again, timeout=TIMEOUT, allow_redirects=False)
            except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError, UnicodeError):
                continue
            except requests.RequestException as exc:
                self.tally.hangs += isinstance(exc, requests.Timeout)
                self.tally.no_answer.append(self._record(label, again, None, f"{variant}: {exc}"))
                continue
            self.tally.replay_statuses[resp.status_code] += 1
            if resp.status_code != 401:
                rec = self._record(label, again, resp, variant)
                rec["kind"] = "reached" if resp.status_code < 400 else "answered before auth"
                self.tally.bypasses.append(rec)

    def _record(self, label: str, kw: dict[str, Any], resp: requests.Response | None, note: str = "") -> dict[str, Any]:
        """A reproducer: the request (the body saved beside the findings), and the answer."""
        n = len(self.tally.server_errors) + len(self.tally.bypasses) + len(self.tally.no_answer)
        prepared = requests.Request(
            kw["method"],
            kw["url"],
            headers=kw.get("headers"),
            params=kw.get("params"),
            data=kw.get("data"),
            json=kw.get("json"),
            files=kw.get("files"),
            cookies=kw.get("cookies"),
        ).prepare()
        body = prepared.body if isinstance(prepared.body, bytes) else str(prepared.body or "").encode()
        saved = self.out / "requests" / f"{n:04d}.body"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(body)
        headers = {
            k: ("Bearer $TOKEN" if v == f"Bearer {self.token}" else v.decode("latin-1") if isinstance(v, bytes) else v)
            for k, v in prepared.headers.items()
            if k.lower() not in ("user-agent", "accept-encoding", "accept", "connection", "content-length")
        }
        curl = (
            f"curl -sS -X {prepared.method} '{prepared.url}'"
            + "".join(f" -H {json.dumps(f'{k}: {v}')}" for k, v in headers.items())
            + (f" --data-binary @{saved}" if body else "")
        )
        return {
            "operation": label,
            "note": note,
            "status": resp.status_code if resp is not None else None,
            "answer": resp.text[:500] if resp is not None else "",
            "reproduce": curl,
        }
