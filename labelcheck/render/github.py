"""GitHub Actions renderer: workflow commands that annotate the job (an error per failed rule, a warning per rule
failed at warning level or item that could not be checked, a notice per rule left for review and a summary).

Printed to the job's log (`--report github=/dev/stdout`, or `cat` a file), they show next to the step and, for
files in the repository, on the file in the pull request; no code-scanning licence is needed, as SARIF's upload
would. Paths under the working directory are given relative to it, as GitHub expects."""

from __future__ import annotations

import os

from ..model import Report
from .document import display_path, errors_line, summary

KINDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _file(target: str) -> str:
    path = display_path(target)
    if not os.path.isabs(path):  # a URL, or a relative path: as it is
        return path
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _command(kind: str, target: str, title: str, message: str) -> str:
    return f"::{kind} file={_property(_file(target))},title={_property(title)}::{_data(message)}\n"


def render(report: Report) -> str:
    lines = []
    for r in report.results:
        target = r.evidence.target
        for f in r.findings:
            title = f"{f.policy}/{f.rule}"
            if f.status.value == "fail":
                fix = f" Fix: {f.remediation}" if f.remediation else ""
                lines.append(_command(KINDS[f.level], target, title, f"{f.message}{fix}"))
            elif f.status.value == "manual_review":
                lines.append(_command("notice", target, title, f"review by hand: {f.message}"))
        if r.status.value == "error":
            why = display_path(errors_line(r.evidence))
            lines.append(_command("warning", target, "labelcheck: could not be checked", why))
    for st in report.streams:  # a stream's continuity findings and errors, as SARIF gives them
        problems = [(rend.name, f) for rend in st.renditions for f in rend.findings] + [
            ("playlist", e) for e in st.errors
        ]
        kind = "error" if st.status.value == "error" else "warning"
        lines += [_command(kind, st.target, "stream/continuity", f"{name}: {text}") for name, text in problems]
    s = summary(report.results, report.streams)
    said = f"{s['total']} items: {s['pass']} pass, {s['fail']} fail, {s['error']} could not be checked"
    lines.append(f"::notice title=labelcheck::{_data(said)}\n")
    return "".join(lines)
