"""Seeds to page URLs and media, bytes in, records out: what a seed is (`sniff_seed`), a sitemap's pages, sub-sitemaps
and image/video entries (`parse_sitemap`: ultimate-sitemap-parser, lxml for the video extension it does not read),
a feed's entry links and media (`parse_feed`: feedparser, lxml for each media element's own title and description).
Also the URL and media-kind rules pages.py shares. Nothing here fetches (sub-sitemaps are returned for the crawler to
fetch), writes, or judges; nothing raises.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree
from usp.fetch_parse import IndexRobotsTxtSitemapParser, PlainTextSitemapParser, XMLSitemapParser
from usp.objects.sitemap import InvalidSitemap
from usp.web_client.abstract_client import LocalWebClient
from w3lib.encoding import html_to_unicode, read_bom

from labelcheck.sample.types import MediaRef, PageLabel

logging.getLogger("usp").addHandler(logging.NullHandler())  # its complaints about a sitemap go to SitemapResult.error

MAX_UNZIPPED = 50 * 1024 * 1024  # a sitemap's limit (sitemaps.org); more is refused, not truncated silently
MAX_TEXT = 500  # characters of one label
MAX_URL = 8192
SNIFF = 65536  # bytes looked at to tell a seed's kind
GZIP = b"\x1f\x8b"
EXTENSIONS = {
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif", ".heic"), "image"),
    **dict.fromkeys((".mp4", ".mov", ".webm"), "video"),
    **dict.fromkeys((".mp3", ".wav", ".m4a", ".flac", ".ogg"), "audio"),
    **dict.fromkeys((".m3u8", ".mpd"), "stream"),
}
KINDS = ("image", "video", "audio")
STREAM_TYPES = ("application/vnd.apple.mpegurl", "application/x-mpegurl", "application/dash+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these inside URLs
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_MARKUP = re.compile(rb"<(?:!doctype|html|head|body|[a-z][a-z0-9]*[\s>/])", re.IGNORECASE)


@dataclass(frozen=True)
class SitemapResult:
    """One sitemap's content: page URLs (a urlset or a plain-text sitemap), sub-sitemaps to fetch (an index),
    media of the image/video sitemap extensions with their page; error says why there is less than the bytes hold."""

    pages: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    media: tuple[MediaRef, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class FeedResult:
    """One RSS/Atom feed's entry links and media (enclosures, media:content, media:thumbnail) with their entry."""

    pages: tuple[str, ...] = ()
    media: tuple[MediaRef, ...] = ()
    error: str = ""


def sniff_seed(url: str, body: bytes, content_type: str) -> str:
    """What a seed is, by its bytes (gzip looked into) and its type header as a hint: "sitemap" | "feed" | "page",
    or "unknown" for bytes that are none of them (empty, binary, broken gzip, prose)."""
    try:
        return _sniff(body, content_type)
    except Exception:  # anyone's bytes: never raise
        return "unknown"


def _sniff(body: bytes, content_type: str) -> str:
    head = body[:SNIFF]
    if body[:2] == GZIP:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, SNIFF)
        except zlib.error:
            return "unknown"
    root = _root_name(head) if b"<" in head else ""
    mime = content_type.split(";")[0].strip().lower()
    if root in ("urlset", "sitemapindex"):
        return "sitemap"
    if root in ("rss", "feed", "rdf") or (mime in FEED_TYPES and not root.startswith("html")):
        return "feed"
    if root or "html" in mime or _MARKUP.search(head):
        return "page"
    if read_bom(head)[0] is None and b"\x00" in head[:1024]:
        return "unknown"
    return "sitemap" if _url_lines(head) else "unknown"


def _root_name(head: bytes) -> str:
    """The first element's local name, lower-cased, read by lxml's pull parser (recovering, no entities, no DTD)."""
    parser = etree.XMLPullParser(events=("start",), recover=True, resolve_entities=False, no_network=True)
    parser.feed(head)
    for _, element in parser.read_events():
        return _name(element)[1].lower()
    return ""


def _url_lines(head: bytes) -> bool:
    lines = [line.strip() for line in head.decode("utf-8", "replace").splitlines() if line.strip()][:50]
    return bool(lines) and all(line.startswith(("http://", "https://")) and " " not in line for line in lines)


def parse_sitemap(url: str, body: bytes) -> SitemapResult:
    """A sitemap's pages, sub-sitemaps and media, gzipped or not (ultimate-sitemap-parser; lxml for video:video).
    A robots.txt (by its URL) is read as an index: its Sitemap: lines are the sub-sitemaps."""
    try:
        return _sitemap(url, body)
    except Exception as exc:  # anyone's bytes: report, don't raise
        return SitemapResult(error=clean_text(f"unparsable sitemap: {type(exc).__name__}: {exc}"))


