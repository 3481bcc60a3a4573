"""Command line: a thin click layer over the library (api.scan() and the stages); the larger commands live in
`labelcheck.commands`."""

from __future__ import annotations

import json
import signal
import sys

import click

from . import __version__, resources
from .api import scan
from .commands.check import check
from .commands.generators import generators
from .commands.label import label
from .commands.options import scan_options
from .commands.policy import policy_group
from .commands.sample import sample, verify_bundle
from .commands.service import serve, watch
from .extract.gather import EvidenceOptions, ToolMissing
from .policy.judge import Judge
from .render import document as report_mod
from .render import explain as explain_r


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="labelcheck")
def main() -> None:
    """Check that media carries the AI label that applies to it, and that the label is intact.

    Exit codes: 0 all items pass; 1 an item is non-compliant; 2 usage error; 3 policy error;
    4 a required tool (exiftool, ffprobe) is missing; 5 an item could not be checked; 6 nothing to
    check; 70 an internal defect; 130/143 interrupted (Ctrl-C/SIGTERM).
    """


main.add_command(check)
main.add_command(watch)
main.add_command(serve)
main.add_command(policy_group)
main.add_command(generators)
main.add_command(sample)
main.add_command(verify_bundle)
main.add_command(label)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str, readable=False))
@scan_options
def explain(paths: tuple[str, ...], options: EvidenceOptions, judge: Judge) -> None:
    """Show the evidence tree of FILE: manifests, ingredients, actions, metadata fields, and what decided."""
    click.echo(explain_r.render(scan(paths, options, judge)), nl=False)


@main.command()
@click.argument("name", type=click.Choice(resources.schema_names()))
def schema(name: str) -> None:
    """Print a JSON Schema (report, ...)."""
    click.echo(json.dumps(resources.schema(name), indent=2))


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job, a stopped container): unwinds like Ctrl-C, so that workers are stopped and the
    lines already written stay whole. `watch` and `serve` install handlers of their own (they finish in order)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def entry() -> None:
    """Console-script entry: no Python traceback reaches the user, whatever happens. An interrupted run exits 130
    (Ctrl-C) or 143 (SIGTERM), never 1, which says that an item is non-compliant."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = main(standalone_mode=False)  # click's own mode would turn Ctrl-C into "Aborted!" and exit 1
    except SystemExit:
        raise
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:  # click raises Abort from the KeyboardInterrupt
        cause = exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__
        click.echo("labelcheck: interrupted", err=True)
        sys.exit(report_mod.EXIT_TERMINATED if isinstance(cause, Terminated) else report_mod.EXIT_INTERRUPTED)
    except click.ClickException as exc:  # usage errors (exit 2) and the like, as click reports them
        exc.show()
        sys.exit(exc.exit_code)
    except ToolMissing as exc:  # before any work (check_tools), or once it began (a worker's first read)
        click.echo(f"labelcheck: {exc}", err=True)
        sys.exit(report_mod.EXIT_TOOL_MISSING)
    except Exception as exc:  # noqa: BLE001
        click.echo(f"labelcheck: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(report_mod.EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else report_mod.EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    entry()
