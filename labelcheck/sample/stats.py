"""The sample's statistics, pure (no I/O): how many items to draw, which ones, and what they say about the frame.

  sample_size  Cochran's sample size for a proportion, with the finite population correction
  draw         simple random sampling without replacement, or stratified with proportional allocation
  wilson       the Wilson score interval for a proportion, with the finite population correction when N is known
  prevalence   each outcome's count, proportion and interval: overall and per stratum

Reproducible: a draw depends only on the frame (as a set of units), the sample size and the seed. The units are
sorted by key before drawing, so the crawl's order does not matter; the generator is Python's `random.Random(seed)`
(Mersenne Twister, whose sequence for an integer seed and `Random.sample` are stable across Python 3 releases), and a
stratum's seed is derived from the run's seed and the stratum's name with SHA-256 (never `hash()`, which varies by
process).

References:
  Cochran, W. G. (1977). Sampling Techniques, 3rd ed. Wiley. Ch. 4 (sample size), ch. 5 (stratified sampling).
  Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA 22(158), 209-212.
  Brown, L. D., Cai, T. T. & DasGupta, A. (2001). Interval estimation for a binomial proportion. Stat. Sci. 16(2).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, get_args

Method = Literal["simple", "stratified"]
Outcome = Literal[
    "labelled_fully_ai",
    "labelled_made_with_ai",
    "ai_without_standard_label",
    "provenance_broken",
    "no_signal",
    "could_not_check",
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)  # in the report's order
OUTCOME_TEXT: dict[str, str] = {
    "labelled_fully_ai": "a standard label (C2PA, IPTC or TC260) says fully AI-generated",
    "labelled_made_with_ai": "a standard label (C2PA, IPTC or TC260) says made with AI (AI-edited or composited)",
    "ai_without_standard_label": (
        "AI signals (a generator's mark, words, a visible label, the page) but no standard machine-readable label"
    ),
    "provenance_broken": (
        "a C2PA manifest whose signature or binding fails, or provenance stripped (a reference to a manifest that "
        "is gone)"
    ),
    "no_signal": "nothing declares AI (which does not prove human origin)",
    "could_not_check": "the item could not be fetched or read",
}

INTERVAL_WILSON = "wilson-fpc"  # Wilson score interval, finite population correction with the group's frame size
INTERVAL_STRATIFIED = "stratified-normal-fpc"  # normal approximation on the stratified variance, clipped to [0, 1]


def z_score(confidence: float) -> float:
    """The standard normal quantile for a two-sided `confidence`, e.g. 1.959964 for 0.95."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    return NormalDist().inv_cdf((1.0 + confidence) / 2.0)


def sample_size(margin: float, confidence: float, population: int | None, p: float = 0.5) -> int:
    """The number of items to draw so that a proportion is estimated within +/- `margin` at `confidence`.

    Cochran (1977), Sampling Techniques, 3rd ed., ch. 4, eqs. (4.1) and (4.2):

        n0 = z^2 p (1 - p) / e^2                 z = the normal quantile of (1 + confidence) / 2, e = margin
        n  = n0 / (1 + (n0 - 1) / N)             when the population size N is known (finite population correction)

    rounded up, and never more than N. p = 0.5 (the default) is the most conservative guess of the proportion.
    E.g. e = 0.05 at 95 %: 385 for an unknown (infinite) population, 278 for N = 1000, 80 for N = 100.
    """
    if not 0.0 < margin < 1.0:
        raise ValueError(f"margin must be between 0 and 1, not {margin!r}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be between 0 and 1, not {p!r}")
    if population is not None and population < 0:
        raise ValueError(f"population must not be negative, not {population!r}")
    z = z_score(confidence)
    n = z * z * p * (1.0 - p) / (margin * margin)
    if population is not None:
        if population == 0:
            return 0
        n = n / (1.0 + (n - 1.0) / population)
    size = math.ceil(round(n, 9))  # round first: float noise must not add an item to an exact result
    return min(size, population) if population is not None else size


