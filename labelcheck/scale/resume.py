"""Resuming a long jsonl run: the results a previous run wrote are kept, and only the targets without one are
checked (a regulator's sample of tens of thousands of URLs, cut short by Ctrl-C, a cancelled job or a reboot)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..render.document import Tally, target_name


class ResumeError(Exception):
    """A file that cannot be resumed without losing lines."""


@dataclass
class Prior:
    done: set[str] = field(default_factory=set)  # targets that have a result, as `expand` makes them (target_name)
    tally: Tally = field(default_factory=Tally)  # their counts (the exit code covers every result in the file)
    keep: int = 0  # bytes of the file that are whole lines; a line cut off mid-write is dropped


def read(path: Path) -> Prior:
    """The results of a jsonl file written before, up to its last whole line (none when there is no file)."""
    prior = Prior()
    try:
        fh = open(path, "rb")  # noqa: SIM115 - read line by line: the file may hold tens of thousands of results
    except FileNotFoundError:
        return prior
    with fh:
        for n, line in enumerate(fh, 1):
            try:
                doc = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                doc = None
            if doc is None:
                if fh.read(1):  # not the last line: the file is not one labelcheck wrote; nothing is dropped
                    raise ResumeError(f"{path}: line {n} is not a whole JSON line; not resuming")
                break  # the last line, cut off mid-write by a killed run: this run writes over it
            prior.keep += len(line)
            if isinstance(doc, dict) and doc.get("type") == "result":
                prior.done.add(target_name(doc))  # a name that is not UTF-8 by its bytes, not by its \\xNN look
                prior.tally.add_document(doc)
    return prior
