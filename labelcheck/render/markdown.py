"""Markdown renderer: a CI step summary (counts, then the items that fail or could not be checked)."""

from __future__ import annotations

from ..model import Report
from ..report import display_path, summary

MAX_ROWS = 200


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: Report) -> str:
    s = summary(report.results)
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
            target = _cell(display_path(r.evidence.target))
            fails = [f for f in r.findings if f.status.value in ("fail", "error") and f.level != "info"]
            rows = [(f"{f.policy}/{f.rule}", f.message) for f in fails] or [
                ("read", "; ".join(f"{e.source}: {e.message}" for e in r.evidence.errors))
            ]
            for rule, message in rows:
                lines.append(
                    f"| {r.status.value} | `{target}` | {r.classification.status.value} | `{rule}` | "
                    f"{_cell(display_path(message))} |"
                )
        if len(bad) > MAX_ROWS:
            lines.append(f"\n… and {len(bad) - MAX_ROWS} more items (see the full report).")
    waived = [(r, f) for r in report.results for f in r.findings if f.waiver]
    if waived:
        lines += ["", f"Waived findings, on {s['waived']} of the items:", ""]
        lines += [
            f"- `{_cell(display_path(r.evidence.target))}` `{f.policy}/{f.rule}`: {_cell(f.waiver.text)}"
            for r, f in waived[:MAX_ROWS]
            if f.waiver
        ]
    for st in report.streams:
        lines += ["", f"### Stream `{_cell(display_path(st.target))}` ({st.kind}): **{st.status.value}**", ""]
        lines += [f"- error: {_cell(e)}" for e in st.errors]
        if st.result is not None:
            lines += [
                f"- `{f.policy}/{f.rule}` ({f.level}): {_cell(f.message)}"
                for f in st.result.findings
                if f.status.value in ("fail", "error")
            ]
        for rend in st.renditions:
            lines.append(
                f"- rendition `{rend.name}`: {len(rend.segments)} of {rend.total_segments} segments checked; "
                f"manifest declares {rend.manifest_label}"
            )
            lines += [f"  - {_cell(finding)}" for finding in rend.findings]
    return "\n".join(lines) + "\n"
