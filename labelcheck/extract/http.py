"""HTTP extractor: the labelling facts in a remote item's response headers, as signals (never judges).

TDMRep (W3C) says in `tdm-reservation` whether text and data mining is reserved (1) or not (0), and in `tdm-policy`
where the licence is. C2PA (§11.4, §15.5) lets a server deliver the manifest store beside the asset:
`Link: <uri>; rel="c2pa-manifest"`. The `AI-Disclosure` header (draft-abaris-aicdh, an expired Internet-Draft) says in
its `mode` how far AI made the response; it is read as a non-standard claim.
"""

from __future__ import annotations

from urllib.parse import urljoin

from ..classify import httpfields
from ..inputs.fetch import Response
from ..model import Kind, Signal

SOURCE = "http"
LOCATION = "HTTP response header"
TDM_HEADERS = ("tdm-reservation", "tdm-policy")
AI_DISCLOSURE = "ai-disclosure"
MANIFEST_REL = "c2pa-manifest"
MANIFEST_KEY = f'Link rel="{MANIFEST_REL}"'


def manifest_links(response: Response) -> list[str]:
    """The manifest stores a server names in Link headers with rel c2pa-manifest, made absolute against the URL
    the item was served from."""
    links = []
    for name, value in response.headers:
        if name != "link":
            continue
        for m in httpfields.members(value):  # RFC 8288 link-values: <uri>; rel="a b"; other params
            rel = dict(m.params).get("rel", "")
            if m.head.startswith("<") and MANIFEST_REL in rel.lower().split():
                links.append(urljoin(response.url, m.head[1:].removesuffix(">").strip()))
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
