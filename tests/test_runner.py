"""The batch runner: worker processes give the same results as one process; time limits, crashes, Dask."""

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import CORPUS, MEDIA, children, descendants, eventually, options, running

from labelcheck.inputs.targets import expand
from labelcheck.policy.judge import Judge
from labelcheck.render.document import result_dict
from labelcheck.scale import workers
from labelcheck.scale.batches import RunInfo, RunOptions, batches
from labelcheck.scale.pool import Pool
from labelcheck.scale.runner import run

JUDGE = Judge.of()


def _by_target(pairs):
    out = {}
    for index, r in pairs:
        doc = result_dict(r)
        out[doc["target"]] = (index, json.dumps(doc, sort_keys=True))
    return out


def _files(tmp_path, sizes):
    paths = []
    for n, size in enumerate(sizes):
        p = tmp_path / f"{n:03d}.bin"
        p.write_bytes(b"x" * size)
        paths.append(p)
    return paths


def test_batches_keep_input_positions_and_balance_the_known_tail(tmp_path):
    sizes = [(n * 37) % 101 for n in range(40)]
    paths = _files(tmp_path, sizes)
    got = list(batches(paths, size=4, workers=2, window=16))
    flat = [(i, p) for b in got for i, p in zip(b.indices, b.paths, strict=True)]
    assert sorted(flat) == list(enumerate(paths))  # every item once, with its position in the input
    # until the end of the input has been read: full batches, in input order
    assert [b.indices for b in got[:7]] == [tuple(range(k, k + 4)) for k in range(0, 28, 4)]
    # the rest, known: largest first, batches shrinking to single items
    tail = [p for b in got[7:] for p in b.paths]
    assert len(tail) == 12
    assert [p.stat().st_size for p in tail] == sorted((p.stat().st_size for p in tail), reverse=True)
    assert [len(b.paths) for b in got[7:]] == [3, 3, 2, 1, 1, 1, 1]  # a quarter of the rest (2 workers)


def test_an_input_that_arrives_slowly_is_not_read_ahead():
    import threading

    first_result = threading.Event()

    def slow():
        yield MEDIA / "xmp_fully_ai.jpg"
        assert first_result.wait(5), "the runner waited for more input before checking what it had"
        yield MEDIA / "xmp_capture.jpg"

    got = []
    for index, _ in Pool(options(), JUDGE, RunOptions(workers=1, batch_size=1, read_ahead=0)).run(slow()):
        got.append(index)
        first_result.set()
    assert got == [0, 1]


def test_only_a_list_in_a_regular_file_is_read_ahead(tmp_path):
    from labelcheck.commands.check import _regular_file

    listed = tmp_path / "list.txt"
    listed.write_text("a.jpg\n")
    with open(listed) as fh:
        assert _regular_file(fh)
    r, w = os.pipe()
    with os.fdopen(r) as pipe, os.fdopen(w, "w"):
        assert not _regular_file(pipe)


def test_batches_for_one_worker_are_plain_chunks(tmp_path):
    paths = _files(tmp_path, [5, 1, 9, 3, 7])
    assert [b.indices for b in batches(paths, size=2)] == [(0, 1), (2, 3), (4,)]


def test_a_run_starts_no_more_workers_than_it_has_batches():
    one = next(p for p in sorted(MEDIA.iterdir()) if p.suffix == ".png")
    pool = Pool(options(), JUDGE, RunOptions(workers=2))
    assert [i for i, _ in pool.run([one])] == [0]
    assert pool.started == 1
    pool = Pool(options(), JUDGE, RunOptions(workers=2))
    assert list(pool.run([])) == []
    assert pool.started == 0


@pytest.fixture(scope="module")
def serial():
    return _by_target(run(expand([MEDIA]), options(), JUDGE, RunOptions(workers=0)))


def test_two_workers_give_the_results_of_one_process(serial):
    pooled = _by_target(run(expand([MEDIA]), options(), JUDGE, RunOptions(workers=2, batch_size=3)))
    assert pooled == serial  # same items, same positions, same content


