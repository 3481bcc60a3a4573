"""The JSON Schemas: named by URNs the project owns (no domain it does not hold), and every $ref resolves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from labelcheck import resources

NAMES = resources.schema_names()


def refs(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    """Every ($ref value, JSON pointer of the object holding it) in a schema document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield value, where
            else:
                yield from refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from refs(value, f"{where}/{n}")


def test_the_schemas_are_found():
    assert {"report", "config", "policy", "waivers", "labels/aigc", "labels/label-record"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_is_named_by_a_labelcheck_urn(name):
    doc = resources.schema(name)
    assert doc["$id"].startswith("urn:labelcheck:"), doc["$id"]
    assert doc["$id"] == f"urn:labelcheck:schema:{name}"
    jsonschema.validators.validator_for(doc).check_schema(doc)


@pytest.mark.parametrize("name", NAMES)
def test_every_ref_resolves(name):
    """Each $ref names a schema of the registry (by its URN) or a place in its own document, and that place exists;
    no $ref points at the network (a URL would be fetched, or fail, wherever the registry lacks it)."""
    doc = resources.schema(name)
    resolver = resources.registry().resolver(base_uri=doc["$id"])
    for ref, where in refs(doc):
        assert ref.startswith(("#", "urn:labelcheck:")), f"{name} {where}: $ref {ref!r}"
        resolved = resolver.lookup(ref)  # referencing.exceptions.Unresolvable if not
        assert isinstance(resolved.contents, dict | bool), f"{name} {where}: {ref!r}"


def test_ids_are_unique_and_no_schema_names_a_domain():
    ids = [resources.schema(n)["$id"] for n in NAMES]
    assert len(set(ids)) == len(ids)
    for name in NAMES:
        text = json.dumps(resources.schema(name))
        assert "labelcheck.dev" not in text, name


def test_a_cross_schema_ref_is_followed_by_the_validator():
    """The report refers to the label record by its URN: a wrong label record fails the report."""
    record = {"$ref": "urn:labelcheck:schema:labels/label-record"}
    validator = type(resources.validator("report"))(record, registry=resources.registry())
    errors = list(validator.iter_errors({"carrier": "nowhere"}))
    assert errors and any("nowhere" in e.message for e in errors)
