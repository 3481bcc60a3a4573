"""`labelcheck watch` and `labelcheck serve`: hot folders, live streams, and the HTTP API."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..extract import c2pa as c2pa_x
from ..extract.gather import EvidenceOptions, check_tools, exiftool_version
from ..policy.judge import Judge, make_report, now
from ..render import document as report_mod
from ..render import json as json_r
from ..scale.batches import RunOptions
from .options import item_timeout_option, scan_options, write_output


@click.command()
@click.argument("dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--stream",
    "stream_url",
    metavar="URL",
    help="Follow a live stream (HLS media playlist or dynamic DASH MPD) instead of folders.",
)
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
@item_timeout_option
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
    options: EvidenceOptions,
    judge: Judge,
) -> None:
    """Watch hot folders: check each settled file once, write its report, optionally route it."""
    from ..service.watch import Watcher, WatchOptions

    if stream_url:
        sys.exit(_follow_stream(stream_url, reports, allow_private_network, segment_seconds, options, judge))
    if not dirs:
        raise click.UsageError("give hot-folder DIRS, or --stream URL")

    check_tools(options)  # a missing tool: exit 4 before any work (cli.entry reports it)
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
    watcher = Watcher(opts, options, judge, RunOptions(workers=workers, item_timeout=item_timeout))
    watcher.install_signals()
    sys.exit(watcher.serve())


@click.command()
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
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(0.001, 1e6),
    default=None,
    help="Upload (or submitted URL) size limit (2048).",
)
@click.option(
    "--fetch-urls", is_flag=True, default=None, help='Accept JSON {"url": ...} submissions (the workers fetch them).'
)
@click.option(
    "--allow-private-network",
    is_flag=True,
    default=None,
    help="Submitted URLs may name loopback and private hosts (refused by default).",
)
@click.option("--settle", type=click.FloatRange(0, 3600), default=None)
@click.option("--workers", "-j", type=click.IntRange(1, 256), default=None)
@scan_options
def serve(options: EvidenceOptions, judge: Judge, **flags: Any) -> None:
    """Run the HTTP API, metrics and dashboard (and the watcher) until SIGTERM or SIGINT."""
    from ..service.server.run import serve as run_server

    try:
        sys.exit(run_server(flags, options, judge))
    except ValueError as exc:
        click.echo(f"labelcheck: {exc}", err=True)
        sys.exit(report_mod.EXIT_USAGE)


def _follow_stream(
    url: str, reports: Path, allow_private: bool, segment: float | None, options: EvidenceOptions, judge: Judge
) -> int:
    """Follow a live stream until EXT-X-ENDLIST or SIGTERM/SIGINT; write its timeline report. A source that is no
    playlist is first captured through ffmpeg (`--segment`)."""
    import signal
    import threading

    from ..inputs.fetch import FetchOptions
    from ..service import capture
    from ..service.live import StreamLog, follow
    from ..streams.check import StreamOptions, judge_stream

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
            StreamOptions(FetchOptions(allow_private=allow_private), ffprobe=options.ffprobe),
            c2pa_x.make_context(options.c2pa),
            store,
            stop,
        )
    finally:
        store.close()
    rep = replace(
        make_report((), judge, exiftool_version(options.exiftool), now()), streams=(judge_stream(result, judge),)
    )
    write_output(json_r.render(rep), str(reports / "stream-report.json"))
    return report_mod.exit_code(rep)