def _sitemap(url: str, body: bytes) -> SitemapResult:
    data, note = _unzip(body)
    if not data.strip():
        return SitemapResult(error=note or "empty sitemap")
    _, text = html_to_unicode(None, data)  # BOM, XML declaration, else UTF-8
    subs: list[str] = []

    def keep(urls: list[str], level: int, parents: set[str]) -> list[str]:
        subs.extend(urls)  # returned to the crawler to fetch; usp fetches none
        return []

    client = LocalWebClient()
    if text.lstrip()[:1] == "<":
        parser: Any = XMLSitemapParser(url, text, 0, client, set(), recurse_list_callback=keep)
    elif url.endswith("/robots.txt"):  # its Sitemap: lines are sub-sitemaps
        parser = IndexRobotsTxtSitemapParser(url, text, 0, client, set(), recurse_list_callback=keep)
    else:
        parser = PlainTextSitemapParser(url, text, 0, client, set())
    tree = parser.sitemap()
    if isinstance(tree, InvalidSitemap):
        return SitemapResult(error="; ".join(filter(None, (note, clean_text(tree.reason)))))
    pages = [(page, p) for p in tree.pages if (page := absolute_url(url, p.url))]
    media = [ref for page, p in pages for ref in _sitemap_images(page, p.images or ())] + _sitemap_videos(url, data)
    sitemaps = [u for raw in subs if (u := absolute_url(url, raw))]
    error = note or ("" if pages or sitemaps else "no page or sitemap URL in it")
    return SitemapResult(
        pages=tuple(dict.fromkeys(page for page, _ in pages)),
        sitemaps=tuple(dict.fromkeys(sitemaps)),
        media=tuple(dict.fromkeys(media)),
        error=error,
    )


def _unzip(body: bytes) -> tuple[bytes, str]:
    """The bytes, gunzipped when they are gzip (at most MAX_UNZIPPED), and what went wrong ("" when nothing)."""
    if body[:2] != GZIP:
        return body, ""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_UNZIPPED + 1)
    except zlib.error as exc:
        return b"", f"broken gzip: {exc}"
    if len(data) > MAX_UNZIPPED:
        return b"", f"gzip decompresses to more than {MAX_UNZIPPED} bytes"
    return data, "" if inflater.eof else "truncated gzip: read what it holds"


def _sitemap_images(page: str, images: Iterable[Any]) -> list[MediaRef]:
    out = []
    for image in images:
        labels = _labels((("caption", image.caption, "image:caption"), ("title", image.title, "image:title")))
        if url := absolute_url(page, image.loc):
            out.append(MediaRef(url, "image", "sitemap", page, labels, section_of(page)))
    return out


def _sitemap_videos(url: str, data: bytes) -> list[MediaRef]:
    """video:video entries (Google's video sitemap extension): content_loc, thumbnail_loc, with title/description."""
    root = _xml(data)
    out: list[MediaRef] = []
    for entry in root.iter("{*}url") if root is not None else ():
        page = absolute_url(url, _child_text(entry, "loc"))
        videos = [v for v in entry.iter("{*}video") if "sitemap-video" in _name(v)[0]]
        for video in videos if page else ():
            title, described = _child_text(video, "title"), _child_text(video, "description")
            labels = _labels((("title", title, "video:title"), ("caption", described, "video:description")))
            for name, kind in (("content_loc", "video"), ("content_url", "video"), ("thumbnail_loc", "image")):
                if media := absolute_url(page or url, _child_text(video, name)):
                    out.append(
                        MediaRef(
                            media, media_kind(media, "", kind), "sitemap", page or url, labels, section_of(page or url)
                        )
                    )
    return out


def parse_feed(url: str, body: bytes) -> FeedResult:
    """An RSS/Atom feed's entry links and media (feedparser), each medium labelled only by its own media:title /
    media:description (lxml), never by the entry's title or summary."""
    try:
        return _feed(url, body)
    except Exception as exc:  # anyone's bytes: report, don't raise
        return FeedResult(error=clean_text(f"unparsable feed: {type(exc).__name__}: {exc}"))


def _feed(url: str, body: bytes) -> FeedResult:
    data, note = _unzip(body)
    if not data.strip():
        return FeedResult(error=note or "empty feed")
    parsed, data = _feedparse(url, data)
    said = _media_said(data)
    pages: dict[str, None] = {}
    media = MediaSet()
    for entry in parsed.entries:
        link = absolute_url(url, entry.get("link"))
        pages.update(dict.fromkeys([link] if link else []))
        page = link or url
        found = [(e.get("href"), e.get("type"), "", "enclosure") for e in entry.get("enclosures", [])]
        found += [
            (m.get("url"), m.get("type"), m.get("medium", ""), "media:content") for m in entry.get("media_content", [])
        ]
        found += [(t.get("url"), "", "image", "media:thumbnail") for t in entry.get("media_thumbnail", [])]
        for raw, mime, medium, found_in in found:
            if media_url := absolute_url(page, raw):
                media.add(media_url, media_kind(media_url, mime, medium), found_in, said.get(media_url, ()), page)
    error = note or (clean_text(f"not a feed: {parsed.get('bozo_exception')}") if parsed.bozo and not pages else "")
    return FeedResult(pages=tuple(pages), media=media.refs(), error=error)