def sample_size_formula(population: int | None) -> str:
    """How `sample_size` computed its answer, for the report."""
    cochran = "Cochran (1977) eq. 4.1: n0 = z^2 p(1-p) / e^2, p = 0.5"
    if population is None:
        return f"{cochran}; population unknown (no finite population correction); rounded up"
    return f"{cochran}; eq. 4.2: n = n0 / (1 + (n0 - 1) / N), N = {population}; rounded up, at most N"


@dataclass(frozen=True)
class Unit:
    """One item of the frame: its URL and the stratum it belongs to (e.g. the section of the page it was found on)."""

    key: str
    stratum: str = ""


@dataclass(frozen=True)
class Draw:
    """A sample drawn from a frame. `population_by_stratum` and `sample_by_stratum` list every stratum of the frame
    (sorted by name; a stratum with no sampled item has 0 in `sample_by_stratum`), whatever the method."""

    units: tuple[Unit, ...]  # sorted by key
    population_by_stratum: tuple[tuple[str, int], ...]
    sample_by_stratum: tuple[tuple[str, int], ...]
    seed: int
    method: Method

    @property
    def population(self) -> int:
        return sum(n for _, n in self.population_by_stratum)

    @property
    def size(self) -> int:
        return len(self.units)

    def populations(self) -> dict[str, int]:
        return dict(self.population_by_stratum)

    def samples(self) -> dict[str, int]:
        return dict(self.sample_by_stratum)


def _frame(units: Sequence[Unit]) -> list[Unit]:
    """The frame as a set, sorted by key: a unit found twice counts once; one key in two strata is an error."""
    by_key: dict[str, Unit] = {}
    for u in units:
        seen = by_key.setdefault(u.key, u)
        if seen.stratum != u.stratum:
            raise ValueError(f"the frame has {u.key!r} in two strata: {seen.stratum!r} and {u.stratum!r}")
    return [by_key[k] for k in sorted(by_key)]


