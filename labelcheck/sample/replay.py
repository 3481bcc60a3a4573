"""A bundle's checks run again from the bytes it stores (`labelcheck verify-bundle`): the pages, sitemaps and feeds are
read again as the crawl read them (crawl.read_document), the sampled media are checked again (api.scan) with what
their pages say, and each item's outcome and AI status are compared with the report the bundle holds."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..api import EvidenceOptions, Judge, scan
from ..policy import load as policy_mod
from . import bundle
from .crawl import merge, read_document
from .http import body
from .run import outcome, page_signals
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
        wanted = [it for it in items if it["url"] in media]
        lost = [it for it in items if it["url"] not in media and it["outcome"] != "could_not_check"]
        diffs = [f"{it['url']}: checked in the report, but its body is not in the bundle" for it in lost]
        results = scan([str(media[it["url"]]) for it in wanted], options, judge).results if wanted else ()
        agreed = 0
        for it, r in zip(wanted, results, strict=True):
            ref = frame.get(it["url"], MediaRef(it["url"], "other", "", it.get("page", "")))
            said = tuple(page_signals(ref.labels, ref.page))
            again = judge(replace(r.evidence, target=it["url"], signals=r.evidence.signals + said))
            got = (outcome(again), again.classification.status.value)
            if got == (it["outcome"], it.get("ai_status", "")):
                agreed += 1
            else:
                diffs.append(f"{it['url']}: the report says {it['outcome']} ({it.get('ai_status')}), "
                             f"checked again {got[0]} ({got[1]})")  # fmt: skip
    return Replay(len(wanted), agreed, tuple(diffs))
