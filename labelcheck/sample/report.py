"""The sample's report and its renderers, pure functions `SampleReport -> str`: JSON
(schemas/sample-report.schema.json), CSV (one row per sampled item; `prevalence_csv` for the table) and one
self-contained HTML page (no external assets).

CSV cells a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) are written with
a leading apostrophe (OWASP's advice on CSV injection), as `labelcheck check` does; every cell is quoted. The JSON
carries the values unchanged. The HTML escapes every value, and shows control characters as \\xNN.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass
from typing import Any

from ..render.document import display_path, printable
from .stats import OUTCOME_TEXT, OUTCOMES, Estimate, Group, Method, PrevalenceTable
from .types import HostTdm

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class DrawInfo:
    """How the sample was drawn: `margin` is None when the operator gave the size rather than a margin of error."""

    method: Method
    seed: int
    size: int  # the number of items drawn
    margin: float | None
    confidence: float
    formula: str  # stats.sample_size_formula(...), or how the size was chosen


@dataclass(frozen=True)
class ItemRow:
    """One sampled item, as checked."""

    url: str
    page: str  # the page it was found on
    stratum: str
    outcome: str  # one of stats.OUTCOMES
    ai_status: str = ""  # the classification's status (fully_ai, made_with_ai, possibly_ai, not_ai, unknown)
    basis: str = ""  # the classification's basis
    reasons: str = ""  # short text: why
    page_labels: str = ""  # short text: what the page says about it
    error: str = ""  # why it could not be checked


@dataclass(frozen=True)
class SampleReport:
    tool_version: str
    generated_at: str  # ISO 8601 date-time
    seeds: tuple[str, ...]  # the crawl's seeds (sitemaps, feeds, pages)
    operator: str
    policies: tuple[str, ...]  # the policy ids applied to each item
    frame_size: int
    draw: DrawInfo
    prevalence: PrevalenceTable
    items: tuple[ItemRow, ...]
    hosts: tuple[HostTdm, ...] = ()
    findings: tuple[str, ...] = ()  # e.g. a training reservation that conflicts with the host's


# JSON ---------------------------------------------------------------------------------------------------------------


def _estimate(e: Estimate) -> dict[str, Any]:
    return {"outcome": e.outcome, "count": e.count, "proportion": e.proportion, "low": e.low, "high": e.high}


def _group(g: Group) -> dict[str, Any]:
    return {
        "name": g.name,
        "population": g.population,
        "sample": g.sample,
        "interval": g.interval,
        "estimates": [_estimate(e) for e in g.estimates],
    }


def _host(h: HostTdm) -> dict[str, Any]:
    return {
        "host": h.host,
        "robots_found": h.robots_found,
        "reserved": h.reserved,
        "agents": [
            {
                "agent": a.agent,
                "purpose": a.purpose,
                "allowed_root": a.allowed_root,
                "disallowed_everything": a.disallowed_everything,
                "own_group": a.own_group,
            }
            for a in h.agents
        ],
        "tdmrep": [{"location": loc, "reservation": res, "policy": pol} for loc, res, pol in h.tdmrep],
        "headers": [{"name": n, "value": v} for n, v in h.headers],
        "meta": [{"name": n, "value": v} for n, v in h.meta],
        "notes": list(h.notes),
    }


def to_dict(r: SampleReport) -> dict[str, Any]:
    """The report as JSON-ready data, valid against schemas/sample-report.schema.json."""
    p = r.prevalence
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "labelcheck", "version": r.tool_version},
        "generated_at": r.generated_at,
        "operator": r.operator,
        "seeds": list(r.seeds),
        "policies": list(r.policies),
        "frame_size": r.frame_size,
        "draw": {
            "method": r.draw.method,
            "seed": r.draw.seed,
            "size": r.draw.size,
            "margin": r.draw.margin,
            "confidence": r.draw.confidence,
            "formula": r.draw.formula,
        },
        "prevalence": {
            "confidence": p.confidence,
            "method": p.method,
            "outcomes": {o: OUTCOME_TEXT[o] for o in OUTCOMES},
            "overall": _group(p.overall),
            "strata": [_group(g) for g in p.strata],
            "notes": list(p.notes),
        },
        "items": [
            {
                "url": i.url,
                "page": i.page,
                "stratum": i.stratum,
                "outcome": i.outcome,
                "ai_status": i.ai_status,
                "basis": i.basis,
                "reasons": i.reasons,
                "page_labels": i.page_labels,
                "error": i.error,
            }
            for i in r.items
        ],
        "hosts": [_host(h) for h in r.hosts],
        "findings": list(r.findings),
    }


def to_json(r: SampleReport) -> str:
    return json.dumps(to_dict(r), indent=2, ensure_ascii=False) + "\n"


# CSV ----------------------------------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ITEM_COLUMNS = ("url", "page", "stratum", "outcome", "ai_status", "basis", "reasons", "page_labels", "error")
PREVALENCE_COLUMNS = ("group", "population", "sample", "interval", "outcome", "count", "proportion", "low", "high")


def _inert(value: object) -> object:
    """A text cell a spreadsheet would take for a formula, as text."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _csv(header: tuple[str, ...], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writerow(header)
    w.writerows([_inert(c) for c in row] for row in rows)
    return buf.getvalue()


