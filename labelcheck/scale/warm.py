"""Imported by the worker fork server (workers.PRELOAD): the data tables and payload validators every worker uses
are read here once, before any worker is forked, instead of by each worker at its first item (~0.1 s a worker:
the generator registry and its index, the C2PA actions table, jsonschema and the label schemas).

A run over a few files has no fork server (workers.fork_here): its worker reads them itself, at its first item,
where they are not before anything else the run waits for."""

from __future__ import annotations

from ..classify import actions, generators, labels

generators.prepare()
actions.prepare()
labels.prepare()
