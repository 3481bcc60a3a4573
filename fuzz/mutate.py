"""Mutation fuzz of `labelcheck check`: seeded mutants of the sample media (fixtures/media and, when present, the
third-party corpus) in a temporary directory, checked by the real command line as a user runs it
(`labelcheck check --format jsonl --workers 2 --item-timeout 30 DIR -o out.jsonl`) under a wall-clock cap, while the
memory of its process tree is sampled from /proc.

Targets: every mutant reported exactly once (0 dropped), no traceback in the output or on standard error, an exit
code labelcheck defines for a run (0, 1 or 5: not 70), the run within its cap (0 hangs), and at most 1 GB per item
(a worker and its tools at their peak, and any one process's peak RSS).

    python -m fuzz.mutate [--seed 1] [--n 400]          # the fuzz; figures on stdout, exit 1 when a target is missed
    python -m fuzz.mutate --seed 1 --only 17 --out DIR  # mutant 17 of that seed alone, to reproduce a finding

A mutant is a function of (seed, its number, the list of sources): each has a generator of its own, seeded from
both numbers. Without the corpus the sources differ, and so do the mutants of a seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .figures import Figure, finish, info, table, target
from .mutations import mutate
from .procs import Peaks, Sampler, become_subreaper, children_maxrss_kb, reap_all

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "fixtures" / "media"
CORPUS = Path(os.environ.get("LABELCHECK_CORPUS", ROOT.parent / "shared" / "corpus"))
OUT = ROOT / "build" / "fuzz" / "mutate"
DEFAULT_SEED = 20261122
DEFAULT_N = 400
ITEM_TIMEOUT = 30.0
WORKERS = 2
MEMORY_LIMIT_KB = 1 << 20  # 1 GB per item
EXIT_CODES = (0, 1, 5)  # all passed, an item non-compliant, an item could not be checked (70: an internal defect)
# not media, or read with their asset rather than as items (sidecars): never a source
NOT_SOURCES = {".c2pa", ".xmp", ".md", ".txt", ".json", ".yaml", ".yml", ".toml", ".pem", ".key", ".py", ""}


@dataclass
class Mutant:
    index: int
    name: str
    source: str  # "fixtures/NAME" or "corpus/REL"
    other: str  # the second file (splices)
    ops: list[str]
    size: int
    sha256: str


def sources(corpus: Path | None = CORPUS) -> list[tuple[str, Path]]:
    """The files mutants are made from, in a fixed order: the fixtures, then the corpus (when it is there)."""
    found = [(f"fixtures/{p.name}", p) for p in sorted(MEDIA.iterdir()) if p.is_file()]
    if corpus is not None and corpus.is_dir():
        found += [(f"corpus/{p.relative_to(corpus)}", p) for p in sorted(corpus.rglob("*")) if p.is_file()]
    return [
        (label, p)
        for label, p in found
        if p.suffix.lower() not in NOT_SOURCES and not p.name.upper().startswith(("LICENSE", "README", "COPYING"))
    ]


def _safe(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem)[:40] or "x"


def make_one(seed: int, index: int, srcs: list[tuple[str, Path]]) -> tuple[Mutant, bytes]:
    """Mutant `index` of `seed`: a function of the two numbers and the list of sources."""
    rng = random.Random(f"labelcheck-fuzz:{seed}:{index}")
    label, path = rng.choice(srcs)
    other_label, other = rng.choice(srcs)
    data, ops = mutate(path.read_bytes(), other.read_bytes(), rng)
    name = f"m{index:04d}-{_safe(path.stem)}{path.suffix.lower()}"
    digest = hashlib.sha256(data).hexdigest()
    return Mutant(index, name, label, other_label, ops, len(data), digest), data


def make_mutants(
    dest: Path, seed: int, n: int, srcs: list[tuple[str, Path]] | None = None, only: int | None = None
) -> list[Mutant]:
    """Write the mutants (all N, or only one) into `dest`, with manifest.json beside them (in dest's parent)."""
    srcs = sources() if srcs is None else srcs
    if not srcs:
        raise SystemExit("no source files: fixtures/media is missing")
    dest.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(n) if only is None else [only]:
        m, data = make_one(seed, i, srcs)
        (dest / m.name).write_bytes(data)
        made.append(m)
    return made


def labelcheck_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "labelcheck"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "labelcheck"]


@dataclass
class Run:
    returncode: int | None
    wall: float
    hung: bool
    stderr: str
    lines: list[str]
    peaks: Peaks
    maxrss_kb: int
    leftover: list[int] = field(default_factory=list)  # processes still there after the run