@pytest.mark.skipif(not (CORPUS / "c2pa-rs/sdk/tests/fixtures/tiff_poc.tiff").exists(), reason="corpus absent")
def test_an_item_over_its_time_limit_is_reported_and_the_rest_goes_on():
    slow = CORPUS / "c2pa-rs/sdk/tests/fixtures/tiff_poc.tiff"  # exiftool needs seconds on it
    paths = [MEDIA / "xmp_fully_ai.jpg", slow, MEDIA / "xmp_capture.jpg"]
    got = dict(
        run(
            paths,
            options(exiftool_timeout=30.0, exiftool_short_timeout=30.0, read_costly=True),
            JUDGE,
            RunOptions(workers=1, batch_size=1, item_timeout=1.0, startup_grace=10.0),
        )
    )
    assert sorted(got) == [0, 1, 2]
    assert got[1].status.value == "error" and got[1].evidence.errors[0].source == "runner"
    assert "time limit" in got[1].evidence.errors[0].message
    assert got[0].classification.status.value == "fully_ai" and got[2].classification.status.value == "not_ai"


def test_a_worker_that_dies_is_replaced_and_its_items_retried():
    import threading

    paths = sorted(MEDIA.glob("xmp_*"))
    pool = Pool(options(), JUDGE, RunOptions(workers=1, batch_size=len(paths)))
    got = {}
    consumer = threading.Thread(target=lambda: got.update(dict(pool.run(iter(paths)))))
    consumer.start()
    deadline = time.monotonic() + 10
    while not getattr(pool, "slots", None) and time.monotonic() < deadline:
        time.sleep(0.001)
    os.kill(pool.slots[0].process.pid, signal.SIGKILL)  # dies before (or while) it takes its first batch
    consumer.join(120)
    assert not consumer.is_alive()
    assert sorted(got) == list(range(len(paths)))  # nothing lost
    assert pool.restarts == 1
    assert all(r.status.value == "pass" for r in got.values())


def test_exiftool_started_in_the_background_serves_the_scanner_until_it_closes():
    from labelcheck.extract.gather import Scanner

    with Scanner(options()) as scanner:
        scanner.start_tools(background=True)
        eventually(lambda: scanner.exiftool_version is not None, 10, "exiftool did not start")
        pid = scanner._exiftool._tool._process.pid
        time.sleep(0.3)
        assert running(pid)  # not killed with a thread that started it and ended
        assert len(list(scanner.each([MEDIA / "xmp_fully_ai.jpg"]))) == 1
        assert scanner._exiftool._tool._process.pid == pid  # the same process read the batch
    eventually(lambda: not running(pid), 10, "exiftool outlived the scanner")


def test_a_killed_worker_leaves_no_exiftool_behind():
    with Pool(options(), JUDGE, RunOptions(workers=1)) as pool:
        assert len(list(pool.run([MEDIA / "xmp_fully_ai.jpg"]))) == 1  # its exiftool has started (in a thread)
        worker = pool.slots[0].process.pid
        exiftools = children(worker)
        assert len(exiftools) == 1
        os.kill(worker, signal.SIGKILL)
        eventually(lambda: not any(running(p) for p in exiftools), 10, "exiftool outlived its worker")


def test_a_missing_exiftool_stops_the_run_naming_it():
    from labelcheck.extract.gather import ToolMissing

    with pytest.raises(ToolMissing, match="exiftool-absent"):
        list(
            Pool(options(exiftool="/nonexistent/exiftool-absent"), JUDGE, RunOptions(workers=1)).run(
                [MEDIA / "xmp_fully_ai.jpg"]
            )
        )


