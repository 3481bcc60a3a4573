"""Visible labels: whether a line of text read from a picture's pixels (extract/pixels.py) is an AI label, and which
claim it makes. The wordings are data (visible_phrases.yaml, schemas/visible-phrases.schema.json), read once.

How a line is matched. Text and wordings are folded alike: Unicode NFKC (full-width to ASCII), case folded, accents
removed, OCR look-alikes mapped (Al, A1 and AI are one word), cut into words (each CJK character is one) and joined
without spaces, remembering where words start and end. A wording's word for AI (the part in braces) must be found
as whole words, spelled exactly; the rest of the wording is aligned around it with an edit distance of at most one
per six letters, and must start and end on word boundaries. So "AI" inside MAIN, RAID, SAID or Thailand is never
the word, and "Made with a smile" or "Made with aid" is not "Made with AI". What the line holds beside the wording
must be the language's fillers ("content", "内容"), a negation or a hedge, and at most MAX_JUNK stray characters:
a longer line is a sentence, a caption or a subtitle that mentions AI, not a label. A bare badge ("AI") counts only
where a mark sits: alone, small, in a corner region (or on a plate, when the caller saw one).

No I/O beyond reading the vocabulary once; no judgement of the label's size or place against a rule (policy/)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .. import resources
from ..model import AiStatus

VOCABULARY = Path(__file__).with_name("visible_phrases.yaml")
MAX_JUNK = 2  # characters a label may carry beside its wording, fillers, negation and hedge (stray marks, a logo)
EDITS_PER = 6  # one edit allowed per this many letters of a wording outside its word for AI
CORNER = 0.3  # a badge's centre lies within this share of the width and of the height from a corner
BADGE_MAX_HEIGHT = 0.2  # a badge taller than this share of the shortest side is a title, not a mark
BADGE_MAX_WIDTH = 0.3  # … or wider than this share of the width

_STATUS = {s.value: s for s in (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI, AiStatus.POSSIBLY_AI, AiStatus.NOT_AI)}


class VocabularyError(ValueError):
    """visible_phrases.yaml does not hold together."""


@dataclass(frozen=True)
class VisibleLabel:
    """A line of text read as an AI label: the claim it makes and the vocabulary entry it matched."""

    status: AiStatus  # fully_ai | made_with_ai; possibly_ai when hedged; not_ai when negated or a no-AI label
    phrase_id: str  # the vocabulary group (or badge) matched, e.g. "zh.generated"
    wording: str  # the wording matched, as the vocabulary writes it (without braces)
    language: str  # the wording's language ("" for a badge)
    text: str  # the line as read
    distance: int  # edits between the wording and the text (0: exact after folding)
    negated: bool = False  # "not AI-generated", "非AI生成": a positive wording denied
    hedged: bool = False  # "疑似AI生成", "possibly AI-generated"
    badge: bool = False  # a bare mark, taken as a label for its shape and place
    region: str = ""  # top-left, top, top-right, left, centre, right, bottom-left, bottom, bottom-right
    height_share: float = 0.0  # text height (or, without one, box height) / the picture's shortest side
    sources: tuple[str, ...] = ()  # URLs of the wording's sources


@dataclass(frozen=True)
class _Wording:
    group: str
    lang: str
    status: str
    raw: str
    pre: str  # folded text before the word for AI
    core: str  # folded word for AI ("" when the wording names none)
    post: str
    words: frozenset[str]  # folded words of a wording without a core (to pre-select it)
    sources: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.pre) + len(self.core) + len(self.post)


@dataclass(frozen=True)
class Vocabulary:
    wordings: tuple[_Wording, ...]
    badges: tuple[tuple[str, str, str, tuple[str, ...]], ...]  # (id, folded wording, status, source urls)
    fillers: dict[str, tuple[tuple[str, ...], ...]]  # lang -> folded word sequences, longest first
    negations: dict[str, tuple[tuple[str, ...], ...]]
    hedges: dict[str, tuple[tuple[str, ...], ...]]
    lookalikes: tuple[tuple[str, str], ...]  # longest first


# --------------------------------------------------------------------------------------------------------- folding


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F


def _fold_word(word: str, lookalikes: tuple[tuple[str, str], ...]) -> str:
    word = "".join(c for c in unicodedata.normalize("NFKD", word.casefold()) if not unicodedata.combining(c))
    for a, b in lookalikes:
        word = word.replace(a, b)
    return word


def _words(text: str, lookalikes: tuple[tuple[str, str], ...]) -> list[str]:
    """Folded words: runs of letters and digits; each CJK character alone; everything else separates."""
    out: list[str] = []
    cur: list[str] = []
    for ch in unicodedata.normalize("NFKC", text):
        if _is_cjk(ch):
            if cur:
                out.append("".join(cur))
                cur = []
            out.append(ch)
        elif ch.isalnum() or unicodedata.combining(ch):
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return [f for f in (_fold_word(w, lookalikes) for w in out) if f]


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


# --------------------------------------------------------------------------------------------------------- loading


def _sequences(words: list[str], lookalikes: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], ...]:
    seqs = {tuple(_words(w, lookalikes)) for w in words}
    return tuple(sorted((s for s in seqs if s), key=len, reverse=True))


def parse(data: Any, validate: bool = True) -> Vocabulary:
    """Compile a vocabulary document (the YAML as loaded), validated against its schema unless `validate` is False
    (the bundled file: resources.bundled)."""
    if validate and (error := resources.schema_error("visible-phrases", data)):
        raise VocabularyError(f"visible_phrases.yaml: {error.lstrip('/')}")
    sources = {k: v["url"] for k, v in data["sources"].items()}
    look = tuple(
        sorted(((str(k), str(v)) for k, v in (data.get("lookalikes") or {}).items()), key=lambda p: -len(p[0]))
    )
    langs = data["languages"]

    def urls(where: str, ids: list[str]) -> tuple[str, ...]:
        missing = [i for i in ids if i not in sources]
        if missing:
            raise VocabularyError(f"visible_phrases.yaml: {where}: unknown source {missing[0]!r}")
        return tuple(sources[i] for i in ids)

    wordings: list[_Wording] = []
    seen: set[str] = set()
    for g in data["phrases"]:
        if g["id"] in seen:
            raise VocabularyError(f"visible_phrases.yaml: phrase id {g['id']!r} is listed twice")
        seen.add(g["id"])
        if g["lang"] not in langs:
            raise VocabularyError(f"visible_phrases.yaml: {g['id']}: language {g['lang']!r} has no entry in languages")
        src = urls(g["id"], g["sources"])
        for raw in g["wordings"]:
            pre, _, rest = raw.partition("{")
            core, _, post = rest.partition("}")
            fpre, fcore, fpost = ("".join(_words(x, look)) for x in (pre, core, post))
            if not (fpre or fcore or fpost):
                raise VocabularyError(f"visible_phrases.yaml: {g['id']}: wording {raw!r} has no letters")
            words = frozenset(w for w in _words(raw, look) if len(w) >= 4 or _is_cjk(w[0])) if not core else frozenset()
            wordings.append(
                _Wording(
                    g["id"],
                    g["lang"],
                    g["status"],
                    raw.replace("{", "").replace("}", ""),
                    fpre,
                    fcore,
                    fpost,
                    words,
                    src,
                )
            )
    badges = tuple(
        (b["id"], "".join(_words(b["wording"], look)), b["status"], urls(b["id"], b["sources"]))
        for b in data.get("badges") or []
    )

    def per_lang(key: str) -> dict[str, tuple[tuple[str, ...], ...]]:
        common = list((langs.get("*") or {}).get(key) or [])
        return {lang: _sequences(list(v.get(key) or []) + common, look) for lang, v in langs.items()}

    return Vocabulary(tuple(wordings), badges, per_lang("fillers"), per_lang("negations"), per_lang("hedges"), look)


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary shipped with the package; read once."""
    return parse(resources.read_yaml(VOCABULARY), validate=not resources.bundled(VOCABULARY))


