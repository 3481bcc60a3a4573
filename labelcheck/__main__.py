"""`labelcheck` and `python -m labelcheck`: start the worker fork server early when the command will use workers,
then run the command line. Only the standard library is imported before that decision."""

from __future__ import annotations

import sys

WORKER_COMMANDS = frozenset({"check", "watch", "serve"})


def wants_workers(argv: list[str]) -> bool:
    """A cheap guess from the arguments, before click parses them: a command that runs local worker processes.
    A wrong guess costs either an idle fork server or the start-up that is not overlapped, never a wrong result."""
    if not argv or argv[0] not in WORKER_COMMANDS or any(a in ("-h", "--help") for a in argv):
        return False
    for n, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--workers=") else None
        if arg == "--workers" and n + 1 < len(argv):
            value = argv[n + 1]
        if value is not None and value.strip() == "0":
            return False
        if arg in ("--scheduler", "--stream") or arg.startswith(("--scheduler=", "--stream=")):
            return False  # a Dask cluster, or a live stream followed in this process
    return True


def main() -> None:
    if wants_workers(sys.argv[1:]):
        from .scale.workers import start_early

        try:
            start_early()
        except Exception:  # noqa: BLE001 - only an optimisation: the pool starts the server itself and reports
            pass
    from .cli import entry

    entry()


if __name__ == "__main__":
    main()