def _feedparse(url: str, data: bytes) -> tuple[Any, bytes]:
    """feedparser on the bytes, as a stream (a str would be taken for a URL or a file name to open), and the bytes
    it read. It trips on a broken XML declaration's encoding: then they are decoded here (w3lib) and read as UTF-8."""
    try:
        return feedparser.parse(io.BytesIO(data), response_headers={"content-location": url}), data
    except (UnicodeError, ValueError):
        text = _XML_DECLARATION.sub("", html_to_unicode(None, data)[1], count=1).replace("\x00", "")
        data = text.encode("utf-8", "replace")
        headers = {"content-location": url, "content-type": "application/xml; charset=utf-8"}
        return feedparser.parse(io.BytesIO(data), response_headers=headers), data


def _media_said(data: bytes) -> dict[str, list[PageLabel]]:
    """media:title / media:description of each media:content and media:thumbnail (its own, else its media:group's),
    by the medium's URL."""
    root = _xml(data)
    out: dict[str, list[PageLabel]] = {}
    for element in root.iter("{*}content", "{*}thumbnail") if root is not None else ():
        if "search.yahoo.com/mrss" not in _name(element)[0] or not element.get("url"):
            continue
        parent = element.getparent()
        holders = [element] + ([parent] if parent is not None and _name(parent)[1] == "group" else [])
        said = [
            (w, _child_text(h, name), f"media:{name}")
            for h in holders
            for w, name in (("caption", "title"), ("caption", "description"))
        ]
        out.setdefault(element.get("url", "").strip(), []).extend(_labels(said))
    return out


def _xml(data: bytes) -> Any:
    """The XML tree by lxml, recovering from broken markup, without entities, DTDs or network; None if none."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return etree.fromstring(data, parser)
    except etree.LxmlError:
        return None


def _child_text(element: Any, name: str) -> str:
    child = next((c for c in element if _name(c)[1] == name), None)
    return (child.text or "").strip() if child is not None else ""


def _name(element: Any) -> tuple[str, str]:
    """(namespace, local name) of an element's {ns}name tag; a recovering parser's odd tags ("media:") as they are."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return (tag[1:].partition("}")[0], tag.rpartition("}")[2]) if tag.startswith("{") else ("", tag)


def _labels(said: Iterable[tuple[str, str | None, str]]) -> tuple[PageLabel, ...]:
    return tuple(
        dict.fromkeys(PageLabel(where, text, field) for where, raw, field in said if (text := clean_text(raw)))
    )


class MediaSet:
    """Media by URL in the order found: the first find keeps its kind, found_in and page; labels merge."""

    def __init__(self, page: str = "") -> None:
        self.page = page  # where media were found, unless add says otherwise
        self.found: dict[str, tuple[str, str, str]] = {}
        self.labels: dict[str, dict[PageLabel, None]] = {}

    def add(self, url: str | None, kind: str, found_in: str, labels: Iterable[PageLabel] = (), page: str = "") -> None:
        if url is not None:
            self.found.setdefault(url, (kind, found_in, page or self.page))
            self.label(url, labels)

    def label(self, url: str, labels: Iterable[PageLabel]) -> None:
        if url in self.found:
            self.labels.setdefault(url, {}).update(dict.fromkeys(labels))

    def refs(self) -> tuple[MediaRef, ...]:
        return tuple(
            MediaRef(url, kind, found_in, page, tuple(self.labels.get(url, {})), section_of(page))
            for url, (kind, found_in, page) in self.found.items()
        )


def media_kind(url: str, mime: str | None, default: str) -> str:
    """A medium's kind: a stream (HLS/DASH by extension or type) first, then its element's kind (default), then its
    type attribute or extension, else "other"."""
    by_file = file_kind(url, mime)
    if by_file == "stream":
        return by_file
    return default if default in KINDS else by_file or "other"


def file_kind(url: str, mime: str | None) -> str:
    """image | video | audio | stream by a type (attribute or header) or the URL's extension; "" when neither says."""
    mime = (mime or "").split(";")[0].strip().lower()
    if mime in STREAM_TYPES:
        return "stream"
    path = urlsplit(url).path.lower()
    by_ext = next((kind for ext, kind in EXTENSIONS.items() if path.endswith(ext)), "")
    major = mime.partition("/")[0]
    return by_ext if by_ext == "stream" or major not in KINDS else major


def absolute_url(base: str, raw: str | None) -> str | None:
    """raw resolved against base, when it is an http(s) URL; None for javascript:, data:, mailto:, malformed."""
    if not raw:
        return None
    raw = _URL_NOISE.sub("", str(raw).strip())
    if not raw or len(raw) > MAX_URL:
        return None
    try:
        url = urljoin(base, raw)
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def section_of(url: str) -> str:
    """The first path segment of a page URL: the section a sample is stratified by."""
    try:
        return urlsplit(url).path.strip("/").split("/")[0]
    except ValueError:
        return ""


def clean_text(text: str | None) -> str:
    """Whitespace-normalised, control characters dropped, at most MAX_TEXT characters."""
    return " ".join(_CONTROL.sub("", str(text)).split())[:MAX_TEXT] if text else ""
