"""The figure table both fuzzers print: each figure, its target, and whether it is met."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    target: str = ""  # empty: shown for information, not a target
    ok: bool | None = None  # None: no target

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "value": self.value, "target": self.target, "ok": self.ok}


def target(name: str, value: object, want: str, ok: bool) -> Figure:
    return Figure(name, str(value), want, ok)


def info(name: str, value: object) -> Figure:
    return Figure(name, str(value))


def table(title: str, figures: list[Figure]) -> str:
    rows = [("figure", "value", "target", "")] + [
        (f.name, f.value, f.target, "" if f.ok is None else ("ok" if f.ok else "MISSED")) for f in figures
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [title, line]
    for n, r in enumerate(rows):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if n == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


def missed(figures: list[Figure]) -> list[Figure]:
    return [f for f in figures if f.ok is False]


def finish(figures: list[Figure], json_path: Path | None) -> int:
    """A fuzz's exit code (1 when a target is missed, named on standard error), its figures also written as JSON
    when asked."""
    if json_path:
        json_path.write_text(json.dumps([f.as_dict() for f in figures], indent=1))
    bad = missed(figures)
    if bad:
        print("MISSED: " + ", ".join(f.name for f in bad), file=sys.stderr)
    return 1 if bad else 0
