"""The sample's evidence as a WACZ 1.1.1 file that ReplayWeb.page opens (every request and response as WARC records,
an index, the pages, a manifest the operator signs: signing.py), its verification, and the responses read back.

  archive/data.warc.gz     WARC/1.1, one gzip member per record; STORED in the zip (already compressed)
  indexes/index.cdx        CDXJ `<SURT> <14-digit time> {url, mime, status, digest, length, offset, filename}`, sorted
  pages/pages.jsonl        a json-pages-1.0 header line, then {id, url, ts, title} per page visited
  datapackage.json         every file's sha256 and size, created, software, labelcheck's own `labelcheck` block
  datapackage-digest.json  the sha256 of datapackage.json and, when signed, `signedData`
Records: a warcinfo first; per exchange a `request` and, when a response came, a `response` (WARC-Concurrent-To pairs
them; WARC-Truncated when the body is partial). An error gets a `metadata` record (application/warc-fields,
WARC-Refers-To the record it explains): WARC 1.1 has metadata "describe, explain or accompany" another record, while a
`resource` record is the URL's content, which a replayer would serve as the page; the index (as cdxj-indexer's
default) leaves such metadata out. The run's own files are `resource` records named urn:labelcheck:<name>. Every
record has sha256 digests ("sha256:<hex>").
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from labelcheck import __version__
from labelcheck.sample import signing
from labelcheck.sample.signing import CHUNK, READ_ERRORS, Limits, sha256_stream
from labelcheck.sample.types import Exchange

WARC, INDEX, PAGES = "archive/data.warc.gz", "indexes/index.cdx", "pages/pages.jsonl"
WACZ_VERSION, INDEXED, NO_LIMITS = "1.1.1", ("response", "resource"), Limits()
load_signer = signing.load_signer  # (key_path, cert_path=None, password=None) -> Signer: here too, for the commands
_TRUNCATED = (("length", ("size", "cap", "length", "large")), ("time", ("time",)), ("disconnect", ("connect", "reset")))


class BundleError(ValueError):
    """A bundle that cannot be written as asked (a body changed since it was fetched, a closed bundle)."""


@dataclass(frozen=True)
class PolicyRef:
    id: str
    version: str = ""
    sha256: str = ""  # of the policy's text, hex


@dataclass(frozen=True)
class BundleMeta:
    """What the manifest says about the run, besides the files."""

    operator: str
    policies: tuple[PolicyRef, ...] = ()
    trust_list_date: str = ""
    seeds: tuple[str, ...] = ()
    sample_seed: int | None = None
    title: str = "labelcheck sample"
    description: str = ""
    tool_version: str = __version__


@dataclass(frozen=True)
class Verification:
    ok: bool
    problems: tuple[str, ...]  # each names the file (and record or line) and what mismatched
    digests_checked: int
    signed: bool
    signer: str  # the certificate's subject, or "public key sha256:<hex>"
    records: int  # WARC records read


def _warc_date(iso: str) -> str:
    when = datetime.fromisoformat(iso)
    when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{when.microsecond:06d}" if when.microsecond else "") + "Z"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(warc_date: Any) -> str:  # the CDXJ's 14-digit time
    return "".join(c for c in str(warc_date) if c.isdigit())[:14]


def surt_key(url: str) -> str:
    """The SURT sort key pywb and wabac.js look URLs up by: com,example)/path?a=1&b=2 (lower case, no www)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url
    label, _, rest = parts.hostname.partition(".")  # already lower case
    host = rest if rest and label[:3] == "www" and (label[3:] or "0").isdigit() else parts.hostname
    port = f":{parts.port}" if parts.port and parts.port != {"http": 80, "https": 443}[parts.scheme] else ""
    query = "?" + "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return (",".join(reversed(host.split("."))) + port + ")" + (parts.path or "/") + query).lower()