# -------------------------------------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class _Match:
    wording: _Wording
    distance: int
    start: int  # word index of the first word matched
    end: int  # word index after the last


def _align(w: _Wording, joined: str, bounds: list[int]) -> _Match | None:
    """The best placement of a wording in the joined words, on word boundaries, within its edit allowance."""
    allowed = (len(w.pre) + len(w.post)) // EDITS_PER
    index = {b: i for i, b in enumerate(bounds)}
    best: _Match | None = None
    if w.core:
        anchors = [(s, s + len(w.core)) for s in bounds if joined.startswith(w.core, s) and s + len(w.core) in index]
    else:
        anchors = [(s, s) for s in bounds]
    for s, e in anchors:
        heads = [(s, 0)] if not w.pre else [(j, _distance(w.pre, joined[j:s], allowed)) for j in bounds if j < s]
        tails = [(e, 0)] if not w.post else [(k, _distance(w.post, joined[e:k], allowed)) for k in bounds if k > e]
        for j, dj in heads:
            if dj > allowed:
                continue
            for k, dk in tails:
                if dj + dk <= allowed and k > j and (best is None or dj + dk < best.distance):
                    best = _Match(w, dj + dk, index[j], index[k])
    return best


def _strip(words: list[str], seqs: tuple[tuple[str, ...], ...]) -> tuple[list[str], bool]:
    """Remove every occurrence of the word sequences; whether any was found."""
    found, out, i = False, [], 0
    while i < len(words):
        hit = next((s for s in seqs if tuple(words[i : i + len(s)]) == s), None)
        if hit:
            found, i = True, i + len(hit)
        else:
            out.append(words[i])
            i += 1
    return out, found


