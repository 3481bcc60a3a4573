"""What a CI gate feels (`make bench`): one small file end to end, and the corpus plus the fixtures with start-up,
each against the floor issue 23 names, measured in interleaved rounds (median and range of the per-round ratios).

- One file: `labelcheck check --format json FILE` against `python -c "import c2pa"`. Beside it, the import of the
  parts the brief prescribes for any run (c2pa-python, click, jsonschema, PyYAML, pyexiftool) and exiftool's own
  start: the floor no Python tool built of these parts can go under.
- Corpus + fixtures: `labelcheck check CORPUS fixtures/media` with 2 workers, start-up included, against a bare
  c2pa-python loop in one process reading every file's manifest and validation state (no exiftool, no report).
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
    t = _rounds(
        {
            "loop": [*py, LOOP, str(listed)],
            "ours": [*labelcheck, "check", "--format", "jsonl", "-o", "/dev/null", "--workers", "2", *dirs],
        },
        rounds=5,
    )
    print(
        f"corpus + fixtures ({len(files)} files), 2 workers, start-up included: {min(t['ours']):.2f} s against a bare "
        f"c2pa-python loop in one process {min(t['loop']):.2f} s: {_ratio(t['ours'], t['loop'])}  (target <= 1.5x)"
    )
