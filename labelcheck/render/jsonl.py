"""JSONL renderer: a run line, one line per result (written as results arrive), a summary line."""

from __future__ import annotations

import json
from typing import Any

from ..model import Report, Result
from ..report import SCHEMA_VERSION, result_dict, summary, to_dict


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def header_line(report: Report) -> str:
    """The first line: what ran, when, against which policies (a report without results)."""
    head = to_dict(report)
    head.pop("results")
    head.pop("summary")
    return _line({"type": "run", **head})


def result_line(result: Result) -> str:
    return _line({"type": "result", **result_dict(result)})


def summary_line(counts: dict[str, Any]) -> str:
    return _line({"type": "summary", "schema_version": SCHEMA_VERSION, **counts})


def render(report: Report) -> str:
    return header_line(report) + "".join(map(result_line, report.results)) + summary_line(summary(report.results))
