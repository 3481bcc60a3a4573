"""Labelling, file by file: the plan's steps in order (pixels, metadata, signature), each writing a temporary file
beside the output, the last renamed into place only when every step succeeded; then every output checked again
with the same policies (api.scan), which is the proof: an output that does not pass is an error, never a success.

Originals are never touched, unless `in_place`: then the labelled file replaces the original atomically, after a
backup copy (NAME.EXT + backup_suffix) was made."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import EvidenceOptions, Judge, scan
from ..inputs.media import detect
from ..inputs.targets import expand
from ..model import ItemStatus, Result
from .plan import Given, Plan, plan

SIDECAR_SUFFIX = ".xmp"  # NAME.EXT.xmp: labelcheck reads it as the file's sidecar (extract/sidecar.py)


@dataclass(frozen=True)
class LabelOptions:
    given: Given
    output_dir: Path | None = None  # None only with in_place
    in_place: bool = False
    backup_suffix: str = ".orig"
    dry_run: bool = False
    sidecar: bool = False  # a format that cannot carry the labels gets an XMP sidecar beside its copy
    training_policy: str = ""  # a URL: the terms of a constrained reservation (TDMRep tdm-policy, PLUS)
    propagator: str = ""
    propagate_id: str = ""
    sign_cert: Path | None = None
    sign_key: Path | None = None
    tsa_url: str | None = None
    system: str = ""  # the AI system that made the content (C2PA softwareAgent: SB 942 asks for name and version)
    system_version: str = ""


@dataclass
class Labelled:
    source: str
    output: str = ""
    planned: tuple[str, ...] = ()
    wrote: list[tuple[str, str, str]] = field(default_factory=list)  # (carrier, place, value)
    error: str = ""
    result: Result | None = None  # the re-check of the output

    @property
    def passed(self) -> bool:
        return not self.error and self.result is not None and self.result.status is ItemStatus.PASS


def targets(paths: Iterable[str]) -> list[tuple[Path, Path]]:
    """(file, its path relative to the argument it came from): a directory's files keep their layout. Directories
    are walked as `check` walks them (inputs/targets.expand: hidden names and sidecars skipped, each file once, link
    loops ended); a file reached through a link leaving the tree keeps its name."""
    out = []
    for arg in paths:
        root = Path(arg).absolute()
        for found in expand([arg]):
            if isinstance(found, Path):
                rel = found.relative_to(root) if root.is_dir() and found.is_relative_to(root) else Path(found.name)
                out.append((found, rel))
    return out


def _request(opts: LabelOptions, carriers: tuple[str, ...]) -> Any:
    from .write import LabelRequest

    g = opts.given
    return LabelRequest(g.status, carriers, g.producer, g.produce_id, opts.propagator, opts.propagate_id,
                        g.training, opts.training_policy)  # fmt: skip


def _metadata(src: Path, dst: Path, mime: str, opts: LabelOptions, p: Plan, item: Labelled) -> None:
    """The metadata step (write.CannotCarry when the format cannot carry it)."""
    from . import write

    training: tuple[str, ...] = ("plus",) if "training" in p.carriers else ()  # every writable format holds PLUS
    done = write.write(
        src, dst, mime, _request(opts, tuple(c for c in ("iptc", "tc260") if c in p.carriers) + training)
    )
    item.wrote += [(w.carrier, w.place, w.value) for w in done]


def _sign(src: Path, dst: Path, mime: str, opts: LabelOptions, item: Labelled, title: str) -> None:
    from . import sign

    assert opts.sign_cert is not None and opts.sign_key is not None
    req = sign.SignRequest(opts.given.status, opts.sign_cert, opts.sign_key, opts.system or "unnamed AI system",
                           opts.system_version, opts.given.training, opts.tsa_url, title)  # fmt: skip
    signed = sign.sign(src, dst, mime, req)
    item.wrote.append(("c2pa", signed.action, signed.manifest_label))


def _draw(src: Path, dst: Path, kind: str, p: Plan, opts: LabelOptions, item: Labelled) -> None:
    from . import draw

    text = draw.wording(opts.given.status, p.visible_language)
    share = p.visible_share
    drawn = draw.draw_still(src, dst, text, share) if kind == "image" else draw.draw_video(src, dst, text, share)
    item.wrote.append(("visible", f"{drawn.corner}, letters {drawn.height_share:.1%} of the shortest side", text))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def label_one(src: Path, out: Path, p: Plan, opts: LabelOptions) -> Labelled:
    item = Labelled(str(src), str(out), p.carriers)
    if out.exists() and not opts.in_place:
        item.error = f"{out} exists: labelcheck never overwrites an output (remove it, or choose another --output-dir)"
        return item
    try:  # a file that cannot be read, a folder that cannot be written: this item's error, not the run's end
        with open(src, "rb") as fh:
            media = detect(str(src), fh.read(4096))
        out.parent.mkdir(parents=True, exist_ok=True)
        before = _sha256(src)
        work = Path(tempfile.mkdtemp(prefix=".labelcheck-", dir=out.parent))
    except OSError as exc:
        item.error = f"{exc.filename or src}: {exc.strerror or exc}"
        return item
    try:
        current, n = src, 0

        def step() -> Path:
            nonlocal n
            n += 1
            return work / f"step{n}{src.suffix}"

        if "visible" in p.carriers:
            if media.kind not in ("image", "video"):
                raise ValueError(f"a visible label needs a picture or a video; this is {media.mime}")
            _draw(current, (nxt := step()), media.kind, p, opts, item)
            current = nxt
        if "c2pa" not in p.carriers:
            from .sign import has_manifest

            if has_manifest(src, media.mime):
                raise ValueError(
                    f"{src.name} carries a C2PA manifest: writing labels into it would break the manifest's hash "
                    "binding; give --sign-cert and --sign-key to sign the labelled copy (the manifest is kept as its "
                    "parent)"
                )
        try:
            _metadata(current, (nxt := step()), media.mime, opts, p, item)
            current = nxt
        except Exception as exc:
            from .write import CannotCarry, write_sidecar

            if not isinstance(exc, CannotCarry) or not opts.sidecar:
                raise
            sidecar = out.with_name(out.name + SIDECAR_SUFFIX)
            done = write_sidecar(src, sidecar, _request(opts, tuple(c for c in ("iptc", "tc260") if c in p.carriers)))
            item.wrote += [(w.carrier, f"{sidecar.name}: {w.place}", w.value) for w in done]
        if "c2pa" in p.carriers:
            _sign(current, (nxt := step()), media.mime, opts, item, src.name)
            current = nxt
        if current == src:
            shutil.copyfile(src, (nxt := step()))
            current = nxt
        if _sha256(src) != before:
            raise RuntimeError(f"{src.name} changed while it was labelled: nothing written (label it again)")
        if opts.in_place:
            shutil.copy2(src, src.with_name(src.name + opts.backup_suffix))
        os.replace(current, out)
    except Exception as exc:  # noqa: BLE001 - one file never stops the others; nothing half-written is left
        item.error = f"{type(exc).__name__}: {exc}" if not str(exc).startswith(src.name) else str(exc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return item


def run(
    paths: Iterable[str], judge: Judge, options: EvidenceOptions, opts: LabelOptions
) -> tuple[Plan, list[Labelled]]:
    """Label every file under `paths` and check each output again; the plan (the same for every file) and the items."""
    from . import tool

    p = plan(judge.policies, opts.given)
    items: list[Labelled] = []
    try:
        for src, rel in targets(paths):
            out = src if opts.in_place else (opts.output_dir or Path(".")) / rel
            if opts.dry_run or p.problems:
                items.append(Labelled(str(src), str(out), p.carriers, error="; ".join(p.problems)))
                continue
            items.append(label_one(src, out, p, opts))
    finally:
        tool.close()  # the writes are done: the stay-open exiftool goes before the re-check starts its own
    done = [i for i in items if not i.error and i.output]
    if done and not opts.dry_run:
        results = scan([i.output for i in done], options, judge).results
        for item, r in zip(done, results, strict=True):
            item.result = r
            if r.status is not ItemStatus.PASS:
                failed = [f"{f.rule}: {f.message}" for f in r.findings if f.status.value == "fail"]
                item.error = "the re-check does not pass: " + ("; ".join(failed) or r.status.value)
    return p, items
