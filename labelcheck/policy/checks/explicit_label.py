"""explicit-label: AI content shows a visible AI label in its pixels (GB 45438-2025 §5, the explicit label).

GB 45438-2025 asks AI-generated images and video to carry a perceptible text prompt with an "AI" / "人工智能"
element and a "生成" / "合成" element: for an image at a suitable place with letters at least 5% of the shortest
side, for a video at its start for at least 2 s. The label is read by OCR (`--read-pixels`, or any policy with this
rule: the pixels are then read for every image and video) and matched against the visible-label vocabulary
(classify/visible_phrases.yaml).

Options:
  phrases: the vocabulary groups whose wording counts (default zh.generated, zh.synthesised; "*.generated" and
    "*.made-with" ask for the creators' two labels in any language). A trailing * matches any language.
  badges: whether a bare "AI" badge counts (default false: GB 45438 asks for words).
  min_height_share: the letters' height as a share of the picture's shortest side (default 0.05).
  min_seconds: a video shows the label from its first frame for at least this long (default 2).

Pass: an AI image whose corner reads "AI生成" in letters 6% of its height; an AI video showing "人工智能合成" in
      every frame read over its first 2 s.
Fail: an AI image or video on which no accepted label was read (OCR finds most labels, not all: the message says
      so), one whose label is smaller than min_height_share, a video whose label comes late or goes early.
Manual review: audio (a spoken prompt or the rhythm GB 45438 describes is not read), pixels not read or not
      readable. Not applicable: an item that declares no AI, or declares nothing.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ...classify import visible
from ...model import FindingStatus, Kind, Outcome, Subject
from . import scope

ID = "explicit-label"
NEEDS_PIXELS = True  # the judge asks for the pixels to be read whenever a policy applies this check
OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "phrases": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "minLength": 1}},
        "badges": {"type": "boolean"},
        "min_height_share": {"type": "number", "minimum": 0, "maximum": 1},
        "min_seconds": {"type": "number", "minimum": 0},
    },
}
DEFAULTS: dict[str, Any] = {
    "phrases": ["zh.generated", "zh.synthesised"],
    "badges": False,
    "min_height_share": 0.05,
    "min_seconds": 2.0,
}
OCR_MISSES = "OCR reads most labels, not all: if one is there, check it by hand"
_TIME = 1e-6


def _labels(subject: Subject, options: dict[str, Any]) -> list[tuple[visible.VisibleLabel, float | None]]:
    """The labels read in the item's pixels whose wording the options accept, with their frame times."""
    out = []
    for s in subject.evidence.signals:
        if s.kind is not Kind.VISIBLE_LABEL:
            continue
        label = visible.from_place(s.value, s.location)
        if label is None or label.negated or label.hedged:
            continue
        if label.badge and not options["badges"]:
            continue
        if not label.badge and not any(fnmatchcase(label.phrase_id, p) for p in options["phrases"]):
            continue
        out.append((label, visible.time_of(s.location)))
    return out


def _remedy(options: dict[str, Any], kind: str) -> str:
    share = options["min_height_share"]
    where = (
        f"at the video's start for at least {options['min_seconds']:g} s"
        if kind == "video"
        else "at an edge or a corner"
    )
    size = f"its letters at least {share:.0%} of the shortest side"
    return f'show a text label such as "AI生成" or "人工智能合成" {where}, {size}'


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    skip = scope.ai_only(subject)
    if skip:
        return skip
    ev = subject.evidence
    if ev.kind not in ("image", "video"):
        return Outcome(
            FindingStatus.MANUAL_REVIEW,
            f"a {ev.kind} item: its explicit label (a spoken prompt, or GB 45438's audio rhythm) is not read",
        )
    if ev.pixels is None:
        return Outcome(FindingStatus.MANUAL_REVIEW, "the pixels were not read (run with --read-pixels)")
    if ev.pixels.error and not ev.pixels.times and ev.kind == "video":
        return Outcome(FindingStatus.MANUAL_REVIEW, f"the pixels could not be read: {ev.pixels.error}")
    found = _labels(subject, options)
    remedy = _remedy(options, ev.kind)
    if not found:
        wanted = ", ".join(options["phrases"])
        message = f"AI content without a visible label of the accepted wording ({wanted}); {OCR_MISSES}"
        return Outcome(FindingStatus.FAIL, message, remedy)
    share = options["min_height_share"]
    if ev.kind == "video":
        return _video(ev.pixels.times, ev.pixels.duration, found, options, remedy)
    big = [lb for lb, _ in found if lb.height_share + _TIME >= share]
    if not big:
        best = max(found, key=lambda f: f[0].height_share)[0]
        size = f"letters {best.height_share:.1%} of the shortest side, below {share:.0%}"
        return Outcome(FindingStatus.FAIL, f"visible label {best.text!r} is too small: {size}", remedy)
    size = f"letters {big[0].height_share:.1%} of the shortest side"
    return Outcome(FindingStatus.PASS, f"visible label {big[0].text!r} ({big[0].phrase_id}, {size}, {big[0].region})")


def _video(
    times: tuple[float, ...],
    duration: float | None,
    found: list[tuple[visible.VisibleLabel, float | None]],
    options: dict[str, Any],
    remedy: str,
) -> Outcome:
    """A video passes when every frame read over its first min_seconds (or the whole of a shorter video) shows an
    accepted label of the required size."""
    share, seconds = options["min_height_share"], options["min_seconds"]
    span = min(seconds, duration) if duration else seconds
    head = sorted(t for t in times if t < span - _TIME) or sorted(times)[:1]
    shown = {round(t, 3) for lb, t in found if t is not None and lb.height_share + _TIME >= share}
    missing = [t for t in head if round(t, 3) not in shown]
    if not missing:
        first = next(lb for lb, t in found if t is not None and round(t, 3) == round(head[0], 3))
        size = f"letters {first.height_share:.1%} of the shortest side"
        message = (
            f"visible label {first.text!r} in every frame read over the first {span:g} s ({len(head)} frames; {size})"
        )
        return Outcome(FindingStatus.PASS, message)
    small = [lb for lb, t in found if t is not None and round(t, 3) == round(missing[0], 3)]
    why = (
        f"its letters are {small[0].height_share:.1%} of the shortest side, below {share:.0%}"
        if small
        else "no accepted label was read there"
    )
    where = f"at {missing[0]:g} s {why} ({len(missing)} of {len(head)} frames)"
    message = f"the visible label is not shown from the start for {span:g} s: {where}; {OCR_MISSES}"
    return Outcome(FindingStatus.FAIL, message, remedy)
