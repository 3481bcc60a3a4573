"""Hot-folder watcher: settled files are queued in SQLite, checked once by the worker pool, reported, routed.

Discovery is watchdog (inotify) events plus a periodic full rescan (the only source with `poll=True`, for
network shares), so files present at start-up, or that arrived while the service was down, are found.
A file is queued once its size and mtime have not changed for `settle` seconds.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..extract.gather import EvidenceOptions
from ..inputs.targets import _looks_like_media, is_remote, target
from ..model import Result
from ..policy.judge import Judge, make_report
from ..render import document as report_mod
from ..render import html as html_r
from ..scale.batches import RunInfo, RunOptions
from ..scale.durable import move_durably, write_atomic
from ..scale.pool import Pool
from .log import json_library_logs, log
from .state import Item, State

TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".download")


@dataclass(frozen=True)
class WatchOptions:
    dirs: tuple[Path, ...]
    reports: Path
    settle: float = 2.0
    poll: bool = False
    rescan: float = 30.0  # seconds between full rescans (with --poll: the polling interval)
    pass_dir: Path | None = None
    quarantine_dir: Path | None = None
    max_attempts: int = 3
    batch: int = 8
    state_path: Path | None = None
    once: bool = False  # process what is there, then stop (for batch jobs and tests)

    @property
    def state_file(self) -> Path:
        return self.state_path or self.reports / "labelcheck-state.sqlite"


class Watcher:
    def __init__(self, opts: WatchOptions, scan: EvidenceOptions, judge: Judge, run: RunOptions) -> None:
        self.opts = opts
        self.scan = scan
        self.run_options = run
        self.state = State(opts.state_file, opts.max_attempts)
        self.judge = judge  # reads the day per item: a rule taking effect on a date applies without a restart
        self.info = RunInfo()  # the workers' exiftool version, for the reports
        self.stop = threading.Event()
        self.wake = threading.Event()  # set by file events and by stop: the loop does not sleep through them
        self.candidates: dict[str, tuple[int, int, float]] = {}  # path -> (size, mtime_ns, unchanged since)
        self.dirty: set[str] = set()
        self.lock = threading.Lock()
        self.excluded = {p.resolve() for p in (opts.reports, opts.pass_dir, opts.quarantine_dir) if p}
        self.pool: Pool | None = None
        self.crashed: str | None = None  # set when the checking loop died (the API reports it on /readyz)
        self.ready = threading.Event()
        opts.reports.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- discovery

    def _walk(self) -> Iterable[Path]:
        for root in self.opts.dirs:
            for dirpath, dirnames, filenames in os.walk(root):
                here = Path(dirpath)
                dirnames[:] = [
                    d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in self.excluded
                ]
                for name in filenames:
                    if not name.startswith(".") and not name.endswith(TEMP_SUFFIXES):
                        yield here / name

    def _observe(self, path: Path, now: float) -> None:
        try:
            st = path.stat()
        except OSError:
            self.candidates.pop(str(path), None)
            return
        if not stat.S_ISREG(st.st_mode):  # FIFOs and devices are never opened (a FIFO would block forever)
            return
        key = str(path)
        size, mtime = st.st_size, st.st_mtime_ns
        prev = self.candidates.get(key)
        if prev is None or prev[:2] != (size, mtime):
            if not self.state.known(key, size, mtime):
                self.candidates[key] = (size, mtime, now)
            else:
                self.candidates.pop(key, None)
            return
        if now - prev[2] >= self.opts.settle:
            self.candidates.pop(key)
            if _looks_like_media(key) and self.state.enqueue(key, size, mtime):
                log("queued", path=key, size=size)

    def _start_events(self) -> Any:
        if self.opts.poll:
            return None
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            log("watchdog-unavailable", fallback="polling")
            return None
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if not event.is_directory:
                    with watcher.lock:
                        watcher.dirty.add(os.fsdecode(getattr(event, "dest_path", "") or event.src_path))
                    watcher.wake.set()

        json_library_logs()
        observer = Observer()
        for d in self.opts.dirs:
            observer.schedule(Handler(), str(d), recursive=True)
        observer.start()
        return observer

    # ---------------------------------------------------------------- checking

    def _report_path(self, item: Item) -> Path:
        name = PurePosixPath(urlsplit(item.path).path).name if is_remote(item.path) else Path(item.path).name
        name = "".join(c if c.isprintable() else "_" for c in report_mod.display_path(name))  # no controls, no bytes
        return self.opts.reports / f"{item.id:08d}-{name[-100:] or 'item'}.json"

    def _log_file(self) -> Path:
        return self.opts.reports / f"labelcheck-{time.strftime('%Y-%m-%d')}.jsonl"

    def _logged(self, item_id: int) -> bool:
        """Whether the JSONL log already has this item (only asked for items caught mid-way by a crash)."""
        needle = f'{{"id": {item_id}, '.encode()
        for log_file in sorted(self.opts.reports.glob("labelcheck-*.jsonl"))[-2:]:
            with open(log_file, "rb") as fh:
                fh.seek(max(0, log_file.stat().st_size - (4 << 20)))
                if any(line.startswith(needle) for line in fh):
                    return True
        return False

    def _recover_reported(self, items: list[Item]) -> list[Item]:
        """Items whose report was written before a crash are finished from that report, not checked again."""
        todo = []
        for item in items:
            path = self._report_path(item)
            if not path.exists():
                todo.append(item)
                continue
            result = json.loads(path.read_text(encoding="utf-8"))["results"][0]
            if not self._logged(item.id):
                self._log_line(item, path, result["status"], result["ai"]["status"], result["sha256"])
            self.state.finish(item.id, result["status"], result["sha256"], str(path))
            log("recovered", id=item.id, path=item.path, report=str(path))
            if self.opts.pass_dir or self.opts.quarantine_dir:
                self._route(self.state.get(item.id))
        return todo

    def _append_log(self, line: dict[str, Any]) -> None:
        with open(self._log_file(), "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**line, "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _report(self, item: Item, result: Result) -> Path:
        """The item's JSON report (the record) and its HTML page, both written atomically; HTML first."""
        exiftool = self.info.exiftool(self.scan.exiftool)
        rep = make_report((result,), self.judge, exiftool, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        path = self._report_path(item)
        write_atomic(path.with_suffix(".html"), html_r.render(rep))
        write_atomic(path, json.dumps(report_mod.to_dict(rep), indent=2, ensure_ascii=False) + "\n")
        return path

    def _log_line(self, item: Item, report: Path, status: str, ai_status: str, sha256: str | None) -> None:
        """One JSONL audit line per finished item, whether just checked or recovered from its report."""
        self._append_log(
            {
                "id": item.id,
                "path": report_mod.display_path(item.path),
                "size": item.size,
                "mtime_ns": item.mtime_ns,
                "status": status,
                "ai_status": ai_status,
                "sha256": sha256,
                "report": str(report),
            }
            | ({"source": item.source} if item.source else {})
        )

    def _route(self, item: Item) -> None:
        target = self.opts.pass_dir if item.status == "pass" else self.opts.quarantine_dir
        if target is None:
            return
        if is_remote(item.path):  # a submitted URL: its fetched copy went with its batch
            self.state.routed(item.id, "(remote: nothing to move)")
            return
        src = Path(item.path)
        try:
            st = src.stat()
        except OSError:
            self.state.routed(item.id, "(gone)")
            return
        if (st.st_size, st.st_mtime_ns) != (item.size, item.mtime_ns):
            self.state.routed(item.id, "(changed since checked; not moved)")
            return
        try:
            dest = move_durably(src, target)
        except OSError as exc:  # the item stays where it is, unrouted: the next start tries again
            log("route-failed", id=item.id, path=item.path, to=str(target), error=str(exc))
            return
        self.state.routed(item.id, report_mod.display_path(str(dest)))
        log("routed", path=item.path, to=str(dest))

    def _check(self, pool: Pool, items: list[Item]) -> None:
        by_index = dict(enumerate(items))
        for index, result in pool.run([target(i.path) for i in items]):  # a submitted URL: fetched by its worker
            item = by_index[index]
            report = self._report(item, result)
            self._log_line(
                item, report, result.status.value, result.classification.status.value, result.evidence.sha256
            )
            self.state.finish(item.id, result.status.value, result.evidence.sha256, str(report), result.evidence.size)
            log(
                "checked",
                id=item.id,
                path=item.path,
                status=result.status.value,
                ai_status=result.classification.status.value,
            )
            if self.opts.pass_dir or self.opts.quarantine_dir:
                self._route(self.state.get(item.id))

    # ---------------------------------------------------------------- main loop

    def serve(self) -> int:
        requeued, failed = self.state.recover()
        log(
            "start",
            dirs=[str(d) for d in self.opts.dirs],
            requeued=requeued,
            failed=failed,
            state=str(self.opts.state_file),
        )
        if self.opts.pass_dir or self.opts.quarantine_dir:
            for item in self.state.unrouted():
                self._route(item)
        observer = self._start_events()
        last_scan = 0.0
        with Pool(self.scan, self.judge, self.run_options, self.info) as pool:
            self.pool = pool
            self.ready.set()
            while not self.stop.is_set():
                now = time.monotonic()
                if now - last_scan >= self.opts.rescan or last_scan == 0.0:
                    for p in self._walk():
                        self._observe(p, now)
                    last_scan = now
                with self.lock:
                    dirty, self.dirty = self.dirty, set()
                for changed in dirty:
                    self._observe(Path(changed), now)
                for key in list(self.candidates):
                    self._observe(Path(key), now)
                claimed = self.state.claim(self.opts.batch)
                items = self._recover_reported(claimed)
                if items:
                    self._check(pool, items)
                if claimed:
                    continue
                if self.opts.once and not self.candidates:
                    break
                self.wake.wait(min(0.2, max(0.02, self.opts.settle / 4)) if self.candidates else 0.5)
                self.wake.clear()
        if observer is not None:
            observer.stop()
            observer.join(5)
        log("stop", counts=self.state.counts())
        self.state.close()
        return 0

    def install_signals(self) -> None:
        def handler(signum: int, frame: Any) -> None:
            log("signal", signal=signal.Signals(signum).name, action="finishing the items in hand, then stopping")
            self.stop.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
