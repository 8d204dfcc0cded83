"""What ``deidflow run`` shows while it works: a progress bar, quiet logs, the closing rate.

The flow reports ``(records done, running counts)`` after every batch; ``RunProgress``
turns that into a ``rich`` bar on stderr — records done / total (when the source knows
it: ``preflight.count_records``, counted in a background thread while the run starts),
percentage, rate and ETA, with the output, quarantine and duplicate counts — when stderr
is a terminal, and nothing otherwise.  It also measures the rate after start-up (the
Prefect server, model loading and the first batch) for the closing line.

While the bar is up, Prefect's console log handler prints through the bar's console, so
its lines appear above the bar instead of through it; at WARNING level unless
``verbose`` (``quiet_prefect_console``).  Counts and rates only: never note content.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

if TYPE_CHECKING:
    from pipelines.stream import RunCounts


class _RateColumn(ProgressColumn):
    """``412 notes/s`` once there is a rate to show."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} notes/s" if speed else "", style="progress.data.speed")


class RunProgress:
    """Receives the flow's progress; draws a bar when ``stream`` is a terminal.

    Use as a context manager around the run; ``update`` is what the flow calls.
    ``count`` (optional) returns the number of records; it runs in a daemon thread.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        count: Callable[[], int | None] | None = None,
        show: bool | None = None,
    ) -> None:
        self.stream = stream
        self.show = stream.isatty() if show is None else show
        self._count = count
        self.total: int | None = None
        self.created = time.perf_counter()
        self.first: tuple[float, int] | None = None  # (time, records done) at the first batch
        self.last: tuple[float, int] | None = None  # ... at the last batch
        self.done = 0
        self._progress: Progress | None = None
        self._task: Any = None
        self._lock = threading.Lock()

    # -- what the flow calls -----------------------------------------------------------

    def update(self, done: int, counts: RunCounts, batch: bool = False) -> None:
        """``done`` records processed (in finished batches, or validated and staged);
        ``batch``: a batch just finished (what the rate is measured between)."""
        now = time.perf_counter()
        with self._lock:
            if batch and self.first is None:
                self.first = (now, done)
            if batch:
                self.last = (now, done)
            self.done = done
            if self._progress is not None:
                self._progress.update(
                    self._task,
                    completed=done,
                    # Before the first batch is done the workers load their models.
                    description="de-identifying" if done else "loading models",
                    counts=_counts_text(counts),
                )

    # -- the display -------------------------------------------------------------------

    def __enter__(self) -> RunProgress:
        if self.show:
            console = Console(file=self.stream, stderr=True)
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                _RateColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[counts]}", style="dim"),
                console=console,
                refresh_per_second=4,
                speed_estimate_period=60,
            )
            self._task = self._progress.add_task("starting Prefect", total=None, counts="")
            self._progress.start()
        if self._count is not None:
            threading.Thread(target=self._set_total, name="deidflow-count", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._progress is not None:
                if exc[0] is None and self.done and self.total is None:
                    self._progress.update(self._task, total=self.done)
                self._progress.stop()
                self._progress = None

    @property
    def console(self) -> Console | None:
        """The bar's console while it is up (log lines printed there appear above it)."""
        return self._progress.console if self._progress is not None else None

    def _set_total(self) -> None:
        assert self._count is not None
        total = self._count()
        with self._lock:
            self.total = total
            if total is not None and self._progress is not None:
                self._progress.update(self._task, total=total)

    # -- the closing line --------------------------------------------------------------

    def rate_line(self) -> str:
        """``1,200 notes/s after 9.8 s of start-up``: records per second from the first
        finished batch to the last (start-up: the Prefect server, model loading and the
        first batch; the final validation and publication are not in it either)."""
        if self.first is None or self.last is None:
            return ""
        (t0, d0), (t1, d1) = self.first, self.last
        startup = t0 - self.created
        if t1 > t0 and d1 > d0:
            return f"{(d1 - d0) / (t1 - t0):,.0f} notes/s after {startup:.1f} s of start-up"
        return f"{d1:,} notes in one batch, {startup:.1f} s with start-up (too short for a rate)"


def _counts_text(counts: RunCounts) -> str:
    # Known as records are read (output rows only once a window is staged).
    return f"quarantined {counts.quarantined_total:,} · duplicates {counts.duplicates_removed:,}"


# --- logs -------------------------------------------------------------------------------


class _NoTracebacks(logging.Filter):
    """Drop log records that carry an exception: the CLI reports the failure in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None and not (
            record.levelno >= logging.ERROR and record.name.startswith("prefect.")
        )


_OWN_LEVELS: dict[int, int] = {}


@contextlib.contextmanager
def quiet_prefect_console(
    *, verbose: bool, debug: bool, console: Console | None = None
) -> Iterator[None]:
    """Prefect's console log handler for a CLI run: WARNING unless ``verbose`` (until the
    process ends); failures and tracebacks left to the CLI's one line unless ``debug``;
    drawn on ``console`` (the progress bar's) if given.  Logs still reach the Prefect
    API in full (the UI)."""
    handlers = [
        h for h in logging.getLogger().handlers if type(h).__name__ == "PrefectConsoleHandler"
    ]
    saved = [(h, getattr(h, "console", None)) for h in handlers]
    guard = _NoTracebacks()
    for handler in handlers:
        # The level stays set after the run: Prefect logs the temporary server's stop at
        # exit.  The handler's own level is kept aside for a later verbose run.
        own = _OWN_LEVELS.setdefault(id(handler), handler.level)
        handler.setLevel(own if verbose else max(own, logging.WARNING))
        if not debug:
            handler.addFilter(guard)
        if console is not None:
            handler.console = console  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for handler, own_console in saved:
            handler.removeFilter(guard)
            if own_console is not None:
                handler.console = own_console  # type: ignore[attr-defined]
