"""Judging evidence, without I/O: classification, label records and the policies' findings for each item, the
item's status, and the Report that gathers the results (scan.py gathers the evidence)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import c2pa as c2pa_sdk

from .. import __version__
from ..classify import labels
from ..classify.classification import classify
from ..model import (
    AiStatus,
    Basis,
    Classification,
    Evidence,
    Finding,
    FindingStatus,
    ItemStatus,
    PolicyRef,
    Report,
    Result,
    Subject,
    ToolError,
    Training,
    Waiver,
)
from . import load as policy_mod
from . import waivers

if TYPE_CHECKING:
    from ..extract.gather import ScanOptions


@dataclass(frozen=True)
class Judge:
    """Classification, label records and the policies' findings for one item's evidence (pure)."""

    policies: tuple[policy_mod.Policy, ...]
    fail_on: str
    today: dt.date
    waivers: tuple[Waiver, ...] = ()

    @classmethod
    def from_options(cls, options: ScanOptions) -> Judge:
        return cls(
            policy_mod.in_force(options.policies), options.fail_on, options.as_of or dt.date.today(), options.waivers
        )

    def __call__(self, ev: Evidence) -> Result:
        try:
            cls = classify(ev)
            subject = Subject(ev, cls, labels.records(ev), self.today)
            findings = waivers.apply(policy_mod.evaluate(self.policies, subject), ev.sha256, self.waivers, self.today)
            return Result(ev, cls, findings, item_status(findings, ev, self.fail_on), subject.labels)
        except Exception as exc:  # noqa: BLE001 - never let one item crash a batch
            why = f"labelcheck could not classify: {type(exc).__name__}: {exc}"
            ev = replace(ev, errors=(*ev.errors, ToolError("internal", why)))
            cls = Classification(AiStatus.UNKNOWN, Basis.NONE, False, (), (), Training.UNSPECIFIED, ())
            return Result(ev, cls, (), ItemStatus.ERROR)


def item_status(findings: tuple[Finding, ...], ev: Evidence, fail_on: str = "error") -> ItemStatus:
    if any(policy_mod.fails(f, fail_on) for f in findings):
        return ItemStatus.FAIL
    if ev.errors or any(f.status is FindingStatus.ERROR for f in findings):
        return ItemStatus.ERROR
    return ItemStatus.PASS


def now() -> str:
    """The time a report is generated, in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def make_report(results: tuple[Result, ...], judge: Judge, exiftool: str | None, generated_at: str) -> Report:
    return Report(
        policies=tuple(PolicyRef(p.id, p.title, p.source, tuple(r.id for r in p.rules)) for p in judge.policies),
        as_of=judge.today.isoformat(),
        fail_on=judge.fail_on,
        tool_version=__version__,
        c2pa_sdk=c2pa_sdk.sdk_version(),
        exiftool_version=exiftool,
        generated_at=generated_at,
        results=results,
    )
