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


@cache
@cache
def registry() -> Any:
    """Every schema by its $id, so one schema can $ref another (the report refers to the label record); read once,
    as each validator refers to it."""
    from referencing import Registry, Resource

    resources = [Resource.from_contents(schema(n)) for n in schema_names()]
    return Registry().with_resources((r.contents["$id"], r) for r in resources)


@cache
def validator(name: str) -> Any:
    import jsonschema

    s = schema(name)
    cls = jsonschema.validators.validator_for(s)
    return cls(s, registry=registry(), format_checker=cls.FORMAT_CHECKER)


def schema_names() -> list[str]:
    """Schema names relative to schemas/, e.g. `report`, `labels/aigc`."""
    root = schemas_dir()
    return sorted(str(p.relative_to(root)).removesuffix(".schema.json") for p in root.rglob("*.schema.json"))


def schema_file(name: str) -> str:
    """How a finding names a schema: its path in the project."""
    return f"schemas/{name}.schema.json"


def trust_list_pem() -> Path:
    return _PKG / "data" / "c2pa-trust-list" / "C2PA-TRUST-LIST.pem"


TRUST_LIST_DATE = "2026-08-21"  # the bundled official list's snapshot (data/c2pa-trust-list/README.md)
