"""Table renderer: one row per item for a person at a terminal, then the items' errors, a summary line, the streams.

The table fits the width it is given (80 columns unless the command knows better). Items are named as the user
typed them (`shown`, from the command); a path too long for its column is broken after a '/', and only a name
longer than the whole column is shortened, in its middle, with '…'. The findings column names the rules to look
at; what they say is in `labelcheck explain` and the other formats. Each error an item met is printed once, below
the table. Everything a file or its metadata says is printed as text (rich Text, never markup), controls as \\xNN.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import FindingStatus, Report, Result
from .document import display_path, printable, summary

_STYLE = {"pass": "green", "fail": "bold red", "error": "yellow"}
WIDTH = 80  # when the caller does not say: a default terminal's width
MIN_WIDTH = 40  # the layout is not squeezed further; a narrower terminal wraps what does not fit
GAP = 2  # spaces between two columns
_MARK = {FindingStatus.MANUAL_REVIEW: "review", FindingStatus.WAIVED: "waived", FindingStatus.ERROR: "error"}
_PARTS = re.compile(r"[^/]*/|[^/]+")  # a path's parts, each directory with its '/'
_WORDS = re.compile(r"[^-]*-|[^-]+")  # a rule ID's words, each with its '-'
_SPACED = re.compile(r"\S+\s*")  # words, each with the spaces after it
NARROW_ITEM = 16  # below this, the item column gives way to a row of fields one under the other


@dataclass(frozen=True)
class _Row:
    status: str
    item: str
    ai: str
    basis: str
    c2pa: str
    training: str
    findings: tuple[str, ...]


def _cells(text: str) -> int:
    from rich.cells import cell_len  # rich is imported when a table is drawn: it costs every other command ~50 ms

    return cell_len(text)


def findings(r: Result) -> tuple[str, ...]:
    """The rules a reader of this item should look at, by ID: those failed (with their level when below error),
    those to review by hand, waived, or not checked."""
    out = []
    for f in r.findings:
        if f.status is FindingStatus.FAIL:
            out.append(f.rule if f.level == "error" else f"{f.rule} ({f.level})")
        elif f.status in _MARK:
            out.append(f"{f.rule} ({_MARK[f.status]})")
    return tuple(dict.fromkeys(out))


def _take(text: str, cells: int) -> str:
    """The longest start of `text` that fits in `cells` columns."""
    out = ""
    for ch in text:
        if _cells(out + ch) > cells:
            break
        out += ch
    return out


def shorten(name: str, width: int) -> str:
    """`name` in `width` columns: when longer, its middle gives way to '…' (its start and its end, with the file's
    extension, stay), and a directory keeps its trailing '/'."""
    if _cells(name) <= width:
        return name
    slash = "/" if name.endswith("/") else ""
    core = name.removesuffix("/")
    room = max(width - 1 - len(slash), 2)
    tail = _take(core[::-1], room // 2)[::-1]
    return _take(core, room - _cells(tail)) + "…" + tail + slash


def fit(text: str, width: int, parts: re.Pattern[str] = _PARTS) -> list[str]:
    """`text` on lines of at most `width` columns, broken only between its `parts` (a path after a '/', never
    inside a name); a part longer than the whole line is shortened in its middle."""
    if _cells(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for part in parts.findall(text):
        if line and _cells(line + part) > width:
            lines.append(line)
            line = ""
        line += shorten(part, width)
    return [*lines, line] if line else lines


def fit_item(path: str, width: int, apart: bool) -> list[str]:
    """An item's path in `width` columns, its name on a line of its own when `apart` (so that the names of a table
    whose paths do not all fit start at one place)."""
    directory, slash, name = path.rpartition("/")
    if not (apart and slash and name):
        return fit(path, width)
    return [*fit(directory + slash, width), shorten(name, width)]


def _fit_finding(finding: str, width: int) -> list[str]:
    """A finding's line, or its rule ID (broken after a '-' when it must be) over its "(review)"."""
    if _cells(finding) <= width:
        return [finding]
    rule, sep, mark = finding.partition(" (")
    return fit(rule, width, _WORDS) + ([f"({mark}"] if sep else [])


