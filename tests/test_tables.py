"""The data tables shipped in the package are checked against their schemas here, as the code is, and not at every
start (resources.bundled); any other file is validated when it is read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from labelcheck import resources
from labelcheck.classify import actions, generators, visible
from labelcheck.sample import tdm

TABLES = [
    (generators.REGISTRY, "generators"),
    (actions.TABLE, "c2pa-actions-table"),
    (visible.VOCABULARY, "visible-phrases"),
    (tdm.CRAWLERS, "ai-crawlers"),
]


@pytest.mark.parametrize(("path", "schema"), TABLES, ids=[p.name for p, _ in TABLES])
def test_each_bundled_table_validates_against_its_schema(path: Path, schema: str):
    assert resources.bundled(path)
    doc = resources.read_yaml(path)
    assert doc == yaml.safe_load(path.read_text(encoding="utf-8"))  # libyaml reads what the Python parser reads
    assert resources.schema_error(schema, doc) is None


def test_a_copy_outside_the_package_is_validated_when_read(tmp_path, monkeypatch):
    doc = resources.read_yaml(generators.REGISTRY)
    doc["generators"][0]["media"] = "image"  # a string where the schema asks for a list
    copy = tmp_path / "generators.yaml"
    copy.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert not resources.bundled(copy)
    assert resources.schema_error("generators", doc) == "/generators/0/media: 'image' is not of type 'array'"
    monkeypatch.setattr(generators, "REGISTRY", copy)
    generators.load.cache_clear()
    try:
        with pytest.raises(generators.RegistryError, match="generators/0/media"):
            generators.load()
    finally:
        generators.load.cache_clear()
