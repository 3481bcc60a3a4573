"""What the server shows besides JSON: the Prometheus metrics text and the HTML dashboard, from the watcher's state."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ..state import State
from ..watch import Watcher

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the Prometheus text format generate_latest() writes
ITEMS_HELP = "Items by result status (pass/fail/error) or queue state."
QUEUE_HELP = "Items waiting to be checked."
LATENCY_HELP = "From queued to reported."
RESTARTS_HELP = "Restarted processes: workers (hang, crash), exiftool (deadline, exit)."


class ServiceCollector(Collector):
    """The service's own metrics, read from the state database and the worker pool at each scrape (so the values
    are those of that moment, not counters kept on the side). `state` gives the calling thread's connection."""

    def __init__(self, state: Callable[[], State], watcher: Watcher) -> None:
        self.state = state
        self.watcher = watcher

    def describe(self) -> Iterator[Metric]:  # the names, for the registry's duplicate check; no database read
        yield GaugeMetricFamily("labelcheck_items", ITEMS_HELP, labels=["status"])
        yield GaugeMetricFamily("labelcheck_queue_depth", QUEUE_HELP)
        yield HistogramMetricFamily("labelcheck_check_latency_seconds", LATENCY_HELP)
        yield CounterMetricFamily("labelcheck_tool_restarts", RESTARTS_HELP, labels=["tool"])

    def collect(self) -> Iterator[Metric]:
        state = self.state()
        items = GaugeMetricFamily("labelcheck_items", ITEMS_HELP, labels=["status"])
        for key, n in sorted(state.status_counts().items()):
            items.add_metric([key], n)
        yield items
        yield GaugeMetricFamily("labelcheck_queue_depth", QUEUE_HELP, value=state.counts()["queued"])
        lat = state.latencies()
        buckets = [(str(b), float(sum(1 for x in lat if x <= b))) for b in BUCKETS] + [("+Inf", float(len(lat)))]
        yield HistogramMetricFamily("labelcheck_check_latency_seconds", LATENCY_HELP, buckets, sum_value=sum(lat))
        pool = self.watcher.pool
        restarts = CounterMetricFamily("labelcheck_tool_restarts", RESTARTS_HELP, labels=["tool"])
        restarts.add_metric(["worker"], pool.restarts if pool else 0)
        restarts.add_metric(["exiftool"], pool.tool_restarts if pool else 0)
        yield restarts


def metrics_registry(state: Callable[[], State], watcher: Watcher) -> CollectorRegistry:
    """A registry of the server's own (not prometheus_client's global one): the service's metrics, and those of
    this process (CPU, memory, open files: ProcessCollector) and of the interpreter (PlatformCollector)."""
    registry = CollectorRegistry()
    registry.register(ServiceCollector(state, watcher))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def prometheus(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of `registry` (served as CONTENT_TYPE)."""
    return generate_latest(registry)


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
