"""One HTML page, bytes in, a `types.Page` out: its media, its links, its TDMRep meta tags, and what the page says
about each medium, where. w3lib picks the charset (HTTP header, BOM, meta), lxml.html parses, extruct reads Open
Graph and JSON-LD. Nothing here fetches, writes, or decides whether anything is AI: it reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any
from urllib.parse import urldefrag, urlsplit

import lxml.html
from extruct.jsonld import JsonLdExtractor
from extruct.opengraph import OpenGraphExtractor
from lxml import etree
from w3lib.encoding import html_to_unicode, read_bom

from labelcheck.sample.discover import FEED_TYPES, KINDS, MediaSet, absolute_url, clean_text, file_kind, media_kind
from labelcheck.sample.types import Page, PageLabel

MAX_PARSE = 5 * 1024 * 1024  # bytes of a page parsed; the rest is left, and Page.error says so
MAX_OBJECTS = 5000  # JSON-LD objects walked on one page
BADGE_SCAN = 400  # elements looked at around one medium for a badge

LAZY = ("data-src", "data-lazy-src", "data-original")
LAZY_SETS = ("data-srcset", "data-lazy-srcset")
MEDIA_ELEMENTS = ("img", "picture", "video", "audio")
OG_MEDIA = {  # meta property/name -> (kind, found_in)
    **dict.fromkeys(("og:image", "og:image:url", "og:image:secure_url"), ("image", "og:image")),
    **dict.fromkeys(("og:video", "og:video:url", "og:video:secure_url"), ("video", "og:video")),
    **dict.fromkeys(("og:audio", "og:audio:url", "og:audio:secure_url"), ("audio", "og:audio")),
    **dict.fromkeys(("twitter:image", "twitter:image:src"), ("image", "twitter:image")),
}
LD_MEDIA = {"ImageObject": "image", "ImageObjectSnapshot": "image", "VideoObject": "video",
            "VideoObjectSnapshot": "video", "AudioObject": "audio", "MediaObject": "other"}  # fmt: skip
LD_LABELLED = {*LD_MEDIA, "CreativeWork", "Photograph"}
LD_FIELDS = ("digitalSourceType", "creditText", "description", "caption")
META_LABELS = ("digitalsourcetype", "iptc:digitalsourcetype", "ai-generated", "ai_generated", "aigenerated")
# class / id / data-* names and values that look like an AI label (camelCase is split first: isAiGenerated)
BADGE_RE = re.compile(
    r"(?<![a-z0-9])ai[-_ ]?(?:generated|label|badge|content|info|disclosure)|made[-_ ]with[-_ ]ai"
    r"|(?<![a-z])gen[-_ ]?ai(?![a-z])|synthetic|c2pa|content[-_ ]?credentials",
    re.IGNORECASE,
)
# Labels platforms show on a page, as they word them: (platform, hosts it is looked for on (none: any), texts).
PLATFORM_MARKERS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # "Made with AI" (May 2024), renamed "AI info" (July 2024): https://www.phonearena.com/news/facebook-instagram-ai-labels_id162577
    ("meta", ("facebook.com", "instagram.com", "threads.net", "threads.com"), ("AI info", "Made with AI")),
    # auto label and self-disclosure: https://newsroom.tiktok.com/en-eu/partnering-with-our-industry-to-advance-ai-transparency-and-literacy-eu
    ("tiktok", ("tiktok.com",), ("AI-generated", "Creator labeled as AI-generated")),
    # https://support.google.com/youtube/answer/14328491
    ("youtube", ("youtube.com", "youtu.be"), ("Altered or synthetic content",)),
    # https://newsroom.pinterest.com/en-au/news/introducing-gen-ai-labels/
    ("pinterest", ("pinterest.com", "pinterest.co.uk", "pinterest.de", "pinterest.fr"), ("AI modified",)),
    ("google", (), ("Made with Google AI",)),  # Google AI images' IPTC credit line (no public page found to cite)
    # C2PA's "Cr" pin, e.g. LinkedIn's: https://www.linkedin.com/help/lms/answer/a6282984
    ("content-credentials", (), ("Content Credentials",)),
)
_WS = " \t\n\r\f"
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def parse_page(url: str, body: bytes, content_type: str = "") -> Page:
    """The page's media, links and TDM meta, and what it says about each medium. Never raises."""
    try:
        return _parse(url, body, content_type)
    except Exception as exc:  # a page is anyone's bytes: report, don't raise
        return Page(url=url, error=clean_text(f"unparsable page: {type(exc).__name__}: {exc}"))


