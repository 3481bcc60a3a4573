"""The extractors as steps of the evidence loop, each adapting one tool to the Extractor interface (interface.py).

EXTRACTORS is their order: the order their findings are added to an item, and the order they collect in, each
overlapping the ones after it with its own tool's work (exiftool parses a batch while C2PA is read in a thread and
ffprobe processes start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..classify import visible
from ..inputs.items import Item, hash_or_error
from ..model import C2paStore, Kind, PixelScan, Signal, ToolError
from . import c2pa as c2pa_x
from . import evidence_files
from . import ffprobe as ffprobe_x
from . import sidecar as sidecar_x
from .costly import c2pa_costly, costly_structure
from .exiftool import ExifToolMissing
from .interface import Batch, Extractor, Reading, ToolMissing, Tools
from .tags import signals_from_exiftool, signals_from_ffprobe
from .xmppacket import find_packets

EXIFTOOL_UNKNOWN_FORMAT = "exiftool does not know this format: its container's tags were read by ffprobe"
NOT_DECODABLE = "ffprobe found no audio or video stream it could decode"
MAX_PROBES = 2  # ffprobe processes started ahead when the tools overlap (otherwise one at a time, when added)


class _Step:
    def __init__(self, tools: Tools) -> None:
        self.tools = tools
        self.options = tools.options

    def discard(self) -> None:
        """Nothing of this step's outlives a failed batch."""


class Sha256(_Step):
    """The item's SHA-256 (the report's identity of the file, the key of waivers), in a thread beside the tools."""

    def collect(self, batch: Batch, meanwhile: Callable[[], None]) -> None:
        items = [r.item for r in batch.readings]
        digests = self.tools.hasher.submit(lambda: [hash_or_error(it) for it in items])  # hashlib releases the GIL
        meanwhile()
        self.digests = {id(it): d for it, d in zip(items, digests.result(), strict=True)}

    def add(self, reading: Reading) -> None:
        digest = self.digests[id(reading.item)]
        if isinstance(digest, ToolError):
            reading.errors.append(digest)
        else:
            reading.item.sha256 = digest


class C2pa(_Step):
    """The C2PA manifest store (c2pa-python), read in a thread while exiftool works when the tools overlap."""

    def collect(self, batch: Batch, meanwhile: Callable[[], None]) -> None:
        items = [r.item for r in batch.readings]

        def read() -> list[tuple[C2paStore, list[ToolError], str | None]]:
            t = self.tools
            return [
                _not_read(why)
                if (why := c2pa_costly(it.path))
                else c2pa_x.read(it.path, it.media, t.c2pa_context, t.c2pa_formats)
                for it in items
            ]

        if batch.overlap:
            reading = self.tools.reader.submit(read)
            meanwhile()
            stores = reading.result()
        else:
            stores = read()
            meanwhile()
        self.stores = {id(it): s for it, s in zip(items, stores, strict=True)}

    def add(self, reading: Reading) -> None:
        it = reading.item
        store, errors, manifest_json = self.stores[id(it)]
        reading.errors += errors
        if it.linked_manifest and store.sidecar == str(it.linked_manifest[0]):
            store = replace(store, sidecar=it.linked_manifest[1])  # named by its URL, not the temporary file
        if store.note:
            it.notes += (store.note,)
        reading.store = store
        reading.raw["c2pa"] = manifest_json


def _not_read(why: str) -> tuple[C2paStore, list[ToolError], str | None]:
    """A C2PA store left unread: the item cannot be verified, and says why."""
    return C2paStore(present=False), [ToolError("c2pa", why)], None


