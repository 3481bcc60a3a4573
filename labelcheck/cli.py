"""Command line: a thin click layer over `scan()`; each command parses options, calls the library, renders, exits."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from . import __version__, resources, thumbnails
from . import policy as policy_mod
from . import report as report_mod
from .checks import CHECKS
from .extract import c2pa as c2pa_x
from .extract.c2pa import C2paSettings
from .inputs import expand
from .inputs import from_list as from_list_lines
from .model import Report, Result
from .progress import Progress
from .render import csv as csv_r
from .render import explain as explain_r
from .render import html as html_r
from .render import json as json_r
from .render import jsonl as jsonl_r
from .render import junit as junit_r
from .render import markdown as markdown_r
from .render import policy as policy_view
from .render import sarif as sarif_r
from .render import table as table_r
from .runner import RunOptions, run
from .scan import Judge, ScanOptions, ToolMissing, _now, check_tools, exiftool_version, make_report, scan
from .streams.check import StreamOptions, check_stream
from .streams.fetch import FetchOptions, is_url
from .streams.playlist import is_playlist

RENDERERS: dict[str, Callable[[Report], str]] = {
    "table": table_r.render,
    "json": json_r.render,
    "jsonl": jsonl_r.render,
    "html": html_r.render,
    "junit": junit_r.render,
    "csv": csv_r.render,
    "markdown": markdown_r.render,
    "sarif": sarif_r.render,
}


def _policies(refs: tuple[str, ...]) -> tuple[policy_mod.Policy, ...]:
    try:
        return tuple(policy_mod.load(r) for r in refs)
    except policy_mod.PolicyError as exc:
        click.echo(f"labelcheck: policy error: {exc}", err=True)
        sys.exit(report_mod.EXIT_POLICY)


def _build_options(
    ffprobe_mode: str,
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
        ffprobe_mode=ffprobe_mode,
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
            "ffprobe_mode",
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
            "--ffprobe",
            "ffprobe_mode",
            type=click.Choice(["auto", "always", "never"]),
            default="auto",
            show_default=True,
            help="ffprobe for audio/video: auto = only containers exiftool does not read in full (Matroska, WebM, "
            "MPEG-TS, Ogg, FLAC, AVI); always = every audio/video item.",
        ),
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
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--from-list",
    type=click.File("r", encoding="utf-8", errors="surrogateescape"),
    metavar="FILE|-",
    help="Also check the targets listed in FILE, one per line ('-' reads standard input).",
)
@click.option("--include", multiple=True, metavar="GLOB", help="Only files whose name or path matches; repeatable.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files whose name or path matches; repeatable.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default=None,
    help="Output format (default: table on a terminal, json otherwise). jsonl streams as items finish.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@click.option(
    "--report",
    "extra",
    multiple=True,
    metavar="FORMAT=FILE",
    callback=lambda c, p, v: _extra_reports(v),
    help="Also write the report in another format from the same run (e.g. junit=r.xml); repeatable.",
)
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(0, 256),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Worker processes, each with its own exiftool (0: in this process, without a time limit).",
)
@click.option(
    "--item-timeout",
    type=click.FloatRange(1, 86400),
    default=60.0,
    show_default=True,
    help="Seconds one item may take (plus 10 s per GB) before its worker is replaced and the item reported.",
)
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Run on a Dask distributed cluster (see README).")
@click.option(
    "--rendition",
    default="all",
    show_default=True,
    metavar="all|best|NAME",
    help="Streams: which renditions of a master playlist / MPD to check.",
)
@click.option(
    "--max-segments",
    type=click.IntRange(1, 10_000_000),
    default=10_000,
    show_default=True,
    help="Streams: at most this many segments per rendition are fetched and checked.",
)
@click.option(
    "--allow-private-network",
    is_flag=True,
    help="Streams: allow playlist and segment URLs on loopback/private addresses.",
)
@click.option(
    "--progress/--no-progress", default=None, help="A progress bar on standard error (default: on a terminal)."
)
@scan_options
def check(
    paths: tuple[str, ...],
    from_list: Any,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    fmt: str | None,
    output: str | None,
    workers: int,
    item_timeout: float,
    scheduler: str | None,
    progress: bool | None,
    rendition: str,
    max_segments: int,
    allow_private_network: bool,
    extra: tuple[tuple[str, str], ...],
    options: ScanOptions,
) -> None:
    """Check files, directories (recursively), globs and lists, and report what each declares about AI."""
    if not paths and from_list is None:
        raise click.UsageError("nothing to check: give PATH... or --from-list")
    try:
        check_tools(options)
    except ToolMissing as exc:
        click.echo(f"labelcheck: {exc}", err=True)
        sys.exit(report_mod.EXIT_TOOL_MISSING)
    if fmt is None:
        fmt = "table" if output is None and sys.stdout.isatty() else "json"
    streams = [p for p in paths if is_playlist(p) or is_url(p)]
    paths = tuple(p for p in paths if p not in streams)
    targets = itertools.chain(paths, from_list_lines(from_list) if from_list is not None else ())
    known = len(paths) if from_list is None and all(os.path.isfile(p) for p in paths) else None
    run_options = RunOptions(workers=workers, item_timeout=item_timeout, scheduler=scheduler)
    version = ThreadPoolExecutor(1).submit(exiftool_version, options.exiftool)  # Perl starts while work begins
    stream = run(expand(targets, include, exclude), options, run_options)
    judge = Judge.from_options(options)
    show = sys.stderr.isatty() if progress is None else progress
    stream_opts = StreamOptions(FetchOptions(allow_private=allow_private_network), rendition, max_segments)
    stream_ctx = c2pa_x.make_context(options.c2pa) if streams else None
    checked_streams = tuple(check_stream(s, stream_opts, stream_ctx) for s in streams)
    with Progress(show, known) as bar:
        if fmt == "jsonl" and not extra and not checked_streams:
            code = _stream_jsonl(stream, judge, version.result(), output, bar)
        else:
            results = tuple(r for _, r in sorted(bar.track(stream), key=lambda p: p[0]))
            rep = replace(make_report(results, judge, version.result(), _now()), streams=checked_streams)
            _write(_render(fmt, rep), output)
            for extra_fmt, extra_file in extra:
                _write(_render(extra_fmt, rep), extra_file)
            code = report_mod.exit_code(rep)
    sys.exit(code)


def _extra_reports(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        fmt, sep, file = v.partition("=")
        if not sep or fmt not in RENDERERS or not file:
            raise click.BadParameter(
                f"'{v}': expected FORMAT=FILE with FORMAT one of {', '.join(sorted(RENDERERS))}", param_hint="--report"
            )
        out.append((fmt, file))
    return tuple(out)


def _render(fmt: str, rep: Report) -> str:
    if fmt == "html":
        return html_r.render(rep, thumbnails.make(rep.results))
    return RENDERERS[fmt](rep)


def _write(text: str, output: str | None) -> None:
    if not output:
        click.echo(text, nl=False)
        return
    tmp = f"{output}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, output)
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def _stream_jsonl(
    stream: Iterator[tuple[int, Result]], judge: Judge, exiftool: str | None, output: str | None, bar: Progress
) -> int:
    """Write each result as it is produced; memory holds counts, not results."""
    tally = report_mod.Tally()
    try:
        fh = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        head = make_report((), judge, exiftool, _now())
        fh.write(jsonl_r.header_line(head))
        for _, result in bar.track(stream):
            tally.add(result)
            fh.write(jsonl_r.result_line(result))
            fh.flush()
        fh.write(jsonl_r.summary_line(tally.to_dict()))
    finally:
        if fh is not sys.stdout:
            fh.close()
    return tally.exit_code()


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


@main.command()
@click.argument("dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--stream", "stream_url", metavar="URL", help="Follow a live HLS stream instead of folders.")
@click.option("--allow-private-network", is_flag=True, help="With --stream: allow loopback/private addresses.")
@click.option(
    "--segment",
    "segment_seconds",
    type=click.FloatRange(0.5, 600),
    default=None,
    help="With --stream on RTMP/SRT/UDP or a plain video file: capture it through ffmpeg into fragments "
    "of this many seconds and check those.",
)
@click.option(
    "--reports",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the per-item JSON reports, the daily JSONL log and the state database go.",
)
@click.option(
    "--settle",
    type=click.FloatRange(0, 3600),
    default=2.0,
    show_default=True,
    help="Seconds a file's size and mtime must stay unchanged before it is checked.",
)
@click.option("--poll", is_flag=True, help="Poll instead of inotify (network shares); see --rescan.")
@click.option(
    "--rescan",
    type=click.FloatRange(0.1, 86400),
    default=30.0,
    show_default=True,
    help="Seconds between full rescans (the polling interval with --poll).",
)
@click.option("--pass-dir", type=click.Path(file_okay=False, path_type=Path), help="Move passing items here.")
@click.option(
    "--quarantine-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Move failing and uncheckable items here.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite state file (default: REPORTS/labelcheck-state.sqlite).",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="Times an item may stop the checker (crash, kill, hang) before it is marked failed.",
)
@click.option("--workers", "-j", type=click.IntRange(1, 256), default=os.cpu_count() or 1, show_default=True)
@click.option("--item-timeout", type=click.FloatRange(1, 86400), default=60.0, show_default=True)
@click.option("--once", is_flag=True, help="Check what is there (settled), then stop.")
@scan_options
def watch(
    dirs: tuple[Path, ...],
    stream_url: str | None,
    allow_private_network: bool,
    segment_seconds: float | None,
    reports: Path,
    settle: float,
    poll: bool,
    rescan: float,
    pass_dir: Path | None,
    quarantine_dir: Path | None,
    state_path: Path | None,
    max_attempts: int,
    workers: int,
    item_timeout: float,
    once: bool,
    options: ScanOptions,
) -> None:
    """Watch hot folders: check each settled file once, write its report, optionally route it."""
    from .watch.service import Watcher, WatchOptions

    if stream_url:
        sys.exit(_follow_stream(stream_url, reports, allow_private_network, segment_seconds, options))
    if not dirs:
        raise click.UsageError("give hot-folder DIRS, or --stream URL")

    try:
        check_tools(options)
    except ToolMissing as exc:
        click.echo(f"labelcheck: {exc}", err=True)
        sys.exit(report_mod.EXIT_TOOL_MISSING)
    opts = WatchOptions(
        dirs=tuple(d.resolve() for d in dirs),
        reports=reports.resolve(),
        settle=settle,
        poll=poll,
        rescan=rescan,
        pass_dir=pass_dir.resolve() if pass_dir else None,
        quarantine_dir=quarantine_dir.resolve() if quarantine_dir else None,
        max_attempts=max_attempts,
        state_path=state_path,
        once=once,
    )
    watcher = Watcher(opts, options, RunOptions(workers=workers, item_timeout=item_timeout))
    watcher.install_signals()
    sys.exit(watcher.serve())


@main.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file (schemas/config.schema.json); flags override it.",
)
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), help="Reports, log and state go here.")
@click.option(
    "--watch",
    "watch_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also watch these hot folders; repeatable.",
)
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1; elsewhere a token is required).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8765).")
@click.option(
    "--token", default=None, envvar="LABELCHECK_TOKEN", help="Bearer token for the API (env LABELCHECK_TOKEN)."
)
@click.option(
    "--root",
    "roots",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directories that path submissions may point into; repeatable.",
)
@click.option("--max-upload-mb", type=click.FloatRange(0.001, 1e6), default=None, help="Upload size limit (2048).")
@click.option("--settle", type=click.FloatRange(0, 3600), default=None)
@click.option("--workers", "-j", type=click.IntRange(1, 256), default=None)
@scan_options
def serve(options: ScanOptions, **flags: Any) -> None:
    """Run the HTTP API, metrics and dashboard (and the watcher) until SIGTERM or SIGINT."""
    from .server.run import serve as run_server

    try:
        sys.exit(run_server(flags, options))
    except ValueError as exc:
        click.echo(f"labelcheck: {exc}", err=True)
        sys.exit(report_mod.EXIT_USAGE)


def _follow_stream(url: str, reports: Path, allow_private: bool, segment: float | None, options: ScanOptions) -> int:
    """Follow a live stream until EXT-X-ENDLIST or SIGTERM/SIGINT; write its timeline report. A source that is no
    playlist is first captured through ffmpeg (`--segment`)."""
    import signal
    import threading

    from .streams import capture
    from .streams.live import StreamLog, follow

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    reports.mkdir(parents=True, exist_ok=True)
    recorder = None
    if capture.needs_capture(url):
        if segment is None:
            raise click.UsageError(f"{url} is not a playlist: give --segment SECONDS to capture it through ffmpeg")
        recorder, playlist = capture.start(url, reports / "capture", segment)
        url = str(playlist)

        def until_capture_ends() -> None:  # ffmpeg writes EXT-X-ENDLIST at the end; this covers a crash
            assert recorder is not None
            recorder.wait()
            if not stop.wait(4 * (segment or 2)):
                stop.set()

        threading.Thread(target=until_capture_ends, daemon=True).start()
    store = StreamLog(reports / "labelcheck-state.sqlite")
    try:
        result = follow(
            url,
            StreamOptions(FetchOptions(allow_private=allow_private)),
            c2pa_x.make_context(options.c2pa),
            store,
            stop,
        )
    finally:
        store.close()
    rep = replace(
        make_report((), Judge.from_options(options), exiftool_version(options.exiftool), _now()), streams=(result,)
    )
    _write(json_r.render(rep), str(reports / "stream-report.json"))
    return report_mod.exit_code(rep)


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
