"""`labelcheck` and `python -m labelcheck`: decide where the command's worker processes will come from, start the
fork server early when it pays, then run the command line. Only the standard library is imported before that."""

from __future__ import annotations

import os
import sys

WORKER_COMMANDS = frozenset({"check", "watch", "serve"})
NOT_LOCAL = ("--scheduler", "--stream")  # a Dask cluster, or a live stream followed in this process
MANY = ("--from-list",)  # a list names any number of items


def _option(argv: list[str], n: int, long: str, short: str | None = None) -> str | None:
    """The value argv[n] gives option `long` (--opt VALUE, --opt=VALUE, -j VALUE, -jVALUE), else None."""
    arg = argv[n]
    if arg.startswith(long + "="):
        return arg.partition("=")[2]
    if arg == long or arg == short:
        return argv[n + 1] if n + 1 < len(argv) else None
    if short and arg.startswith(short) and len(arg) > len(short):
        return arg[len(short) :]
    return None


def worker_start(argv: list[str]) -> str | None:
    """A cheap guess from the arguments, before click parses them: "server" when the command runs local workers
    (the fork server is started now, so that it imports the checker while this process does), "here" when it
    runs them over a few local files only (forked from this process: no server), None when it runs none.
    A wrong guess costs time, never a wrong result: every path runs the same workers."""
    if not argv or argv[0] not in WORKER_COMMANDS or any(a in ("-h", "--help") for a in argv):
        return None
    files = 0
    small = argv[0] == "check"
    for n, arg in enumerate(argv):
        workers = _option(argv, n, "--workers", "-j")
        if workers is not None and workers.strip() == "0":
            return None
        if arg in NOT_LOCAL or arg.startswith(tuple(o + "=" for o in NOT_LOCAL)):
            return None
        if arg in MANY or arg.startswith(tuple(o + "=" for o in MANY)) or "://" in arg or any(c in arg for c in "*?["):
            small = False
        elif not arg.startswith("-"):  # an item, or an option's value: either way a file counts, a folder ends it
            if os.path.isdir(arg):
                small = False
            files += os.path.isfile(arg)
    from .scale.workers import SMALL_RUN

    return "here" if small and files <= SMALL_RUN else "server"


def main() -> None:
    start = worker_start(sys.argv[1:])
    if start is not None:
        from .scale import workers

        if start == "here":
            from .extract import prestart

            prestart.start()  # Perl starts now, while this process imports the checker
            workers.fork_here()
        else:
            try:
                workers.start_early()
            except Exception:  # noqa: BLE001 - only an optimisation: the pool starts the server itself and reports
                pass
    from .cli import entry

    entry()


if __name__ == "__main__":
    main()
