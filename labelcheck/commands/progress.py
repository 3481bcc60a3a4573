"""Progress on a terminal: items done, items/s, errors so far, ETA when the number of items is known."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..model import Result

COUNT_GRACE = 1.0  # seconds the bar waits at the end for a count still going on


class Progress:
    """A context manager around a stream of (index, Result): shows progress on stderr when enabled.

    `clear`: the report follows on the terminal, so the bar goes when it is closed; otherwise its last line stays
    as the run's record. Close it before the report is written, or it is drawn again below the report."""

    def __init__(self, enabled: bool, total: int | None, clear: bool = False) -> None:
        self.enabled = enabled
        self.total = total
        self.clear = clear
        self.errors = 0
        self._bar: Any = None
        self._counting: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:  # rich is imported only when a bar is shown
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("checking"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} items/s, {task.fields[errors]} errors"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=self.clear,
                # print() on a terminal goes above the bar; a report sent to a file or pipe must not be caught
                # by the bar's console (on standard error) instead
                redirect_stdout=sys.stdout.isatty(),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("check", total=self.total, rate="-", errors=0)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop the bar (cleared when `clear`); it is not drawn again. Closing twice is closing once."""
        if self._counting is not None:
            self._counting.join(COUNT_GRACE)  # the last line shows the total when the count ends with the items
            self._counting = None
        if self._bar is not None and self._bar.live.is_started:
            self._bar.stop()

    def count_in_background(self, count: Callable[[], int | None]) -> None:
        """Learn the total while the items are checked: a long list is counted without delaying the first batch,
        and the ETA appears once it is known."""
        if self._bar is None:
            return

        def run() -> None:
            try:
                total = count()
            except (OSError, ValueError):  # the list went away or cannot be read again: no ETA, as before
                return
            if total is not None:
                self._bar.update(self._task, total=total)

        self._counting = threading.Thread(target=run, name="labelcheck-count", daemon=True)
        self._counting.start()

    def track(self, stream: Iterable[tuple[int, Result]]) -> Iterator[tuple[int, Result]]:
        for pair in stream:
            if self._bar is not None:
                self.errors += pair[1].status.value == "error"
                self._bar.advance(self._task)
                task = self._bar.tasks[0]
                rate = f"{task.speed:.1f}" if task.speed else "-"
                self._bar.update(self._task, rate=rate, errors=self.errors)
            yield pair