def _region(box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[str, float, float]:
    w, h = max(1, size[0]), max(1, size[1])
    cx, cy = (box[0] + box[2]) / 2 / w, (box[1] + box[3]) / 2 / h
    row = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else ""
    col = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else ""
    return ("-".join(p for p in (row, col) if p) or "centre"), cx, cy


def _badge(
    text: str, words: list[str], box: tuple[float, float, float, float], size: tuple[int, int], on_plate: bool
) -> tuple[str, str, str, tuple[str, ...]] | None:
    voc = vocabulary()
    joined = "".join(_strip(words, voc.fillers.get("*", ()))[0])
    raw = "".join(c for c in unicodedata.normalize("NFKC", text) if c.isalnum())
    if not raw or raw[0] != "A":  # a mark is written in capitals: "Ai" in a sentence, "ai" in a word are not
        return None
    badge = next((b for b in voc.badges if b[1] == joined), None)
    if badge is None:
        return None
    _, cx, cy = _region(box, size)
    short = max(1, min(size))
    small = (box[3] - box[1]) / short <= BADGE_MAX_HEIGHT and (box[2] - box[0]) / max(1, size[0]) <= BADGE_MAX_WIDTH
    corner = min(cx, 1 - cx) <= CORNER and min(cy, 1 - cy) <= CORNER
    return badge if small and (corner or on_plate) else None


def classify_hit(
    text: str,
    box: tuple[float, float, float, float],
    picture_size: tuple[int, int],
    text_height: float | None = None,
    on_plate: bool = False,
) -> VisibleLabel | None:
    """Whether one line of OCR'd text is an AI label, and which claim it makes. `box` is (x0, y0, x1, y1) in the
    picture's pixels, `picture_size` (width, height); `text_height` the letters' height when the reader measured
    it; `on_plate` that the text sits on a plate of its own (a badge then counts outside the corners too)."""
    voc = vocabulary()
    words = _words(text, voc.lookalikes)
    if not words:
        return None
    region, _, _ = _region(box, picture_size)
    short = max(1, min(picture_size))
    share = round((text_height if text_height is not None else box[3] - box[1]) / short, 4)
    joined = "".join(words)
    bounds, pos = [], 0
    for w in words:
        bounds.append(pos)
        pos += len(w)
    bounds.append(pos)
    present = set(words)
    best: tuple[tuple[int, int], VisibleLabel] | None = None
    for wd in voc.wordings:
        if wd.core and wd.core not in joined:
            continue
        if not wd.core and not (wd.words & present):
            continue
        m = _align(wd, joined, bounds)
        if m is None:
            continue
        rest = words[: m.start] + words[m.end :]
        rest, negated = _strip(rest, voc.negations.get(wd.lang, ()))
        rest, hedged = _strip(rest, voc.hedges.get(wd.lang, ()))
        rest, _ = _strip(rest, voc.fillers.get(wd.lang, ()))
        if sum(len(r) for r in rest) > MAX_JUNK:
            continue  # a sentence, caption or subtitle that holds the wording: not a label
        status = _STATUS[wd.status]
        if wd.status == AiStatus.NOT_AI.value and (negated or hedged):
            continue  # "not human-made": no claim we can read
        if negated:
            status = AiStatus.NOT_AI
        elif hedged:
            status = AiStatus.POSSIBLY_AI
        label = VisibleLabel(
            status, wd.group, wd.raw, wd.lang, text, m.distance, negated, hedged and not negated, False, region, share,
            wd.sources,
        )  # fmt: skip
        rank = (-m.distance, wd.size)  # the closest wording; of equals, the longest ("made with AI-generated work")
        if best is None or rank > best[0]:
            best = (rank, label)
    if best is not None:
        return best[1]
    badge = _badge(text, words, box, picture_size, on_plate)
    if badge is None:
        return None
    bid, wording, status_name, urls = badge
    return VisibleLabel(_STATUS[status_name], bid, wording.upper(), "", text, 0, badge=True, region=region,
                        height_share=share, sources=urls)  # fmt: skip


def check_examples() -> list[str]:
    """Each group's `examples`, read as a label in a picture's top-left corner: the ones not classified as their
    group (empty when the vocabulary holds together)."""
    data = resources.read_yaml(VOCABULARY)
    bad = []
    for g in data["phrases"]:
        for ex in g.get("examples") or []:
            got = classify_hit(ex, (20, 20, 300, 60), (1920, 1080))
            if got is None or got.phrase_id != g["id"]:
                bad.append(f"{g['id']}: {ex!r} -> {got.phrase_id if got else None}")
    return bad


_PLACE = re.compile(r"^(-?[\d.]+),(-?[\d.]+),(-?[\d.]+),(-?[\d.]+)@(\d+)x(\d+);h=([\d.]+)")


def place(box: tuple[float, float, float, float], size: tuple[int, int], text_height: float, time: float | None) -> str:
    """Where a line was read, as a signal's location: its box, the picture's size, its letters' height, the time."""
    where = f"{box[0]:g},{box[1]:g},{box[2]:g},{box[3]:g}@{size[0]}x{size[1]};h={text_height:.1f}"
    return where + (f";t={time:.2f}s" if time is not None else "")


def from_place(text: str, location: str) -> VisibleLabel | None:
    """The label a line read at `location` (place()) makes, or None."""
    m = _PLACE.match(location)
    if m is None:
        return None
    x0, y0, x1, y1, w, h, height = (float(g) for g in m.groups())
    return classify_hit(text, (x0, y0, x1, y1), (int(w), int(h)), height)


_TIME = re.compile(r";t=(-?[\d.]+)s$")


def time_of(location: str) -> float | None:
    """The frame time of a line read at `location` (place()); None for a still."""
    m = _TIME.search(location)
    return float(m.group(1)) if m else None