def _parse(url: str, body: bytes, content_type: str) -> Page:
    if not body.strip():
        return Page(url=url, error="empty body")
    if (read_bom(body)[0] is None and b"\x00" in body[:1024]) or b"<" not in body[:65536]:
        return Page(url=url, error="not HTML: no markup")
    notes = [f"parsed the first {MAX_PARSE} of {len(body)} bytes"] if len(body) > MAX_PARSE else []
    doc, parse_notes = _document(body[:MAX_PARSE], content_type)
    base = next((b for e in doc.iter("base") if (b := absolute_url(url, e.get("href")))), url)
    media = MediaSet(url)
    main = _meta_media(doc, base, media)
    for el in doc.iter("img", "source", "video", "audio", "a", "link"):
        if found := _element_urls(el, base):
            labels = _element_labels(el)
            for murl, kind, found_in in found:
                media.add(murl, kind, found_in, labels)
    objects = _structured(doc)
    _structured_media(objects, base, media, url)
    _bind_structured(objects, base, media, main)
    page_labels = _meta_labels(doc) + _platform_labels(doc, url)
    for murl in main or list(media.found):
        media.label(murl, page_labels)
    error = "; ".join(notes + parse_notes)
    return Page(url=url, links=_links(doc, base, url), media=media.refs(), tdm=_tdm(doc), error=error)


def _document(body: bytes, content_type: str) -> tuple[Any, list[str]]:
    """Decoded by the HTTP charset, BOM or meta charset (w3lib), then parsed as UTF-8 (lxml, depth up to 2048)."""
    _, text = html_to_unicode(content_type or None, body)
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True, no_network=True)
    doc = lxml.html.document_fromstring(text.replace("\x00", "").encode("utf-8", "replace"), parser=parser)
    deep = any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)
    return doc, ["markup nested too deep: parsed up to the limit"] if deep else []


def _meta_media(doc: Any, base: str, media: MediaSet) -> list[str]:
    """og:* by extruct (meta property in head), then og:* / twitter:* in any meta name or property; the URLs of the
    page's main media: og:image/og:video/og:audio, else twitter:image."""
    try:
        pairs = [(str(k), str(v)) for item in OpenGraphExtractor().extract_items(doc) for k, v in item["properties"]]
    except Exception:  # extruct on hostile markup: the meta loop below still reads what it can
        pairs = []
    pairs += [(m.get("name") or m.get("property") or "", m.get("content") or "") for m in doc.iter("meta")]
    main: dict[str, dict[str, None]] = {"og": {}, "twitter": {}}
    for key, value in pairs:
        kind, found_in = OG_MEDIA.get(key.strip().lower(), ("", ""))
        if kind and (url := absolute_url(base, value)):
            media.add(url, media_kind(url, "", kind), found_in)
            main[found_in.partition(":")[0]][url] = None
    return list(main["og"] or main["twitter"])