def test_dask_localcluster_gives_the_local_results(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        engine = RunOptions(scheduler=cl.scheduler_address, batch_size=4)
        got = _by_target(run(expand([MEDIA]), options(), JUDGE, engine))
    assert got == serial


@pytest.mark.skipif(not (CORPUS / "c2pa-rs/sdk/tests/fixtures/tiff_poc.tiff").exists(), reason="corpus absent")
def test_on_dask_an_item_over_its_time_limit_is_reported_its_worker_restarted_and_the_rest_goes_on():
    distributed = pytest.importorskip("distributed")
    slow = CORPUS / "c2pa-rs/sdk/tests/fixtures/tiff_poc.tiff"  # exiftool needs seconds on it
    paths = [MEDIA / "xmp_fully_ai.jpg", slow, MEDIA / "xmp_capture.jpg", MEDIA / "xmp_bare_term.webp"]
    slow_options = options(exiftool_timeout=30.0, exiftool_short_timeout=30.0, read_costly=True)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        with distributed.Client(cl) as client:
            before = set(client.run(os.getpid).values())
            run_options = RunOptions(scheduler=cl.scheduler_address, batch_size=1, item_timeout=1.0, startup_grace=10.0)
            got = dict(run(paths, slow_options, JUDGE, run_options))
            after = set(client.run(os.getpid).values())
    assert sorted(got) == [0, 1, 2, 3]  # nothing lost
    assert got[1].status.value == "error" and got[1].evidence.errors[0].source == "runner"
    assert "time limit" in got[1].evidence.errors[0].message
    assert [got[i].status.value for i in (0, 2, 3)] == ["pass"] * 3
    assert before and after and not before & after  # the stuck worker process was replaced


def test_on_dask_an_item_whose_worker_dies_is_reported_and_the_rest_goes_on(tmp_path):
    """Dask gives up on a task whose workers died (allowed-failures, here 0): that item is an error, not the run."""
    import dask

    distributed = pytest.importorskip("distributed")
    big = tmp_path / "big.bin"  # 2 GB of zeros (sparse): its worker is busy hashing and reading it for seconds
    with open(big, "wb") as fh:
        fh.truncate(2 << 30)
    paths = [big, MEDIA / "xmp_fully_ai.jpg", MEDIA / "xmp_capture.jpg"]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
            with distributed.Client(cl) as client:
                (pid,) = client.run(os.getpid).values()
                got = {}
                runner = threading.Thread(
                    target=lambda: got.update(
                        run(paths, options(), JUDGE, RunOptions(scheduler=cl.scheduler_address, batch_size=1))
                    )
                )
                runner.start()
                eventually(lambda: client.processing() and any(client.processing().values()), 30, "no task started")
                time.sleep(0.5)
                os.kill(pid, signal.SIGKILL)
                runner.join(120)
    assert not runner.is_alive()
    assert sorted(got) == [0, 1, 2]
    assert got[0].status.value == "error" and "KilledWorker" in got[0].evidence.errors[0].message
    assert [got[1].status.value, got[2].status.value] == ["pass", "pass"]


def test_where_workers_come_from_is_guessed_from_the_arguments(tmp_path):
    """A fork server for runs over folders, lists or many files; workers forked from the command's own process for
    a few local files; none for commands without local workers."""
    from labelcheck.__main__ import worker_start
    from labelcheck.scale.workers import SMALL_RUN

    files = []
    for n in range(SMALL_RUN + 1):
        files.append(str(tmp_path / f"f{n}.jpg"))
        Path(files[-1]).write_bytes(b"x")
    assert worker_start(["check", str(tmp_path)]) == "server"  # a folder may hold thousands
    assert worker_start(["check", *files]) == "server"
    assert worker_start(["check", "--from-list", "-"]) == "server"
    assert worker_start(["check", "media/*.jpg"]) == "server"  # a glob the shell did not expand
    assert worker_start(["watch", "hot/", "--pass-dir", "ok/"]) == "server" and worker_start(["serve"]) == "server"
    assert worker_start(["check", *files[:SMALL_RUN]]) == "here"
    assert worker_start(["check", "--workers", "2", "--format", "json", files[0]]) == "here"
    assert worker_start(["check", "-j2", "missing.jpg"]) == "here"  # an item error, in a worker as always
    for argv in (
        [],
        ["policy", "list"],
        ["explain", "x.jpg"],
        ["check", "--workers", "0", "x"],
        ["check", "--workers=0", "x"],
        ["check", "-j", "0", "x"],
        ["check", "-j0", "x"],
        ["check", "--scheduler", "tcp://h:8786", "x"],
        ["watch", "--stream", "https://h/live.m3u8", "--reports", "r"],
        ["check", "--help"],
    ):
        assert worker_start(argv) is None, argv


def _exiftool_noting_its_parent(tmp_path: Path, then: str) -> tuple[Path, dict[str, str]]:
    """A PATH on which each `exiftool` started adds a line to a file (its pid, its parent's pid and that process's
    parent's pid), then runs `then`: the file, and the environment."""
    seen, tools = tmp_path / "exiftools", tmp_path / "tools"
    tools.mkdir()
    fake = tools / "exiftool"
    fake.write_text(f"#!/bin/sh\necho $$ $PPID $(cut -d' ' -f4 /proc/$PPID/stat) >> {seen}\n{then}\n")
    fake.chmod(0o755)
    return seen, dict(os.environ, PATH=f"{tools}:{os.environ['PATH']}")


def _started(seen: Path) -> list[tuple[int, int, int]]:
    """(pid, parent, grandparent) of each exiftool started so far."""
    lines = seen.read_text().splitlines() if seen.exists() else []
    return [(int(a), int(b), int(c)) for a, b, c in (line.split() for line in lines if len(line.split()) == 3)]


def _one_item(tmp_path: Path, name: str, few: bool) -> Path:
    """A copy of a sample in a folder of its own: the file itself (a few files) or the folder."""
    folder = tmp_path / "items"
    folder.mkdir()
    shutil.copyfile(MEDIA / name, folder / name)
    return folder / name if few else folder


@pytest.mark.parametrize("few", [True, False], ids=["a-file", "a-folder"])
def test_a_few_files_start_exiftool_first_and_fork_their_worker_from_the_command(tmp_path, few):
    """A few files: the command line starts exiftool before its imports and the worker it forks adopts it (one
    exiftool, the command's child). A folder: the worker, forked from the fork server, starts its own. Measured:
    a one-file run 0.24 s against 0.37 s through the server. The report is the same."""
    seen, env = _exiftool_noting_its_parent(tmp_path, f'exec {shutil.which("exiftool")} "$@"')
    item = _one_item(tmp_path, "c2pa_fully_ai.jpg", few)
    cmd = [sys.executable, "-m", "labelcheck", "check", "--format", "json", str(item)]
    cli = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = cli.communicate(timeout=120)
    assert cli.returncode in (0, 1), err.decode()
    ((_pid, parent, grandparent),) = _started(seen)  # one exiftool, adopted rather than started again
    if few:
        assert parent == cli.pid
    else:
        assert parent != cli.pid and grandparent != cli.pid  # a worker of the fork server, the command's child
    plain = subprocess.run(cmd, capture_output=True, check=False, timeout=120)  # the real exiftool on PATH
    assert plain.returncode == cli.returncode
    (mine,), (theirs,) = json.loads(out)["results"], json.loads(plain.stdout)["results"]
    assert mine["status"] == theirs["status"] and mine["ai"] == theirs["ai"] and mine["findings"] == theirs["findings"]
    assert mine["ai"]["status"] == "fully_ai" and not mine["errors"]


@pytest.mark.parametrize("few", [True, False], ids=["a-file", "a-folder"])
def test_workers_die_with_a_killed_labelcheck_instead_of_running_on(tmp_path, few):
    """SIGKILL the command line while its worker is stuck (here in an exiftool that never answers): the worker
    sees its parent gone and ends, its exiftool with it, instead of running on as an orphan; whether the worker
    was forked from the command line itself and adopted its exiftool (a file) or came from the fork server (a
    folder)."""
    seen, env = _exiftool_noting_its_parent(tmp_path, "exec sleep 300")
    cmd = [sys.executable, "-m", "labelcheck", "check", "-j", "1", str(_one_item(tmp_path, "xmp_fully_ai.jpg", few))]
    cli = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def worker_waits() -> bool:  # an exiftool has started, and a worker beside it (or the command line ended)
        tools = {pid for pid, _, _ in _started(seen)}
        others = set(descendants(cli.pid)) - tools - set(_servers(cli.pid))
        return cli.poll() is not None or bool(tools) and bool(others)

    left: list[int] = []
    try:
        eventually(worker_waits, 30, "no worker waited for its exiftool")
        assert cli.poll() is None, "the command line ended before its worker started"
        left = descendants(cli.pid)  # the worker, its exiftool and (a folder) the fork server
        cli.send_signal(signal.SIGKILL)
        cli.wait()
        eventually(lambda: not any(running(p) for p in left), 10, "a worker or exiftool outlived the command line")
    finally:
        cli.kill()
        cli.wait()
        for p in left:  # a failed run leaves nothing behind either
            if running(p):
                os.kill(p, signal.SIGKILL)


def _servers(pid: int) -> list[int]:
    """multiprocessing's fork server and resource tracker among `pid`'s children (started with `-c from ...`)."""
    out = []
    for child in children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as fh:
                if b"multiprocessing" in fh.read():
                    out.append(child)
        except OSError:
            continue
    return out


def test_the_exiftool_version_is_asked_once_when_no_worker_reported_it(tmp_path):
    """The watcher asks for every report; with no worker's answer (Dask) that must not start exiftool each time."""
    log, wrapper = tmp_path / "calls", tmp_path / "exiftool"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec exiftool "$@"\n')
    wrapper.chmod(0o755)
    info = RunInfo()
    real = subprocess.run(["exiftool", "-ver"], capture_output=True, text=True, check=True).stdout.strip()
    assert info.exiftool(str(wrapper)) == real and info.exiftool(str(wrapper)) == real
    assert log.read_text().splitlines() == ["-ver"]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc")
def test_a_worker_gives_large_freed_blocks_back_instead_of_keeping_them_in_its_heap():
    """What return_large_blocks() changes, shown in a fresh interpreter: after a large block was freed, glibc keeps
    the next one of that size in the heap when it is freed (its threshold rose), unless the threshold is fixed."""
    code = """
import sys
from labelcheck.scale import workers
if sys.argv[1] == "fixed":
    workers.return_large_blocks()
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
a = bytearray(4 << 20); del a  # freed: glibc raises its threshold to 4 MB
base = rss()
b = bytearray(4 << 20); del b  # from the heap (kept after free) or mapped (given back)
print(rss() - base)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}  # a Dask LocalCluster sets one
    kept = {
        mode: int(subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, env=env).stdout)
        for mode in ("default", "fixed")
    }
    assert kept["default"] > 3000 and kept["fixed"] < 1000, kept  # KB


def test_the_fork_server_ends_without_teardown_and_its_children_exit_as_they_would():
    """forkserver_exit, preloaded last by the fork server, ends that process at once at exit; a process forked from
    it (a worker that did not leave through os._exit) keeps its own exit code and its teardown."""
    code = (
        "import atexit, os, sys\n"
        "atexit.register(lambda: print('teardown', os.getpid() == server, flush=True))\n"
        "server = os.getpid()\n"
        "import labelcheck.scale.forkserver_exit\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    sys.exit(5)\n"
        "print('child exited', os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]), flush=True)\n"
        "sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines() == ["teardown False", "child exited 5"]
    assert proc.returncode == 0  # the server's own teardown (and its exit code) never ran
    assert workers.PRELOAD[-1] == "labelcheck.scale.forkserver_exit"

