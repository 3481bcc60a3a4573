"""CSV renderer: one row per item, for regulators' spreadsheets.

Some cells hold what a checked file says about itself (its name, its manifest's generator and signer). A spreadsheet
runs a cell that starts with = + - @ (or a tab or carriage return) as a formula, so such a cell is written with a
leading apostrophe, which spreadsheets show as text (OWASP's advice on CSV injection). The JSON reports carry the
values unchanged.

Every cell is quoted, so that a carriage return or line feed in a file's name stays in its cell (a reader gets the
name back) instead of ending the row. A name whose bytes are not UTF-8 is shown with \\xNN escapes in `target`, and
its bytes are in `target_bytes` (hex; empty for any other name), as in the JSON reports.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ..model import Report
from .document import display_path, name_bytes

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: object) -> object:
    """A text cell a spreadsheet would take for a formula, as text."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _row(w: Any, cells: list[object]) -> None:
    w.writerow([_inert(c) for c in cells])


COLUMNS = (
    "target",
    "media_type",
    "size",
    "sha256",
    "status",
    "ai_status",
    "ai_basis",
    "ai_specific",
    "c2pa_present",
    "validation_state",
    "c2pa_failures",
    "signer",
    "generator",
    "training",
    "conflicts",
    "failed_rules",
    "manual_review",
    "waived",
    "errors",
    "notes",
    "target_bytes",
)


def render(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writerow(COLUMNS)
    for r in report.results:
        ev, c, store = r.evidence, r.classification, r.evidence.c2pa
        active = store.manifest(store.active)
        _row(
            w,
            [
                display_path(ev.target),
                ev.media_type,
                ev.size,
                ev.sha256 or "",
                r.status.value,
                c.status.value,
                c.basis.value,
                str(c.specific).lower(),
                str(store.present).lower(),
                store.validation_state or "",
                ";".join(store.failures),
                active.signer if active and active.signer else "",
                (active.claim_generator or ";".join(active.generator_info)) if active else "",
                c.training.value,
                len(c.conflicts),
                ";".join(f"{f.policy}/{f.rule}" for f in r.findings if f.status.value == "fail"),
                ";".join(f"{f.policy}/{f.rule}" for f in r.findings if f.status.value == "manual_review"),
                ";".join(f"{f.policy}/{f.rule}" for f in r.findings if f.status.value == "waived"),
                " | ".join(display_path(f"{e.source}: {e.message}") for e in ev.errors),
                " | ".join(ev.notes),
                name_bytes(ev.target) or "",
            ],
        )
    for st in report.streams:  # one row per stream rendition: its timeline summarised
        for rend in st.renditions or ():
            valid = sum(1 for g in rend.segments if g.state in ("Valid", "Trusted"))
            row = dict.fromkeys(COLUMNS, "")
            row |= {
                "target": f"{display_path(st.target)}#{rend.name}",
                "media_type": f"stream/{st.kind}",
                "status": st.status.value,
                "ai_status": rend.manifest_label,
                "validation_state": f"{valid}/{len(rend.segments)} segments valid",
                "failed_rules": " | ".join(rend.findings),
            }
            _row(w, [row[c] for c in COLUMNS])
        if not st.renditions:
            row = dict.fromkeys(COLUMNS, "")
            row |= {
                "target": display_path(st.target),
                "media_type": f"stream/{st.kind}",
                "status": st.status.value,
                "errors": " | ".join(st.errors),
            }
            _row(w, [row[c] for c in COLUMNS])
    return buf.getvalue()
