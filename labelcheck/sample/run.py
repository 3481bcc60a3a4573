"""One sample, start to end: crawl (crawl.py), draw (stats.py), fetch the sampled media (politely: http.py), check
them as `check` does (api.scan, on any engine), add what their pages say (source `page`), sort each into an
outcome, read each host's text-and-data-mining reservation (tdm.py), and make the report (report.py)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from .. import __version__
from ..api import EvidenceOptions, Judge, RunOptions, scan
from ..classify import vocab
from ..model import AiStatus, Kind, Result, Signal
from . import stats, tdm
from .crawl import Crawler, CrawlLimits, Found
from .http import Disallowed, PoliteFetcher, Politeness, body, origin
from .report import DrawInfo, ItemRow, SampleReport
from .state import FetchState
from .types import Exchange, HostTdm, MediaRef, PageLabel

MAX_PROBLEMS = 50  # pages that could not be read, listed in the report's findings
STREAM = "stream"  # Sampler.fetch's mark of an HLS/DASH item: Sampler.stream checks it
STREAM_SEGMENTS = 10  # a sampled stream's segments checked (its best rendition's first ones)
LABELLED = {"c2pa_trusted", "c2pa_valid", "standard_metadata", "page"}  # rules whose terms are standard labels


@dataclass(frozen=True)
class SampleOptions:
    seeds: tuple[str, ...]
    allow_hosts: tuple[str, ...] = ()
    size: int | None = None  # the sample's size; None: from margin and confidence
    margin: float = 0.05
    confidence: float = 0.95
    stratify: str | None = None  # host | media-type | section
    seed: int = 0
    limits: CrawlLimits = CrawlLimits()
    politeness: Politeness = Politeness()
    operator: str = ""
    tdm_only: bool = False  # read the hosts' reservations and the pages; fetch no media


def stratum(ref: MediaRef, by: str | None) -> str:
    if by == "host":
        return urlsplit(ref.url).hostname or ""
    if by == "media-type":
        return ref.kind
    if by == "section":
        return ref.section
    return ""


def page_signals(labels: tuple[PageLabel, ...], page: str) -> list[Signal]:
    """What a page says of a medium, as signals of source `page`: a digital source type where the page gives one
    (JSON-LD, HTML meta), words where they say AI (the vocabulary decides, as for a file's captions)."""
    out = []
    for lb in labels:
        key = f"page:{lb.where}" + (f":{lb.field}" if lb.field else "")
        if "digitalsourcetype" in lb.field.lower() or vocab.source_type_status(lb.text) is not None:
            out.append(Signal(vocab.PAGE_SOURCE, Kind.SOURCE_TYPE, key, lb.text, page))
        elif vocab.AI_PHRASES.search(lb.text):
            out.append(Signal(vocab.PAGE_SOURCE, Kind.AI_TEXT, key, lb.text, page))
    return out


def with_page(r: Result, ref: MediaRef, judge: Judge) -> Result:
    """An item's result judged again with what its page says of it, named by its URL."""
    said = tuple(page_signals(ref.labels, ref.page))
    return judge(replace(r.evidence, target=ref.url, signals=r.evidence.signals + said))


def outcome(r: Result) -> str:
    """The sample's outcome of one checked item (stats.OUTCOMES)."""
    c, ev = r.classification, r.evidence
    informative = [d for d in c.evidence if d.status is not AiStatus.UNKNOWN]
    if ev.errors and not informative and not ev.signals and not ev.c2pa.present:
        return "could_not_check"
    if ev.c2pa.present and ev.c2pa.validation_state not in ("Valid", "Trusted"):
        return "provenance_broken"
    if any(s.kind is Kind.PROVENANCE_REF for s in ev.signals) and not ev.c2pa.manifests:
        return "provenance_broken"
    if c.status in (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI) and informative[0].rule in LABELLED:
        return "labelled_fully_ai" if c.status is AiStatus.FULLY_AI else "labelled_made_with_ai"
    if c.status in (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI, AiStatus.POSSIBLY_AI):
        return "ai_without_standard_label"
    return "no_signal"


class Sampler:
    def __init__(
        self,
        opts: SampleOptions,
        store: Path,
        record: Callable[[Exchange], None] = lambda ex: None,
        state: FetchState | None = None,
    ):
        self.opts = opts
        self._record = record
        self._lock = threading.Lock()
        self.fetcher = PoliteFetcher(opts.politeness, store, self._locked_record, state)
        self.found = Found()
        self.excluded: list[str] = []  # media of the frame robots.txt keeps labelcheck from

    def _locked_record(self, ex: Exchange) -> None:
        with self._lock:
            self._record(ex)

    def crawl(self) -> Found:
        self.found = Crawler(self.fetcher, self.opts.seeds, self.opts.allow_hosts, self.opts.limits).run()
        return self.found

    def draw(self) -> stats.Draw:
        """The sample, drawn from the frame of media robots.txt lets labelcheck fetch (the others are reported)."""
        frame = {u: ref for u, ref in self.found.frame.items() if self._fetchable(u)}
        self.excluded = [u for u in self.found.frame if u not in frame]
        units = [stats.Unit(url, stratum(ref, self.opts.stratify)) for url, ref in frame.items()]
        n = self.opts.size
        if n is None:
            n = stats.sample_size(self.opts.margin, self.opts.confidence, len(units)) if units else 0
        return stats.draw(units, min(n, len(units)), self.opts.seed, self.opts.stratify is not None)

    def _fetchable(self, url: str) -> bool:
        try:
            return self.fetcher.allowed(url)
        except Exception:  # noqa: BLE001 - a host that cannot even be named: the fetch will say why
            return True

    def fetch(self, refs: list[MediaRef]) -> dict[str, Exchange | str]:
        """Each sampled medium's final exchange, or why it was not fetched."""

        def one(ref: MediaRef) -> tuple[str, Exchange | str]:
            if ref.kind == "stream":
                return ref.url, STREAM  # checked by stream() instead: its playlists and segments are fetched there
            try:
                ex = self.fetcher.get(ref.url, "media")
            except Disallowed as exc:
                return ref.url, f"not fetched: {exc}"
            if ex.status != 200 or ex.error or not ex.body_path:
                return ref.url, ex.error or f"HTTP {ex.status}"
            return ref.url, ex

        with ThreadPoolExecutor(max_workers=max(1, self.opts.limits.threads)) as pool:
            return dict(pool.map(one, refs))

    def _get(self, ref: str) -> bytes:
        """A stream's playlist or segment through the polite fetcher (robots.txt, pace, evidence)."""
        from ..inputs.fetch import FetchError

        try:
            ex = self.fetcher.get(ref, "media")
        except Disallowed as exc:
            raise FetchError(str(exc)) from exc
        if ex.status != 200 or ex.error:
            raise FetchError(f"{ref}: {ex.error or f'HTTP {ex.status}'}")
        return body(ex, self.opts.politeness.max_bytes)

    def stream(self, ref: MediaRef, options: EvidenceOptions, judge: Judge) -> Result | str:
        """An HLS or DASH stream, every request through the polite fetcher (check_stream_item)."""
        return check_stream_item(ref, self._get, options, judge)

    def hosts(self, urls: list[str]) -> tuple[HostTdm, ...]:
        """The text-and-data-mining reservation of each origin of the seeds and of the sampled items."""
        out = []
        for key in sorted({origin(u) for u in urls}):
            robots = self.fetcher.robots_txt(key + "/")
            if why := self.fetcher.blocked(key + "/"):  # never reached: say so, not "no robots.txt"
                out.append(HostTdm(urlsplit(key).netloc, False, notes=(why,)))
                continue
            tdmrep = None
            try:
                ex = self.fetcher.get(key + "/.well-known/tdmrep.json", "tdmrep", follow_off_host=False)
                if ex.status == 200 and ex.body_path:
                    tdmrep = Path(ex.body_path).read_bytes()
            except Disallowed:
                pass
            heads = self.found.tdm_headers.get(key, [])
            out.append(tdm.host_tdm(urlsplit(key).netloc, robots, tdmrep, heads, self.found.tdm_meta.get(key, [])))
        return tuple(out)


def check_stream_item(
    ref: MediaRef, get: Callable[[str], bytes], options: EvidenceOptions, judge: Judge
) -> Result | str:
    """A sampled stream checked as `check` checks one (its best rendition, STREAM_SEGMENTS segments), its playlists
    and segments fetched by `get` (the polite fetcher; the bundle's stored bytes when it is checked again), with what
    its page says: its result, or why it could not be checked."""
    from ..extract import c2pa as c2pa_x
    from ..streams.check import StreamOptions, check_stream, judge_stream

    opts = StreamOptions(rendition="best", max_segments=STREAM_SEGMENTS, ffprobe=options.ffprobe, getter=get)
    try:
        st = judge_stream(check_stream(ref.url, opts, c2pa_x.make_context(options.c2pa)), judge)
    except Exception as exc:  # noqa: BLE001 - one stream never stops the sample
        return f"the stream could not be checked: {type(exc).__name__}: {exc}"
    if st.result is None:
        return "the stream could not be checked"
    return with_page(st.result, ref, judge)


def _row(ref: MediaRef, unit: stats.Unit, r: Result | None, why: str, outcome_: str) -> ItemRow:
    labels = "; ".join(f"{lb.where}: {lb.text[:80]}" for lb in ref.labels)
    if r is None:
        return ItemRow(ref.url, ref.page, unit.stratum, outcome_, page_labels=labels, error=why)
    c = r.classification
    reasons = "; ".join(f"{d.source}: {d.reason}"[:160] for d in c.evidence if d.status is not AiStatus.UNKNOWN)
    errors = "; ".join(e.message for e in r.evidence.errors)
    return ItemRow(ref.url, ref.page, unit.stratum, outcome_, c.status.value, c.basis.value, reasons, labels, errors)


def run(
    opts: SampleOptions,
    store: Path,
    options: EvidenceOptions,
    judge: Judge,
    run_options: RunOptions | None = None,
    record: Callable[[Exchange], None] = lambda ex: None,
    state: FetchState | None = None,
) -> tuple[SampleReport, Sampler]:
    s = Sampler(opts, store, record, state)
    found = s.crawl()
    d = s.draw() if not opts.tdm_only else stats.draw([], 0, opts.seed, False)
    refs = [found.frame[u.key] for u in d.units]
    fetched = s.fetch(refs) if refs else {}
    paths = {ref.url: ex.body_path for ref in refs if isinstance(ex := fetched[ref.url], Exchange) and ex.body_path}
    checked: dict[str, Result] = {}
    for ref in refs:
        if fetched.get(ref.url) == STREAM:
            streamed = s.stream(ref, options, judge)
            if isinstance(streamed, str):
                fetched[ref.url] = streamed
            else:
                checked[ref.url] = streamed
    if paths:
        report = scan(list(dict.fromkeys(paths.values())), options, judge, run_options=run_options)
        by_path = {r.evidence.target: r for r in report.results}
        for ref in refs:
            r = by_path.get(paths.get(ref.url, ""))
            if r is not None:
                checked[ref.url] = with_page(r, ref, judge)
    outcomes, rows = {}, []
    for unit, ref in zip(d.units, refs, strict=True):
        r = checked.get(ref.url)
        got = fetched.get(ref.url)
        why = got if isinstance(got, str) and got != STREAM else ""
        outcomes[ref.url] = outcome(r) if r is not None else "could_not_check"
        rows.append(_row(ref, unit, r, why, outcomes[ref.url]))
    hosts = s.hosts(list(opts.seeds) + [ref.url for ref in refs])
    findings = [f for ref in refs if (r := checked.get(ref.url)) for h in hosts if h.host == urlsplit(ref.url).netloc
                for f in tdm.conflicts(h, r.classification.training.value, ref.url)]  # fmt: skip
    findings += [f"not read: {p}" for p in found.problems[:MAX_PROBLEMS]]
    if len(found.problems) > MAX_PROBLEMS:
        findings.append(f"... and {len(found.problems) - MAX_PROBLEMS} more pages not read")
    if s.excluded:
        shown = ", ".join(s.excluded[:20]) + (" ..." if len(s.excluded) > 20 else "")
        findings.append(f"{len(s.excluded)} media found but left out of the frame: robots.txt disallows them ({shown})")
    table = stats.prevalence(outcomes, d, opts.confidence)
    margin = None if opts.size is not None else opts.margin
    formula = stats.sample_size_formula(d.population) if opts.size is None else "size given (--size)"
    info = DrawInfo(d.method, d.seed, d.size, margin, opts.confidence, formula)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    rep = SampleReport(__version__, now, opts.seeds, opts.operator, tuple(p.id for p in judge.policies),
                       d.population, info, table, tuple(rows), hosts, tuple(findings))  # fmt: skip
    return rep, s