def _longest_part(text: str, parts: re.Pattern[str] = _PARTS) -> int:
    return max((_cells(p) for p in parts.findall(text)), default=0)


def _row(r: Result, shown: Callable[[str], str]) -> _Row:
    c, c2 = r.classification, r.evidence.c2pa
    return _Row(
        r.status.value,
        printable(display_path(shown(r.evidence.target))),
        c.status.value,
        c.basis.value,
        c2.validation_state or ("present" if c2.present else "-"),
        c.training.value,
        findings(r),
    )


def _widest(header: str, values: Sequence[str]) -> int:
    return max([_cells(header), *(_cells(v) for v in values)])


def _table(rows: list[_Row], width: int, color: bool) -> Any:
    """A rich Table of `rows` in `width` columns: one line per item and a column per field when all of that fits
    (a wide terminal), else each row on two lines, AI status over its basis and C2PA over training; in a narrow
    terminal, each item's fields one under the other beside its status."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def table() -> Table:
        return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), expand=False)

    status_w = _widest("status", [x.status for x in rows])
    item_w = _widest("item", [x.item for x in rows])
    joined = [", ".join(x.findings) for x in rows]
    wide = [
        status_w,
        item_w,
        _widest("AI status", [x.ai for x in rows]),
        _widest("basis", [x.basis for x in rows]),
        _widest("C2PA", [x.c2pa for x in rows]),
        _widest("training", [x.training for x in rows]),
        _widest("findings", joined),
    ]
    style = (lambda s: _STYLE[s]) if color else (lambda s: "")
    if sum(wide) + GAP * (len(wide) - 1) <= width:
        t = table()
        for name, w in zip(("status", "item", "AI status", "basis", "C2PA", "training", "findings"), wide, strict=True):
            t.add_column(name, width=w, no_wrap=True)
        for x, f in zip(rows, joined, strict=True):
            t.add_row(Text(x.status, style(x.status)), *map(Text, (x.item, x.ai, x.basis, x.c2pa, x.training, f)))
        return t

    ai_w = _widest("AI status", [x.ai for x in rows] + [x.basis for x in rows])
    c2_w = _widest("training", [x.c2pa for x in rows] + [x.training for x in rows])
    avail = width - status_w - ai_w - c2_w - 4 * GAP
    if avail < NARROW_ITEM + _cells("findings"):
        return _stacked(rows, width, status_w, style)
    lines = [f for x in rows for f in x.findings]
    find_natural = _widest("findings", lines)
    find_rule = _widest("findings", [f.partition(" (")[0] for f in lines])  # each rule ID whole
    item_need = max([_cells("item"), *(_longest_part(x.item) for x in rows)])  # each file's name whole
    # Each name whole comes first, then each rule ID whole (a rule broken after a '-' otherwise), then the rest: a
    # row is two lines anyway, which takes a path broken after its directory, or a rule over its "(review)", at no
    # cost. A name too long to be whole beside any findings column is shortened, and the rule IDs stay whole.
    if item_need <= avail - find_rule:
        item_w = min(item_w, avail - find_rule)
    elif item_need <= avail - _cells("findings"):
        item_w = item_need
    else:
        item_w = avail - find_rule
    item_w = max(item_w, _cells("item"))
    find_w = max(_cells("findings"), min(find_natural, avail - item_w))
    apart = any(_cells(x.item) > item_w for x in rows)
    t = table()
    t.add_column("status", width=status_w, no_wrap=True)
    t.add_column("item", width=item_w, no_wrap=True)
    t.add_column(Text("AI status\nbasis"), width=ai_w, no_wrap=True)
    t.add_column(Text("C2PA\ntraining"), width=c2_w, no_wrap=True)
    t.add_column("findings", width=find_w, no_wrap=True)
    for x in rows:
        t.add_row(
            Text(x.status, style(x.status)),
            Text("\n".join(fit_item(x.item, item_w, apart))),
            Text(f"{x.ai}\n{x.basis}"),
            Text(f"{x.c2pa}\n{x.training}"),
            Text("\n".join(line for f in x.findings for line in _fit_finding(f, find_w))),
        )
    return t


def _stacked(rows: list[_Row], width: int, status_w: int, style: Callable[[str], str]) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    w = width - status_w - GAP
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), expand=False)
    t.add_column("status", width=status_w, no_wrap=True)
    t.add_column(Text("item\nAI status (basis)\nC2PA, training\nfindings"), width=w, no_wrap=True)
    for x in rows:
        lines = [
            *fit(x.item, w),
            *fit(f"{x.ai} ({x.basis})", w, _SPACED),
            *fit(f"{x.c2pa}, {x.training}", w, _SPACED),
            *(line for f in x.findings for line in _fit_finding(f, w)),
        ]
        t.add_row(Text(x.status, style(x.status)), Text("\n".join(lines)))
    return t


def _say(console: Any, text: str, indent: int) -> None:
    """`text` on the console `indent` columns in, the lines it wraps to two further."""
    from rich.padding import Padding
    from rich.text import Text

    first, *rest = Text(text).wrap(console, console.width - indent - 2) or [Text("")]
    console.print(Padding(first, (0, 0, 0, indent)))
    if rest:
        console.print(Padding(Text("\n").join(rest), (0, 0, 0, indent + 2)))


def errors(r: Result, shown: Callable[[str], str]) -> list[str]:
    """Each error the item met, once: its tools' errors ("not checked" findings only repeat them), or the
    message of a rule that could not be checked when no tool said why. Named as the table names the item."""
    target = r.evidence.target
    name = shown(target)
    said = [(e.source, e.message) for e in r.evidence.errors] or [
        (f.rule, f.message) for f in r.findings if f.status is FindingStatus.ERROR
    ]
    out = []
    for source, message in said:
        message = message.replace(target, name) if target else message  # the path as typed, in the message too
        message = message.removeprefix(f"{name}: ")  # the line names the item already
        out.append(printable(display_path(f"{name}: {source}: {message}")))
    return out


def render(report: Report, width: int = WIDTH, color: bool = False, shown: Callable[[str], str] | None = None) -> str:
    """The report for a person: `width` columns, colour when `color`, each item named by `shown(target)`."""
    from rich.console import Console
    from rich.text import Text

    name = shown or (lambda target: target)
    width = max(width, MIN_WIDTH)
    buf = io.StringIO()
    console = Console(
        file=buf, width=width, force_terminal=color, no_color=not color, highlight=False, emoji=False, markup=False
    )
    if report.results or not report.streams:
        console.print(_table([_row(r, name) for r in report.results], width, color))
    said = [line for r in report.results for line in errors(r, name)]
    if said:
        console.print(Text("errors:", "bold" if color else ""))
        for line in said:
            _say(console, line, 2)
    if any(findings(r) or r.classification.conflicts or r.evidence.notes for r in report.results):
        _say(console, "details: labelcheck explain ITEM, or --format html, json or markdown", 0)
    s = summary(report.results, report.streams)
    items = f"{s['total']} item{'' if s['total'] == 1 else 's'}"
    console.print(f"{items}: {s['pass']} pass, {s['fail']} fail, {s['error']} error")
    for st in report.streams:
        _say(console, f"stream {printable(display_path(name(st.target)))} ({st.kind}): {st.status.value}", 0)
        for e in st.errors:
            _say(console, f"error: {printable(e)}", 2)
        if st.result is not None:
            whole = st.result.classification
            _say(console, f"as a whole: {whole.status.value} ({whole.basis.value})", 2)
            for f in st.result.findings:
                if f.status.value in ("fail", "error"):
                    _say(console, f"{f.policy}/{f.rule} ({f.level}): {printable(f.message)}", 4)
        for rend in st.renditions:
            valid = sum(1 for seg in rend.segments if seg.state in ("Valid", "Trusted"))
            _say(
                console,
                f"{printable(rend.name)}: {len(rend.segments)}/{rend.total_segments} segments checked, {valid} "
                f"with a valid manifest; manifest declares {printable(rend.manifest_label)}",
                2,
            )
            for finding in rend.findings:
                _say(console, f"- {printable(finding)}", 4)
    return "\n".join(line.rstrip(" ") for line in buf.getvalue().split("\n"))  # no cell padding at line ends
