"""`make fuzz`: both fuzzers in a row, inside the network namespace `make fuzz` made (loopback alone), their figure
tables, and a non-zero exit when any target is missed.

    unshare -n sh -c 'ip link set lo up && exec .venv/bin/python -m fuzz --seed 1 --n 400 --requests 400'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import http, mutate, netns
from .figures import missed
from .procs import become_subreaper

OUT = mutate.ROOT / "build" / "fuzz"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=mutate.DEFAULT_SEED)
    ap.add_argument("--n", type=int, default=mutate.DEFAULT_N, help="mutants for `check` (default %(default)s)")
    ap.add_argument("--requests", type=int, default=400, help="schemathesis requests for `serve` (default %(default)s)")
    ap.add_argument("--cap", type=float, default=600.0, help="wall-clock cap of the `check` run, seconds")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    netns.require_isolation()  # before anything runs: the whole fuzz stays inside the namespace
    become_subreaper()
    print(f"fuzz: seed {args.seed}, {args.n} mutants, {args.requests} API requests; reports in {args.out}", flush=True)
    mutated = mutate.fuzz(args.seed, args.n, args.cap, args.out / "mutate")
    mutate.report(mutated, "labelcheck check: mutation fuzz", args.out / "mutate")
    print(flush=True)
    served = http.fuzz(args.requests, args.seed, args.out / "http")
    http.report(served, "labelcheck serve: HTTP fuzz", args.out / "http")
    figures = {"mutate": mutated.figures, "http": served.figures}
    (args.out / "figures.json").write_text(
        json.dumps({k: [f.as_dict() for f in v] for k, v in figures.items()}, indent=1)
    )
    bad = [f"{k}: {f.name}" for k, v in figures.items() for f in missed(v)]
    print("\nfuzz: " + ("MISSED " + "; ".join(bad) if bad else "every target met"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
