"""Memory of a process tree from /proc, sampled while it runs (bench/bench.py's approach: proportional set sizes, so
that the shared library pages of several exiftool and ffprobe processes are not counted again in each), plus each
process's own high-water mark (VmHWM: its peak RSS, which a spike between two samples cannot hide).

A labelcheck run is a tree: the command, its fork server, the workers forked from it, and their exiftool and ffprobe
processes. A worker checks one item at a time, so a worker's subtree (itself and its tools) at its peak is the memory
one item cost."""

from __future__ import annotations

import ctypes
import os
import resource
import time
from dataclasses import dataclass, field


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:
        return {}


def _kb(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def parents() -> dict[int, int]:
    out: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                out[int(d)] = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return out


def descendants(root: int, tree: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in tree.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


@dataclass
class Peaks:
    """The peaks seen in a run, in KB."""

    tree_pss: int = 0  # the whole tree at once
    worker_pss: dict[int, int] = field(default_factory=dict)  # per worker pid: its subtree (worker + its tools)
    process_hwm: dict[int, tuple[int, str]] = field(default_factory=dict)  # per pid: VmHWM, command name
    samples: int = 0

    @property
    def worst_worker(self) -> int:
        return max(self.worker_pss.values(), default=0)

    @property
    def worst_process(self) -> tuple[int, str]:
        return max(self.process_hwm.values(), default=(0, "-"))


class Sampler:
    """Samples the tree under `root`. Workers are the children of labelcheck's fork server (a process of the tree
    whose command line names multiprocessing's forkserver and whose parent does not); without a fork server, every
    direct child of the root that is not a helper (resource tracker) counts as a worker."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks = Peaks()

    def sample(self) -> None:
        tree = parents()
        pids = descendants(self.root, tree)
        pss = {pid: pss_kb(pid) for pid in pids}
        self.peaks.samples += 1
        self.peaks.tree_pss = max(self.peaks.tree_pss, sum(pss.values()))
        for pid in pids:
            st = _status(pid)
            hwm = _kb(st.get("VmHWM"))
            if hwm > self.peaks.process_hwm.get(pid, (0, ""))[0]:
                self.peaks.process_hwm[pid] = (hwm, st.get("Name", "?"))
        cmd = {pid: _cmdline(pid) for pid in pids}
        servers = [p for p in pids if "forkserver" in cmd[p] and "forkserver" not in cmd.get(tree.get(p, 0), "")]
        if servers:
            workers = [p for p in pids if tree.get(p) in servers]
        else:
            workers = [p for p in pids if tree.get(p) == self.root and "resource_tracker" not in cmd[p]]
        for w in workers:
            total = sum(pss.get(p, 0) for p in descendants(w, tree))
            self.peaks.worker_pss[w] = max(self.peaks.worker_pss.get(w, 0), total)


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process (Linux PR_SET_CHILD_SUBREAPER), so that their peak RSS
    reaches RUSAGE_CHILDREN when they are reaped (see reap_all)."""
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)


def reap_all(wait: float = 10.0) -> list[int]:
    """Reap every child (orphans included, as a subreaper) for up to `wait` seconds; returns those still running."""
    deadline = time.monotonic() + wait
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return []
        if pid == 0:
            if time.monotonic() >= deadline:
                return descendants(os.getpid(), parents())[1:]
            time.sleep(0.05)


def children_maxrss_kb() -> int:
    """The largest peak RSS of any descendant reaped so far (Linux: KB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
