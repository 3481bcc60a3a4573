"""The services' log: structured JSON lines on standard error, libraries' own log records included."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any


def log(event: str, **fields: Any) -> None:
    """Structured JSON log line on standard error."""
    line = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "event": event, **fields}
    sys.stderr.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    sys.stderr.flush()


class _JsonLines(logging.Handler):
    """A library's log records as the watcher's own JSON lines (watchdog logs an error when stopped mid-read,
    which Python's last-resort handler printed as plain text among them)."""

    def emit(self, record: logging.LogRecord) -> None:
        log("library-log", logger=record.name, level=record.levelname.lower(), message=record.getMessage())


def json_library_logs(name: str = "watchdog") -> None:
    """Route the `name` library's log records to standard error as JSON lines (once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(h, _JsonLines) for h in logger.handlers):
        logger.addHandler(_JsonLines(logging.WARNING))
        logger.propagate = False
