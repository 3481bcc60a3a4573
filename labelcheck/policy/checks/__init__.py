"""Checks: one module each (ID, OPTIONS schema, DEFAULTS, check()); the module docstring is its documentation."""

from __future__ import annotations

from types import ModuleType

from . import (
    c2pa_integrity,
    ca_latent_disclosure,
    cn_implicit_label,
    explicit_label,
    label_payloads,
    label_present,
    label_specific,
    manual_review,
    no_conflicts,
    provenance_intact,
    training_reservation,
)

CHECKS: dict[str, ModuleType] = {
    m.ID: m
    for m in (
        label_present,
        label_specific,
        c2pa_integrity,
        no_conflicts,
        provenance_intact,
        cn_implicit_label,
        explicit_label,
        ca_latent_disclosure,
        training_reservation,
        label_payloads,
        manual_review,
    )
}
