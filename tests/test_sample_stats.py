"""labelcheck/sample/stats.py and report.py: sample sizes, draws, intervals and prevalence checked against published
values and hand computations; the renderers' output escaped, schema-valid and readable back."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from labelcheck import resources
from labelcheck.sample.report import (
    ITEM_COLUMNS,
    PREVALENCE_COLUMNS,
    DrawInfo,
    ItemRow,
    SampleReport,
    prevalence_csv,
    to_csv,
    to_html,
    to_json,
)
from labelcheck.sample.stats import (
    INTERVAL_STRATIFIED,
    INTERVAL_WILSON,
    OUTCOME_TEXT,
    OUTCOMES,
    Unit,
    allocate,
    draw,
    prevalence,
    sample_size,
    sample_size_formula,
    wilson,
)
from labelcheck.sample.types import AgentRule, HostTdm

# -- sample size: Cochran (1977) ch. 4 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "margin,confidence,population,expected",
    [
        (0.05, 0.95, None, 385),  # the textbook 385
        (0.05, 0.95, 1000, 278),
        (0.05, 0.95, 100, 80),
        (0.03, 0.95, None, 1068),
        (0.03, 0.99, None, 1844),
        (0.05, 0.95, 10, 10),  # never more than the population
        (0.05, 0.95, 0, 0),
    ],
)
def test_sample_size_against_published_values(margin, confidence, population, expected):
    assert sample_size(margin, confidence, population) == expected


def test_sample_size_rejects_nonsense():
    for bad in ((0.0, 0.95, None), (0.05, 1.0, None), (0.05, 0.95, -1)):
        with pytest.raises(ValueError):
            sample_size(*bad)
    assert "N = 1000" in sample_size_formula(1000) and "unknown" in sample_size_formula(None)


# -- Wilson score interval ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "successes,n,low,high",
    [  # Newcombe (1998), Stat. Med. 17, table I; Brown, Cai & DasGupta (2001)
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
    ],
)
def test_wilson_against_published_values(successes, n, low, high):
    lo, hi = wilson(successes, n, 0.95)
    assert lo == pytest.approx(low, abs=5e-5) and hi == pytest.approx(high, abs=5e-5)


def test_wilson_edges_and_finite_population():
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(3, 10, population=10) == (0.3, 0.3)  # a census: no sampling error
    wide, narrow = wilson(5, 10), wilson(5, 10, population=20)
    assert narrow[0] > wide[0] and narrow[1] < wide[1]
    f = (20 - 10) / (20 - 1)  # the same as z^2 * f in place of z^2
    z2 = 1.959963984540054**2 * f
    half = math.sqrt(z2) / (1 + z2 / 10) * math.sqrt(0.25 / 10 + z2 / 400)
    assert narrow == pytest.approx((0.5 - half, 0.5 + half))
    assert wilson(5, 10, population=10**9) == pytest.approx(wide)
    with pytest.raises(ValueError):
        wilson(11, 10)
    with pytest.raises(ValueError):
        wilson(1, 10, population=5)


# -- drawing ---------------------------------------------------------------------------------------------------------

UNITS = [Unit(f"https://e.example/m/{i:03d}.jpg", "news" if i % 3 else "sport") for i in range(100)]


def test_a_draw_is_reproducible_whatever_the_crawls_order():
    a = draw(UNITS, 30, 42, stratify=False)
    b = draw(list(reversed(UNITS)), 30, 42, stratify=False)
    assert a == b and a.size == 30 and len(set(a.units)) == 30
    assert draw(UNITS, 30, 43, stratify=False).units != a.units
    assert draw(UNITS + UNITS[:5], 30, 42, stratify=False) == a  # an item found twice counts once


def test_a_draw_is_pinned():
    """The same frame and seed give this sample in every release: a regulator can repeat it."""
    simple = draw(UNITS, 10, 1, stratify=False)
    assert [u.key[-7:-4] for u in simple.units] == [
        "008",
        "015",
        "017",
        "032",
        "057",
        "060",
        "063",
        "072",
        "083",
        "097",
    ]
    strat = draw(UNITS, 10, 1, stratify=True)
    assert [u.key[-7:-4] for u in strat.units] == ["006", "013", "016", "018", "029", "046", "050", "058", "084", "092"]


def test_stratified_draw_allocates_proportionally():
    d = draw(list(reversed(UNITS)), 10, 1, stratify=True)
    assert d.method == "stratified" and d.population == 100
    assert d.population_by_stratum == (("news", 66), ("sport", 34))
    assert d.sample_by_stratum == (("news", 7), ("sport", 3))  # 6.6 and 3.4: largest remainder
    assert sum(n for _, n in d.sample_by_stratum) == d.size == 10
    assert all(sum(1 for u in d.units if u.stratum == h) == n for h, n in d.sample_by_stratum)
    assert d == draw(UNITS, 10, 1, stratify=True)
    assert d.units != draw(UNITS, 10, 2, stratify=True).units


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 7, 10, 99, 1000])
def test_allocation_sums_to_n_and_gives_each_stratum_one(n):
    sizes = {"a": 500, "b": 300, "c": 150, "d": 2}
    alloc = allocate(sizes, n)
    assert sum(alloc.values()) == min(n, 952)
    assert all(alloc[h] <= sizes[h] for h in sizes)
    if n >= 4:
        assert min(alloc.values()) >= 1
    assert allocate({"a": 50, "b": 30, "c": 20, "d": 1}, 10) == {"a": 4, "b": 3, "c": 2, "d": 1}


def test_draw_edges():
    assert draw(UNITS, 500, 1, stratify=True).size == 100  # a census
    assert draw([], 10, 1, stratify=False).size == 0
    with pytest.raises(ValueError):
        draw([Unit("u", "a"), Unit("u", "b")], 1, 1, stratify=False)
    with pytest.raises(ValueError):
        draw(UNITS, -1, 1, stratify=False)


# -- prevalence ------------------------------------------------------------------------------------------------------


def test_simple_prevalence():
    d = draw(UNITS[:20], 10, 5, stratify=False)
    keys = [u.key for u in d.units]
    outcomes = dict.fromkeys(keys[:5], "labelled_fully_ai") | dict.fromkeys(keys[5:9], "no_signal")
    t = prevalence(outcomes | {"https://elsewhere.example/x.jpg": "no_signal"}, d, 0.95)
    o = t.overall
    assert (o.name, o.population, o.sample, o.interval) == ("overall", 20, 10, INTERVAL_WILSON)
    assert [e.outcome for e in o.estimates] == list(OUTCOMES)
    full = o.estimate("labelled_fully_ai")
    assert (full.count, full.proportion) == (5, 0.5)
    assert (full.low, full.high) == wilson(5, 10, 0.95, population=20)
    assert o.estimate("could_not_check").count == 1  # the item without an outcome
    assert o.estimate("provenance_broken").proportion == 0.0
    assert sum(e.count for e in o.estimates) == 10
    assert any("no outcome" in n for n in t.notes) and any("outside the sample" in n for n in t.notes)
    with pytest.raises(ValueError):
        prevalence({keys[0]: "maybe"}, d)


def test_stratified_prevalence_is_weighted():
    units = [Unit(f"a{i:03d}", "a") for i in range(100)] + [Unit(f"b{i:03d}", "b") for i in range(300)]
    d = draw(units, 40, 9, stratify=True)
    assert d.samples() == {"a": 10, "b": 30}
    a = [u.key for u in d.units if u.stratum == "a"]
    b = [u.key for u in d.units if u.stratum == "b"]
    outcomes = {k: "no_signal" for k in a + b} | dict.fromkeys(a[:2] + b[:3], "labelled_fully_ai")
    t = prevalence(outcomes, d, 0.95)
    full = t.overall.estimate("labelled_fully_ai")
    # p_st = 1/4 * 2/10 + 3/4 * 3/30; V = sum W_h^2 p_h q_h / n_h * (N_h - n_h) / (N_h - 1), by hand
    assert t.overall.interval == INTERVAL_STRATIFIED and full.count == 5
    assert full.proportion == pytest.approx(0.125)
    assert (full.low, full.high) == pytest.approx((0.0283255, 0.2216745), abs=1e-6)
    sa = t.strata[0].estimate("labelled_fully_ai")
    assert (t.strata[0].name, sa.proportion) == ("a", 0.2)
    assert (sa.low, sa.high) == wilson(2, 10, 0.95, population=100)
    assert t.overall.estimate("could_not_check").count == 0
    assert len(t.notes) == 1 and "single point" in t.notes[0] and "provenance_broken" in t.notes[0]
    assert t.overall.estimate("provenance_broken").low == 0.0


def test_stratified_prevalence_with_a_stratum_left_unsampled():
    units = [Unit(f"a{i}", "a") for i in range(98)] + [Unit("b", "b"), Unit("c", "c")]
    d = draw(units, 2, 1, stratify=True)
    t = prevalence({u.key: "no_signal" for u in d.units}, d)
    assert d.samples() == {"a": 2, "b": 0, "c": 0}  # fewer items than strata: the largest remainders win
    empty = t.strata[1]
    assert empty.estimates[0].proportion is None and (empty.estimates[0].low, empty.estimates[0].high) == (0, 1)
    assert t.overall.estimate("no_signal").proportion == 1.0 and any("no sampled item" in n for n in t.notes)


# -- the report ------------------------------------------------------------------------------------------------------

HOSTILE = 'https://e.example/<script>alert("x")</script>.jpg'


def make_report() -> SampleReport:
    d = draw(UNITS, 6, 3, stratify=True)
    keys = [u.key for u in d.units]
    outcomes = {keys[0]: "labelled_fully_ai", keys[1]: "provenance_broken", keys[2]: "ai_without_standard_label"}
    items = tuple(
        ItemRow(url=u.key, page="https://e.example/news/1", stratum=u.stratum, outcome=outcomes.get(u.key, "no_signal"))
        for u in d.units
    ) + (
        ItemRow(HOSTILE, "javascript:alert(1)", "news", "could_not_check", "unknown", "none", "=HYPERLINK(1)",
                'caption: "AI, made"\nsecond line', "timeout\x1b[2J"),
    )  # fmt: skip
    host = HostTdm(
        host="e.example",
        robots_found=True,
        agents=(AgentRule("GPTBot", "training", False, True, True),),
        tdmrep=(("/*", "1", "https://e.example/policy"),),
        headers=(("tdm-reservation", "1"),),
        reserved="reserved",
        notes=("<b>note</b>",),
    )
    return SampleReport(
        tool_version="0.1.0",
        generated_at="2025-06-01T12:00:00Z",
        seeds=("https://e.example/sitemap.xml",),
        operator="Market surveillance <authority>",
        policies=("eu-ai-act-art50",),
        frame_size=100,
        draw=DrawInfo("stratified", 3, 6, 0.05, 0.95, sample_size_formula(100)),
        prevalence=prevalence(outcomes, d, 0.95),
        items=items,
        hosts=(host,),
        findings=("e.example reserves training but an item's C2PA manifest says training is allowed",),
    )


def test_json_validates_against_the_schema():
    doc = json.loads(to_json(make_report()))
    resources.validator("sample-report").validate(doc)
    assert doc["draw"]["method"] == "stratified" and doc["items"][-1]["url"] == HOSTILE
    assert set(doc["prevalence"]["outcomes"]) == set(OUTCOMES) == set(OUTCOME_TEXT)
    assert doc["prevalence"]["overall"]["estimates"][0]["outcome"] == "labelled_fully_ai"
    bad = doc | {"frame_size": -1}
    assert list(resources.validator("sample-report").iter_errors(bad))


def test_html_is_self_contained_and_escaped():
    page = to_html(make_report())
    assert "<script" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page and "<b>note</b>" not in page and "\x1b" not in page
    assert "src=" not in page and "<link" not in page  # no external asset
    assert page.count("<svg") == 1 + 2  # overall and each stratum
    assert all(o in page for o in OUTCOMES) and "&lt;authority&gt;" in page


def test_csv_round_trips():
    r = make_report()
    rows = list(csv.reader(io.StringIO(to_csv(r))))
    assert tuple(rows[0]) == ITEM_COLUMNS and len(rows) == 1 + len(r.items)
    last = dict(zip(ITEM_COLUMNS, rows[-1], strict=True))
    assert last["url"] == HOSTILE and last["page_labels"] == 'caption: "AI, made"\nsecond line'
    assert last["reasons"] == "'=HYPERLINK(1)"  # inert in a spreadsheet
    table = list(csv.DictReader(io.StringIO(prevalence_csv(r))))
    assert tuple(table[0]) == PREVALENCE_COLUMNS and len(table) == len(OUTCOMES) * (1 + len(r.prevalence.strata))
    first = r.prevalence.overall.estimates[0]
    assert table[0]["group"] == "overall" and float(table[0]["proportion"]) == first.proportion
    assert (float(table[0]["low"]), float(table[0]["high"])) == (first.low, first.high)
