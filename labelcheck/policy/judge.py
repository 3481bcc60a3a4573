"""Judging evidence, without I/O: classification, label records and the policies' findings for each item, the
item's status, and the Report that gathers the results (extract/gather.py gathers the evidence)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

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


@dataclass(frozen=True)
class Judge:
    """Classification, label records and the policies' findings for one item's evidence (pure but for the clock).

    Built once per run and handed down to every engine (workers and Dask included). The law's calendar is read on
    `as_of` when given, otherwise on the day each item is judged: a long-running watcher or server switches to a
    rule that takes effect on a date (EU AI Act Art. 50 on 2026-08-02) on that day, without a restart."""

    policies: tuple[policy_mod.Policy, ...]  # in force: the built-in default when none was given (see of())
    fail_on: str = "error"  # the lowest level of a failed finding that fails the item
    as_of: dt.date | None = None  # the day the law's calendar is read on; None: the day of judging
    waivers: tuple[Waiver, ...] = ()  # decisions taken by hand on particular items (waivers.py)
    clock: Callable[[], dt.date] = field(default=dt.date.today, compare=False, repr=False)  # the day without as_of

    @classmethod
    def of(
        cls,
        policies: tuple[policy_mod.Policy, ...] = (),
        fail_on: str = "error",
        as_of: dt.date | None = None,
        waivers: tuple[Waiver, ...] = (),
        clock: Callable[[], dt.date] = dt.date.today,
    ) -> Judge:
        """A Judge of these policies (none: the built-in default policy)."""
        return cls(policy_mod.in_force(policies), fail_on, as_of, waivers, clock)

    @property
    def needs_pixels(self) -> bool:
        """Whether a rule in force reads what the pixels show (a check with NEEDS_PIXELS, such as explicit-label):
        then the pixels are read unless the caller said not to."""
        from .checks import CHECKS

        return any(getattr(CHECKS[r.check], "NEEDS_PIXELS", False) for p in self.policies for r in p.rules)

    def day(self) -> dt.date:
        """The day the policies' calendar is read on now."""
        return self.as_of or self.clock()

    def __call__(self, ev: Evidence) -> Result:
        try:
            cls = classify(ev)
            day = self.day()
            subject = Subject(ev, cls, labels.records(ev), day)
            findings = waivers.apply(policy_mod.evaluate(self.policies, subject), ev.sha256, self.waivers, day)
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
        as_of=judge.day().isoformat(),
        fail_on=judge.fail_on,
        tool_version=__version__,
        c2pa_sdk=c2pa_sdk.sdk_version(),
        exiftool_version=exiftool,
        generated_at=generated_at,
        results=results,
    )
