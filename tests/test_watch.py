"""The hot-folder watcher as a real process: settle, route, and kill -9 mid-batch without losing or repeating."""

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import MEDIA

from labelcheck.service.state import State

SAMPLES = [
    "xmp_fully_ai.jpg",
    "xmp_capture.jpg",
    "png_comfyui.png",
    "tc260_aigc.jpg",
    "plain_camera.jpg",
    "c2pa_fully_ai.jpg",
    "id3_aigc.mp3",
    "xmp_composite_https.png",
]


def start(inbox: Path, reports: Path, *extra: str, preexec_fn=None) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labelcheck.cli",
            "watch",
            str(inbox),
            "--reports",
            str(reports),
            "--settle",
            "0.3",
            "--rescan",
            "1",
            "--workers",
            "2",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec_fn,
    )


def counts(db: Path) -> dict[str, int]:
    """Items by state; empty while the service is still creating its database."""
    try:
        with sqlite3.connect(db) as con:
            return dict(con.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall())
    except sqlite3.OperationalError:
        return {}


def wait_for(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_kill_9_mid_batch_loses_nothing_and_repeats_nothing(tmp_path):
    inbox, reports = tmp_path / "in", tmp_path / "reports"
    inbox.mkdir()
    n_fast, n_slow = 200, 10
    for i in range(n_fast):
        shutil.copyfile(MEDIA / SAMPLES[i % len(SAMPLES)], inbox / f"{i:04d}-{SAMPLES[i % len(SAMPLES)]}")

    def write_slowly():  # large files arrive in chunks: they must not be checked half-written
        for i in range(n_slow):
            data = (MEDIA / "c2pa_fully_ai.mp4").read_bytes()
            with open(inbox / f"slow-{i}.mp4", "wb") as fh:
                for k in range(0, len(data), 512):  # ~0.5 s a file, pauses shorter than --settle
                    fh.write(data[k : k + 512])
                    fh.flush()
                    time.sleep(0.02)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    db = reports / "labelcheck-state.sqlite"
    proc = start(inbox, reports)
    try:
        assert wait_for(lambda: db.exists() and counts(db).get("done", 0) >= 40, 120), proc.stderr
        os.kill(proc.pid, signal.SIGKILL)  # mid-batch: some items are 'checking', some reports half-way
        proc.wait(10)
        writer.join(120)
        proc = start(inbox, reports, "--once")
        assert proc.wait(180) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    total = n_fast + n_slow
    assert counts(db) == {"done": total}
    reports_by_item = sorted(p.name for p in reports.glob("*.json"))
    assert len(reports_by_item) == total  # exactly one report per item version
    names = {n.split("-", 1)[1].removesuffix(".json") for n in reports_by_item}
    assert names == {p.name for p in inbox.iterdir()}
    lines = [json.loads(x) for f in reports.glob("*.jsonl") for x in f.read_text().splitlines()]
    assert sorted(x["id"] for x in lines) == list(range(1, total + 1))  # logged once each
    slow = [json.loads((reports / n).read_text()) for n in reports_by_item if "slow-" in n]
    assert all(d["results"][0]["ai"]["status"] == "fully_ai" and not d["results"][0]["errors"] for d in slow)


def test_routing_and_restart_picks_up_what_arrived_while_down(tmp_path):
    inbox, reports, ok, bad = tmp_path / "in", tmp_path / "reports", tmp_path / "pass", tmp_path / "quarantine"
    inbox.mkdir()
    shutil.copyfile(MEDIA / "xmp_fully_ai.jpg", inbox / "a.jpg")
    os.mkfifo(inbox / "pipe.mp4")  # never opened: opening a FIFO would block the watcher forever
    args = ("--once", "--pass-dir", str(ok), "--quarantine-dir", str(bad))
    assert start(inbox, reports, *args).wait(120) == 0
    shutil.copyfile(MEDIA / "png_comfyui.png", inbox / "b.png")  # arrives while the service is down
    assert start(inbox, reports, *args).wait(120) == 0
    assert [p.name for p in ok.iterdir()] == ["a.jpg"] and [p.name for p in bad.iterdir()] == ["b.png"]
    assert [p.name for p in inbox.iterdir()] == ["pipe.mp4"]
    assert counts(reports / "labelcheck-state.sqlite") == {"done": 2}


def test_an_item_that_cannot_be_routed_stays_put_and_the_service_goes_on(tmp_path):
    """Routing to another file system copies. A copy that failed (here a file-size limit; in life a full disk or a
    share gone away) stopped the whole service with an internal error, and again at every start, as the item was
    still to be routed. A file whose name is near the length limit failed so too: the temporary copy's name was
    longer still. Now a failure is logged, the item stays where it is, and the next start routes it."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs a second file system (tmpfs at /dev/shm)")
    inbox = Path(tempfile.mkdtemp(prefix="labelcheck-test-", dir=shm))
    reports, ok, bad = tmp_path / "reports", tmp_path / "pass", tmp_path / "quarantine"
    long_name = "n" * 250 + ".jpg"
    shutil.copyfile(MEDIA / "xmp_fully_ai.jpg", inbox / long_name)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "2"]
        + ["-c:v", "mpeg4", "-q:v", "1", str(inbox / "master.mp4")],
        check=True,
    )
    limit = 512 << 10  # below the master, well above the reports and the state database
    assert (inbox / "master.mp4").stat().st_size > limit
    args = ("--once", "--pass-dir", str(ok), "--quarantine-dir", str(bad))
    try:
        proc = start(
            inbox, reports, *args, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        )
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        failed = [e for e in events if e["event"] == "route-failed"]
        assert [Path(e["path"]).name for e in failed] == ["master.mp4"], err[-2000:]
        assert "too large" in failed[0]["error"]
        assert [p.name for p in inbox.iterdir()] == ["master.mp4"]
        assert sorted(p.name for d in (ok, bad) if d.exists() for p in d.iterdir()) == [long_name]  # no copy left
        proc = start(inbox, reports, *args)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        assert list(inbox.iterdir()) == []
        assert sorted(p.name for d in (ok, bad) if d.exists() for p in d.iterdir()) == sorted([long_name, "master.mp4"])
    finally:
        shutil.rmtree(inbox)


def test_names_in_another_encoding_or_with_a_newline_are_checked_once_and_routed(tmp_path):
    """A file named in bytes that are not UTF-8 (a Latin-1 name from a Windows share) stopped the watcher with an
    internal error, at every start: SQLite text cannot hold such a name. Now it is stored as bytes and checked once
    across restarts; its report's name, the daily log and the routing record show it as valid Unicode."""
    inbox, reports, ok, bad = tmp_path / "in", tmp_path / "reports", tmp_path / "pass", tmp_path / "quarantine"
    inbox.mkdir()
    names = [b"caf\xe9-dub.jpg", b"new\nline.jpg", b"plain.jpg"]
    for n in names:
        shutil.copyfile(MEDIA / "xmp_fully_ai.jpg", os.path.join(os.fsencode(inbox), n))
    db = reports / "labelcheck-state.sqlite"
    for _ in range(2):  # the second start finds every version known: nothing is queued again
        proc = start(inbox, reports, "--once")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    assert counts(db) == {"done": 3}
    reported = sorted(p.name.split("-", 1)[1] for p in reports.glob("*.json"))
    assert reported == ["caf\\xe9-dub.jpg.json", "new_line.jpg.json", "plain.jpg.json"]
    lines = [json.loads(x) for f in reports.glob("*.jsonl") for x in f.read_text(encoding="utf-8").splitlines()]
    assert sorted(x["path"].rsplit("/", 1)[-1] for x in lines) == ["caf\\xe9-dub.jpg", "new\nline.jpg", "plain.jpg"]
    args = ("--once", "--pass-dir", str(ok), "--quarantine-dir", str(bad))
    assert start(inbox, reports, *args).wait(120) == 0
    assert sorted(os.listdir(os.fsencode(ok))) == sorted(names) and not list(inbox.iterdir())
    state = State(db)
    try:
        assert sorted(r["routed_to"].rsplit("/", 1)[-1] for r in state.page(None, None, 10, 0)) == [
            "caf\\xe9-dub.jpg",
            "new\nline.jpg",
            "plain.jpg",
        ]
    finally:
        state.close()


def test_sigterm_finishes_the_items_in_hand(tmp_path):
    inbox, reports = tmp_path / "in", tmp_path / "reports"
    inbox.mkdir()
    for i in range(30):
        shutil.copyfile(MEDIA / SAMPLES[i % len(SAMPLES)], inbox / f"{i:03d}-{SAMPLES[i % len(SAMPLES)]}")
    proc = start(inbox, reports)
    db = reports / "labelcheck-state.sqlite"
    assert wait_for(lambda: db.exists() and counts(db).get("done", 0) >= 1, 120)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    c = counts(db)
    assert c.get("checking", 0) == 0  # nothing left half-done
    assert "signal" in proc.stderr.read()


def test_a_poison_item_is_failed_after_bounded_attempts(tmp_path):
    state = State(tmp_path / "s.sqlite", max_attempts=2)
    assert state.enqueue("/x/poison.jpg", 1, 1) and not state.enqueue("/x/poison.jpg", 1, 1)
    assert state.enqueue("/x/good.jpg", 1, 1)
    for _ in range(2):  # the checker dies twice while holding the poison item
        claimed = state.claim(1)
        assert [i.path for i in claimed] == ["/x/poison.jpg"]
        state.recover()
    assert state.counts()["failed"] == 1
    assert [i.path for i in state.claim(5)] == ["/x/good.jpg"]  # the queue is not blocked


def test_a_state_file_from_before_url_submissions_is_kept_and_gains_their_column(tmp_path):
    """A state file written by an earlier version (no `source` column) opens, keeps its items, and records the URL
    of items submitted as URLs from then on; two connections opening it at once both succeed."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT "
        "NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, status TEXT, sha256 TEXT, error TEXT, "
        "report TEXT, routed_to TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, "
        "UNIQUE (path, size, mtime_ns));"
        "INSERT INTO items (path, size, mtime_ns, state, created_at, updated_at) VALUES ('/x/old.jpg', 1, 1, 'queued',"
        " '2026-11-01T00:00:00', '2026-11-01T00:00:00');"
    )
    db.close()
    states = []
    threads = [threading.Thread(target=lambda: states.append(State(path))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = states[0]
    assert state.enqueue("/up/photo.jpg", 2, 2, "https://example.org/photo.jpg")
    rows = {r["path"]: r["source"] for r in state.page(None, None, 10, 0)}
    assert rows == {"/x/old.jpg": None, "/up/photo.jpg": "https://example.org/photo.jpg"}


def test_the_libraries_log_records_are_json_lines_too(capsys):
    """watchdog logs an error when it is stopped mid-read; Python's last-resort handler printed it as plain text
    among the watcher's JSON lines, so a log shipper parsing them choked on it."""
    import logging

    from labelcheck.service.log import json_library_logs

    json_library_logs()
    json_library_logs()  # once, however often the service starts
    logging.getLogger("watchdog.observers.inotify").error("InotifyEmitter.queue_events() called when inactive")
    logging.getLogger("watchdog").debug("not shown")
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert (record["event"], record["level"], record["logger"]) == (
        "library-log",
        "error",
        "watchdog.observers.inotify",
    )
