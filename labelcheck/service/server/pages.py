"""What the server shows besides JSON: the Prometheus metrics text and the HTML dashboard, from the watcher's state."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from ..state import State
from ..watch import Watcher

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def prometheus(state: State, watcher: Watcher) -> str:
    lines = [
        "# HELP labelcheck_items Items by result status (pass/fail/error) or queue state.",
        "# TYPE labelcheck_items gauge",
    ]
    for key, n in sorted(state.status_counts().items()):
        lines.append(f'labelcheck_items{{status="{key}"}} {n}')
    counts = state.counts()
    lines += [
        "# HELP labelcheck_queue_depth Items waiting to be checked.",
        "# TYPE labelcheck_queue_depth gauge",
        f"labelcheck_queue_depth {counts['queued']}",
    ]
    lat = state.latencies()
    lines += [
        "# HELP labelcheck_check_latency_seconds From queued to reported.",
        "# TYPE labelcheck_check_latency_seconds histogram",
    ]
    for b in BUCKETS:
        lines.append(f'labelcheck_check_latency_seconds_bucket{{le="{b}"}} {sum(1 for x in lat if x <= b)}')
    lines += [
        f'labelcheck_check_latency_seconds_bucket{{le="+Inf"}} {len(lat)}',
        f"labelcheck_check_latency_seconds_sum {sum(lat):.6f}",
        f"labelcheck_check_latency_seconds_count {len(lat)}",
    ]
    pool = watcher.pool
    lines += [
        "# HELP labelcheck_tool_restarts_total Restarted processes: workers (hang, crash), exiftool (deadline, exit).",
        "# TYPE labelcheck_tool_restarts_total counter",
        f'labelcheck_tool_restarts_total{{tool="worker"}} {pool.restarts if pool else 0}',
        f'labelcheck_tool_restarts_total{{tool="exiftool"}} {pool.tool_restarts if pool else 0}',
    ]
    return "\n".join(lines) + "\n"


DASHBOARD_STYLE = """body{font:14px system-ui,sans-serif;margin:1.5em}.cards{display:flex;gap:1em}
.card{border:1px solid #ddd;border-radius:6px;padding:.5em 1em}.card b{display:block;font-size:1.5em}
table{border-collapse:collapse;margin-top:1em}td,th{border-bottom:1px solid #eee;padding:.3em .6em;text-align:left}
.pass{color:#2e7d32}.fail{color:#c62828}.error,.failed{color:#ef6c00}"""


def _dashboard_row(r: dict[str, Any]) -> str:
    e = html.escape
    shown = str(r["status"] or r["state"])
    link = f'<a href="/v1/checks/{r["id"]}/report.html">report</a>' if r["state"] == "done" else ""
    name = r["source"] or os.path.basename(str(r["path"]))  # a fetched item by its URL
    return (
        f'<tr><td>{r["id"]}</td><td class="{e(shown)}">{e(shown)}</td>'
        f"<td>{e(name)}</td><td>{e(str(r['updated_at']))}</td><td>{link}</td></tr>"
    )


def _fails_policy(report: Path, policy: str) -> bool:
    try:
        doc = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(f["policy"] == policy and f["status"] == "fail" for r in doc["results"] for f in r["findings"])


def dashboard_page(state: State, watcher: Watcher, status: str | None, policy: str | None) -> str:
    e = html.escape
    counts = state.status_counts()
    policies = [p.id for p in watcher.judge.policies]
    cards = "".join(
        f'<div class="card"><span>{e(k)}</span><b data-count="{e(k)}">{n}</b></div>' for k, n in sorted(counts.items())
    )
    page = state.page(status, None, 100, 0)
    if policy:  # items that fail a rule of this policy (read from their reports)
        page = [r for r in page if r["report"] and _fails_policy(Path(r["report"]), policy)]
    rows = "".join(_dashboard_row(r) for r in page)
    opts = "".join(
        f"<option{' selected' if s == status else ''}>{s}</option>"
        for s in ("pass", "fail", "error", "queued", "failed")
    )
    popts = "".join(f"<option{' selected' if p == policy else ''}>{e(p)}</option>" for p in policies)
    watching = e(", ".join(str(d) for d in watcher.opts.dirs) or "-")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>labelcheck dashboard</title>
<style>{DASHBOARD_STYLE}</style></head><body>
<h1>labelcheck</h1><p>policies: {e(", ".join(policies))} · watching {watching}</p>
<div class="cards" id="counts">{cards}</div>
<form method="get"><label>status <select name="status"><option value="">any</option>{opts}</select></label>
<label>policy <select name="policy"><option value="">any</option>{popts}</select></label> <button>filter</button></form>
<table><thead><tr><th>id</th><th>status</th><th>item</th><th>updated</th><th></th></tr></thead><tbody>{rows}</tbody>
</table></body></html>"""