def _clean(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """Header lines as received, but never one that would end the header block early."""
    return [(n.replace("\r", " ").replace("\n", " "), v.replace("\r", " ").replace("\n", " ")) for n, v in headers]


def _truncation(error: str) -> str:
    """WARC-Truncated's reason for a partial body: length, time, disconnect or unspecified."""
    found = [reason for reason, hints in _TRUNCATED if any(h in error.lower() for h in hints)]
    return found[0] if found else "unspecified"


class BundleWriter:
    """Writes records as exchanges come, then the WACZ at close(): to a temp file renamed over `path`. Leaving a
    `with` block closes it unsigned if close() was not called, or leaves nothing on an exception."""

    def __init__(self, path: Path, meta: BundleMeta) -> None:
        self.path, self.meta = Path(path), meta
        self._tmp = Path(tempfile.mkdtemp(prefix=".wacz-", dir=self.path.parent))
        self._fh = open(self._tmp / "data.warc.gz", "wb")
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        self._index: list[str] = []
        self._pages: list[dict[str, str]] = []
        self._counts: Counter[str] = Counter()
        self._closed, self._lock = False, threading.Lock()
        fields = {"software": f"labelcheck {meta.tool_version}", "format": "WARC File Format 1.1"}
        fields |= {"operator": meta.operator, "isPartOf": meta.title, "description": meta.description}
        text = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v).encode("utf-8")
        self._plain("", "warcinfo", text, "application/warc-fields", {"WARC-Filename": "data.warc.gz"})

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            self.abort()
        elif not self._closed:
            self.close(None)

    def _write(self, record: Any) -> str:
        with self._lock:  # add() may be called from the fetcher's threads: one record at a time, offsets measured
            offset = self._fh.tell()
            self._writer.write_record(record)
            self._counts[record.rec_type] += 1
            if record.rec_type in INDEXED:
                self._index.append(_index_line(record, offset, self._fh.tell() - offset))
        return str(record.rec_headers.get_header("WARC-Record-ID"))

    def _record(self, uri: str, kind: str, body: IO[bytes], http: Any, headers: dict[str, str]) -> Any:
        """A record with sha256 digests set before warcio writes it (the body streamed, never held in memory)."""
        if http is not None:
            http.compute_headers_buffer()
        size, payload, block = sha256_stream(body, http.headers_buff if http is not None else b"")
        body.seek(0)
        digests = {"WARC-Block-Digest": block} | ({} if kind == "warcinfo" else {"WARC-Payload-Digest": payload})
        headers = headers | digests
        return self._writer.create_warc_record(uri, kind, body, size, warc_headers_dict=headers, http_headers=http)

    def _plain(self, uri: str, kind: str, data: bytes, content_type: str, headers: dict[str, str]) -> str:
        headers = {"WARC-Date": _warc_date(_now()), "Content-Type": content_type, **headers}
        return self._write(self._record(uri, kind, io.BytesIO(data), None, headers))

    def add(self, exchange: Exchange) -> None:
        """One exchange: its request, its response when one came, a metadata record for its error if any."""
        ex = exchange
        common = {"WARC-Date": _warc_date(ex.started)} | ({"WARC-IP-Address": ex.address} if ex.address else {})
        common |= {"Labelcheck-Purpose": ex.purpose} if ex.purpose else {}
        target = urlsplit(ex.url)
        line = f"GET {target.path or '/'}{'?' + target.query if target.query else ''} {ex.http_version}"
        request = self._record(
            ex.url, "request", io.BytesIO(), StatusAndHeaders(line, _clean(ex.request_headers)), common
        )
        explained = str(request.rec_headers.get_header("WARC-Record-ID"))
        if ex.status is None:
            self._write(request)
        else:
            with open(ex.body_path, "rb") if ex.body_path else io.BytesIO() as body:
                response = self._response(ex, body, common)
                explained = str(response.rec_headers.get_header("WARC-Record-ID"))
                request.rec_headers.add_header("WARC-Concurrent-To", explained)
                self._write(request)
                self._write(response)
        if ex.error:
            text = f"error: {ex.error}\r\nurl: {ex.url}\r\n".encode()
            self._plain(ex.url, "metadata", text, "application/warc-fields", {"WARC-Refers-To": explained})

    def _response(self, ex: Exchange, body: IO[bytes], common: dict[str, str]) -> Any:
        """The response record; BundleError when the body file is no longer the body the fetcher hashed."""
        http = StatusAndHeaders(f"{ex.status} {ex.reason}".strip(), _clean(ex.response_headers), ex.http_version)
        headers = common | ({"WARC-Truncated": _truncation(ex.error)} if ex.error else {})
        record = self._record(ex.url, "response", body, http, headers)
        want = ex.body_sha256.lower().removeprefix("sha256:")
        changed = want and record.rec_headers.get_header("WARC-Payload-Digest") != "sha256:" + want
        if changed or (ex.body_size and record.payload_length != ex.body_size):
            raise BundleError(f"{ex.url}: {ex.body_path} is not the body fetched (its size or sha256 changed)")
        return record

    def add_resource(self, name: str, content_type: str, data: bytes) -> None:
        """One of the run's own files (the sample report, a policy's text) as urn:labelcheck:<name>."""
        if not name or any(c.isspace() for c in name):
            raise BundleError(f"resource name {name!r}: give a name without spaces")
        self._plain(f"urn:labelcheck:{name}", "resource", data, content_type, {})

    def add_page(self, url: str, title: str, ts: str) -> None:
        """A page the crawl visited (pages.jsonl; the first is the bundle's main page)."""
        ts, page_id = _warc_date(ts), hashlib.sha256(f"{ts} {url}".encode()).hexdigest()[:20]
        self._pages.append({"id": page_id, "url": url, "ts": ts, "title": title or url})

    def abort(self) -> None:
        """Leaves nothing behind: no bundle, no temp files."""
        self._fh.close()
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._closed = True

    def close(self, sign: signing.Signer | None = None) -> Path:
        """Writes the WACZ (signed when `sign` is given) and renames it over `path` in one step."""
        if self._closed:
            raise BundleError(f"{self.path}: the bundle is already closed")
        self._fh.close()
        try:
            created, tmp = _now(), self._tmp
            files = {WARC: tmp / "data.warc.gz", INDEX: tmp / "index.cdx", PAGES: tmp / "pages.jsonl"}
            files[INDEX].write_text("".join(sorted(set(self._index))), encoding="utf-8")
            header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
            files[PAGES].write_text("".join(json.dumps(p) + "\n" for p in [header, *self._pages]), encoding="utf-8")
            package = json.dumps(self._package(files, created), indent=2).encode("utf-8")
            digest = signing.digest_document(package, sign, created, f"labelcheck {self.meta.tool_version}")
            signing.write_zip(self.path, files, {signing.PACKAGE_FILE: package, signing.DIGEST_FILE: digest})
        finally:
            self.abort()
        return self.path

    def _package(self, files: dict[str, Path], created: str) -> dict[str, Any]:
        m = self.meta
        package: dict[str, Any] = {"profile": "data-package", "wacz_version": WACZ_VERSION, "title": m.title}
        package |= {"description": m.description} if m.description else {}
        package |= {"created": created, "software": f"labelcheck {m.tool_version}"}
        package["resources"] = [_resource(name, local) for name, local in files.items()]
        if self._pages:
            package |= {"mainPageUrl": self._pages[0]["url"], "mainPageDate": self._pages[0]["ts"]}
        policies = [{"id": p.id, "version": p.version, "sha256": p.sha256} for p in m.policies]
        package["labelcheck"] = {"tool_version": m.tool_version, "policies": policies}
        package["labelcheck"] |= {"trust_list_date": m.trust_list_date, "operator": m.operator, "seeds": list(m.seeds)}
        package["labelcheck"] |= {"sample_seed": m.sample_seed, "records": dict(sorted(self._counts.items()))}
        return package


