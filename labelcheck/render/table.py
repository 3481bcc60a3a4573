"""Table renderer: one row per item for a terminal, with a summary line."""

from __future__ import annotations

import io

from ..model import Report
from .document import display_path, printable, summary

_STYLE = {"pass": "green", "fail": "bold red", "error": "yellow"}


def render(report: Report, width: int = 160, color: bool = False) -> str:
    from rich.console import Console  # imported when a table is drawn: rich costs every other command ~50 ms
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_lines=False, expand=False)
    for col in ("status", "item", "AI status", "basis", "C2PA", "training", "detail"):
        table.add_column(col, overflow="fold")
    for r in report.results:
        c = r.classification
        fails = [f"{f.rule} ({f.level}): {f.message}" for f in r.findings if f.status.value in ("fail", "error")]
        fails += [f"{f.rule}: review by hand" for f in r.findings if f.status.value == "manual_review"]
        fails += [f"{f.rule}: {f.waiver.text}" for f in r.findings if f.waiver]
        parts = fails + [f"{e.source}: {e.message}" for e in r.evidence.errors] + list(r.evidence.notes)
        detail = escape(printable(display_path("; ".join(parts + [x.message for x in c.conflicts]))))
        c2 = r.evidence.c2pa
        state = c2.validation_state or ("present" if c2.present else "-")
        table.add_row(
            f"[{_STYLE[r.status.value]}]{r.status.value}[/]",
            escape(printable(display_path(r.evidence.target))),
            c.status.value,
            c.basis.value,
            state,
            c.training.value,
            detail or "",
        )
    s = summary(report.results)
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color, highlight=False)
    if report.results or not report.streams:
        console.print(table)
    console.print(f"{s['total']} items: {s['pass']} pass, {s['fail']} fail, {s['error']} error")
    for st in report.streams:
        console.print(f"stream {escape(printable(display_path(st.target)))} ({st.kind}): {st.status.value}")
        for e in st.errors:
            console.print(f"  error: {escape(printable(e))}")
        if st.result is not None:
            console.print(
                f"  as a whole: {st.result.classification.status.value} ({st.result.classification.basis.value})"
            )
            for f in st.result.findings:
                if f.status.value in ("fail", "error"):
                    console.print(
                        f"    {escape(f.policy)}/{escape(f.rule)} ({f.level}): {escape(printable(f.message))}"
                    )
        for rend in st.renditions:
            valid = sum(1 for seg in rend.segments if seg.state in ("Valid", "Trusted"))
            console.print(
                f"  {escape(rend.name)}: {len(rend.segments)}/{rend.total_segments} segments checked, {valid} with a "
                f"valid manifest; manifest declares {rend.manifest_label}"
            )
            for finding in rend.findings:
                console.print(f"    - {escape(finding)}")
    return buf.getvalue()
