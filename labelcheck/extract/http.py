"""HTTP extractor: a remote item fetched to a file, and the labelling facts in its response headers as signals
(never judges).

TDMRep (W3C) says in `tdm-reservation` whether text and data mining is reserved (1) or not (0), and in `tdm-policy`
where the licence is. C2PA (§11.4, §15.5) lets a server deliver the manifest store beside the asset:
`Link: <uri>; rel="c2pa-manifest"`. The `AI-Disclosure` header (draft-abaris-aicdh, an expired Internet-Draft) says in
its `mode` how far AI made the response; it is read as a non-standard claim.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from ..classify import httpfields
from ..inputs.fetch import FetchError, FetchOptions, RefusedReference, Response, download, remote_reference
from ..inputs.items import Item, head, open_item, unreadable
from ..inputs.media import is_playlist
from ..inputs.targets import Remote
from ..model import Kind, Signal, ToolError
from .sidecar import MANIFEST_MAX_BYTES

SOURCE = "http"
LOCATION = "HTTP response header"
TDM_HEADERS = ("tdm-reservation", "tdm-policy")
AI_DISCLOSURE = "ai-disclosure"
MANIFEST_REL = "c2pa-manifest"
MANIFEST_KEY = f'Link rel="{MANIFEST_REL}"'


def manifest_links(response: Response) -> list[str]:
    """The manifest stores a server names in Link headers with rel c2pa-manifest, made absolute against the URL
    the item was served from (one that makes no http(s) URL is kept as written: reported, never fetched)."""
    links = []
    for name, value in response.headers:
        if name != "link":
            continue
        for m in httpfields.members(value):  # RFC 8288 link-values: <uri>; rel="a b"; other params
            rel = dict(m.params).get("rel", "")
            if m.head.startswith("<") and MANIFEST_REL in rel.lower().split():
                ref = m.head[1:].removesuffix(">").strip()
                try:
                    links.append(remote_reference(response.url, ref, "manifest link"))
                except RefusedReference:
                    links.append(ref)
    return list(dict.fromkeys(links))


def signals(response: Response) -> list[Signal]:
    out = [
        Signal(SOURCE, Kind.TDM, name, value.strip(), LOCATION)
        for name, value in response.headers
        if name in TDM_HEADERS
    ]
    out += [
        Signal(SOURCE, Kind.AI_DISCLOSURE, "AI-Disclosure", value.strip(), LOCATION)
        for name, value in response.headers
        if name == AI_DISCLOSURE
    ]
    out += [Signal(SOURCE, Kind.PROVENANCE_REF, MANIFEST_KEY, uri, LOCATION) for uri in manifest_links(response)]
    return out


def fetch_item(remote: Remote, tmp: Path, n: int, fetch: FetchOptions, allow_network: bool) -> Item:
    """A remote item fetched to a file of its own in `tmp` (named with the URL's extension, which exiftool may need);
    with `allow_network`, the manifest its Link header names is fetched beside it, as its sidecar."""
    try:
        suffix = PurePosixPath(urlparse(remote.url).path).suffix[:16]
    except ValueError:  # a malformed URL: download() says why, as the item's error
        suffix = ""
    local = tmp / f"{n}{suffix}"
    try:
        response = download(remote.url, local, fetch)
    except (FetchError, OSError) as exc:
        return replace(unreadable(local, f"not fetched: {exc}"), target=remote.url)
    item = replace(open_item(local, remote.url), target=remote.url, served=tuple(signals(response)))
    if item.readable and is_playlist("", head(local)):
        why = f"{remote.url}: serves an HLS or DASH playlist (`check` follows URLs ending .m3u8 or .mpd as streams)"
        return replace(item, errors=[ToolError("input", why)], readable=False)
    links = manifest_links(response)
    if item.readable and links and allow_network:
        # fetched beside the file as its sidecar: c2pa-rs reads it when the file embeds no manifest
        sidecar = local.with_name(local.name + ".c2pa")
        try:  # only an http(s) URL: `x:secret.c2pa` or `file:///...` is refused, never read from disk
            url = remote_reference(response.url, links[0], "manifest link")
            download(url, sidecar, replace(fetch, max_bytes=MANIFEST_MAX_BYTES))
        except (FetchError, OSError) as exc:
            item.errors.append(ToolError("http", f"the manifest its Link header names was not fetched: {exc}"))
        else:
            item = replace(item, linked_manifest=(sidecar, links[0]))
    return item
