"""A bundle's checks run again from the bytes it stores (`labelcheck verify-bundle`): the pages, sitemaps and feeds are
read again as the crawl read them (crawl.read_document), the sampled media are checked again (api.scan) with what
their pages say, and each item's outcome and AI status are compared with the report the bundle holds."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api import EvidenceOptions, Judge, scan
from ..model import Result
from ..policy import load as policy_mod
from . import bundle
from .crawl import merge, read_document
from .http import body
from .run import check_stream_item, outcome, with_page
from .types import MediaRef

REPORT = "urn:labelcheck:report.json"


@dataclass(frozen=True)
class Replay:
    checked: int  # sampled items checked again
    agreed: int  # of which outcome and AI status are those of the stored report
    differences: tuple[str, ...]  # one line per item that did not reproduce, or could not be checked again


def stored_report(path: Path) -> dict[str, Any]:
    """The sample report the bundle holds (the resource urn:labelcheck:report.json)."""
    from warcio.archiveiterator import ArchiveIterator

    with zipfile.ZipFile(path) as zf, zf.open(bundle.WARC) as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type == "resource" and rec.rec_headers.get_header("WARC-Target-URI") == REPORT:
                data: dict[str, Any] = json.loads(rec.content_stream().read())
                return data
    raise ValueError(f"{path}: the bundle holds no sample report ({REPORT})")


def rerun(path: Path, options: EvidenceOptions, judge: Judge | None = None) -> Replay:
    report = stored_report(path)
    if judge is None:  # the policies the sample was judged by (built-in ones load by id)
        judge = Judge.of(tuple(policy_mod.load(p) for p in report.get("policies", ())))
    frame: dict[str, MediaRef] = {}
    with tempfile.TemporaryDirectory(prefix="labelcheck-replay-") as tmp:
        media: dict[str, Path] = {}
        for n, ex in enumerate(bundle.records(path)):
            if ex.status != 200 or ex.error:
                continue
            ctype = {k.lower(): v for k, v in ex.response_headers}.get("content-type", "")
            if ex.purpose == "media":
                media[ex.url] = Path(shutil.copyfile(ex.body_path or "", Path(tmp, f"m{n}")))
            elif ex.purpose in ("page", "sitemap", "feed"):
                hint = ex.purpose if ex.purpose != "page" else "seed"
                merge(frame, read_document(ex.url, body(ex), ctype, hint)[1])
        items = report.get("items", [])
        streams = {it["url"] for it in items if frame.get(it["url"], _NONE).kind == "stream" and it["url"] in media}
        diffs: list[str] = []
        agreed = 0
        for it in [i for i in items if i["url"] in streams]:  # played again from the stored playlists and segments
            again = _stream(frame[it["url"]], media, options, judge)
            agreed += _compare(it, again, diffs)
        wanted = [it for it in items if it["url"] in media and it["url"] not in streams]
        lost = [it for it in items if it["url"] not in media and it["outcome"] != "could_not_check"]
        diffs += [f"{it['url']}: checked in the report, but its body is not in the bundle" for it in lost]
        results = scan([str(media[it["url"]]) for it in wanted], options, judge).results if wanted else ()
        for it, r in zip(wanted, results, strict=True):
            ref = frame.get(it["url"], MediaRef(it["url"], "other", "", it.get("page", "")))
            agreed += _compare(it, with_page(r, ref, judge), diffs)
    return Replay(len(wanted) + len(streams), agreed, tuple(diffs))


_NONE = MediaRef("", "other", "", "")


def _compare(it: dict[str, Any], again: Result | str, diffs: list[str]) -> int:
    """1 when the item checked again gives the stored outcome and AI status; else 0, and the difference said."""
    got = (outcome(again), again.classification.status.value) if not isinstance(again, str) else ("could_not_check", "")
    if got == (it["outcome"], it.get("ai_status", "")):
        return 1
    why = f": {again}" if isinstance(again, str) else ""
    diffs.append(f"{it['url']}: the report says {it['outcome']} ({it.get('ai_status')}), checked again {got[0]} "
                 f"({got[1]}){why}")  # fmt: skip
    return 0


def _stream(ref: MediaRef, media: dict[str, Path], options: EvidenceOptions, judge: Judge) -> Result | str:
    """A sampled stream checked again as the sample checked it, its playlists and segments read from the bundle."""
    from ..inputs.fetch import FetchError

    def stored(url: str) -> bytes:
        if url not in media:
            raise FetchError(f"{url}: not in the bundle")
        return media[url].read_bytes()

    return check_stream_item(ref, stored, options, judge)
