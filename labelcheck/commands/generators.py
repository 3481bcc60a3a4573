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


def _table(gens: tuple[registry.Generator, ...], width: int) -> str:
    """One block per generator, wrapped at `width` columns: its id, media and default, then what it is, then the
    fields its marks are found in (the names never cut: wrapped between carriers)."""
    import textwrap

    out = []
    for g in gens:
        out.append(f"{g.id}  ({', '.join(g.media)}; {g.default})")
        out += textwrap.wrap(f"{g.vendor}: {g.product}", width, initial_indent="  ", subsequent_indent="  ")
        carriers = ", ".join(g.carriers)
        wrap = textwrap.TextWrapper(width, initial_indent="  in: ", subsequent_indent="      ")
        wrap.break_long_words = wrap.break_on_hyphens = False  # a carrier is never cut
        out += wrap.wrap(carriers)
    return "\n".join(out) + "\n"


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
        import os
        import shutil

        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() else shutil.get_terminal_size((80, 24)).columns
        click.echo(_table(gens, max(40, width)), nl=False)
