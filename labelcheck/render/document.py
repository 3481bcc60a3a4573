"""Report <-> JSON document: the one serialisation every renderer and test uses, validated against the schema."""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Any

from .. import resources
from ..classify import labels
from ..model import Classification, Decision, Evidence, PixelScan, Report, Result, StreamResult, Waiver

SCHEMA_VERSION = "1.2"  # 1.1: waived findings, summary.waived; 1.2: decision rule, pixels

# Named exit codes (a pure function of the report decides which).
EXIT_OK = 0
EXIT_NONCOMPLIANT = 1
EXIT_USAGE = 2
EXIT_POLICY = 3
EXIT_TOOL_MISSING = 4
EXIT_ITEM_ERROR = 5
EXIT_NOTHING_CHECKED = 6  # no item at all: an empty directory, list or filter (unless --allow-empty)
EXIT_INTERNAL = 70  # a defect in labelcheck itself (EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM)


def _decision(d: Decision) -> dict[str, Any]:
    return {
        "source": d.source,
        "status": d.status.value,
        "basis": d.basis.value,
        "reason": d.reason,
        "location": d.location,
        "strength": d.strength,
        "rule": d.rule,
    }


def _c2pa(ev: Evidence) -> dict[str, Any]:
    s = ev.c2pa
    active = s.manifest(s.active)
    return {
        "present": s.present,
        "validation_state": s.validation_state,
        "failures": list(s.failures),
        "informational": list(s.informational),
        "signer": active.signer if active else None,
        "signed_at": active.signed_at if active else None,
        "generator": (active.claim_generator or (active.generator_info[0] if active.generator_info else None))
        if active
        else None,
        "remote_url": s.remote_url,
        "sidecar": s.sidecar,
        "active_manifest": s.active,
        "manifests": [
            {
                "label": m.label,
                "claim_generator": m.claim_generator,
                "generator_info": list(m.generator_info),
                "signer": m.signer,
                "signed_at": m.signed_at,
                "title": m.title,
                "actions": [{k: v for k, v in a.__dict__.items() if v is not None} for a in m.actions],
                "ingredients": [{k: v for k, v in i.__dict__.items() if v is not None} for i in m.ingredients],
                "training": [t.__dict__ for t in m.training],
            }
            for m in s.manifests
        ],
    }


def _waiver(w: Waiver) -> dict[str, Any]:
    return {
        "id": w.id,
        "reason": w.reason,
        "approved_by": w.approved_by,
        "expires": w.expires.isoformat() if w.expires else None,
    }


def _ai(c: Classification) -> dict[str, Any]:
    return {
        "status": c.status.value,
        "basis": c.basis.value,
        "specific": c.specific,
        "evidence": [_decision(d) for d in c.evidence],
    }


def display_path(path: str) -> str:
    """A path as valid Unicode: bytes that are not UTF-8 (surrogate-escaped) are shown as \\xNN. For display: a
    file may be named by those four characters; `name_bytes` tells the two apart."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def name_bytes(name: str) -> str | None:
    """A name's bytes in hex when they are not UTF-8 (os.fsdecode keeps such bytes as surrogate escapes, which
    display_path shows as \\xNN), else None: reports write it beside the name shown (`target_bytes`), so that
    os.fsdecode(bytes.fromhex(...)) gives back the very name, and never confuses it with a file named `\\xff`."""
    try:
        name.encode("utf-8")
        return None
    except UnicodeEncodeError:
        try:
            return os.fsencode(name).hex()
        except UnicodeEncodeError:  # not a file system name (no surrogate escape of a byte): shown only
            return None


def target_name(doc: dict[str, Any]) -> str:
    """The target a written result names, as `expand` made it (what --resume matches)."""
    hexed = doc.get("target_bytes")
    try:
        return os.fsdecode(bytes.fromhex(hexed)) if isinstance(hexed, str) else str(doc["target"])
    except ValueError:  # not hex: a file labelcheck did not write; matched as shown
        return str(doc["target"])


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 controls but tab and newline, DEL, C1 controls


def printable(text: str) -> str:
    """Text for a terminal, with control characters shown as \\xNN: a file's name or metadata could otherwise
    send escape sequences that retitle, clear or rewrite the terminal showing the report."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def unread(r: Result) -> bool:
    """The item could not (wholly) be read, though no finding says so (its rules were not applicable)."""
    return r.status.value == "error" and not any(f.status.value == "error" for f in r.findings)


def errors_line(ev: Evidence) -> str:
    """Why an item could not be checked, on one line: its tools' errors (or "not checked" when none says why)."""
    return "; ".join(f"{e.source}: {e.message}" for e in ev.errors) or "not checked"


def result_dict(r: Result) -> dict[str, Any]:
    ev, c = r.evidence, r.classification
    raw = name_bytes(ev.target)
    return {
        "target": display_path(ev.target),
        **({"target_bytes": raw} if raw else {}),
        "media_type": ev.media_type,
        "kind": ev.kind,
        "size": ev.size,
        "sha256": ev.sha256,
        "status": r.status.value,
        "ai": _ai(c),
        "c2pa": _c2pa(ev),
        "training": {"status": c.training.value, "evidence": [t.__dict__ for t in c.training_evidence]},
        "conflicts": [
            {"winner": _decision(x.winner), "other": _decision(x.other), "message": x.message} for x in c.conflicts
        ],
        "findings": [
            {
                "policy": f.policy,
                "rule": f.rule,
                "status": f.status.value,
                "level": f.level,
                "message": f.message,
                "reference": f.reference,
                "remediation": f.remediation,
                **({"waiver": _waiver(f.waiver)} if f.waiver else {}),
            }
            for f in r.findings
        ],
        "labels": [labels.record_dict(x) for x in r.labels],
        "signals": [
            {"source": s.source, "kind": s.kind.value, "key": s.key, "value": s.value, "location": s.location}
            for s in ev.signals
        ],
        "errors": [{"source": e.source, "message": display_path(e.message)} for e in ev.errors],
        "notes": list(ev.notes),
        **({"pixels": _pixels(ev.pixels)} if ev.pixels is not None else {}),
    }