def to_csv(r: SampleReport) -> str:
    """One row per sampled item, columns ITEM_COLUMNS."""
    return _csv(ITEM_COLUMNS, [[getattr(i, c) for c in ITEM_COLUMNS] for i in r.items])


def prevalence_csv(r: SampleReport) -> str:
    """The prevalence table, one row per group (overall, then each stratum) and outcome, columns PREVALENCE_COLUMNS;
    `proportion` is empty for a group with no sampled item."""
    p = r.prevalence
    rows: list[list[object]] = [
        [
            g.name,
            g.population,
            g.sample,
            g.interval,
            e.outcome,
            e.count,
            "" if e.proportion is None else e.proportion,
            e.low,
            e.high,
        ]
        for g in (p.overall, *p.strata)
        for e in g.estimates
    ]
    return _csv(PREVALENCE_COLUMNS, rows)


# HTML ---------------------------------------------------------------------------------------------------------------

COLORS = {
    "labelled_fully_ai": "#6a1b9a",
    "labelled_made_with_ai": "#1565c0",
    "ai_without_standard_label": "#f9a825",
    "provenance_broken": "#c62828",
    "no_signal": "#2e7d32",
    "could_not_check": "#757575",
}

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em}.meta{color:#555;margin-bottom:1em}
table{border-collapse:collapse;width:100%;margin-top:.6em;table-layout:fixed}td{overflow-wrap:anywhere}
th,td{border-bottom:1px solid #eee;padding:.35em .5em;text-align:left;vertical-align:top}th{background:#fafafa}
.mono{font-family:ui-monospace,monospace;font-size:12px}.chart{margin:.4em 0 1em}ul{margin:.2em 0;padding-left:1.2em}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.4em;vertical-align:middle}
"""

BAR_WIDTH, LABEL_WIDTH, ROW_HEIGHT = 320, 190, 22


def _e(text: object) -> str:
    """Text for the page: escaped, with stray bytes and control characters as \\xNN."""
    return html.escape(printable(display_path(str(text))), quote=True)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _link(url: str) -> str:
    """A URL as a link when it is http(s) (never javascript: or data:), else as text."""
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{_e(url)}" rel="noreferrer noopener">{_e(url)}</a>'
    return _e(url)


def _bar(e: Estimate, y: int) -> str:
    """One outcome: its proportion as a bar, its interval as an error bar with caps."""
    x0, p = LABEL_WIDTH, e.proportion or 0.0
    lo, hi = x0 + round(BAR_WIDTH * e.low, 1), x0 + round(BAR_WIDTH * e.high, 1)
    mid = y + 8
    text = f"{e.outcome}: {_pct(e.proportion)} ({_pct(e.low)} to {_pct(e.high)}), {e.count} in the sample"
    return (
        f'<g><title>{_e(text)}</title><text x="0" y="{y + 12}" font-size="12">{_e(e.outcome)}</text>'
        f'<rect x="{x0}" y="{y}" width="{round(BAR_WIDTH * p, 1)}" height="16" fill="{COLORS[e.outcome]}"/>'
        f'<line x1="{lo}" y1="{mid}" x2="{hi}" y2="{mid}" stroke="#000"/>'
        f'<line x1="{lo}" y1="{y + 3}" x2="{lo}" y2="{y + 13}" stroke="#000"/>'
        f'<line x1="{hi}" y1="{y + 3}" x2="{hi}" y2="{y + 13}" stroke="#000"/>'
        f'<text x="{x0 + BAR_WIDTH + 8}" y="{y + 12}" font-size="12">{_e(_pct(e.proportion))} '
        f"[{_e(_pct(e.low))}, {_e(_pct(e.high))}]</text></g>"
    )


def _chart(g: Group) -> str:
    """A horizontal bar chart of each outcome's proportion, with its interval, on a 0-100 % axis."""
    bars = [_bar(e, i * ROW_HEIGHT) for i, e in enumerate(g.estimates)]
    top = len(bars) * ROW_HEIGHT
    ticks = "".join(
        f'<line x1="{LABEL_WIDTH + BAR_WIDTH * t / 4}" y1="0" x2="{LABEL_WIDTH + BAR_WIDTH * t / 4}" y2="{top}" '
        f'stroke="#ddd"/><text x="{LABEL_WIDTH + BAR_WIDTH * t / 4}" y="{top + 14}" font-size="11" '
        f'text-anchor="middle">{25 * t} %</text>'
        for t in range(5)
    )
    return (
        f'<svg class="chart" role="img" aria-label="{_e(g.name)}: proportion of each outcome with its interval" '
        f'width="{LABEL_WIDTH + BAR_WIDTH + 200}" height="{top + 20}" xmlns="http://www.w3.org/2000/svg">'
        f"{ticks}{''.join(bars)}</svg>"
    )


def _group_section(g: Group, confidence: float) -> str:
    rows = "".join(
        f"<tr><td><span class='swatch' style='background:{COLORS[e.outcome]}'></span>{_e(e.outcome)}</td>"
        f"<td>{e.count}</td><td>{_e(_pct(e.proportion))}</td><td>{_e(_pct(e.low))} to {_e(_pct(e.high))}</td></tr>"
        for e in g.estimates
    )
    return (
        f"<h3>{_e(g.name)}: {g.sample} sampled of {g.population} <span class='meta'>({_e(g.interval)}, "
        f"{_e(f'{100 * confidence:g}')} % intervals)</span></h3>{_chart(g)}"
        f"<table><thead><tr><th>outcome</th><th>count</th><th>proportion</th><th>interval</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _items(r: SampleReport) -> str:
    rows = "".join(
        f"<tr><td class='mono'>{_link(i.url)}</td><td class='mono'>{_link(i.page)}</td><td>{_e(i.stratum)}</td>"
        f"<td>{_e(i.outcome)}</td><td>{_e(i.ai_status)}<br><span class='meta'>{_e(i.basis)}</span></td>"
        f"<td>{_e(i.reasons)}</td><td>{_e(i.page_labels)}</td><td>{_e(i.error)}</td></tr>"
        for i in r.items
    )
    return (
        "<table><thead><tr><th>item</th><th>page</th><th>stratum</th><th>outcome</th><th>AI status</th>"
        f"<th>reasons</th><th>page labels</th><th>error</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _hosts(hosts: tuple[HostTdm, ...]) -> str:
    def agents(h: HostTdm) -> str:
        return "".join(
            f"<li>{_e(a.agent)} ({_e(a.purpose)}): "
            f"{'disallowed' if a.disallowed_everything else 'root allowed' if a.allowed_root else 'root disallowed'}"
            f"{'' if a.own_group else ' (via *)'}</li>"
            for a in h.agents
        )

    def pairs(values: tuple[tuple[str, str], ...]) -> str:
        return "".join(f"<li>{_e(n)}: {_e(v)}</li>" for n, v in values)

    rows = "".join(
        f"<tr><td class='mono'>{_e(h.host)}</td><td>{_e(h.reserved)}</td>"
        f"<td>{'found' if h.robots_found else 'none'}<ul>{agents(h)}</ul></td>"
        f"<td><ul>{''.join(f'<li>{_e(loc)}: {_e(res)} {_e(pol)}</li>' for loc, res, pol in h.tdmrep)}</ul></td>"
        f"<td><ul>{pairs(h.headers)}{pairs(h.meta)}</ul></td><td><ul>{''.join(f'<li>{_e(n)}</li>' for n in h.notes)}"
        "</ul></td></tr>"
        for h in hosts
    )
    return (
        "<table><thead><tr><th>host</th><th>TDM reserved</th><th>robots.txt</th><th>tdmrep.json</th>"
        f"<th>headers and meta</th><th>notes</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _list(values: tuple[str, ...] | list[str], empty: str) -> str:
    return "<ul>" + ("".join(f"<li>{_e(v)}</li>" for v in values) or f"<li>{_e(empty)}</li>") + "</ul>"


def to_html(r: SampleReport) -> str:
    """One self-contained page: no script, no external asset (item URLs are plain links, never loaded)."""
    p, d = r.prevalence, r.draw
    margin = "size given" if d.margin is None else f"margin ±{_pct(d.margin)}"
    legend = "".join(
        f"<li><span class='swatch' style='background:{COLORS[o]}'></span><b>{_e(o)}</b>: {_e(OUTCOME_TEXT[o])}</li>"
        for o in OUTCOMES
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>labelcheck sample report</title><style>{STYLE}</style></head>
<body>
<h1>labelcheck sample report</h1>
<div class="meta">generated {_e(r.generated_at)} · labelcheck {_e(r.tool_version)} · operator {_e(r.operator)} ·
policies {_e(", ".join(r.policies) or "labelcheck-default")}</div>
<h2>Design</h2>
<ul><li>frame: {r.frame_size} items; seeds:</li>{_list(r.seeds, "none")}
<li>draw: {_e(d.method)} random sample of {d.size}, seed {_e(d.seed)}; {_e(margin)} at {_e(_pct(d.confidence))}
confidence</li><li>sample size: {_e(d.formula)}</li></ul>
<h2>Outcomes</h2><ul>{legend}</ul>
<h2>Prevalence</h2>
{_list(p.notes, "no notes")}
{_group_section(p.overall, p.confidence)}
{"".join(_group_section(g, p.confidence) for g in p.strata)}
<h2>Findings</h2>
{_list(r.findings, "no findings")}
<h2>Sampled items</h2>
{_items(r)}
<h2>Hosts: text and data mining reservations</h2>
{_hosts(r.hosts)}
</body></html>
"""
