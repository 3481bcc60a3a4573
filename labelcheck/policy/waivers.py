"""Waivers: decisions taken by hand on particular items (a reviewed deep-fake disclosure, a legacy delivery
accepted by legal). Loading reads and validates the file; applying them to findings is pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from ..model import Finding, FindingStatus, Waiver
from .load import Policy, PolicyError, read_document

WAIVABLE = frozenset({FindingStatus.FAIL, FindingStatus.MANUAL_REVIEW})  # an item that could not be read is not


def load(path: Path) -> tuple[Waiver, ...]:
    """The waivers of a YAML (or JSON) file, validated against schemas/waivers.schema.json; PolicyError names the
    place of any problem."""
    doc = read_document(path, "waivers", "a waiver file is a mapping with a list of waivers")
    out = []
    for n, w in enumerate(doc["waivers"]):
        try:
            expires = dt.date.fromisoformat(w["expires"]) if "expires" in w else None
        except ValueError as exc:
            raise PolicyError(f"{path}: waiver '{w.get('id', f'#{n + 1}')}' expires: {exc}") from exc
        out.append(
            Waiver(w["sha256"], tuple(w["rules"]), w["reason"], w.get("approved_by", ""), expires, w.get("id", ""))
        )
    return tuple(out)


def unmatched(waivers: tuple[Waiver, ...], policies: tuple[Policy, ...]) -> list[str]:
    """Rules the waivers name that no policy in use has (a typo, or a waiver file shared with other pipelines):
    such a waiver changes nothing, which the command line says as a warning."""
    known = {r.id for p in policies for r in p.rules} | {f"{p.id}/{r.id}" for p in policies for r in p.rules}
    return [
        f"waiver '{w.id or w.sha256[:12]}' names rule '{name}', which no policy in use has"
        for w in waivers
        for name in w.rules
        if name not in known
    ]


def apply(
    findings: tuple[Finding, ...], sha256: str | None, waivers: tuple[Waiver, ...], today: dt.date
) -> tuple[Finding, ...]:
    """Each failed or manual-review finding that a waiver for this content covers becomes WAIVED; one that only an
    expired waiver covers stays as it is, and says that its waiver has expired."""
    mine = [w for w in waivers if w.sha256 == sha256]
    if not mine:
        return findings
    out = []
    for f in findings:
        covering = [w for w in mine if f.status in WAIVABLE and w.covers(f.policy, f.rule)]
        live = [w for w in covering if w.expires is None or today <= w.expires]
        if live:
            f = replace(f, status=FindingStatus.WAIVED, waiver=live[0])
        elif covering:
            last = max(covering, key=lambda w: w.expires or today)
            f = replace(f, message=f"{f.message} (its waiver expired on {last.expires}: {last.reason})")
        out.append(f)
    return tuple(out)
