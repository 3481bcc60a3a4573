"""SARIF 2.1.0 renderer: failed rules as results (waived ones as suppressed results), for code-scanning UIs."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from ..inputs.targets import is_remote
from ..model import Report, Waiver
from .document import display_path, errors_line, unread

LEVELS = {"error": "error", "warning": "warning", "info": "note"}
READ_RULE: dict[str, Any] = {
    "id": "labelcheck/read",
    "name": "read",
    "shortDescription": {"text": "the item could be read and checked"},
    "fullDescription": {"text": "A tool (C2PA, exiftool, ffprobe) could not read the item: its label is unknown."},
    "properties": {"policy": "labelcheck"},
}


def _uri(target: str) -> str:
    if is_remote(target):  # a remote item, or a stream: its URL already is one
        return target
    path = display_path(target)
    return "file://" + quote(path) if PurePosixPath(path).is_absolute() else quote(path)


def _suppressed(w: Waiver | None) -> dict[str, Any]:
    """A waived finding stays in the log as a result with an accepted external suppression (code scanning shows it
    as dismissed, with the reason)."""
    if w is None:
        return {}
    return {"suppressions": [{"kind": "external", "status": "accepted", "justification": w.text}]}


def render(report: Report) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for r in report.results:
        for f in r.findings:
            if f.status.value not in ("fail", "error", "waived"):
                continue
            rid = f"{f.policy}/{f.rule}"
            rules.setdefault(
                rid,
                {
                    "id": rid,
                    "name": f.rule,
                    "shortDescription": {"text": f"{f.rule} ({f.policy})"},
                    "fullDescription": {"text": f.reference or f.rule},
                    "properties": {"policy": f.policy},
                },
            )
            text = f.message + (f" Fix: {f.remediation}" if f.remediation else "")
            results.append(
                {
                    "ruleId": rid,
                    "level": "error" if f.status.value == "error" else LEVELS[f.level],
                    "kind": "fail",
                    "message": {"text": display_path(text)},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(r.evidence.target)}}}],
                    "properties": {"ai_status": r.classification.status.value, "sha256": r.evidence.sha256},
                }
                | _suppressed(f.waiver)
            )
        if unread(r):  # a result of its own, as the GitHub renderer gives it
            rules.setdefault(READ_RULE["id"], READ_RULE)
            results.append(
                {
                    "ruleId": READ_RULE["id"],
                    "level": "warning",
                    "kind": "fail",
                    "message": {"text": display_path(f"Could not be checked: {errors_line(r.evidence)}")},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(r.evidence.target)}}}],
                    "properties": {"ai_status": r.classification.status.value, "sha256": r.evidence.sha256},
                }
            )
    for st in report.streams:
        problems = [(rend.name, f) for rend in st.renditions for f in rend.findings] + [
            ("playlist", e) for e in st.errors
        ]
        for name, text in problems:
            rules.setdefault(
                "stream/continuity",
                {
                    "id": "stream/continuity",
                    "name": "continuity",
                    "shortDescription": {"text": "provenance and label continuity along a stream's timeline"},
                    "fullDescription": {"text": "every segment carries a valid manifest and the label does not change"},
                    "properties": {"policy": "stream"},
                },
            )
            results.append(
                {
                    "ruleId": "stream/continuity",
                    "level": "error" if st.status.value == "error" else "warning",
                    "kind": "fail",
                    "message": {"text": f"{name}: {text}"},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(st.target)}}}],
                }
            )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "labelcheck",
                        "version": report.tool_version,
                        "rules": sorted(rules.values(), key=lambda x: x["id"]),
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
