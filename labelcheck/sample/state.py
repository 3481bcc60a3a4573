"""What a sample has fetched, kept in SQLite beside the bodies (`--state DIR`), so that an interrupted sample resumes
(`--resume`) without fetching again what is stored: every answer but a server error or a "not now" (429) is kept by
URL, and a resumed run takes it from here, records it in its bundle again, and sends nothing."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from .types import Exchange

_TUPLES = {f.name for f in fields(Exchange) if f.name.endswith("headers")}


def _load(data: str) -> Exchange:
    raw: dict[str, Any] = json.loads(data)
    fixed: dict[str, Any] = {k: tuple(tuple(x) for x in v) if k in _TUPLES else v for k, v in raw.items()}
    return Exchange(**fixed)


class FetchState:
    """The exchanges already made, by URL (thread-safe)."""

    def __init__(self, path: Path, resume: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS exchanges (url TEXT PRIMARY KEY, data TEXT NOT NULL)")
        if not resume:
            self._db.execute("DELETE FROM exchanges")
        self._lock = threading.Lock()
        self.reused = 0  # exchanges taken from the state instead of the network

    def get(self, url: str) -> Exchange | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM exchanges WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        ex = _load(row[0])
        if ex.body_path and not Path(ex.body_path).is_file():  # its body is gone: fetch it again
            return None
        with self._lock:
            self.reused += 1
        return ex

    def put(self, ex: Exchange) -> None:
        if ex.status is None or ex.status >= 500 or ex.status == 429:
            return  # no answer, or "not now": asked again on resume
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO exchanges VALUES (?, ?)", (ex.url, json.dumps(asdict(ex))))

    def close(self) -> None:
        with self._lock:
            self._db.close()