def _index_line(record: Any, offset: int, length: int) -> str:
    rec, http = record.rec_headers, record.http_headers
    url = str(rec.get_header("WARC-Target-URI"))
    mime = (http.get_header("Content-Type") if http else rec.get_header("Content-Type")) or ""
    mime = mime.split(";")[0].strip()
    entry = {"url": url} | ({"mime": mime} if mime else {}) | ({"status": http.get_statuscode()} if http else {})
    entry |= {"digest": rec.get_header("WARC-Payload-Digest"), "length": str(length), "offset": str(offset)}
    entry["filename"] = WARC.rsplit("/", 1)[1]
    return f"{surt_key(url)} {_stamp(rec.get_header('WARC-Date'))} {json.dumps(entry)}\n"


def _resource(name: str, local: Path) -> dict[str, Any]:
    with open(local, "rb") as fh:
        size, digest, _ = sha256_stream(fh)
    return {"name": name.rsplit("/", 1)[1], "path": name, "hash": digest, "bytes": size}


@dataclass(frozen=True)
class _Stored:
    kind: str
    uri: str
    stamp: str  # the 14-digit time of its WARC-Date
    digest: str
    length: int


def verify(path: Path, trusted: signing.TrustAnchors | None = None, limits: Limits = NO_LIMITS) -> Verification:
    """Every file's sha256 and size against datapackage.json, datapackage.json against datapackage-digest.json, the
    signature, every WARC record's sha256 digests, every CDXJ line's offset, length, URL and digest. Without `trusted`,
    a good signature shows only that the embedded key or certificate made it (`signer` says whose); with `trusted`,
    the key, or the certificate's chain, must be among them. A zip refused by `limits` is not read at all."""
    try:
        zf = signing.open_zip(Path(path), limits)
    except READ_ERRORS as err:
        return Verification(False, (str(err),), 0, False, "", 0)
    with zf:
        manifest = signing.check_manifest(zf, limits, trusted)
        stored, warc_problems, checked = _scan_warc(zf)
        index_problems = _check_index(zf, stored, limits)
    problems, checked = (*manifest.problems, *warc_problems, *index_problems), checked + manifest.digests_checked
    return Verification(not problems, problems, checked, manifest.signed, manifest.signer, len(stored))


