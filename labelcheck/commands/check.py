"""`labelcheck check`: files, directories, lists and streams -> a report in any format, and the exit code."""

from __future__ import annotations

import itertools
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import click

from ..extract import c2pa as c2pa_x
from ..extract.gather import EvidenceOptions, check_tools
from ..inputs.media import is_playlist
from ..inputs.targets import as_typed, count_items, expand
from ..inputs.targets import from_list as from_list_lines
from ..model import Report, Result
from ..policy.judge import Judge, make_report, now
from ..render import FORMATS, renderer
from ..render import document as report_mod
from ..scale import resume as resume_mod
from ..scale.batches import TAIL_WINDOW, RunInfo, RunOptions
from ..scale.runner import run
from .options import item_timeout_option, scan_options, write_output
from .progress import Progress


@click.command()
# readable=False: a file that cannot be read is an item error in the report (exit 5), not a usage error
@click.argument("paths", nargs=-1, type=click.Path(path_type=str, readable=False))
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
    type=click.Choice(sorted(FORMATS)),
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
@item_timeout_option
@click.option(
    "--scheduler", metavar="tcp://HOST:PORT", help="Run on a Dask distributed cluster (see docs/scale-out.md)."
)
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
    help="Allow URLs on loopback/private addresses (remote items, playlists and segments).",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Exit 0, not 6, when the targets hold no item to check (an empty directory, list or filter).",
)
@click.option(
    "--progress/--no-progress", default=None, help="A progress bar on standard error (default: on a terminal)."
)
@click.option(
    "--resume",
    is_flag=True,
    help="With --format jsonl -o FILE: keep the results FILE already holds, check only the targets it has none "
    "for, and append (a run cut short goes on where it stopped).",
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
    allow_empty: bool,
    resume: bool,
    extra: tuple[tuple[str, str], ...],
    options: EvidenceOptions,
    judge: Judge,
) -> None:
    """Check files, directories (recursively), globs, URLs and lists, and report what each declares about AI."""
    if not paths and from_list is None:
        raise click.UsageError("nothing to check: give PATH... or --from-list")
    check_tools(options)  # a missing tool: exit 4 before any work (cli.entry reports it)
    if fmt is None:
        fmt = "table" if output is None and sys.stdout.isatty() else "json"
    streams = [p for p in paths if is_playlist(p)]  # any other URL is one media item, fetched by its worker
    paths = tuple(p for p in paths if p not in streams)
    if resume and (fmt != "jsonl" or not output or extra or streams):
        raise click.UsageError("--resume needs --format jsonl -o FILE, without --report and without streams")
    try:
        prior = resume_mod.read(Path(output)) if resume and output else None
    except (resume_mod.ResumeError, OSError) as exc:
        raise click.UsageError(str(exc)) from exc
    options = replace(options, fetch=replace(options.fetch, allow_private=allow_private_network))
    targets: Iterator[str] = itertools.chain(paths, from_list_lines(from_list) if from_list is not None else ())
    typed: list[str] = []  # the targets as typed, for a table to name its items so (kept only when one is drawn)
    if "table" in (fmt, *(f for f, _ in extra)):
        targets = _noted(targets, typed)
    known = count_items(paths) if prior is None else None  # with --resume, the items done are not known yet
    run_options = RunOptions(
        workers=workers,
        item_timeout=item_timeout,
        scheduler=scheduler,
        read_ahead=TAIL_WINDOW if from_list is None or _regular_file(from_list) else 0,
    )
    info = RunInfo()
    todo = expand(targets, include, exclude)
    if prior is not None:  # matched by its very name: one that is not UTF-8 by its bytes (resume.read)
        todo = (t for t in todo if os.fsdecode(t) not in prior.done)
    stream = run(todo, options, judge, run_options, info)

    show = sys.stderr.isatty() if progress is None else progress
    checked_streams = _check_streams(streams, options, judge, rendition, max_segments)
    on_terminal = output is None and sys.stdout.isatty()  # the report follows the bar there: the bar is cleared
    with Progress(show, known if from_list is None else None, clear=on_terminal) as bar:
        if known is not None and from_list is not None and _regular_file(from_list):
            bar.count_in_background(lambda: _listed_items(from_list.name, known))
        if fmt == "jsonl" and not extra and not checked_streams:
            code, checked = _stream_jsonl(stream, judge, lambda: info.exiftool(options.exiftool), output, bar, prior)
        else:
            results = tuple(r for _, r in sorted(bar.track(stream), key=lambda p: p[0]))
            bar.close()  # before the report: a bar drawn again would follow it
            rep = replace(make_report(results, judge, info.exiftool(options.exiftool), now()), streams=checked_streams)
            shown = as_typed(typed)
            write_output(_render(fmt, rep, output, shown), output)
            for extra_fmt, extra_file in extra:
                write_output(_render(extra_fmt, rep, extra_file, shown), extra_file)
            code, checked = report_mod.exit_code(rep), len(results) + len(checked_streams)
    if not checked and not allow_empty:  # a gate pointed at an empty delivery must not pass on zero items
        click.echo("labelcheck: nothing to check: the targets hold no media item (--allow-empty to accept)", err=True)
        code = report_mod.EXIT_NOTHING_CHECKED
    sys.exit(code)


