"""Options shared by the scanning commands (the evidence step's options and the Judge), policy loading, and writing
output."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..extract.c2pa import C2paSettings
from ..extract.gather import EvidenceOptions
from ..policy import load as policy_mod
from ..policy import waivers as waivers_mod
from ..policy.judge import Judge
from ..render import document as report_mod
from ..scale.durable import write_atomic

T = TypeVar("T")


def _or_exit(what: str, load: Callable[[], T]) -> T:
    """A policy or waiver file's content; one that cannot be used stops the run with exit 3, before any work."""
    try:
        return load()
    except policy_mod.PolicyError as exc:
        click.echo(f"labelcheck: {what} error: {exc}", err=True)
        sys.exit(report_mod.EXIT_POLICY)


def load_policies(refs: tuple[str, ...]) -> tuple[policy_mod.Policy, ...]:
    return _or_exit("policy", lambda: tuple(policy_mod.load(r) for r in refs))


def build_options(
    ffprobe_mode: str,
    trust_anchors: tuple[str, ...],
    trust_list: str | None,
    no_trust_list: bool,
    allow_network: bool,
    exiftool_timeout: float,
    read_costly: bool,
    read_pixels: bool | None,
    policy: tuple[str, ...],
    fail_on: str,
    as_of: dt.datetime | None,
    waivers: Path | None = None,
    evidence_dir: Path | None = None,
) -> tuple[EvidenceOptions, Judge]:
    for pem in trust_anchors + ((trust_list,) if trust_list else ()):
        if "BEGIN CERTIFICATE" not in Path(pem).read_text(encoding="ascii", errors="replace"):
            raise click.BadParameter(f"{pem} holds no PEM certificate", param_hint="--trust-anchors/--trust-list")
    c2pa = C2paSettings(
        allow_network=allow_network, trust_anchors=trust_anchors, trust_list="" if no_trust_list else trust_list
    )
    if evidence_dir:
        try:
            evidence_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.UsageError(f"cannot keep evidence in {evidence_dir}: {exc.strerror or exc}") from exc
    policies = load_policies(policy)
    waived = _or_exit("waiver", functools.partial(waivers_mod.load, waivers)) if waivers else ()
    judge = Judge.of(policies, fail_on, as_of.date() if as_of else None, waived)
    for unknown in waivers_mod.unmatched(waived, judge.policies) if waived else ():
        click.echo(f"labelcheck: warning: {waivers}: {unknown}", err=True)
    evidence = EvidenceOptions(
        c2pa=c2pa,
        exiftool_timeout=exiftool_timeout,
        read_costly=read_costly,
        read_pixels=judge.needs_pixels if read_pixels is None else read_pixels,
        ffprobe_mode=ffprobe_mode,
        evidence_dir=evidence_dir.resolve() if evidence_dir else None,
    )
    return evidence, judge


# The per-item time limit of the worker pool, shared by `check` and `watch`.
item_timeout_option = click.option(
    "--item-timeout",
    type=click.FloatRange(1, 86400),
    default=60.0,
    show_default=True,
    help="Seconds one item may take (plus 10 s per GB) before its worker is replaced and the item reported.",
)


def scan_options(f: Callable[..., None]) -> Callable[..., None]:
    """The options every scanning command shares, handed to the command as `options` (how evidence is gathered)
    and `judge` (the policies, built once)."""

    @functools.wraps(f)
    def wrapper(**kw: Any) -> None:
        names = (
            "ffprobe_mode",
            "trust_anchors",
            "trust_list",
            "no_trust_list",
            "allow_network",
            "exiftool_timeout",
            "read_costly",
            "read_pixels",
            "policy",
            "fail_on",
            "as_of",
            "waivers",
            "evidence_dir",
        )
        options, judge = build_options(*(kw.pop(n) for n in names))
        f(options=options, judge=judge, **kw)

    for option in (
        click.option(
            "--ffprobe",
            "ffprobe_mode",
            type=click.Choice(["auto", "always", "never"]),
            default="auto",
            show_default=True,
            help="ffprobe for audio/video: auto = only containers exiftool does not read in full (MPEG-TS, Ogg, "
            "FLAC, AVI, ...); always = every audio/video item (adds per-track attribution and codec facts).",
        ),
        click.option(
            "--as-of",
            type=click.DateTime(["%Y-%m-%d"]),
            default=None,
            help="Read the policies' calendar (applies_from, escalate) on this day; default today.",
        ),
        click.option(
            "--evidence-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            metavar="DIR",
            help="Keep what the tools said about each item (c2pa-rs's manifest store JSON, exiftool's tags, "
            "ffprobe's answer) in DIR/ab/<sha256>.json, beside the report.",
        ),
        click.option(
            "--waivers",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            metavar="FILE",
            help="Decisions taken by hand (schemas/waivers.schema.json): the named rules' failures are reported as "
            "waived, with their reason, for the items with these SHA-256 digests.",
        ),
        click.option(
            "--fail-on",
            type=click.Choice(["error", "warning"]),
            default="error",
            show_default=True,
            help="The lowest level of a failed rule that makes an item (and the exit code) fail.",
        ),
        click.option(
            "--policy",
            "-p",
            multiple=True,
            metavar="ID|FILE",
            help="A built-in policy ID or a policy YAML file; repeatable. Default: labelcheck-default.",
        ),
        click.option(
            "--exiftool-timeout",
            type=click.FloatRange(0.1, 600),
            default=1.0,
            show_default=True,
            help="Seconds exiftool may spend on one file before it is restarted and the file reported.",
        ),
        click.option(
            "--read-costly",
            is_flag=True,
            help="Give exiftool even the structures it is known to spend seconds on (AES-256 PDFs, TIFFs with "
            "thousands of directories), bounded by its deadline; by default their XMP is read by packet scanning.",
        ),
        click.option(
            "--read-pixels/--no-read-pixels",
            default=None,
            help="Also read the labels stills and videos show (OCR: 'AI生成', 'AI-generated', 'Made with AI', ...) and "
            "Stable Diffusion's invisible watermarks; about 0.7 s of one core per still. Default: when a policy in "
            "force needs them (cn-gb45438's explicit-label rule).",
        ),
        click.option(
            "--allow-network",
            is_flag=True,
            help="Allow fetching remote C2PA manifests and OCSP responses (off by default).",
        ),
        click.option("--no-trust-list", is_flag=True, help="Do not use the bundled official C2PA trust list."),
        click.option(
            "--trust-list",
            type=click.Path(exists=True, dir_okay=False),
            help="A PEM file that replaces the bundled C2PA trust list (e.g. a newer download).",
        ),
        click.option(
            "--trust-anchors",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False),
            help="Extra trust anchors (PEM), added to the official C2PA trust list. Repeatable.",
        ),
    ):
        wrapper = option(wrapper)
    return wrapper


def write_output(text: str, output: str | None) -> None:
    if not output:
        click.echo(text, nl=False)
        return
    try:
        write_atomic(Path(output), text)
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
