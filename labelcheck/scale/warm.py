"""Imported by the worker fork server (workers.PRELOAD): the data tables every item is judged with are read and
validated once there, so that each worker forked from it starts with them (the generator registry, the C2PA actions
table and the visible-label vocabulary: YAML parsed and checked against their schemas, ~0.1 s a worker otherwise)."""

from __future__ import annotations

from ..classify import actions, generators, visible

generators.matches("exif.Software", "")  # the registry, its index and its order
actions.effect("c2pa.created")  # the actions table
visible.vocabulary()  # the visible-label phrases
