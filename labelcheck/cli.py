"""Command line: a thin click layer over the library (api.scan() and the stages); the larger commands live in
`labelcheck.commands`."""

from __future__ import annotations

import atexit
import importlib
import json
import os
import signal
import sys
import threading

import click

from . import __version__, resources
from .commands.options import scan_options
from .extract.interface import EvidenceOptions, ToolMissing
from .policy.judge import Judge
from .render import document as report_mod

# Command name -> "module:attribute" of its click command (a literal registry). A command's module, and what it
# imports, is loaded when that command runs: `check` does not pay for the crawler, the labeller or the service.
COMMANDS: dict[str, str] = {
    "check": "labelcheck.commands.check:check",
    "watch": "labelcheck.commands.service:watch",
    "serve": "labelcheck.commands.service:serve",
    "policy": "labelcheck.commands.policy:policy_group",
    "generators": "labelcheck.commands.generators:generators",
    "sample": "labelcheck.commands.sample:sample",
    "verify-bundle": "labelcheck.commands.sample:verify_bundle",
    "label": "labelcheck.commands.label:label",
}


class LazyGroup(click.Group):
    """A group whose commands in COMMANDS are imported when asked for (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        module, _, attr = COMMANDS[name].partition(":")
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="labelcheck")
def main() -> None:
    """Check that media carries the AI label that applies to it, and that the label is intact.

    Exit codes: 0 all items pass; 1 an item is non-compliant; 2 usage error; 3 policy error;
    4 a required tool (exiftool, ffprobe) is missing; 5 an item could not be checked; 6 nothing to
    check; 70 an internal defect; 130/143 interrupted (Ctrl-C/SIGTERM).
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str, readable=False))
@scan_options
def explain(paths: tuple[str, ...], options: EvidenceOptions, judge: Judge) -> None:
    """Show the evidence tree of FILE: manifests, ingredients, actions, metadata fields, and what decided."""
    from .api import scan
    from .render import explain as explain_r

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
    try:
        _entry()
    except SystemExit as exc:
        _leave(exc.code)


def _leave(code: int | str | None) -> None:
    """End the process with `code` as sys.exit would, without the interpreter's teardown when only this thread
    runs: the exit functions run (workers, servers and tools are stopped and collected), the standard streams are
    flushed, and the ~30 ms of freeing every object one by one is skipped (a one-file check took 0.24 s)."""
    if isinstance(code, str):  # sys.exit("message"): printed, exit status 1
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else 1
    if threading.active_count() > 1:  # a thread that must be joined first: the interpreter's own exit does that
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what the interpreter's exit would report as status 120
            status = status or 120
    os._exit(status)


def _entry() -> None:
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
