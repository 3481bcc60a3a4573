"""JSONL renderer: a run line, one line per result (written as results arrive), a summary line."""

from __future__ import annotations

import json
from typing import Any

from ..model import Report, Result, StreamResult
from .document import SCHEMA_VERSION, result_dict, stream_dict, summary, to_dict


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def header_line(report: Report) -> str:
    """The first line: what ran, when, against which policies (a report without results)."""
    head = to_dict(report)
    head.pop("results")
    head.pop("summary")
    head.pop("streams", None)
    return _line({"type": "run", **head})


def result_line(result: Result) -> str:
    return _line({"type": "result", **result_dict(result)})


def summary_line(counts: dict[str, Any]) -> str:
    return _line({"type": "summary", "schema_version": SCHEMA_VERSION, **counts})


def stream_line(stream: StreamResult) -> str:
    return _line({"type": "stream", **stream_dict(stream)})


def render(report: Report) -> str:
    body = "".join(map(result_line, report.results)) + "".join(map(stream_line, report.streams))
    return header_line(report) + body + summary_line(summary(report.results, report.streams))  # as exit_code counts
