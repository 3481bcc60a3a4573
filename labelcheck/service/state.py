"""The watcher's state in SQLite (WAL): every item version moves queued -> checking -> done | failed, durably.

An item version is (path, size, mtime). A crash at any moment leaves each version in one of those states;
on start-up, versions left `checking` are requeued (their attempt counted) or, past the attempt limit,
marked failed: a poison file is retried a bounded number of times and never blocks the queue.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..render.document import display_path

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id          INTEGER PRIMARY KEY,
    path        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'checking', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    status      TEXT,
    sha256      TEXT,
    error       TEXT,
    report      TEXT,
    routed_to   TEXT,
    source      TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (path, size, mtime_ns)
);
CREATE INDEX IF NOT EXISTS items_state ON items (state, id);
"""


@dataclass(frozen=True)
class Item:
    id: int
    path: str
    size: int
    mtime_ns: int
    state: str
    attempts: int
    status: str | None = None
    report: str | None = None
    routed_to: str | None = None
    source: str | None = None  # the URL a submitted item was fetched from


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _stored(path: str) -> str | bytes:
    """A path as the database keeps it: text, or its bytes when the name is not valid Unicode (bytes of another
    encoding, surrogate-escaped), which SQLite text cannot hold. A name is always stored the same way."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def _loaded(value: str | bytes) -> str:
    return os.fsdecode(value) if isinstance(value, bytes) else value


def _shown(row: tuple[Any, ...], columns: tuple[str, ...]) -> dict[str, Any]:
    """A row for the API and the dashboard: its path as valid Unicode."""
    out = dict(zip(columns, row, strict=True))
    out["path"] = display_path(_loaded(out["path"]))
    return out


class State:
    """One SQLite database in WAL mode; each operation is its own short transaction."""

    def __init__(self, path: Path, max_attempts: int = 3) -> None:
        self.path = path
        self.max_attempts = max_attempts
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        with self._tx() as db:  # a state file from before `source` (URL submissions) gets the column
            if "source" not in {r[1] for r in db.execute("PRAGMA table_info(items)")}:
                db.execute("ALTER TABLE items ADD COLUMN source TEXT")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def enqueue(self, path: str, size: int, mtime_ns: int, source: str | None = None) -> bool:
        """Queue a settled item version; False when this version is already known (nothing is repeated).
        `source`: the URL a submitted item was fetched from."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO items (path, size, mtime_ns, state, source, created_at, updated_at) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                (_stored(path), size, mtime_ns, source, _now(), _now()),
            )
            return cur.rowcount == 1

    def known(self, path: str, size: int, mtime_ns: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM items WHERE path=? AND size=? AND mtime_ns=?", (_stored(path), size, mtime_ns)
        ).fetchone()
        return row is not None

    def claim(self, limit: int) -> list[Item]:
        """Move up to `limit` queued versions to `checking`, counting the attempt, oldest first."""
        with self._tx() as db:
            rows = db.execute("SELECT id FROM items WHERE state='queued' ORDER BY id LIMIT ?", (limit,)).fetchall()
            ids = [r[0] for r in rows]
            db.executemany(
                "UPDATE items SET state='checking', attempts=attempts+1, updated_at=? WHERE id=?",
                [(_now(), i) for i in ids],
            )
        return [self.get(i) for i in ids]

    def finish(self, item_id: int, status: str, sha256: str | None, report: str, size: int | None = None) -> None:
        """`size`: as checked (a submitted URL's size is known once it was fetched)."""
        with self._tx() as db:
            db.execute(
                "UPDATE items SET state='done', status=?, sha256=?, report=?, size=COALESCE(?, size), updated_at=? "
                "WHERE id=?",
                (status, sha256, report, size, _now(), item_id),
            )

    def routed(self, item_id: int, where: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE items SET routed_to=?, updated_at=? WHERE id=?", (where, _now(), item_id))

    def recover(self) -> tuple[int, int]:
        """After a crash: versions left `checking` are requeued, or failed past the attempt limit.
        Returns (requeued, failed)."""
        with self._tx() as db:
            failed = db.execute(
                "UPDATE items SET state='failed', error=?, updated_at=? WHERE state='checking' AND attempts>=?",
                (
                    f"the checker stopped {self.max_attempts} times while checking this item (crash, kill or hang)",
                    _now(),
                    self.max_attempts,
                ),
            ).rowcount
            requeued = db.execute(
                "UPDATE items SET state='queued', updated_at=? WHERE state='checking'", (_now(),)
            ).rowcount
        return requeued, failed

    def unrouted(self) -> list[Item]:
        rows = self.db.execute(
            "SELECT id FROM items WHERE state IN ('done', 'failed') AND routed_to IS NULL ORDER BY id"
        ).fetchall()
        return [self.get(r[0]) for r in rows]

    def get(self, item_id: int) -> Item:
        row = self.db.execute(
            "SELECT id, path, size, mtime_ns, state, attempts, status, report, routed_to, source FROM items WHERE id=?",
            (item_id,),
        ).fetchone()
        return Item(row[0], _loaded(row[1]), *row[2:])

    COLUMNS = (
        "id",
        "path",
        "size",
        "state",
        "status",
        "attempts",
        "report",
        "routed_to",
        "source",
        "created_at",
        "updated_at",
    )

    def row(self, item_id: int) -> dict[str, Any] | None:
        found = self.db.execute(f"SELECT {', '.join(self.COLUMNS)} FROM items WHERE id=?", (item_id,)).fetchone()
        return _shown(found, self.COLUMNS) if found else None

    def version(self, path: str, size: int, mtime_ns: int) -> dict[str, Any]:
        found = self.db.execute(
            f"SELECT {', '.join(self.COLUMNS)} FROM items WHERE path=? AND size=? AND mtime_ns=?",
            (_stored(path), size, mtime_ns),
        ).fetchone()
        return _shown(found, self.COLUMNS)

    def page(self, status: str | None, since: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        """Items newest first, filtered by result status (or state) and last update time."""
        sql = f"SELECT {', '.join(self.COLUMNS)} FROM items WHERE 1=1"
        args: list[object] = []
        if status:
            sql += " AND (status=? OR state=?)"
            args += [status, status]
        if since:
            sql += " AND updated_at>=?"
            args.append(since)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        return [_shown(row, self.COLUMNS) for row in self.db.execute(sql, args).fetchall()]

    def status_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT COALESCE(status, state), COUNT(*) FROM items GROUP BY 1").fetchall()
        return dict(rows)

    def latencies(self) -> list[float]:
        """Seconds from queued to done, for the latency histogram."""
        rows = self.db.execute(
            "SELECT (julianday(updated_at) - julianday(created_at)) * 86400.0 FROM items WHERE state='done'"
        ).fetchall()
        return [r[0] for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall()
        return {"queued": 0, "checking": 0, "done": 0, "failed": 0, **dict(rows)}
