"""Renderers: each module turns a Report into a string (`render(report) -> str`), without printing, filtering or
deciding the exit code. FORMATS is their registry; a renderer's module is imported when its format is asked for."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Report

# Format name -> the module of this package that renders it (a literal registry: no discovery, no entry points).
FORMATS: dict[str, str] = {
    "table": "table",
    "json": "json",
    "jsonl": "jsonl",
    "html": "html",
    "junit": "junit",
    "csv": "csv",
    "markdown": "markdown",
    "sarif": "sarif",
    "github": "github",
}


def renderer(fmt: str) -> Callable[[Report], str]:
    """The `render` function of format `fmt` (KeyError for a format not in FORMATS)."""
    render: Callable[[Report], str] = importlib.import_module(f"{__name__}.{FORMATS[fmt]}").render
    return render
