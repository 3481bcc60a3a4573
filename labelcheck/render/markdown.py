"""Markdown renderer: a CI step summary (counts, then the items that fail or could not be checked).

What an item says about itself (its name, metadata quoted in a message, a signer's name) is text chosen by whoever
made the file, so it is written as literal text: HTML and Markdown markup in it is escaped (a CI summary renders
links, images and HTML), and a code span's fence is longer than any run of backticks inside it.
"""

from __future__ import annotations

import re

from ..model import Report
from .document import display_path, summary

MAX_ROWS = 200


_MARKUP = re.compile(r"([\\`*_\[\]<>|~])")  # what starts emphasis, code, links, HTML or a table cell


def _cell(text: str) -> str:
    """Literal text in a table cell or list item."""
    return _MARKUP.sub(r"\\\1", text.replace("&", "&amp;")).replace("\r", " ").replace("\n", " ")


def _code(text: str, cell: bool = False) -> str:
    """A code span holding `text` literally (in a table cell, a pipe still needs its backslash)."""
    text = text.replace("\r", " ").replace("\n", " ")
    text = text.replace("|", "\\|") if cell else text
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render(report: Report) -> str:
    s = summary(report.results, report.streams)
    policies = ", ".join(f"`{p.id}`" for p in report.policies) or "`labelcheck-default`"
    lines = [
        "## labelcheck",
        "",
        f"{s['total']} items checked against {policies} (as of {report.as_of or '-'}, fail on {report.fail_on}): "
        f"**{s['pass']} pass, {s['fail']} fail, {s['error']} could not be checked**"
        + (f" ({s['waived']} with waived findings)." if s["waived"] else "."),
        "",
        "| AI status | items |",
        "| --- | ---: |",
        *(f"| {k} | {v} |" for k, v in s["ai_status"].items()),
        "",
    ]
    bad = [r for r in report.results if r.status.value != "pass"]
    if bad:
        lines += ["| status | item | AI status | rule | message |", "| --- | --- | --- | --- | --- |"]
        for r in bad[:MAX_ROWS]:
            target = _code(display_path(r.evidence.target), cell=True)
            fails = [f for f in r.findings if f.status.value in ("fail", "error") and f.level != "info"]
            rows = [(f"{f.policy}/{f.rule}", f.message) for f in fails] or [
                ("read", "; ".join(f"{e.source}: {e.message}" for e in r.evidence.errors))
            ]
            for rule, message in rows:
                lines.append(
                    f"| {r.status.value} | {target} | {r.classification.status.value} | {_code(rule, cell=True)} | "
                    f"{_cell(display_path(message))} |"
                )
        if len(bad) > MAX_ROWS:
            lines.append(f"\n… and {len(bad) - MAX_ROWS} more items (see the full report).")
    waived = [(r, f) for r in report.results for f in r.findings if f.waiver]
    if waived:
        lines += ["", f"Waived findings, on {s['waived']} of the items:", ""]
        lines += [
            f"- {_code(display_path(r.evidence.target))} {_code(f'{f.policy}/{f.rule}')}: {_cell(f.waiver.text)}"
            for r, f in waived[:MAX_ROWS]
            if f.waiver
        ]
    for st in report.streams:
        lines += ["", f"### Stream {_code(display_path(st.target))} ({st.kind}): **{st.status.value}**", ""]
        lines += [f"- error: {_cell(e)}" for e in st.errors]
        if st.result is not None:
            lines += [
                f"- {_code(f'{f.policy}/{f.rule}')} ({f.level}): {_cell(f.message)}"
                for f in st.result.findings
                if f.status.value in ("fail", "error")
            ]
        for rend in st.renditions:
            lines.append(
                f"- rendition {_code(rend.name)}: {len(rend.segments)} of {rend.total_segments} segments checked; "
                f"manifest declares {rend.manifest_label}"
            )
            lines += [f"  - {_cell(finding)}" for finding in rend.findings]
    return "\n".join(lines) + "\n"