def _pixels(p: PixelScan) -> dict[str, Any]:
    return {
        "width": p.width,
        "height": p.height,
        "frame_times": list(p.times),
        "duration": p.duration,
        "engine": p.engine,
        "watermarks_looked_for": list(p.watermarks),
        "error": p.error,
    }


class Tally:
    """Summary counts kept as results stream past (nothing else is kept)."""

    def __init__(self) -> None:
        self.status: Counter[str] = Counter()
        self.ai: Counter[str] = Counter()
        self.waived = 0  # items with a waived finding

    def add(self, r: Result) -> None:
        self._count(r.status.value, r.classification.status.value, any(f.waiver for f in r.findings))

    def add_stream(self, s: StreamResult) -> None:
        """A stream is counted as an item: its status, and the AI status of the stream as a whole."""
        judged = s.result
        ai = judged.classification.status.value if judged is not None else "unknown"
        self._count(s.status.value, ai, judged is not None and any(f.waiver for f in judged.findings))

    def add_document(self, doc: dict[str, Any]) -> None:
        """A result already written (a jsonl line read back to resume a run)."""
        self._count(doc["status"], doc["ai"]["status"], any("waiver" in f for f in doc.get("findings", [])))

    def _count(self, status: str, ai: str, waived: bool) -> None:
        self.status[status] += 1
        self.ai[ai] += 1
        self.waived += waived

    @property
    def total(self) -> int:
        return sum(self.status.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "pass": self.status.get("pass", 0),
            "fail": self.status.get("fail", 0),
            "error": self.status.get("error", 0),
            "waived": self.waived,
            "ai_status": {
                k: self.ai.get(k, 0) for k in ("fully_ai", "made_with_ai", "possibly_ai", "not_ai", "unknown")
            },
        }

    def exit_code(self) -> int:
        """1 when any item fails, else 5 when any item could not be checked, else 0."""
        if self.status.get("fail"):
            return EXIT_NONCOMPLIANT
        if self.status.get("error"):
            return EXIT_ITEM_ERROR
        return EXIT_OK


def _tally(results: tuple[Result, ...] | list[Result], streams: tuple[StreamResult, ...] = ()) -> Tally:
    t = Tally()
    for r in results:
        t.add(r)
    for s in streams:
        t.add_stream(s)
    return t


def summary(results: tuple[Result, ...] | list[Result], streams: tuple[StreamResult, ...] = ()) -> dict[str, Any]:
    """The counts of a report: its items, and its streams when given (as to_dict and exit_code count them)."""
    return _tally(results, streams).to_dict()


def stream_dict(s: StreamResult) -> dict[str, Any]:
    judged = {}
    if s.result is not None:
        whole = result_dict(s.result)
        judged = {"ai": whole["ai"], "findings": whole["findings"], "labels": whole["labels"]}
    return judged | {
        "target": display_path(s.target),
        "kind": s.kind,
        "status": s.status.value,
        "errors": list(s.errors),
        "renditions": [
            {
                "name": r.name,
                "bandwidth": r.bandwidth,
                "init": r.init,
                "manifest_label": r.manifest_label,
                "tags_label": r.tags_label,
                "total_segments": r.total_segments,
                "findings": list(r.findings),
                "segments": [
                    {
                        "sequence": g.sequence,
                        "uri": g.uri,
                        "start": g.start,
                        "duration": g.duration,
                        "state": g.state,
                        "failures": list(g.failures),
                        "label": g.label,
                        "label_source": g.label_source,
                        "errors": list(g.errors),
                        "status": g.status,
                        "failed_rules": list(g.failed_rules),
                    }
                    for g in r.segments
                ],
            }
            for r in s.renditions
        ],
    }


def to_dict(report: Report) -> dict[str, Any]:
    extra = {"streams": [stream_dict(s) for s in report.streams]} if report.streams else {}
    return extra | {
        "schema_version": SCHEMA_VERSION,
        "tool": {
            "name": "labelcheck",
            "version": report.tool_version,
            "c2pa_sdk": report.c2pa_sdk,
            "exiftool": report.exiftool_version,
        },
        "generated_at": report.generated_at,
        "as_of": report.as_of,
        "fail_on": report.fail_on,
        "policies": [
            {"id": p.id, "title": p.title, "source": p.source, "rules": list(p.rules)} for p in report.policies
        ],
        "summary": summary(report.results, report.streams),
        "results": [result_dict(r) for r in report.results],
    }


def validate(doc: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `doc` is not a valid report."""
    import jsonschema  # imported when a report is validated, not when the package is

    error = jsonschema.exceptions.best_match(resources.validator("report").iter_errors(doc))
    if error is not None:
        raise error


def exit_code(report: Report) -> int:
    """1 when any item or stream fails, else 5 when any could not be checked, else 0 (the summary's counts)."""
    return _tally(report.results, report.streams).exit_code()