def _listed_items(path: str, named: int) -> int | None:
    """The items of a run: `named` on the command line plus those a list file names (read again from the start),
    when each of its lines is one item."""
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        listed = count_items(from_list_lines(fh))
    return None if listed is None else named + listed


def _regular_file(stream: Any) -> bool:
    """A list in a regular file can be read ahead; one from a pipe or terminal may arrive slowly."""
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def _extra_reports(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        fmt, sep, file = v.partition("=")
        if not sep or fmt not in FORMATS or not file:
            raise click.BadParameter(
                f"'{v}': expected FORMAT=FILE with FORMAT one of {', '.join(sorted(FORMATS))}", param_hint="--report"
            )
        out.append((fmt, file))
    return tuple(out)


def _render(fmt: str, rep: Report, output: str | None = None, shown: Callable[[str], str] | None = None) -> str:
    if fmt == "html":  # with thumbnails of the items (decoded here, not by the renderer)
        from ..render import html as html_r
        from ..render import thumbnails

        return html_r.render(rep, thumbnails.make(rep.results))
    if fmt == "table":  # for a person: as wide as the terminal, items named as typed (`shown`)
        from ..render import table as table_r

        width, color = _table_look(output)
        return table_r.render(rep, width, color, shown)
    return renderer(fmt)(rep)


def _table_look(output: str | None) -> tuple[int, bool]:
    """A table's width and colour. The width is COLUMNS when set (so `COLUMNS=120 labelcheck check ... | less`
    works), else the terminal's when the table is printed on one, else 80: a default terminal's, so that a log or
    a file holds what a terminal would show. Colour only on a terminal, and never with NO_COLOR set (no-color.org).
    """
    on_terminal = output is None and sys.stdout.isatty()
    columns = os.environ.get("COLUMNS", "").strip()
    width = int(columns) if columns.isdigit() else 0
    if not width and on_terminal:
        try:
            width = os.get_terminal_size(sys.stdout.fileno()).columns
        except OSError:
            width = 0
    from ..render.table import WIDTH

    return width or WIDTH, on_terminal and not os.environ.get("NO_COLOR")


def _noted(names: Iterator[str], into: list[str]) -> Iterator[str]:
    """`names`, each kept in `into` as it passes."""
    for name in names:
        into.append(name)
        yield name


def _check_streams(
    streams: list[str], options: EvidenceOptions, judge: Judge, rendition: str, max_segments: int
) -> tuple[Any, ...]:
    """Each playlist or URL checked along its timeline (the stream machinery is imported only when needed)."""
    if not streams:
        return ()
    from ..inputs.fetch import FetchOptions
    from ..streams.check import StreamOptions, check_stream, judge_stream

    # the streams' own size limits, with the run's private-address rule
    opts = StreamOptions(
        FetchOptions(allow_private=options.fetch.allow_private), rendition, max_segments, options.ffprobe
    )
    ctx = c2pa_x.make_context(options.c2pa)
    return tuple(judge_stream(check_stream(s, opts, ctx), judge) for s in streams)


def _stream_jsonl(
    stream: Iterator[tuple[int, Result]],
    judge: Judge,
    exiftool: Callable[[], str | None],
    output: str | None,
    bar: Progress,
    prior: resume_mod.Prior | None = None,
) -> tuple[int, int]:
    """Write each result as it is produced; memory holds counts, not results. The header line goes out with the
    first result (by then the workers have said which exiftool they run). Returns the exit code and the count.
    Resuming (`prior`), the file keeps its whole lines and this run's lines follow; the summary and the exit code
    cover every result in the file."""
    from ..render import jsonl as jsonl_r

    tally = prior.tally if prior is not None else report_mod.Tally()
    fh: TextIO
    try:
        if output and prior is not None:
            fh = open(output, "a", encoding="utf-8")  # noqa: SIM115
            fh.truncate(prior.keep)  # a line cut off mid-write by the run that stopped
        else:
            fh = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        started = now()
        pairs = bar.track(stream)
        first = next(pairs, None)  # by the first result the workers have said which exiftool they run
        fh.write(jsonl_r.header_line(make_report((), judge, exiftool(), started)))
        for _, result in itertools.chain([first] if first is not None else [], pairs):
            tally.add(result)
            fh.write(jsonl_r.result_line(result))
            fh.flush()
        fh.write(jsonl_r.summary_line(tally.to_dict()))
    finally:
        if fh is not sys.stdout:
            fh.close()
    return tally.exit_code(), tally.total
