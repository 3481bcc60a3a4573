"""`labelcheck generators`: the generator registry (labelcheck/classify/generators.yaml) as a table or as JSON."""

from __future__ import annotations

import json
from typing import Any

import click

from ..classify import generators as registry


def _record(g: registry.Generator) -> dict[str, Any]:
    return {
        "id": g.id,
        "vendor": g.vendor,
        "product": g.product,
        "media": list(g.media),
        "default": g.default,
        "priority": g.priority,
        "carriers": list(g.carriers),
        "marks": [
            {"carriers": list(m.carriers), "pattern": m.regex.pattern, "example": m.example}
            | ({"note": m.note} if m.note else {})
            | ({"assertion": m.assertion} if m.assertion else {})
            for m in g.marks
        ],
        "sources": list(g.sources),
        **({"note": g.note} if g.note else {}),
    }


def _table(gens: tuple[registry.Generator, ...]) -> str:
    rows = [("ID", "VENDOR", "PRODUCT", "MEDIA", "CARRIERS")]
    rows += [(g.id, g.vendor, g.product, ",".join(g.media), ", ".join(g.carriers)) for g in gens]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4] + "\n" for r in rows)


@click.command("generators")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: one line per generator; json: every field, marks and sources included.",
)
def generators(fmt: str) -> None:
    """List the generator registry: the generative systems whose names or marks labelcheck recognises, and the
    fields (carriers) they are found in."""
    gens = registry.load()
    if fmt == "json":
        click.echo(json.dumps([_record(g) for g in gens], indent=2, ensure_ascii=False))
    else:
        click.echo(_table(gens), nl=False)