def _scan_warc(zf: zipfile.ZipFile) -> tuple[dict[int, _Stored], list[str], int]:
    """Every record by its offset, with warcio's check of its block and payload digests."""
    stored: dict[int, _Stored] = {}
    problems: list[str] = []
    checked = 0
    try:
        with zf.open(WARC) as fh:
            it = ArchiveIterator(fh, check_digests=True)
            for rec in it:
                while rec.raw_stream.read(CHUNK):
                    pass
                head, offset, length = rec.rec_headers, it.get_record_offset(), it.get_record_length()
                uri, digest = (
                    str(head.get_header("WARC-Target-URI") or "-"),
                    str(head.get_header("WARC-Payload-Digest")),
                )
                where = f"{WARC}: {rec.rec_type} record of {uri} at offset {offset}"
                sha256 = [
                    str(head.get_header("WARC-Block-Digest")),
                    digest if rec.rec_type != "warcinfo" else "sha256:",
                ]
                problems += [f"{where}: no sha256 digest"] if not all(d.startswith("sha256:") for d in sha256) else []
                problems += [f"{where}: {p}" for p in rec.digest_checker.problems]
                checked += 1 if rec.rec_type == "warcinfo" else 2
                stored[offset] = _Stored(rec.rec_type, uri, _stamp(head.get_header("WARC-Date")), digest, length)
    except (*READ_ERRORS, ArchiveLoadFailed) as err:
        problems.append(f"{WARC}: unreadable after {len(stored)} records: {err}")
    return stored, problems, checked