def _element_urls(el: Any, base: str) -> list[tuple[str, str, str]]:
    """(url, kind, found_in) of one element: img, picture/source, video, audio, source, a href, link preload."""
    tag, holder = el.tag, _holder(el)
    ptag = holder.tag if holder is not None else ""
    if tag == "img":
        candidates = [(u, "image", "srcset") for u in _srcset_urls(el, base)]
        return [(u, "image", "img") for u in _urls(el, ("src", *LAZY), base)] + candidates
    if tag in ("video", "audio"):
        own = [(u, media_kind(u, el.get("type"), tag), tag) for u in _urls(el, ("src", *LAZY), base)]
        return own + [(u, "image", tag) for u in _urls(el, ("poster",), base)]
    if tag == "source" and ptag == "picture":
        return [(u, "image", "picture") for u in _srcset_urls(el, base) + _urls(el, ("src",), base)]
    if tag == "source":
        default = ptag if ptag in ("video", "audio") else "other"
        return [(u, media_kind(u, el.get("type"), default), "source") for u in _urls(el, ("src", *LAZY), base)]
    if tag == "link" and "preload" in (el.get("rel") or "").lower().split() and el.get("as") in KINDS:
        return [(u, media_kind(u, el.get("type"), el.get("as")), "link") for u in _urls(el, ("href",), base)]
    if tag == "a":
        url = absolute_url(base, el.get("href"))
        kind = file_kind(url, el.get("type")) if url else ""
        return [(url, kind, "link")] if url and kind else []
    return []


def _urls(el: Any, attrs: Iterable[str], base: str) -> list[str]:
    return [u for a in attrs if (u := absolute_url(base, el.get(a)))]


def _srcset_urls(el: Any, base: str) -> list[str]:
    return [u for a in ("srcset", *LAZY_SETS) for raw in _srcset(el.get(a) or "") if (u := absolute_url(base, raw))]


def _srcset(value: str) -> list[str]:
    """The candidate URLs of a srcset, as the HTML standard splits it: a URL runs to whitespace (so commas inside
    it stay its own), a trailing comma ends a candidate, descriptors run to a comma outside parentheses."""
    urls: list[str] = []
    i, n = 0, min(len(value), 65536)
    while i < n and len(urls) < 100:
        while i < n and (value[i] in _WS or value[i] == ","):
            i += 1
        start = i
        while i < n and value[i] not in _WS:
            i += 1
        url, depth = value[start:i], 0
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            while i < n and (value[i] != "," or depth > 0):
                depth += {"(": 1, ")": -1}.get(value[i], 0)
                i += 1
        if url:
            urls.append(url)
    return urls


def _element_labels(el: Any) -> list[PageLabel]:
    """What the page says about the medium of one element: its alt/title/aria-*, its figure's figcaption, badges."""
    subject = _subject(el)
    tag = subject.tag
    out = [
        PageLabel(where=attr, text=text, field=f"{tag}@{attr}")
        for attr in ("alt", "title", "aria-label")
        if (text := clean_text(subject.get(attr)))
    ]
    for ref in (subject.get("aria-describedby") or "").split()[:10]:
        found = next((e for e in subject.getroottree().getroot().iter(etree.Element) if e.get("id") == ref), None)
        if found is not None and (text := _text(found)):
            out.append(PageLabel(where="aria-label", text=text, field=f"{tag}@aria-describedby"))
    figure = next(subject.iterancestors("figure"), None)
    if figure is not None:
        out += [
            PageLabel(where="figcaption", text=text, field="figcaption")
            for cap in figure.iter("figcaption")
            if next(cap.iterancestors("figure"), None) is figure and (text := _text(cap))
        ]
    return out + _badges(subject, figure if figure is not None else _container(subject))


def _text(el: Any) -> str:
    """An element's text, its pieces joined by spaces (<p>a</p><p>b</p> is "a b"), normalised and capped."""
    return clean_text(" ".join(islice(el.itertext(), 200)))


def _subject(el: Any) -> Any:
    """The element that speaks for a medium: the <img> of a <picture>, the <video>/<audio> of a <source>."""
    holder = _holder(el) if el.tag == "source" else None
    if holder is None:
        return el
    return next(holder.iter("img"), holder) if holder.tag == "picture" else holder


def _holder(el: Any) -> Any:
    """The picture, video or audio a <source> is in (libxml2 nests a <source> in the one before it)."""
    return next(el.iterancestors("picture", "video", "audio"), None)


