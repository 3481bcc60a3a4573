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


def schema_error(name: str, doc: Any) -> str | None:
    """Where `doc` first breaks schema `name`, as "/where: message" (errors in document order); None when valid."""
    errors = sorted(validator(name).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return f"/{'/'.join(map(str, errors[0].absolute_path))}: {errors[0].message}" if errors else None


def read_yaml(path: Path) -> Any:
    """A YAML data file, parsed by libyaml when PyYAML has it (a tenth of the pure-Python parser's time)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader


def bundled(path: Path) -> bool:
    """A data table shipped inside the package. The test suite checks these against their schemas as it checks the
    code (tests/test_tables.py), so a run does not: validating the four tables cost each process ~70 ms plus
    jsonschema's import (~60 ms), a one-file run's largest item. Any other file (a test's, a user's) is validated
    when it is read."""
    try:
        return path.resolve().is_relative_to(_PKG)
    except OSError:
        return False


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
