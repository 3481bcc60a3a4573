"""The crawl: seeds -> pages -> the frame of media -> nothing else (sampling and checking: run.py).

Seeds are sitemaps (index or gzipped), RSS/Atom feeds or pages. Pages are followed within the allowed hosts (the
seeds' hosts and --allow-host), breadth first, to `max_depth` links from a seed and at most `max_pages` pages; media
may live on any public host (a CDN), where robots.txt and the pace are that host's. Hosts are fetched in parallel,
each at its own pace (http.py). Everything fetched is recorded by the fetcher for the evidence bundle."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from . import discover, pages
from .http import Disallowed, PoliteFetcher, body, origin
from .types import MediaRef, Page

SECTION_NONE = "(root)"


@dataclass(frozen=True)
class CrawlLimits:
    max_pages: int = 1000  # pages (and feeds, sitemaps) fetched
    max_depth: int = 3  # links followed from a seed (a sitemap's pages are one link away)
    threads: int = 4  # hosts fetched in parallel


@dataclass
class Found:
    """What the crawl found: the frame of media (by URL, in the order found), the pages visited, TDMRep facts."""

    frame: dict[str, MediaRef] = field(default_factory=dict)
    pages: list[tuple[str, str]] = field(default_factory=list)  # (URL, title) of every HTML page read
    tdm_headers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # origin -> headers seen
    tdm_meta: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # origin -> meta tags seen
    problems: list[str] = field(default_factory=list)  # pages that could not be read, and why
    fetched: int = 0  # documents fetched (pages, feeds, sitemaps)


def section(url: str) -> str:
    """A page's section for stratification: the first segment of its path."""
    first = urlsplit(url).path.strip("/").split("/", 1)[0]
    return first if first and "." not in first else SECTION_NONE


def merge(frame: dict[str, MediaRef], refs: Iterable[MediaRef]) -> None:
    """Media into the frame, one entry per URL in the order first found; what each other page says of a medium it
    also shows is added to its labels."""
    for m in refs:
        had = frame.get(m.url)
        if had is None:
            frame[m.url] = replace(m, section=m.section or section(m.page))
        elif m.labels:
            frame[m.url] = replace(had, labels=had.labels + tuple(x for x in m.labels if x not in had.labels))


Leads = list[tuple[str, str]]  # (URL, hint): what a document leads to


def read_document(url: str, data: bytes, ctype: str, hint: str) -> tuple[str, list[MediaRef], Leads, Page | None]:
    """One fetched document: its kind (sitemap | feed | page | other), its media, what it leads to (a sitemap's
    parts with the hint "sitemap"), and the page when it is one. Pure: the crawl and the bundle's replay read alike."""
    kind = hint if hint in ("sitemap", "feed", "page") else discover.sniff_seed(url, data, ctype)
    if kind == "sitemap":
        sm = discover.parse_sitemap(url, data)
        return kind, list(sm.media), [(u, "sitemap") for u in sm.sitemaps] + [(u, "page") for u in sm.pages], None
    if kind == "feed":
        fd = discover.parse_feed(url, data)
        return kind, list(fd.media), [(u, "page") for u in fd.pages], None
    if "html" not in ctype.lower() and data.lstrip()[:1] != b"<":
        return "other", [], [], None  # a link to something that is no document
    page = pages.parse_page(url, data, ctype)
    media = [replace(m, section=m.section or section(page.url)) for m in page.media]
    return "page", media, [(u, "link") for u in page.links], page


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class Crawler:
    def __init__(self, fetcher: PoliteFetcher, seeds: Iterable[str], allow_hosts: Iterable[str], limits: CrawlLimits):
        self.fetcher = fetcher
        self.seeds = tuple(dict.fromkeys(seeds))
        self.hosts = {_host(s) for s in self.seeds} | {h.lower() for h in allow_hosts}
        self.limits = limits
        self.found = Found()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def run(self) -> Found:
        level = [(s, "seed", 0) for s in self.seeds]
        with ThreadPoolExecutor(max_workers=max(1, self.limits.threads)) as pool:
            while level:  # breadth first: every document of a round before the documents they lead to
                todo = [(u, h, d) for u, h, d in level if d <= self.limits.max_depth and self._claim(u)]
                level = [nxt for found in pool.map(lambda e: self._visit(*e), todo) for nxt in found]
        return self.found

    def _claim(self, url: str) -> bool:
        """Whether `url` is still to be visited within the page cap (and mark it visited)."""
        with self._lock:
            if url in self._seen or self.found.fetched >= self.limits.max_pages:
                return False
            self._seen.add(url)
            self.found.fetched += 1
            return True

    def _visit(self, url: str, hint: str, depth: int) -> list[tuple[str, str, int]]:
        """Fetch one document and return what to visit next: (url, hint, depth); a sitemap's parts are at its
        depth, the pages it or a page links one deeper."""
        purpose = {"seed": "page", "sitemap": "sitemap", "feed": "feed"}.get(hint, "page")
        try:
            ex = self.fetcher.get(url, purpose, follow_off_host=False)
        except Disallowed as exc:  # robots.txt, or a host that could not be reached at all
            return self._problem(url, str(exc).removeprefix(f"{url}: "))
        except Exception as exc:  # noqa: BLE001 - one page never stops the crawl
            return self._problem(url, f"{type(exc).__name__}: {exc}")
        said = {k.lower(): v for k, v in ex.response_headers}
        self._tdm_headers(url, said)
        if ex.status != 200 or ex.error:
            return self._problem(url, ex.error or f"HTTP {ex.status}")
        data = body(ex, self.fetcher.p.max_page_bytes)
        kind, media, leads, page = read_document(ex.url, data, said.get("content-type", ""), hint)
        self._media(media)
        if page is not None:
            self._page(page)
        return [(u, h, depth if h == "sitemap" else depth + 1) for u, h in leads if self._ours(u)]

    def _page(self, page: Page) -> None:
        with self._lock:
            self.found.pages.append((page.url, ""))
            if page.tdm:
                self.found.tdm_meta.setdefault(origin(page.url), []).extend(page.tdm)
            if page.error:
                self.found.problems.append(f"{page.url}: {page.error}")

    def _media(self, refs: Iterable[MediaRef]) -> None:
        with self._lock:
            merge(self.found.frame, refs)

    def _ours(self, url: str) -> bool:
        return _host(url) in self.hosts

    def _tdm_headers(self, url: str, said: dict[str, str]) -> None:
        tdm = [(k, v) for k, v in said.items() if k in ("tdm-reservation", "tdm-policy")]
        if tdm:
            with self._lock:
                self.found.tdm_headers.setdefault(origin(url), []).extend(tdm)

    def _problem(self, url: str, why: str) -> list[tuple[str, str, int]]:
        with self._lock:
            self.found.problems.append(f"{url}: {why}")
        return []