def _container(subject: Any) -> Any:
    """The medium's grandparent (else parent) element, never body or html: where a nearby badge would sit."""
    near = [a for a, _ in zip(subject.iterancestors(), range(2), strict=False)]
    near = near[: next((i for i, a in enumerate(near) if a.tag in ("body", "html", "head")), 2)]
    return near[-1] if near else None


def _badges(subject: Any, scope: Any) -> list[PageLabel]:
    """Elements in scope whose class, id or data-* look like an AI label, unless they sit by another medium."""
    if scope is None:
        return []
    chain = [subject, *subject.iterancestors()]  # kept alive while compared: lxml proxies by identity
    mine, out = {id(e) for e in chain}, []
    for n, node in enumerate(scope.iter(etree.Element)):
        if n >= BADGE_SCAN:
            break
        attr = _badge_attr(node)
        if attr and not _by_other_medium(node, scope, mine):
            said = (_text(node), node.get("aria-label"), node.get("title"), f"{attr}={node.get(attr)}")
            text = next(t for s in said if (t := clean_text(s)))
            out.append(PageLabel(where="badge", text=text, field=f"{node.tag}@{attr}"))
    return out


def _badge_attr(node: Any) -> str:
    for name, value in node.attrib.items():
        data = name.startswith("data-")
        if name not in ("class", "id") and not data:
            continue
        short = value if not data or (len(value) < 80 and "/" not in value) else ""
        if BADGE_RE.search(_CAMEL.sub(r"\1-\2", name if data else "")) or BADGE_RE.search(_CAMEL.sub(r"\1-\2", short)):
            return str(name)
    return ""


def _by_other_medium(node: Any, scope: Any, mine: set[int]) -> bool:
    """Whether the badge's branch of the scope holds another medium and not this one (a gallery's other card)."""
    branch = node
    for ancestor in node.iterancestors():
        if ancestor is scope:
            break
        branch = ancestor
    if id(node) in mine or id(branch) in mine:
        return False
    return next(branch.iter(*MEDIA_ELEMENTS), None) is not None


def _structured(doc: Any) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page (extruct, each script on its own), at any depth, @graph included."""
    objects: list[dict[str, Any]] = []
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json":
            try:
                objects += _walk(JsonLdExtractor().extract_items(script))
            except Exception:  # one broken script is not the page
                continue
    return objects


def _walk(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    stack, seen = list(items)[::-1], 0
    while stack and seen < MAX_OBJECTS:
        item = stack.pop()
        if isinstance(item, dict):
            seen += 1
            yield item
            stack += [v for v in reversed(list(item.values())) if isinstance(v, dict | list)]
        elif isinstance(item, list):
            stack += item[::-1]


def _types(obj: dict[str, Any]) -> set[str]:
    raw = obj.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return {re.split(r"[/#:]", n.strip())[-1] for n in names if isinstance(n, str) and n.strip()}


def _values(value: Any, keys: tuple[str, ...] = ("@id", "@value", "url")) -> list[str]:
    """Strings of a JSON-LD value: a string, a node's first of `keys`, or a list of those."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, dict):
        return _values(next((value[k] for k in keys if value.get(k)), None), keys)
    if isinstance(value, list):
        return [s for v in value[:50] for s in _values(v, keys)]
    return []


def _ld_urls(obj: dict[str, Any], *fields: str) -> list[str]:
    """URLs in fields of a JSON-LD object; a node's contentUrl/url, never its @id (Yoast's "#primaryimage")."""
    return [u for field in fields for u in _values(obj.get(field), ("contentUrl", "url"))]


