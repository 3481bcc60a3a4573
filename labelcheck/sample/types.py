"""The records the sample's modules pass between them (frozen: they cross threads and processes)."""

from __future__ import annotations

from dataclasses import dataclass

STRATA = ("host", "media-type", "section")  # what a stratified sample's strata are (sample --stratify)


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and what came back, as sent and as received: a WARC request and response record each.
    `status` is None when no response came (refused by a rule, a connection or time-out error: `error` says)."""

    url: str  # the URL asked for (a redirect is an exchange of its own)
    started: str  # ISO 8601 UTC, when the request was sent
    request_headers: tuple[tuple[str, str], ...]
    status: int | None = None
    reason: str = ""  # the status line's reason phrase
    response_headers: tuple[tuple[str, str], ...] = ()  # (name, value) as received, in order
    body_path: str | None = None  # the body's bytes as received (no content decoding: Accept-Encoding identity)
    body_size: int = 0
    body_sha256: str = ""
    address: str = ""  # the IP address the request was sent to
    http_version: str = "HTTP/1.1"
    error: str = ""  # why there is no (whole) response; "" when there is
    purpose: str = ""  # robots | tdmrep | sitemap | feed | page | media | manifest


@dataclass(frozen=True)
class PageLabel:
    """What a page says about one medium, as found (never judged here: classify/ reads it as a `page` signal)."""

    where: str  # figcaption | caption | alt | title | aria-label | badge | json-ld | meta | platform
    text: str  # the words or the value as the page has them (a JSON-LD digitalSourceType's URI)
    field: str = ""  # the attribute, element or JSON-LD key it came from, e.g. "img@alt", "digitalSourceType"


@dataclass(frozen=True)
class MediaRef:
    """One medium a page shows or links, with what the page says about it."""

    url: str  # absolute http(s) URL
    kind: str  # image | video | audio | stream (an HLS or DASH manifest) | other
    found_in: str  # img | srcset | picture | video | audio | source | og:image | og:video | json-ld | link | enclosure
    page: str  # the URL of the page (or feed) it was found on
    labels: tuple[PageLabel, ...] = ()
    section: str = ""  # the page's section for stratification: the first path segment of the page URL


@dataclass(frozen=True)
class Page:
    """What one HTML page (or feed) holds for the crawl."""

    url: str
    links: tuple[str, ...] = ()  # absolute http(s) URLs of pages it links to (a elements, link rel=alternate)
    media: tuple[MediaRef, ...] = ()
    tdm: tuple[tuple[str, str], ...] = ()  # (name, value) of TDMRep meta tags (tdm-reservation, tdm-policy)
    error: str = ""


@dataclass(frozen=True)
class AgentRule:
    """What a host's robots.txt says to one AI crawler."""

    agent: str  # the crawler's token, e.g. GPTBot
    purpose: str  # training | search | assistant | mixed (crawlers.yaml)
    allowed_root: bool  # may it fetch "/"
    disallowed_everything: bool  # "Disallow: /" for it (or for * when it has no group of its own)
    own_group: bool  # robots.txt names it (otherwise the * group applies)


@dataclass(frozen=True)
class HostTdm:
    """How one host reserves text and data mining (DSM Art. 4(3)): robots.txt for AI crawlers, TDMRep."""

    host: str
    robots_found: bool
    agents: tuple[AgentRule, ...] = ()
    tdmrep: tuple[tuple[str, str, str], ...] = ()  # (location pattern, tdm-reservation, tdm-policy) of tdmrep.json
    headers: tuple[tuple[str, str], ...] = ()  # tdm-reservation / tdm-policy response headers seen on the host
    meta: tuple[tuple[str, str], ...] = ()  # the same as meta tags on its pages
    reserved: str = "unspecified"  # reserved | not_reserved | partial | unspecified (tdm.py decides)
    notes: tuple[str, ...] = ()
