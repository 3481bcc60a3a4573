"""Evidence files: what the tools themselves said about an item, kept beside the report for audits.

One JSON file per content, named by its SHA-256 (`DIR/ab/ab12….json`): the manifest store as c2pa-rs gives it,
every tag exiftool read, ffprobe's answer, and the versions of the tools. The report interprets; these files are
what it interpreted, so that a finding can be re-examined later with nothing but the file's digest."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..model import ToolError

FORMAT = "labelcheck-evidence/1"


def keep(
    directory: Path,
    sha256: str,
    media_type: str,
    tools: dict[str, str | None],
    c2pa_json: str | None,
    exiftool: Any,
    ffprobe: Any,
) -> ToolError | None:
    """Write one item's evidence file from the tools' answers (a ToolError answer keeps nothing of that tool); a
    failure to write it is the item's error, returned."""
    doc = document(
        sha256,
        media_type,
        tools,
        c2pa_json,
        exiftool if isinstance(exiftool, dict) else None,
        ffprobe if isinstance(ffprobe, dict) else None,
    )
    try:
        write(directory, doc)
    except (OSError, ValueError) as exc:
        return ToolError("evidence", f"evidence file not written: {exc}")
    return None


def path_for(directory: Path, sha256: str) -> Path:
    return directory / sha256[:2] / f"{sha256}.json"


def document(
    sha256: str,
    media_type: str,
    tools: dict[str, str | None],
    c2pa_json: str | None,
    exiftool: dict[str, Any] | None,
    ffprobe: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "sha256": sha256,
        "media_type": media_type,
        "tools": tools,
        "c2pa": json.loads(c2pa_json) if c2pa_json else None,
        "exiftool": _content_tags(exiftool),
        "ffprobe": _without_file_name(ffprobe),
    }


def _content_tags(tags: dict[str, Any] | None) -> dict[str, Any] | None:
    """exiftool's tags without those of the file system (name, directory, dates, permissions): the evidence is
    about the content, which any copy shares."""
    if tags is None:
        return None
    return {k: v for k, v in tags.items() if k != "SourceFile" and not k.startswith("System:")}


def _without_file_name(probed: dict[str, Any] | None) -> dict[str, Any] | None:
    """ffprobe's answer without the name it was given (that of a copy, or of a fetched item's temporary file)."""
    if probed is None or not isinstance(probed.get("format"), dict):
        return probed
    return probed | {"format": {k: v for k, v in probed["format"].items() if k != "filename"}}


def write(directory: Path, doc: dict[str, Any]) -> Path:
    """Write one evidence file whole (a temporary file, fsync, rename): a reader never sees a partial one, and
    identical content seen twice (even by two workers at once) ends as one file."""
    path = path_for(directory, doc["sha256"])
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True)
    try:
        if path.read_text(encoding="utf-8") == text:  # the same content seen again by the same tools
            return path
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