def _structured_media(objects: list[dict[str, Any]], base: str, media: MediaSet, page: str) -> None:
    """contentUrl/url of media objects (not the page itself), thumbnailUrl and image of any object, as images."""
    for obj in objects:
        kinds = [LD_MEDIA[t] for t in _types(obj) if t in LD_MEDIA]
        if kinds:
            fmt = _values(obj.get("encodingFormat"))
            for raw in _ld_urls(obj, "contentUrl", "url"):
                url = absolute_url(base, raw)
                if url and urldefrag(url)[0] != urldefrag(page)[0]:
                    media.add(url, media_kind(url, fmt[0] if fmt else "", kinds[0]), "json-ld")
        for raw in _ld_urls(obj, "thumbnailUrl", "image"):
            media.add(absolute_url(base, raw), "image", "json-ld")


def _bind_structured(objects: list[dict[str, Any]], base: str, media: MediaSet, main: list[str]) -> None:
    """digitalSourceType, creditText, description, caption of an object to the medium its contentUrl/url names;
    a lone such object that names none goes to the page's main medium (og:image)."""
    labelled = [(o, labels) for o in objects if _types(o) & LD_LABELLED and (labels := _ld_labels(o))]
    for obj, labels in labelled:
        urls = [u for raw in _ld_urls(obj, "contentUrl", "url") if (u := absolute_url(base, raw))]
        hits = [u for u in urls if u in media.found]
        for url in hits:
            media.label(url, labels)
        if not hits and len(labelled) == 1 and main:
            kinds = {LD_MEDIA[t] for t in _types(obj) if t in LD_MEDIA}
            media.label(next((u for u in main if media.found[u][0] in kinds), main[0]), labels)


def _ld_labels(obj: dict[str, Any]) -> list[PageLabel]:
    said = [(field, clean_text(value)) for field in LD_FIELDS for value in _values(obj.get(field))]
    return [PageLabel(where="json-ld", text=text, field=field) for field, text in said if text]


def _meta_labels(doc: Any) -> list[PageLabel]:
    """IPTC digital source type and ai-generated-like meta tags: they speak for the page's main medium."""
    said = [
        ((m.get("name") or m.get("property") or "").strip(), clean_text(m.get("content"))) for m in doc.iter("meta")
    ]
    return [
        PageLabel("meta", text, name)
        for name, text in said
        if text and (name.lower() in META_LABELS or BADGE_RE.search(name))
    ]


def _platform_labels(doc: Any, url: str) -> list[PageLabel]:
    """A platform's own label shown on the page: an element whose own text, aria-label or title is the label."""
    host = (urlsplit(url).hostname or "").lower()
    markers = {
        text.casefold(): platform
        for platform, hosts, texts in PLATFORM_MARKERS
        if not hosts or any(host == h or host.endswith("." + h) for h in hosts)
        for text in texts
    }
    out: dict[PageLabel, None] = {}
    for el in doc.iter(etree.Element):
        for said in (el.text, el.get("aria-label"), el.get("title")):
            text = clean_text(said)
            if text and len(text) < 64 and text.casefold() in markers:
                out[PageLabel(where="platform", text=text, field=markers[text.casefold()])] = None
    return list(out)


def _links(doc: Any, base: str, page: str) -> tuple[str, ...]:
    """Pages it links to (a/area href, not media files, not itself) and feeds (link rel=alternate)."""
    out: dict[str, None] = {}
    here = urldefrag(page)[0]
    for el in doc.iter("a", "area", "link"):
        if el.tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if "alternate" not in rel or (el.get("type") or "").split(";")[0].strip().lower() not in FEED_TYPES:
                continue
        url = absolute_url(base, el.get("href"))
        if url is None:
            continue
        url = urldefrag(url)[0]
        if el.tag == "link" or (url != here and not file_kind(url, el.get("type"))):
            out[url] = None
    return tuple(out)


def _tdm(doc: Any) -> tuple[tuple[str, str], ...]:
    """TDMRep meta tags (tdm-reservation, tdm-policy) as (name, value)."""
    pairs = (((m.get("name") or "").strip().lower(), clean_text(m.get("content"))) for m in doc.iter("meta"))
    return tuple(dict.fromkeys(p for p in pairs if p[0] in ("tdm-reservation", "tdm-policy")))
