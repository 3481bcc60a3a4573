"""What every extractor shares: the evidence step's options, the tools a worker keeps, one item's Reading, and the
two-method interface by which the evidence step runs the extractors as a loop (gather.py)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import c2pa

from ..inputs.fetch import FetchOptions
from ..inputs.items import Item
from ..model import C2paStore, PixelScan, Signal, ToolError
from .c2pa import C2paSettings
from .exiftool import ExifToolSession

ITEM_MAX_BYTES = 8 << 30  # a remote item larger than this is not fetched (its worker's disk, not memory, holds it)


class ToolMissing(Exception):
    """A required external tool (exiftool, ffprobe) is not installed."""


@dataclass(frozen=True)
class EvidenceOptions:
    """How evidence is gathered: the tools, their limits, and where raw answers are kept."""

    c2pa: C2paSettings = field(default_factory=C2paSettings)
    evidence_dir: Path | None = None  # keep each item's raw tool answers here (evidence_files.py)
    fetch: FetchOptions = FetchOptions(max_bytes=ITEM_MAX_BYTES)  # remote items: limits, private hosts
    exiftool: str = "exiftool"
    ffprobe: str = "ffprobe"
    ffprobe_mode: str = "auto"  # auto: containers exiftool does not cover fully; always: every audio/video; never
    exiftool_timeout: float = 1.0
    exiftool_short_timeout: float = 0.5  # TIFF/PDF: their XMP is also found by packet scanning
    read_costly: bool = False  # give exiftool even structures it spends seconds on (extract/costly.py)
    read_pixels: bool = False  # read visible labels (OCR) and invisible watermarks from stills and video (pixels.py)
    ffprobe_timeout: float = 20.0
    batch_size: int = 16
    # Run C2PA while exiftool parses the same batch (two cores for one item stream). Worker processes turn it off:
    # there a worker is one core's worth of work, and overlapping only makes N workers contend for N cores.
    overlap_tools: bool = True


@dataclass(frozen=True)
class Tools:
    """What a worker keeps from batch to batch: one C2PA context, one exiftool process, a thread for hashing and one
    for C2PA reads (the SDK and hashlib release the GIL, so both run beside exiftool)."""

    options: EvidenceOptions
    c2pa_context: c2pa.Context
    c2pa_formats: frozenset[str]
    exiftool: ExifToolSession
    hasher: ThreadPoolExecutor
    reader: ThreadPoolExecutor


@dataclass
class Reading:
    """What the extractors have found of one readable item so far; gather.py makes its Evidence."""

    item: Item
    store: C2paStore = field(default_factory=lambda: C2paStore(present=False))
    signals: list[Signal] = field(default_factory=list)
    errors: list[ToolError] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # each tool's answer as it gave it (evidence files)
    unknown_format: ToolError | None = None  # exiftool does not know the format: ffprobe may read its container
    pixels: PixelScan | None = None  # what the Pixels step read (None: pixels not read)


@dataclass(frozen=True)
class Batch:
    readings: list[Reading]  # the readable items of a batch, in input order
    overlap: bool  # the tools run side by side (otherwise one after another, for worker processes)


class Extractor(Protocol):
    """One tool's part of the evidence step, made for each batch from the worker's Tools.

    collect() starts what runs by itself (a process, a thread), calls `meanwhile()` exactly once (the extractors
    after this one in EXTRACTORS collect then, overlapping with this one's tool), then waits for its own answers.
    add() puts what it found of one item into the item's Reading; it runs in EXTRACTORS order, so an extractor may
    read what earlier ones added. Neither judges: what a signal means is decided in classify/. discard() stops what
    collect() started when the batch failed."""

    def __init__(self, tools: Tools) -> None: ...

    def collect(self, batch: Batch, meanwhile: Callable[[], None]) -> None: ...

    def add(self, reading: Reading) -> None: ...

    def discard(self) -> None: ...