class Exiftool(_Step):
    """XMP/IPTC/EXIF/PNG/ID3/QuickTime tags by the worker's one exiftool process, with the items' XMP sidecars; the
    XMP packets of structures exiftool cannot parse in time are read by packet scanning instead."""

    def collect(self, batch: Batch, meanwhile: Callable[[], None]) -> None:
        items = [r.item for r in batch.readings]
        costly = {
            id(it): why
            for it in items
            if not self.options.read_costly and (why := costly_structure(it.path, it.media.mime))
        }
        parsed = [it for it in items if id(it) not in costly]
        self.sidecars = _xmp_sidecars(items)  # read by exiftool after the items
        paths = [it.path for it in parsed] + list(self.sidecars.values())
        mimes = [it.media.mime for it in parsed] + [sidecar_x.XMP_MIME] * len(self.sidecars)
        try:
            if batch.overlap:
                answers = self.tools.exiftool.read(paths, during=meanwhile, mimes=mimes)
            else:
                meanwhile()
                answers = self.tools.exiftool.read(paths, mimes=mimes)
        except ExifToolMissing as exc:
            raise ToolMissing(str(exc)) from exc
        self.sidecar_answers = dict(zip(self.sidecars, answers[len(parsed) :], strict=True))
        self.tags: dict[int, dict[str, Any] | ToolError | None] = dict.fromkeys(costly)
        self.tags.update({id(it): answer for it, answer in zip(parsed, answers[: len(parsed)], strict=True)})
        self.packets = {
            id(it): self._packet_signals(it.path)
            for it in items
            if id(it) in costly or (isinstance(answer := self.tags[id(it)], ToolError) and answer.timed_out)
        }
        for it in items:
            it.notes += (costly[id(it)],) if id(it) in costly else ()
        for r in batch.readings:  # a format exiftool does not know: not an error while ffprobe may read it
            answer = self.tags[id(r.item)]
            if isinstance(answer, ToolError) and answer.message.startswith("Unknown file type"):
                r.unknown_format, self.tags[id(r.item)] = answer, None

    def add(self, reading: Reading) -> None:
        it = reading.item
        tags = reading.raw["exiftool"] = self.tags[id(it)]
        if isinstance(tags, ToolError):
            reading.errors.append(tags)
        elif tags is not None:
            reading.signals += signals_from_exiftool(tags)
        reading.signals += self.packets.get(id(it), [])
        if id(it) in self.sidecars:
            beside, note = sidecar_x.xmp_signals(self.sidecars[id(it)], self.sidecar_answers[id(it)])
            reading.signals += beside
            it.notes += (note,) if note else ()

    def _packet_signals(self, path: Path) -> list[Signal]:
        """When exiftool cannot parse a container in time, the XMP packets in its bytes are still read."""
        try:
            packets = find_packets(path)
        except OSError:
            return []
        signals = []
        for tags in self.tools.exiftool.read_packets(packets) if packets else []:
            if isinstance(tags, dict):
                signals += [replace(s, location=f"xmp packet scan: {s.location}") for s in signals_from_exiftool(tags)]
        return signals


def _xmp_sidecars(items: list[Item]) -> dict[int, Path]:
    """The XMP sidecar beside each local item that has one; one there but not to be read is a note."""
    sidecars = {}
    for it in items:
        found, note = sidecar_x.xmp_sidecar(it.path) if not it.target else (None, None)
        if found is not None:
            sidecars[id(it)] = found
        it.notes += (note,) if note else ()
    return sidecars


class Ffprobe(_Step):
    """Container and stream tags of audio and video (ffprobe), for the containers exiftool does not read in full,
    every audio/video item with --ffprobe always, and any whose format exiftool does not know."""

    def collect(self, batch: Batch, meanwhile: Callable[[], None]) -> None:
        wanted = [r.item for r in batch.readings if ffprobe_x.wanted(r.item.media, self.options.ffprobe_mode)]
        ahead = MAX_PROBES if batch.overlap else 0  # a few run beside the other tools; the rest start when added
        self.probes: dict[int, Any] = {id(it): ffprobe_x.start(it.path, self.options.ffprobe) for it in wanted[:ahead]}
        self.probes.update({id(it): None for it in wanted[ahead:]})
        meanwhile()

    def discard(self) -> None:
        for proc in self.probes.values() if hasattr(self, "probes") else ():
            if proc is not None and not isinstance(proc, ToolError):
                proc.kill()
                proc.wait()

    def add(self, reading: Reading) -> None:
        it, unknown = reading.item, reading.unknown_format
        fallback = unknown is not None and it.media.is_av and self.options.ffprobe_mode != "never"
        if id(it) not in self.probes and not fallback:
            reading.errors += [unknown] if unknown else []
            return
        proc = self.probes.get(id(it)) or ffprobe_x.start(it.path, self.options.ffprobe)
        probed = ffprobe_x.finish(proc, self.options.ffprobe_timeout)
        if unknown is not None:  # exiftool's "unknown file type" stands unless ffprobe could read it instead
            if isinstance(probed, dict) and ffprobe_x.decodable(probed):
                it.notes += (EXIFTOOL_UNKNOWN_FORMAT,)
            else:
                reading.errors.append(unknown)
                probed = probed if isinstance(probed, ToolError) else ToolError("ffprobe", NOT_DECODABLE)
        reading.raw["ffprobe"] = probed
        if isinstance(probed, ToolError):
            reading.errors.append(probed)
        else:
            reading.signals += signals_from_ffprobe(probed)


