"""Where the package's data lives: the JSON Schemas and the bundled C2PA trust list."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PKG = Path(__file__).resolve().parent


def schemas_dir() -> Path:
    """`labelcheck/schemas` in an installed wheel; the repository's top-level `schemas/` in a checkout."""
    for candidate in (_PKG / "schemas", _PKG.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("labelcheck: the JSON Schemas are missing from this installation")


@cache
def schema(name: str) -> dict[str, Any]:
    with open(schemas_dir() / f"{name}.schema.json", encoding="utf-8") as fh:
        return json.load(fh)


def schema_names() -> list[str]:
    return sorted(p.name.removesuffix(".schema.json") for p in schemas_dir().glob("*.schema.json"))


def trust_list_pem() -> Path:
    return _PKG / "data" / "c2pa-trust-list" / "C2PA-TRUST-LIST.pem"
