"""`labelcheck sample` (crawl a platform, draw a sample, check it, report prevalence, keep WACZ evidence) and
`labelcheck verify-bundle` (check a bundle's digests and signature, and re-run its checks)."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import resources
from ..api import EvidenceOptions, Judge, RunOptions
from ..policy import load as policy_mod
from ..render.document import printable
from ..sample.types import STRATA
from .options import scan_options, write_output

if TYPE_CHECKING:
    from ..sample.run import SampleOptions

FORMATS = ("csv", "html", "json")  # sample/report.py: to_csv, to_html, to_json
EXIT_BUNDLE_BAD = 1
EXIT_NOTHING = 6  # as check's: there was nothing to check
MAX_SHOWN = 30  # problems printed; the count of the rest follows


@click.command()
@click.argument("seeds", nargs=-1, required=True)
@click.option("--allow-host", multiple=True, metavar="HOST", help="Also follow pages on HOST; repeatable.")
@click.option("--size", type=click.IntRange(1, 10_000_000), help="Sample this many media items.")
@click.option(
    "--margin",
    type=click.FloatRange(0.001, 0.5),
    default=0.05,
    show_default=True,
    help="Without --size: the margin of error the sample's size is computed for (Cochran).",
)
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("--stratify", type=click.Choice(STRATA), help="Draw a stratified sample (proportional allocation).")
@click.option("--seed", type=int, default=0, show_default=True, help="The draw's random seed (same seed, same sample).")
@click.option("--max-pages", type=click.IntRange(1, 10_000_000), default=1000, show_default=True)
@click.option("--max-depth", type=click.IntRange(0, 100), default=3, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(0.01, 100),
    default=1.0,
    show_default=True,
    help="Requests per second per host, at most (a longer Crawl-delay is honoured).",
)
@click.option("--hosts-in-parallel", "threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--contact", default="", help="An e-mail address or URL sent in the User-Agent.")
@click.option("--operator", default="", help="Who runs the sample (recorded in the report and the bundle).")
@click.option(
    "--tdm-only", is_flag=True, help="Only read the hosts' text-and-data-mining reservations; fetch no media."
)
@click.option("--bundle", type=click.Path(dir_okay=False, path_type=Path), help="Write WACZ evidence to FILE.")
@click.option(
    "--sign-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The operator's private key (PEM: Ed25519, RSA or ECDSA) that signs the bundle.",
)
@click.option(
    "--sign-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The X.509 certificate (chain, PEM) of --sign-key.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@click.option("--workers", "-j", type=click.IntRange(0, 256), default=os.cpu_count() or 1, show_default=True)
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Check the sampled items on a Dask cluster.")
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep fetched bodies here (default: a temporary directory).",
)
@click.option(
    "--resume", is_flag=True, help="With --state: go on from an interrupted run without fetching again what it stored."
)
@click.option("--allow-private-network", is_flag=True, help="Allow loopback and private addresses.")
@scan_options
def sample(options: EvidenceOptions, judge: Judge, **kw: Any) -> None:
    """Crawl SEED... (sitemaps, feeds or pages), draw a sample of the media found, check each item, and report how
    many are labelled, with confidence intervals; keep every request and response as WACZ evidence (--bundle)."""
    from ..sample import report as sample_report  # the crawler's libraries (lxml, extruct, ...): only when sampling
    from ..sample.crawl import CrawlLimits
    from ..sample.http import Politeness
    from ..sample.run import SampleOptions, run
    from ..sample.state import FetchState

    politeness = Politeness(contact=kw["contact"], rate=kw["rate"], allow_private=kw["allow_private_network"])
    limits = CrawlLimits(kw["max_pages"], kw["max_depth"], kw["threads"])
    opts = SampleOptions(
        tuple(kw["seeds"]),
        tuple(kw["allow_host"]),
        kw["size"],
        kw["margin"],
        kw["confidence"],
        kw["stratify"],
        kw["seed"],
        limits,
        politeness,
        kw["operator"],
        kw["tdm_only"],
    )
    engine = RunOptions(workers=kw["workers"], scheduler=kw["scheduler"])
    if kw["resume"] and not kw["state"]:
        raise click.UsageError("--resume needs --state DIR (where the interrupted run kept what it fetched)")
    with tempfile.TemporaryDirectory(prefix="labelcheck-sample-") as tmp:
        store = kw["state"] or Path(tmp)
        state = FetchState(store / "fetched.sqlite", kw["resume"])
        writer = _bundle_writer(kw["bundle"], opts, judge, options.c2pa.trust_list) if kw["bundle"] else None
        record = writer.add if writer else lambda ex: None
        rep, sampler = run(opts, store / "bodies", options, judge, engine, record, state)
        if kw["resume"]:
            click.echo(f"labelcheck: resumed: {state.reused} answers taken from {store}, not fetched again", err=True)
        state.close()
        text = getattr(sample_report, f"to_{kw['fmt']}")(rep)
        if writer is not None:
            for url, title in sampler.found.pages:
                writer.add_page(url, title, rep.generated_at)
            writer.add_resource("report.json", "application/json", sample_report.to_json(rep).encode())
            writer.close(_signer(kw["sign_key"], kw["sign_cert"]))
    write_output(text, kw["output"])
    if not rep.frame_size and not kw["tdm_only"]:  # nothing to sample: said, as check says nothing to check
        for f in rep.findings[:10]:
            click.echo(f"labelcheck: {printable(f)[:300]}", err=True)
        click.echo("labelcheck: the crawl found no medium to sample", err=True)
        sys.exit(EXIT_NOTHING)


def _bundle_writer(path: Path, opts: SampleOptions, judge: Judge, trust_list: str | None) -> Any:
    from ..sample import bundle

    policies = tuple(bundle.PolicyRef(p.id, p.source, _digest(p)) for p in judge.policies)
    listed = "none" if trust_list == "" else f"custom: {trust_list}" if trust_list else resources.TRUST_LIST_DATE
    meta = bundle.BundleMeta(opts.operator, policies, listed, opts.seeds, opts.seed)
    return bundle.BundleWriter(path, meta)


def _digest(p: Any) -> str:
    """The SHA-256 of a policy as in force (its rules, options and dates), so a bundle names exactly what judged."""
    return hashlib.sha256(repr(p.rules).encode()).hexdigest()


def _signer(key: Path | None, cert: Path | None) -> Any:
    if key is None:
        return None
    from ..sample import bundle

    return bundle.load_signer(key, cert)


@click.command("verify-bundle")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rerun/--no-rerun",
    default=True,
    show_default=True,
    help="Also check the sampled items again from the stored bytes and compare with the stored report.",
)
@click.option(
    "--trusted-key",
    "trusted",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A PEM certificate or public key the signature must chain to or be made with; repeatable.",
)
@scan_options
def verify_bundle(path: Path, rerun: bool, trusted: tuple[Path, ...], options: EvidenceOptions, judge: Judge) -> None:
    """Check every digest and the signature of a WACZ bundle written by `labelcheck sample --bundle`, then run the
    sampled items' checks again from the stored bytes (the policies the bundle names: built-in ones by id, else
    --policy) and say whether every verdict reproduces. Exit 0 when all holds, 1 otherwise."""
    from ..sample import bundle, replay, signing

    anchors = signing.TrustAnchors.from_pem(*(p.read_bytes() for p in trusted)) if trusted else None
    v = bundle.verify(path, anchors)
    shown = [printable(p)[:400] for p in v.problems]
    for p in shown[:MAX_SHOWN]:
        click.echo(f"FAIL {p}")
    if len(shown) > MAX_SHOWN:
        click.echo(f"FAIL ... and {len(shown) - MAX_SHOWN} more problems")
    signed = f"signed by {v.signer}" if v.signed else "not signed"
    click.echo(f"{'OK' if v.ok else 'FAILED'}: {v.digests_checked} digests, {v.records} records, {signed}")
    if not v.ok:
        sys.exit(EXIT_BUNDLE_BAD)
    if rerun:
        try:
            again = replay.rerun(path, options)
        except policy_mod.PolicyError:  # a policy file not built in: the one given with --policy
            again = replay.rerun(path, options, judge)
        for d in again.differences[:MAX_SHOWN]:
            click.echo(f"DIFFERS {printable(d)[:400]}")
        holds = not again.differences
        click.echo(
            f"{'REPRODUCED' if holds else 'NOT REPRODUCED'}: {again.agreed} of {again.checked} items checked "
            "again give the stored verdict"
        )
        if not holds:
            sys.exit(EXIT_BUNDLE_BAD)