def run_check(
    items: Path, out: Path, cap: float, workers: int = WORKERS, item_timeout: float = ITEM_TIMEOUT, every: float = 0.05
) -> Run:
    """The real command line over `items`, sampled every `every` seconds, stopped (TERM, then KILL) at `cap`."""
    cmd = [
        *labelcheck_cmd(),
        "check",
        "--format",
        "jsonl",
        "--workers",
        str(workers),
        "--item-timeout",
        str(item_timeout),
        "--no-progress",
        str(items),
        "-o",
        str(out),
    ]
    err_path = out.with_suffix(".stderr")
    start = time.monotonic()
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        sampler = Sampler(proc.pid)
        hung = False
        while proc.poll() is None:
            sampler.sample()
            if time.monotonic() - start > cap:
                hung = True
                _stop_group(proc)
                break
            time.sleep(every)
        proc.wait()
    wall = time.monotonic() - start
    leftover = reap_all()
    lines = out.read_text(encoding="utf-8", errors="replace").splitlines() if out.exists() else []
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    return Run(proc.returncode, wall, hung, stderr, lines, sampler.peaks, children_maxrss_kb(), leftover)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _skipped_by_design(path: Path) -> bool:
    """labelcheck's directory walk takes only what looks like media (by its bytes, else its name): a mutant whose
    bytes now say something else is not an item. Read with labelcheck's own sniffing; False when that cannot be
    imported (then a missing mutant counts as dropped)."""
    try:
        from labelcheck.inputs import media

        with open(path, "rb") as fh:
            head = fh.read(getattr(media, "HEAD_BYTES", 4096))
        return media.detect(str(path), head).kind == "other"
    except Exception:  # noqa: BLE001 - labelcheck's internals moved: count it as dropped
        return False


@dataclass
class Analysis:
    figures: list[Figure]
    findings: list[dict[str, object]]


def analyse(mutants: list[Mutant], items: Path, run: Run, cap: float, seed: int) -> Analysis:
    by_name = {m.name: m for m in mutants}
    seen: dict[str, int] = {}
    malformed, statuses, summary = 0, {"pass": 0, "fail": 0, "error": 0}, None
    errors: dict[str, list[tuple[str, str]]] = {"time limit": [], "worker died": [], "internal": []}
    for line in run.lines:
        try:
            doc = json.loads(line)
        except ValueError:
            malformed += 1
            continue
        if doc.get("type") == "summary":
            summary = doc
        if doc.get("type") != "result":
            continue
        name = Path(str(doc.get("target", ""))).name
        seen[name] = seen.get(name, 0) + 1
        statuses[doc.get("status", "?")] = statuses.get(doc.get("status", "?"), 0) + 1
        for e in doc.get("errors") or []:
            msg = str(e.get("message", ""))
            if "time limit was exceeded" in msg:
                errors["time limit"].append((name, msg))
            elif "process died" in msg:
                errors["worker died"].append((name, msg))
            elif e.get("source") == "internal":
                errors["internal"].append((name, msg))
    missing = [n for n in by_name if n not in seen]
    skipped = [n for n in missing if _skipped_by_design(items / n)]
    dropped = [n for n in missing if n not in skipped]
    doubled = [n for n, k in seen.items() if k > 1]
    unexpected = [n for n in seen if n not in by_name]
    tracebacks = run.stderr.count("Traceback") + sum(line.count("Traceback") for line in run.lines)
    peaks = run.peaks
    worker_kb = peaks.worst_worker
    hwm_kb, hwm_name = peaks.worst_process
    mb = 1024.0
    figures = [
        info("mutants (seed)", f"{len(mutants)} (seed {seed})"),
        target("dropped items", len(dropped), "0", not dropped),
        target("items reported twice or unknown", len(doubled) + len(unexpected), "0", not doubled and not unexpected),
        info("mutants no longer media (skipped by design)", len(skipped)),
        target("tracebacks (output + stderr)", tracebacks, "0", tracebacks == 0),
        target("malformed output lines", malformed, "0", malformed == 0),
        target("exit code", run.returncode, "0, 1 or 5", run.returncode in EXIT_CODES and not run.hung),
        target("hangs (run over its cap)", int(run.hung), f"0 (cap {cap:.0f} s)", not run.hung),
        info("wall time", f"{run.wall:.1f} s"),
        info("summary line", "yes" if summary else "NO"),
        info("item statuses", " ".join(f"{k} {v}" for k, v in statuses.items())),
        info("items over the item time limit (item errors)", len(errors["time limit"])),
        info("items whose worker died (item errors)", len(errors["worker died"])),
        info("items with an internal error (caught exception)", len(errors["internal"])),
        target(
            "peak memory per item: worker + its tools (PSS)",
            f"{worker_kb / mb:.0f} MB",
            "<= 1024 MB",
            0 < worker_kb <= MEMORY_LIMIT_KB,
        ),
        target(
            "peak RSS of any one process (VmHWM)",
            f"{hwm_kb / mb:.0f} MB ({hwm_name})",
            "<= 1024 MB",
            hwm_kb <= MEMORY_LIMIT_KB,
        ),
        info("peak RSS of any reaped descendant (rusage)", f"{run.maxrss_kb / mb:.0f} MB"),
        info("peak PSS of the whole tree", f"{peaks.tree_pss / mb:.0f} MB ({peaks.samples} samples)"),
        info("processes left after the run", len(run.leftover)),
    ]
    findings: list[dict[str, object]] = []

    def finding(kind: str, name: str, detail: str = "") -> None:
        m = by_name.get(name)
        findings.append(
            {
                "kind": kind,
                "mutant": name,
                "detail": detail[:500],
                **({"source": m.source, "other": m.other, "ops": m.ops, "index": m.index} if m else {}),
                "reproduce": f"python -m fuzz.mutate --seed {seed} --only {m.index} --out DIR" if m else "",
            }
        )

    for n in dropped:
        finding("dropped", n)
    for n in doubled:
        finding("reported twice", n)
    for n in unexpected:
        finding("unknown item", n)
    for kind in ("worker died", "internal", "time limit"):
        for n, msg in errors[kind]:
            finding(kind, n, msg)
    if tracebacks:
        where = run.stderr.find("Traceback")
        findings.append({"kind": "traceback", "detail": run.stderr[max(0, where) : where + 3000]})
    if run.returncode not in EXIT_CODES:
        findings.append({"kind": "exit code", "detail": f"{run.returncode}: {run.stderr[-2000:]}"})
    return Analysis(figures, findings)


