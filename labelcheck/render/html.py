"""HTML renderer: one self-contained page (no network): counts with a chart, a filterable row per item."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

from ..inputs.targets import is_remote
from ..model import Report, Result, StreamResult
from .document import display_path, printable, summary

COLORS = {"pass": "#2e7d32", "fail": "#c62828", "error": "#ef6c00"}
AI_COLORS = {
    "fully_ai": "#6a1b9a",
    "made_with_ai": "#1565c0",
    "possibly_ai": "#f9a825",
    "not_ai": "#2e7d32",
    "unknown": "#757575",
}

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}.meta{color:#555;margin-bottom:1em}
.cards{display:flex;gap:1em;flex-wrap:wrap;align-items:flex-end}.card{border:1px solid #ddd;border-radius:6px;
padding:.6em 1em;min-width:6em}.card b{display:block;font-size:1.6em}
table{border-collapse:collapse;width:100%;margin-top:1em;table-layout:fixed}td{overflow-wrap:anywhere}
th,td{border-bottom:1px solid #eee;padding:.35em .5em;
text-align:left;vertical-align:top}th{background:#fafafa;position:sticky;top:0}
.status{font-weight:600}.pass{color:#2e7d32}.fail{color:#c62828}.error{color:#ef6c00}.waived{color:#6a1b9a}
img.thumb{max-width:72px;max-height:72px;border:1px solid #ddd}details summary{cursor:pointer;color:#1565c0}
.filters{margin-top:1em;display:flex;gap:.6em;flex-wrap:wrap}.mono{font-family:ui-monospace,monospace;font-size:12px}
ul{margin:.2em 0;padding-left:1.2em}
"""

SCRIPT = """
(function(){
  var rows=[].slice.call(document.querySelectorAll('tbody tr'));
  var q=document.getElementById('q'), st=document.getElementById('fstatus'), ai=document.getElementById('fai');
  function apply(){
    var text=q.value.toLowerCase(), n=0;
    rows.forEach(function(r){
      var ok=(!st.value||r.dataset.status===st.value)&&(!ai.value||r.dataset.ai===ai.value)&&
             (!text||r.textContent.toLowerCase().indexOf(text)>=0);
      r.style.display=ok?'':'none'; if(ok) n++;
    });
    document.getElementById('shown').textContent=n;
  }
  [q,st,ai].forEach(function(e){e.addEventListener('input',apply);e.addEventListener('change',apply);});
  apply();
  document.body.setAttribute('data-ready','1');
})();
"""


def _e(text: object) -> str:
    """Text for the page: escaped, with stray bytes and control characters (a file's name, its metadata) as \\xNN."""
    return html.escape(printable(display_path(str(text))), quote=True)


def _chart(counts: Mapping[str, int], colors: Mapping[str, str], title: str) -> str:
    total = max(1, sum(counts.values()))
    width, y, bars = 320, 0, []
    for name, n in counts.items():
        w = round(width * n / total)
        bars.append(
            f'<g transform="translate(0,{y})"><rect width="{w}" height="16" fill="{colors.get(name, "#999")}">'
            f'<title>{_e(name)}: {n}</title></rect><text x="{w + 6}" y="12" font-size="12">{_e(name)} {n}'
            f"</text></g>"
        )
        y += 20
    return (
        f'<svg role="img" aria-label="{_e(title)}" width="{width + 140}" height="{y}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
    )


def _row(r: Result, thumb: str | None) -> str:
    ev, c, s = r.evidence, r.classification, r.evidence.c2pa
    findings = "".join(
        f"<li><span class='{_e(f.status.value)}'>{_e(f.status.value)}</span> <b>{_e(f.policy)}/{_e(f.rule)}</b> "
        f"({_e(f.level)}): {_e(f.message)}{'<br><i>fix: ' + _e(f.remediation) + '</i>' if f.remediation and f.status.value == 'fail' else ''}"  # noqa: E501
        f"{'<br><i>' + _e(f.waiver.text) + '</i>' if f.waiver else ''}</li>"
        for f in r.findings
        if f.status.value != "not_applicable"
    )
    evidence = "".join(
        f"<li>[{d.strength}] {_e(d.source)}: {_e(d.status.value)} ({_e(d.basis.value)}) – {_e(d.reason)}</li>"
        for d in c.evidence
    )
    problems = "".join(f"<li>{_e(e.source)}: {_e(e.message)}</li>" for e in ev.errors)
    problems += "".join(f"<li>{_e(x.message)}</li>" for x in c.conflicts)
    problems += "".join(f"<li>note: {_e(n)}</li>" for n in ev.notes)
    integrity = s.validation_state or ("remote" if s.remote_url else ("present" if s.present else "none"))
    img = f'<img class="thumb" alt="" src="{thumb}">' if thumb and thumb.startswith("data:") else ""
    if thumb and not img:  # a note from thumbnails.make: why the picture has none (too large to decode for one)
        img = f'<small class="meta">{_e(thumb)}</small>'
    name = f'<a href="{_e(ev.target)}">{_e(ev.target)}</a>' if is_remote(ev.target) else _e(ev.target)  # a sampled URL
    return (
        f'<tr data-status="{_e(r.status.value)}" data-ai="{_e(c.status.value)}">'
        f'<td class="status {_e(r.status.value)}">{_e(r.status.value)}</td><td>{img}</td>'
        f'<td class="mono">{name}<br><span class="meta">{_e(ev.media_type)}, {ev.size} bytes</span></td>'
        f"<td>{_e(c.status.value)}<br><span class='meta'>{_e(c.basis.value)}</span></td>"
        f"<td>{_e(integrity)}{'<br><span class=meta>' + _e(', '.join(s.failures)) + '</span>' if s.failures else ''}</td>"  # noqa: E501
        f"<td>{_e(c.training.value)}</td>"
        f"<td><ul>{findings or '<li>no findings</li>'}</ul>{'<ul>' + problems + '</ul>' if problems else ''}"
        f"<details><summary>evidence</summary><ul>{evidence or '<li>no AI declaration found</li>'}</ul></details></td>"
        "</tr>"
    )