class Pixels(_Step):
    """With --read-pixels: the labels a still or a video shows (OCR: pixels.py) and the invisible watermarks a still
    carries (watermark.py). Only lines the visible-label vocabulary reads as a label become signals; whether they
    count, and how much, is decided in classify/."""

    def collect(self, batch: Batch, meanwhile: Callable[[], None]) -> None:
        meanwhile()

    def add(self, reading: Reading) -> None:
        it = reading.item
        if not self.options.read_pixels or it.media.kind not in ("image", "video"):
            return
        from . import pixels, watermark  # numpy, Pillow and the OCR engine: loaded only when pixels are read

        try:
            read = (
                pixels.read_still(it.path)
                if it.media.kind == "image"
                else pixels.read_video(it.path, ffprobe=self.options.ffprobe)
            )
        except Exception as exc:  # noqa: BLE001 - the item keeps what the other tools found
            read = pixels.PixelReading(error=ToolError("ocr", f"the pixels could not be read: {type(exc).__name__}"))
        if read.error is not None:
            reading.errors.append(read.error)
        it.notes += read.notes
        looked_for: tuple[str, ...] = ()
        for hit in read.hits:
            where = visible.place(hit.box, (read.width, read.height), hit.text_height, hit.time)
            if visible.from_place(hit.text, where) is not None:  # as classify/ will read it back: the same answer
                reading.signals.append(Signal("visible", Kind.VISIBLE_LABEL, "ocr", hit.text, where))
        if it.media.kind == "image":
            marks = watermark.read_watermarks(it.path)
            looked_for = tuple(m.mark for m in marks.marks)
            for m in marks.marks:
                if m.found:
                    where = f"{m.wrong_bits}/{m.length} bits wrong (found at <= {m.threshold}); {m.read}"
                    reading.signals.append(Signal("watermark", Kind.WATERMARK, m.mark, m.message, where))
        error = read.error.message if read.error is not None else ""
        reading.pixels = PixelScan(read.width, read.height, read.times, read.duration, read.engine, looked_for, error)


class Served(_Step):
    """What the server said of a remote item in its response headers (read when it was fetched, extract/http.py)."""

    def collect(self, batch: Batch, meanwhile: Callable[[], None]) -> None:
        meanwhile()

    def add(self, reading: Reading) -> None:
        reading.signals += reading.item.served


class EvidenceFiles(_Step):
    """The tools' raw answers kept per item (--evidence-dir), named by the item's SHA-256."""

    def collect(self, batch: Batch, meanwhile: Callable[[], None]) -> None:
        meanwhile()

    def add(self, reading: Reading) -> None:
        it = reading.item
        if self.options.evidence_dir and it.sha256:
            versions: dict[str, str | None] = {"labelcheck": __version__, "c2pa_sdk": c2pa_x.sdk_version()}
            versions["exiftool"] = self.tools.exiftool.version
            raw = reading.raw
            kept = evidence_files.keep(
                self.options.evidence_dir,
                it.sha256,
                it.media.mime,
                versions,
                raw.get("c2pa"),
                raw.get("exiftool"),
                raw.get("ffprobe"),
            )
            reading.errors += [kept] if kept else []


# The evidence step's extractors, in order (a literal registry: no discovery, no registration by import).
EXTRACTORS: tuple[type[Extractor], ...] = (Sha256, C2pa, Exiftool, Ffprobe, Pixels, Served, EvidenceFiles)