def _check_index(zf: zipfile.ZipFile, stored: dict[int, _Stored], limits: Limits) -> list[str]:
    """Each CDXJ line in order and pointing at the record it names; each response and resource indexed."""
    problems: list[str] = []
    seen: set[int] = set()
    previous = ""
    try:
        with zf.open(INDEX) as fh:
            for n, raw in enumerate(iter(lambda: fh.readline(limits.max_json_bytes), b""), 1):
                line = raw.decode("utf-8").rstrip("\n")
                if line < previous:
                    problems.append(f"{INDEX} line {n}: out of order (lines sort by SURT key, then time)")
                previous = line
                problems += _line_problems(f"{INDEX} line {n}", line, stored, seen)
    except READ_ERRORS as err:
        problems.append(f"{INDEX}: unreadable: {err}")
    unindexed = [(o, r) for o, r in stored.items() if r.kind in INDEXED and o not in seen]
    return problems + [f"{WARC}: {r.kind} record of {r.uri} at offset {o} is not in {INDEX}" for o, r in unindexed]


def _line_problems(where: str, line: str, stored: dict[int, _Stored], seen: set[int]) -> list[str]:
    try:
        key, stamp, data = line.split(" ", 2)
        entry = json.loads(data)
        offset = int(entry["offset"])
    except (*READ_ERRORS, TypeError) as err:
        return [f"{where}: not a CDXJ line ({err})"]
    rec = stored.get(offset)
    if rec is None:
        return [f"{where}: offset {offset} does not start a record of {WARC}"]
    seen.add(offset)
    wanted = {"length": str(rec.length), "url": rec.uri, "digest": rec.digest, "filename": WARC.rsplit("/", 1)[1]}
    problems = [
        f"{where}: {k} {entry.get(k)!r}, the record's is {v!r}" for k, v in wanted.items() if str(entry.get(k)) != v
    ]
    if (key, stamp) != (surt_key(rec.uri), rec.stamp):
        problems.append(f"{where}: key {key} {stamp}, the record's is {surt_key(rec.uri)} {rec.stamp}")
    return problems


def records(path: Path, limits: Limits = NO_LIMITS) -> Iterator[Exchange]:
    """The stored responses, in order, as Exchanges (their request headers, WARC-Date as `started`, `error`
    "truncated: <reason>" for a partial body), the payload as stored (not decoded) in a temp file at `body_path`,
    there until the next one is asked for. Call verify() first: this reads, it does not check."""
    with signing.open_zip(Path(path), limits) as zf, zf.open(WARC) as fh, tempfile.TemporaryDirectory() as tmp:
        requests: dict[str, tuple[tuple[str, str], ...]] = {}
        for n, rec in enumerate(ArchiveIterator(fh)):
            head = rec.rec_headers
            if rec.rec_type == "request":
                requests[str(head.get_header("WARC-Concurrent-To"))] = tuple(rec.http_headers.headers)
            elif rec.rec_type == "response":
                request_headers, body = requests.pop(str(head.get_header("WARC-Record-ID")), ()), Path(tmp, f"b{n}")
                yield _stored_exchange(rec, request_headers, body)
                body.unlink(missing_ok=True)


def _stored_exchange(rec: Any, request_headers: tuple[tuple[str, str], ...], body_path: Path) -> Exchange:
    head, http = rec.rec_headers, rec.http_headers
    digest, size = hashlib.sha256(), 0
    with open(body_path, "wb") as out:
        while chunk := rec.raw_stream.read(CHUNK):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    status, _, reason = http.statusline.partition(" ")
    url, date, truncated = (str(head.get_header(h) or "") for h in ("WARC-Target-URI", "WARC-Date", "WARC-Truncated"))
    found = (url, date, request_headers, int(status), reason, tuple(http.headers), str(body_path), size)
    address, purpose = (str(head.get_header(h) or "") for h in ("WARC-IP-Address", "Labelcheck-Purpose"))
    error = f"truncated: {truncated}" if truncated else ""
    return Exchange(*found, digest.hexdigest(), address, http.protocol, error, purpose)
