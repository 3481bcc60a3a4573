"""What a CI gate feels (`make bench`): one small file end to end, and the corpus plus the fixtures with start-up,
each against the floor issue 23 names, measured in interleaved rounds (median and range of the per-round ratios).

- One file: `labelcheck check --format json FILE` against `python -c "import c2pa"`. Beside it, the import of the
  parts the brief prescribes for any run (c2pa-python, click, jsonschema, PyYAML, pyexiftool) and exiftool's own
  start: the floor no Python tool built of these parts can go under.
- Corpus + fixtures: `labelcheck check CORPUS fixtures/media` with 2 workers, start-up included, against a bare
  c2pa-python loop in one process reading every file's manifest and validation state (no exiftool, no report).
  Beside it, the same loop followed by one exiftool reading every file as labelcheck does (its configuration and
  arguments; the structures labelcheck does not give exiftool left out): the tools' own work, in one process and
  split over 2 processes side by side (what the two cores give the bare tools).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 9


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def _rounds(cmds: dict[str, list[str]], rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Each command once per round, in turn (drift in the machine's speed hits each alike)."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(rounds):
        for k, cmd in cmds.items():
            times[k].append(_wall(cmd))
    return times


def _ratio(num: list[float], den: list[float]) -> str:
    ratios = sorted(a / b for a, b in zip(num, den, strict=True))
    return f"median {statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f}x)"


LOOP = """
import sys, time, c2pa
paths = [l.rstrip("\\n") for l in open(sys.argv[1], encoding="utf-8")]
ctx = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False}})
for p in paths:
    try:
        r = c2pa.Reader.try_create(p, context=ctx)
        if r is not None:
            r.json(); r.get_validation_state(); r.close()
    except Exception:
        pass
"""
# then exiftool as labelcheck runs it: sys.argv[2] lists "mime\tpath" of the files it gives exiftool
EXIFTOOL = """
import exiftool
from labelcheck.extract.exiftool import CONFIG, FORMAT_ARGS, READ_ARGS
with exiftool.ExifTool(config_file=CONFIG) as et:
    for line in open(sys.argv[2], encoding="utf-8"):
        mime, path = line.rstrip("\\n").split("\\t", 1)
        et.execute(*READ_ARGS, *FORMAT_ARGS.get(mime, ()), path)
"""


def _same_work_lists(files: list[str], out: Path, parts: int) -> list[tuple[Path, Path]]:
    """For each of `parts` processes, its share of the files (every parts-th): the c2pa list and the exiftool list
    (the files labelcheck gives exiftool, with their media types)."""
    from labelcheck.extract.costly import costly_structure
    from labelcheck.inputs.items import open_item

    lists = []
    for k in range(parts):
        mine = files[k::parts]
        c2pa_list, tool_list = out / f"same-work-{parts}-{k}.txt", out / f"same-work-{parts}-{k}-exiftool.txt"
        c2pa_list.write_text("".join(f"{f}\n" for f in mine), encoding="utf-8")
        typed = [(it.media.mime, f) for f in mine if (it := open_item(Path(f))).readable]
        tool_list.write_text(
            "".join(f"{m}\t{f}\n" for m, f in typed if not costly_structure(Path(f), m)), encoding="utf-8"
        )
        lists.append((c2pa_list, tool_list))
    return lists


def _side_by_side(cmds: list[list[str]]) -> float:
    t = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in cmds]
    for p in procs:
        p.wait()
    return time.perf_counter() - t


def report(labelcheck: list[str], root: Path, corpus: Path, out: Path) -> None:
    small = root / "fixtures" / "media" / "c2pa_fully_ai.jpg"
    anchors = ["--trust-anchors", str(root / "fixtures" / "certs" / "test-ca.pem")]
    py = [sys.executable, "-c"]
    t = _rounds(
        {
            "import": [*py, "import c2pa"],
            "parts": [*py, "import c2pa, click, jsonschema, yaml, exiftool"],
            "exiftool": ["exiftool", "-ver"],
            "one": [*labelcheck, "check", "--format", "json", *anchors, str(small)],
        }
    )
    med = {k: statistics.median(v) for k, v in t.items()}
    print(
        f"one small file end to end (check --format json): {med['one']:.3f} s against python -c 'import c2pa' "
        f"{med['import']:.3f} s: {_ratio(t['one'], t['import'])}  (target <= 2x)"
    )
    print(
        f"  floors: importing the prescribed parts (c2pa, click, jsonschema, yaml, pyexiftool) {med['parts']:.3f} s "
        f"= {_ratio(t['parts'], t['import'])} of import c2pa; exiftool's start {med['exiftool']:.3f} s; "
        f"labelcheck / parts {_ratio(t['one'], t['parts'])}"
    )

    dirs = [str(p) for p in (corpus, root / "fixtures" / "media") if p.is_dir()]
    files = sorted(str(p) for d in dirs for p in Path(d).rglob("*") if p.is_file() and not p.name.startswith("."))
    listed = out / "c2pa-loop.txt"
    listed.write_text("".join(f"{f}\n" for f in files), encoding="utf-8")
    (one,) = _same_work_lists(files, out, 1)
    halves = _same_work_lists(files, out, 2)
    both = LOOP + EXIFTOOL
    t = _rounds(
        {
            "loop": [*py, LOOP, str(listed)],
            "ours": [*labelcheck, "check", "--format", "jsonl", "-o", "/dev/null", "--workers", "2", *dirs],
            "same": [*py, both, str(one[0]), str(one[1])],
        },
        rounds=5,
    )
    t["split"] = [_side_by_side([[*py, both, str(a), str(b)] for a, b in halves]) for _ in range(5)]
    print(
        f"corpus + fixtures ({len(files)} files), 2 workers, start-up included: {min(t['ours']):.2f} s against a bare "
        f"c2pa-python loop in one process {min(t['loop']):.2f} s: {_ratio(t['ours'], t['loop'])}  (target <= 1.5x)"
    )
    print(
        f"  the tools' own work (that loop, then exiftool as labelcheck runs it): one process {min(t['same']):.2f} s "
        f"({_ratio(t['same'], t['loop'])} of the loop alone), 2 processes side by side {min(t['split']):.2f} s "
        f"({_ratio(t['split'], t['loop'])}); labelcheck / the latter {_ratio(t['ours'], t['split'])}"
    )
