"""The progress display of ``deidflow run``: its totals, its closing rate, its quiet logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from pipelines import progress
from pipelines.progress import RunProgress, quiet_prefect_console
from pipelines.stream import RunCounts


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """``time.perf_counter`` as the test sets it (no wall-clock in the assertions)."""
    now = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    yield now


def test_the_rate_leaves_start_up_and_the_final_validation_out(clock: list[float]) -> None:
    display = RunProgress(io.StringIO(), show=False)
    counts = RunCounts()
    clock[0] = 12.0
    display.update(0, counts)  # the flow opened its source: models still loading
    clock[0] = 20.0
    display.update(128, counts, batch=True)  # the first batch: start-up ends here
    clock[0] = 30.0
    display.update(1128, counts, batch=True)
    clock[0] = 45.0
    display.update(1200, counts)  # the window validated and staged
    assert display.rate_line() == "100 notes/s after 20.0 s of start-up"


def test_a_single_batch_is_too_short_for_a_rate(clock: list[float]) -> None:
    display = RunProgress(io.StringIO(), show=False)
    clock[0] = 9.0
    display.update(60, RunCounts(), batch=True)
    assert display.rate_line() == (
        "60 notes in one batch, 9.0 s with start-up (too short for a rate)"
    )
    assert RunProgress(io.StringIO(), show=False).rate_line() == ""


def test_the_bar_shows_done_of_the_counted_total(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # rich's width when not on a terminal
    stream = io.StringIO()
    with RunProgress(stream, count=lambda: 1200, show=True) as display:
        display._set_total()  # what its background thread does, here in step
        counts = RunCounts()
        counts.quarantined["EMPTY_TEXT"] = 3
        display.update(1200, counts, batch=True)
    drawn = stream.getvalue()
    assert "1200/1200" in drawn and "100%" in drawn and "quarantined 3" in drawn


def test_off_a_terminal_nothing_is_drawn() -> None:
    stream = io.StringIO()  # isatty() is False
    with RunProgress(stream, count=lambda: 10) as display:
        display.update(10, RunCounts(), batch=True)
    assert stream.getvalue() == ""


def test_prefect_console_is_quiet_unless_verbose_and_without_tracebacks_unless_debug() -> None:
    class PrefectConsoleHandler(logging.Handler):  # stands in for Prefect's, by name
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.seen.append(record.getMessage())

    handler = PrefectConsoleHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("prefect.task_runs.test")
    logger.setLevel(logging.INFO)
    try:
        with quiet_prefect_console(verbose=False, debug=False):
            logger.info("Finished in state Completed()")
            logger.warning("withheld 2 note(s)")
            logger.error("Task run failed", exc_info=(ValueError, ValueError("x"), None))
        assert handler.seen == ["withheld 2 note(s)"]
        handler.seen.clear()
        with quiet_prefect_console(verbose=True, debug=True):
            logger.info("Finished in state Completed()")
            logger.error("Task run failed")
        assert handler.seen == ["Finished in state Completed()", "Task run failed"]
    finally:
        root.removeHandler(handler)
