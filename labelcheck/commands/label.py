"""`labelcheck label`: write the labels a policy requires into copies of media (or in place), sign them, and check
each output again with the same policies.

Exit codes: 0 every output passes its re-check; 1 an output was written but does not pass; 2 usage error (the plan
needs an option that was not given: a certificate, a producer); 3 policy error; 5 a file could not be labelled."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..api import EvidenceOptions, Judge
from ..label.plan import STATUSES, TRAINING, Given, Plan
from ..label.run import Labelled, LabelOptions, run
from ..render import document as report_mod
from .options import scan_options, write_output

EXIT_OUTPUT_FAILS = report_mod.EXIT_NONCOMPLIANT
EXIT_NOT_LABELLED = report_mod.EXIT_ITEM_ERROR


def _item(i: Labelled) -> dict[str, Any]:
    r = i.result
    recheck = None
    if r is not None:
        c = r.classification
        failed = [f.rule for f in r.findings if f.status.value == "fail"]
        recheck = {"status": r.status.value, "ai_status": c.status.value, "basis": c.basis.value, "failed": failed}
    wrote = [{"carrier": c, "place": p, "value": v} for c, p, v in i.wrote]
    return {"source": i.source, "output": i.output, "planned": list(i.planned), "wrote": wrote, "recheck": recheck,
            "error": i.error}  # fmt: skip


def _text(plan: Plan, items: list[Labelled], dry_run: bool) -> str:
    lines = [f"plan: {w}" for w in plan.why] if dry_run else []
    lines += [f"plan problem: {p}" for p in plan.problems] if dry_run else []
    for i in items:
        head = "PLAN" if dry_run else "ok  " if i.passed else "FAIL" if i.result is not None else "ERR "
        lines.append(f"{head} {i.source} -> {i.output}  [{', '.join(i.planned)}]")
        lines += [f"       wrote {c}: {p} = {v[:100]}" for c, p, v in i.wrote]
        if i.result is not None:
            c = i.result.classification
            lines.append(f"       re-check: {i.result.status.value} ({c.status.value}, {c.basis.value})")
        if i.error and not dry_run:
            lines.append(f"       error: {i.error}")
    return "\n".join(lines) + "\n"


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=str))
@click.option("--as", "status", type=click.Choice(STATUSES), required=True, help="The label to write.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Write labelled copies here.")
@click.option("--in-place", is_flag=True, help="Replace the originals (atomically), keeping a backup copy of each.")
@click.option("--backup-suffix", default=".orig", show_default=True, help="With --in-place: the backup's suffix.")
@click.option("--dry-run", is_flag=True, help="Print the plan (carriers per file) and write nothing.")
@click.option("--producer", default="", help="TC260 ContentProducer (China's implicit label).")
@click.option("--produce-id", default="", help="TC260 ProduceID.")
@click.option("--propagator", default="", help="TC260 ContentPropagator (a platform that redistributes).")
@click.option("--propagate-id", default="", help="TC260 PropagateID.")
@click.option("--training", type=click.Choice([t.replace("_", "-") for t in TRAINING]), help="Reserve AI training.")
@click.option("--training-policy", default="", help="A URL: the terms of a constrained reservation.")
@click.option("--sign-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="C2PA: PEM chain.")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="C2PA: PEM key.")
@click.option("--tsa-url", help="C2PA: a time-stamp authority (needs --allow-network's network).")
@click.option("--system", default="", help="The AI system that made the content (C2PA softwareAgent name).")
@click.option("--system-version", default="", help="Its version (California SB 942 asks for both).")
@click.option("--visible", is_flag=True, help="Also draw the wording in the pixels (stills and video).")
@click.option("--language", default="", help="The visible wording's language (default: the policy's; else en).")
@click.option("--sidecar", is_flag=True, help="A format that cannot carry the labels gets an XMP sidecar.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@scan_options
def label(paths: tuple[str, ...], options: EvidenceOptions, judge: Judge, **kw: Any) -> None:
    """Write the labels the policies require (--policy; default: labelcheck's) into copies of PATHS in
    --output-dir, sign them with --sign-cert/--sign-key, and check every output again with the same policies."""
    if not kw["in_place"] and not kw["output_dir"] and not kw["dry_run"]:
        raise click.UsageError("give --output-dir (originals are never touched), or --in-place")
    if bool(kw["sign_cert"]) != bool(kw["sign_key"]):
        raise click.UsageError("--sign-cert and --sign-key go together")
    training = kw["training"].replace("-", "_") if kw["training"] else None
    given = Given(kw["status"], bool(kw["sign_cert"]), kw["visible"], training, kw["producer"], kw["produce_id"],
                  kw["language"])  # fmt: skip
    opts = LabelOptions(given, kw["output_dir"], kw["in_place"], kw["backup_suffix"], kw["dry_run"], kw["sidecar"],
                        kw["training_policy"], kw["propagator"], kw["propagate_id"], kw["sign_cert"], kw["sign_key"],
                        kw["tsa_url"], kw["system"], kw["system_version"])  # fmt: skip
    plan, items = run(paths, judge, options, opts)
    if plan.problems and not kw["dry_run"]:
        for p in plan.problems:
            click.echo(f"labelcheck: {p}", err=True)
        sys.exit(report_mod.EXIT_USAGE)
    if kw["fmt"] == "json":
        doc = {"plan": {"carriers": list(plan.carriers), "why": list(plan.why), "problems": list(plan.problems)},
               "items": [_item(i) for i in items]}  # fmt: skip
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    else:
        text = _text(plan, items, kw["dry_run"])
    write_output(text, kw["output"])
    if kw["dry_run"]:
        return
    if any(i.result is None for i in items):
        sys.exit(EXIT_NOT_LABELLED)
    if not all(i.passed for i in items):
        sys.exit(EXIT_OUTPUT_FAILS)