def _stream_section(st: StreamResult) -> str:
    parts = [
        f'<h2>Stream <span class="mono">{_e(st.target)}</span> ({_e(st.kind)}): '
        f'<span class="{_e(st.status.value)}">{_e(st.status.value)}</span></h2>'
    ]
    parts += [f"<p class='error'>{_e(e)}</p>" for e in st.errors]
    for r in st.renditions:
        cells = "".join(
            f'<td title="{_e(g.uri)}{_e(chr(10) + ", ".join(g.failed_rules)) if g.failed_rules else ""}" '
            f'class="{"pass" if g.state in ("Valid", "Trusted") and g.status != "fail" else "fail"}">'
            f"{g.sequence}<br>{_e(g.label)}{'<br>' + _e(g.status) if g.status else ''}</td>"
            for g in r.segments[:500]
        )
        parts.append(
            f"<h3>{_e(r.name)}: manifest declares {_e(r.manifest_label)}; {len(r.segments)} of "
            f"{r.total_segments} segments checked</h3><table><tr>{cells}</tr></table>"
        )
        parts.append("<ul>" + "".join(f"<li>{_e(f)}</li>" for f in r.findings) + "</ul>")
    return "".join(parts)


def render(report: Report, thumbnails: Mapping[str, str] | None = None) -> str:
    """The page; `thumbnails` maps a target to a data: URI (made by thumbnails.make, outside the renderer)."""
    thumbnails = thumbnails or {}
    s = summary(report.results, report.streams)
    status_counts = {k: s[k] for k in ("pass", "fail", "error")}
    policies = ", ".join(p.id for p in report.policies) or "labelcheck-default"
    rows = "".join(_row(r, thumbnails.get(r.evidence.target)) for r in report.results)
    options_ai = "".join(f'<option value="{k}">{k}</option>' for k in AI_COLORS)
    data = json.dumps({"summary": s, "as_of": report.as_of}).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>labelcheck report</title><style>{STYLE}</style></head>
<body data-ready="0">
<h1>labelcheck report</h1>
<div class="meta">{s["total"]} items · policies {_e(policies)} · as of {_e(report.as_of)} ·
fail on {_e(report.fail_on)} · generated {_e(report.generated_at)} · labelcheck {_e(report.tool_version)},
c2pa-rs {_e(report.c2pa_sdk)},
exiftool {_e(report.exiftool_version or "-")}</div>
<div class="cards">
<div class="card pass">pass<b id="n-pass">{s["pass"]}</b></div>
<div class="card fail">fail<b id="n-fail">{s["fail"]}</b></div>
<div class="card error">could not check<b id="n-error">{s["error"]}</b></div>
{f'<div class="card waived">with waivers<b id="n-waived">{s["waived"]}</b></div>' if s["waived"] else ""}
<div>{_chart(status_counts, COLORS, "items by status")}</div>
<div>{_chart(s["ai_status"], AI_COLORS, "items by AI status")}</div>
</div>
<div class="filters">
<input id="q" type="search" placeholder="filter by text…" aria-label="filter by text">
<select id="fstatus" aria-label="status"><option value="">any status</option><option>pass</option>
<option>fail</option><option>error</option></select>
<select id="fai" aria-label="AI status"><option value="">any AI status</option>{options_ai}</select>
<span><span id="shown">{s["total"]}</span> shown</span>
</div>
<table><colgroup><col style="width:6em"><col style="width:84px"><col style="width:24%"><col style="width:8em">
<col style="width:9em"><col style="width:7em"><col></colgroup>
<thead><tr><th>status</th><th></th><th>item</th><th>AI status</th><th>C2PA</th><th>training</th>
<th>findings</th></tr></thead><tbody>
{rows}
</tbody></table>
{"".join(_stream_section(st) for st in report.streams)}
<script type="application/json" id="report-data">{data}</script>
<script>{SCRIPT}</script>
</body></html>
"""