def fuzz(
    seed: int = DEFAULT_SEED,
    n: int = DEFAULT_N,
    cap: float = 600.0,
    out: Path = OUT,
    keep: bool = False,
    corpus: Path | None = CORPUS,
) -> Analysis:
    out.mkdir(parents=True, exist_ok=True)
    srcs = sources(corpus)
    tmp = Path(tempfile.mkdtemp(prefix="labelcheck-fuzz-"))
    try:
        items = tmp / "items"
        t = time.monotonic()
        mutants = make_mutants(items, seed, n, srcs)
        made = time.monotonic() - t
        (out / "manifest.json").write_text(
            json.dumps({"seed": seed, "n": n, "sources": len(srcs), "mutants": [asdict(m) for m in mutants]}, indent=1)
        )
        run = run_check(items, out / "out.jsonl", cap)
        result = analyse(mutants, items, run, cap, seed)
        result.figures.insert(
            1, info("sources (fixtures + corpus)", f"{len(srcs)} files; mutants made in {made:.1f} s")
        )
        # the mutants behind a finding are kept beside the report, to reproduce it without the seed
        named = {str(f["mutant"]) for f in result.findings if f.get("mutant")}
        if named:
            kept = out / "findings"
            kept.mkdir(exist_ok=True)
            for name in named:
                if (items / name).exists():
                    shutil.copyfile(items / name, kept / name)
        (out / "findings.json").write_text(json.dumps(result.findings, indent=1))
        if keep:
            shutil.copytree(items, out / "items", dirs_exist_ok=True)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(result: Analysis, title: str, out: Path) -> None:
    """The figures' table and the findings, as fuzz() wrote them to out/findings.json."""
    print(table(title, result.figures))
    if result.findings:
        print(f"findings ({len(result.findings)}; {out / 'findings.json'}):")
        print_findings(result.findings)


def print_findings(findings: list[dict[str, object]], limit: int = 40) -> None:
    for f in findings[:limit]:
        print(f"  - {f['kind']}: {f.get('mutant', '')} {f.get('source', '')} {f.get('ops', '')}")
        if f.get("detail"):
            print(f"      {str(f['detail'])[:300]}")
        if f.get("reproduce"):
            print(f"      {f['reproduce']}")
    if len(findings) > limit:
        print(f"  ... {len(findings) - limit} more in findings.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz.mutate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--n", type=int, default=DEFAULT_N, help="mutants (default %(default)s)")
    ap.add_argument("--cap", type=float, default=600.0, help="wall-clock cap of the run, seconds")
    ap.add_argument("--out", type=Path, default=OUT, help="reports (default build/fuzz/mutate)")
    ap.add_argument("--keep", action="store_true", help="keep every mutant in OUT/items")
    ap.add_argument("--no-corpus", action="store_true", help="the fixtures only")
    ap.add_argument("--only", type=int, metavar="I", help="only write mutant I of the seed into --out, and stop")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    corpus = None if args.no_corpus else CORPUS
    if args.only is not None:
        m = make_mutants(args.out, args.seed, args.n, sources(corpus), only=args.only)[0]
        print(json.dumps(asdict(m), indent=1))
        print(f"written: {args.out / m.name}")
        return 0
    become_subreaper()
    result = fuzz(args.seed, args.n, args.cap, args.out, args.keep, corpus)
    report(result, f"labelcheck check, mutation fuzz ({args.out})", args.out)
    return finish(result.figures, args.json)


if __name__ == "__main__":
    sys.exit(main())
