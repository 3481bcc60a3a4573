"""Command line: a thin click layer over `scan()`; each command parses options, calls the library, renders, exits."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__, resources
from . import policy as policy_mod
from . import report as report_mod
from .checks import CHECKS
from .extract.c2pa import C2paSettings
from .model import Report
from .render import explain as explain_r
from .render import json as json_r
from .render import policy as policy_view
from .render import table as table_r
from .scan import ScanOptions, ToolMissing, scan

RENDERERS: dict[str, Callable[[Report], str]] = {
    "table": table_r.render,
    "json": json_r.render,
}


def _policies(refs: tuple[str, ...]) -> tuple[policy_mod.Policy, ...]:
    try:
        return tuple(policy_mod.load(r) for r in refs)
    except policy_mod.PolicyError as exc:
        click.echo(f"labelcheck: policy error: {exc}", err=True)
        sys.exit(report_mod.EXIT_POLICY)


def _build_options(
    trust_anchors: tuple[str, ...],
    trust_list: str | None,
    no_trust_list: bool,
    allow_network: bool,
    exiftool_timeout: float,
    policy: tuple[str, ...],
    fail_on: str,
    as_of: dt.datetime | None,
) -> ScanOptions:
    for pem in trust_anchors + ((trust_list,) if trust_list else ()):
        if "BEGIN CERTIFICATE" not in Path(pem).read_text(encoding="ascii", errors="replace"):
            raise click.BadParameter(f"{pem} holds no PEM certificate", param_hint="--trust-anchors/--trust-list")
    c2pa = C2paSettings(
        allow_network=allow_network, trust_anchors=trust_anchors, trust_list="" if no_trust_list else trust_list
    )
    return ScanOptions(
        c2pa=c2pa,
        exiftool_timeout=exiftool_timeout,
        policies=_policies(policy),
        fail_on=fail_on,
        as_of=as_of.date() if as_of else None,
    )


def _scan_or_exit(paths: tuple[str, ...], options: ScanOptions) -> Report:
    try:
        return scan(paths, options)
    except ToolMissing as exc:
        click.echo(f"labelcheck: {exc}", err=True)
        sys.exit(report_mod.EXIT_TOOL_MISSING)


def scan_options(f: Callable[..., None]) -> Callable[..., None]:
    """The options every scanning command shares, handed to the command as one `options: ScanOptions`."""

    @functools.wraps(f)
    def wrapper(**kw: Any) -> None:
        names = (
            "trust_anchors",
            "trust_list",
            "no_trust_list",
            "allow_network",
            "exiftool_timeout",
            "policy",
            "fail_on",
            "as_of",
        )
        f(options=_build_options(*(kw.pop(n) for n in names)), **kw)

    for option in (
        click.option(
            "--as-of",
            type=click.DateTime(["%Y-%m-%d"]),
            default=None,
            help="Read the policies' calendar (applies_from, escalate) on this day; default today.",
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="labelcheck")
def main() -> None:
    """Check that media carries the AI label that applies to it, and that the label is intact.

    Exit codes: 0 all items pass; 1 an item is non-compliant; 2 usage error; 3 policy error;
    4 a required tool (exiftool, ffprobe) is missing; 5 an item could not be checked.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default=None,
    help="Output format (default: table on a terminal, json otherwise).",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@scan_options
def check(paths: tuple[str, ...], fmt: str | None, output: str | None, options: ScanOptions) -> None:
    """Check files and directories (recursively) and report what each declares about AI."""
    rep = _scan_or_exit(paths, options)
    if fmt is None:
        fmt = "table" if output is None and sys.stdout.isatty() else "json"
    text = RENDERERS[fmt](rep)
    if output:
        tmp = f"{output}.tmp{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, output)
        except OSError as exc:
            raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
    else:
        click.echo(text, nl=False)
    sys.exit(report_mod.exit_code(rep))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@scan_options
def explain(paths: tuple[str, ...], options: ScanOptions) -> None:
    """Show the evidence tree of FILE: manifests, ingredients, actions, metadata fields, and what decided."""
    click.echo(explain_r.render(_scan_or_exit(paths, options)), nl=False)


@main.command()
@click.argument("name", type=click.Choice(resources.schema_names()))
def schema(name: str) -> None:
    """Print a JSON Schema (report, ...)."""
    click.echo(json.dumps(resources.schema(name), indent=2))


@main.group("policy")
def policy_group() -> None:
    """List, show and validate labelling policies."""


@policy_group.command("list")
def policy_list() -> None:
    """The built-in policies."""
    for pid in policy_mod.BUILTIN:
        p = _policies((pid,))[0]
        click.echo(f"{p.id:24} {len(p.rules):2} rules  {p.title}")


@policy_group.command("show")
@click.argument("ref", metavar="ID|FILE")
def policy_show(ref: str) -> None:
    """Show a policy with every rule resolved (extends applied): check, level, dates, reference, options."""
    click.echo(policy_view.render(_policies((ref,))[0]), nl=False)


@policy_group.command("validate")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
def policy_validate(files: tuple[str, ...]) -> None:
    """Validate policy files (schema, extends, checks, options); exit 3 at the first problem."""
    for f in files:
        p = _policies((f,))[0]
        click.echo(f"{f}: ok ({p.id}, {len(p.rules)} rules)")


@policy_group.command("checks")
def policy_checks() -> None:
    """The checks a policy rule can run, with their documentation."""
    for cid, module in CHECKS.items():
        click.echo(f"== {cid}\n{(module.__doc__ or '').strip()}\n")


def entry() -> None:
    """Console-script entry: no Python traceback reaches the user, whatever happens."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("labelcheck: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001
        click.echo(f"labelcheck: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(report_mod.EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    entry()