def stratum_seed(seed: int, stratum: str) -> int:
    """A stratum's own seed, derived from the run's seed and the stratum's name (the same in every process)."""
    digest = hashlib.sha256(f"{seed}\x00{stratum}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def _srs(units: Sequence[Unit], n: int, seed: int) -> list[Unit]:
    """Simple random sampling without replacement of n of `units` (already sorted by key)."""
    return random.Random(seed).sample(list(units), n)


def allocate(populations: Mapping[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of n over strata: n_h = n N_h / N, rounded by largest remainder (Hamilton) so that the
    sizes sum to n; ties go to the larger stratum, then by name. When n is at least the number of non-empty strata,
    every one gets at least 1 item, taken from the stratum most over its exact quota (of those with more than 1)."""
    total = sum(populations.values())
    n = min(max(n, 0), total)
    if total == 0:
        return dict.fromkeys(populations, 0)
    quota = {h: n * size / total for h, size in populations.items()}
    alloc = {h: math.floor(q) for h, q in quota.items()}
    order = sorted(populations, key=lambda h: (-(quota[h] - alloc[h]), -populations[h], h))
    for h in order[: n - sum(alloc.values())]:
        alloc[h] += 1
    nonempty = [h for h, size in populations.items() if size > 0]
    if n >= len(nonempty):
        for h in sorted(h for h in nonempty if alloc[h] == 0):
            donor = max((d for d in alloc if alloc[d] > 1), key=lambda d: (alloc[d] - quota[d], alloc[d], d))
            alloc[donor] -= 1
            alloc[h] = 1
    return alloc


def draw(units: Sequence[Unit], n: int, seed: int, stratify: bool) -> Draw:
    """Draw n units (all of them when n is at least the frame's size: a census). Simple random sampling without
    replacement with `random.Random(seed)` over the units sorted by key; stratified: proportional allocation
    (`allocate`), then simple random sampling within each stratum with its own seed (`stratum_seed`)."""
    if n < 0:
        raise ValueError(f"the sample size must not be negative, not {n!r}")
    frame = _frame(units)
    populations = Counter(u.stratum for u in frame)
    n = min(n, len(frame))
    if stratify:
        alloc = allocate(populations, n)
        chosen = [
            u
            for h in sorted(populations)
            for u in _srs([u for u in frame if u.stratum == h], alloc[h], stratum_seed(seed, h))
        ]
    else:
        chosen = _srs(frame, n, seed)
    sampled = Counter(u.stratum for u in chosen)
    return Draw(
        units=tuple(sorted(chosen, key=lambda u: u.key)),
        population_by_stratum=tuple((h, populations[h]) for h in sorted(populations)),
        sample_by_stratum=tuple((h, sampled.get(h, 0)) for h in sorted(populations)),
        seed=seed,
        method="stratified" if stratify else "simple",
    )


def fpc(n: int, population: int | None) -> float:
    """The finite population correction (N - n) / (N - 1): 1 for an unknown population, 0 for a census."""
    if population is None:
        return 1.0
    if n > population:
        raise ValueError(f"a sample of {n} from a population of {population}")
    return 0.0 if n >= population or population <= 1 else (population - n) / (population - 1)


def wilson(successes: int, n: int, confidence: float = 0.95, population: int | None = None) -> tuple[float, float]:
    """The Wilson score interval (Wilson 1927) for a proportion of successes / n; (0.0, 1.0) when n = 0.

        centre = (p + z^2 / 2n) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)

    It is the set of proportions P with (p - P)^2 <= z^2 P (1 - P) / n. With a population size N (sampling without
    replacement) the variance term P (1 - P) / n is multiplied by the finite population correction
    f = (N - n) / (N - 1), which is the same as replacing z^2 by z^2 f in both formulas; a census (n = N) gives the
    point p. E.g. 5/10 at 95 %: (0.2366, 0.7634); 0/10: (0, 0.2775).
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"{successes} successes of {n}")
    if n == 0:
        return (0.0, 1.0)
    z2 = z_score(confidence) ** 2 * fpc(n, population)
    p = successes / n
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = math.sqrt(z2) / denominator * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


@dataclass(frozen=True)
class Estimate:
    """One outcome in one group. `proportion` is None when the group has no sampled item (its interval is then
    (0, 1)). In a stratified draw's overall group `count` is the raw count in the sample and `proportion` the
    stratum-weighted estimate."""

    outcome: Outcome
    count: int
    proportion: float | None
    low: float
    high: float


@dataclass(frozen=True)
class Group:
    """The estimates for the whole frame ("overall") or one stratum, in the order of OUTCOMES."""

    name: str
    population: int
    sample: int
    interval: str  # INTERVAL_WILSON | INTERVAL_STRATIFIED
    estimates: tuple[Estimate, ...]

    def estimate(self, outcome: str) -> Estimate:
        return next(e for e in self.estimates if e.outcome == outcome)


@dataclass(frozen=True)
class PrevalenceTable:
    confidence: float
    method: Method
    overall: Group
    strata: tuple[Group, ...]  # every stratum of the frame, sorted by name
    notes: tuple[str, ...] = ()  # what the reader must know to read the table (strata left out, missing outcomes)


OVERALL = "overall"


def _wilson_group(name: str, counts: Mapping[str, int], n: int, population: int, confidence: float) -> Group:
    estimates = tuple(
        Estimate(
            o,
            counts.get(o, 0),
            counts.get(o, 0) / n if n else None,
            *wilson(counts.get(o, 0), n, confidence, population),
        )
        for o in OUTCOMES
    )
    return Group(name, population, n, INTERVAL_WILSON, estimates)


def _stratified_overall(strata: Sequence[Group], counts: Mapping[str, int], confidence: float) -> Group:
    """p_st = sum W_h p_h with W_h = N_h / N over the strata with a sampled item, and the interval
    p_st +/- z sqrt(V), V = sum W_h^2 p_h (1 - p_h) / n_h * (N_h - n_h) / (N_h - 1), clipped to [0, 1].

    V is Cochran's (1977, ch. 5) variance of the stratified estimate of a proportion with each stratum's p_h in
    place of its true proportion. A normal approximation: when every stratum's p_h is 0 (or 1) V is 0 and the
    interval is the point itself, which understates the uncertainty of a rare outcome; the per-stratum Wilson
    intervals do not have this weakness."""
    sampled = [g for g in strata if g.sample > 0]
    total = sum(g.population for g in sampled)
    z = z_score(confidence)
    estimates = []
    for o in OUTCOMES:
        if not sampled:
            estimates.append(Estimate(o, 0, None, 0.0, 1.0))
            continue
        parts = [(g.population / total, g.estimate(o).proportion or 0.0, g) for g in sampled]
        p = sum(w * ph for w, ph, _ in parts)
        v = sum(w * w * ph * (1.0 - ph) / g.sample * fpc(g.sample, g.population) for w, ph, g in parts)
        half = z * math.sqrt(v)
        p = min(1.0, max(0.0, p))
        estimates.append(Estimate(o, counts.get(o, 0), p, max(0.0, p - half), min(1.0, p + half)))
    return Group(
        OVERALL, sum(g.population for g in strata), sum(g.sample for g in strata), INTERVAL_STRATIFIED, tuple(estimates)
    )


def _degenerate(overall: Group) -> list[str]:
    """A note on the stratified intervals that collapsed to a point though the sample is not a census."""
    if overall.sample == 0 or overall.sample >= overall.population:
        return []
    points = [e.outcome for e in overall.estimates if e.low == e.high]
    if not points:
        return []
    return [
        f"the overall interval of {', '.join(points)} is a single point: every sampled stratum's proportion is 0 or "
        "1, where the normal approximation on the stratified variance understates the uncertainty; read the "
        "per-stratum (Wilson) intervals"
    ]


def _outcomes_of(outcomes: Mapping[str, str], d: Draw) -> tuple[list[tuple[Unit, str]], list[str]]:
    """Each sampled unit with its outcome (could_not_check when it has none), and notes on what was missing."""
    for key, o in outcomes.items():
        if o not in OUTCOMES:
            raise ValueError(f"unknown outcome {o!r} for {key!r}; expected one of {', '.join(OUTCOMES)}")
    pairs = [(u, outcomes.get(u.key, "could_not_check")) for u in d.units]
    notes = []
    missing = sum(1 for u in d.units if u.key not in outcomes)
    if missing:
        notes.append(f"{missing} sampled item(s) had no outcome and count as could_not_check")
    keys = {u.key for u in d.units}
    extra = sum(1 for k in outcomes if k not in keys)
    if extra:
        notes.append(f"{extra} outcome(s) for items outside the sample were left out")
    return pairs, notes


def prevalence(outcomes: Mapping[str, str], draw: Draw, confidence: float = 0.95) -> PrevalenceTable:
    """Each outcome's count, proportion and interval at `confidence`, per stratum and overall.

    Per stratum: the Wilson interval with the stratum's frame size as the population (finite population correction).
    Overall, simple random draw: the Wilson interval with the frame's size as the population. Overall, stratified
    draw: the stratum-weighted estimate (weights N_h / N) with a normal approximation on the stratified variance,
    clipped to [0, 1] (see `_stratified_overall`). Sampled items without an outcome count as could_not_check.
    """
    pairs, notes = _outcomes_of(outcomes, draw)
    populations = draw.populations()
    strata = tuple(
        _wilson_group(
            h,
            Counter(o for u, o in pairs if u.stratum == h),
            sum(1 for u, _ in pairs if u.stratum == h),
            populations[h],
            confidence,
        )
        for h in sorted(populations)
    )
    counts = Counter(o for _, o in pairs)
    if draw.method == "stratified":
        overall = _stratified_overall(strata, counts, confidence)
        empty = [g for g in strata if g.sample == 0 and g.population > 0]
        if empty and overall.sample:
            left = sum(g.population for g in empty)
            notes.append(
                f"{len(empty)} stratum(s) had no sampled item (the sample is smaller than the number of strata): "
                f"the overall estimate covers the other strata only ({draw.population - left} of "
                f"{draw.population} frame items), weighted among themselves"
            )
        notes += _degenerate(overall)
    else:
        overall = _wilson_group(OVERALL, counts, len(pairs), draw.population, confidence)
    return PrevalenceTable(confidence, draw.method, overall, strata, tuple(notes))
