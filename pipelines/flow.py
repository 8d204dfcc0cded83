"""The de-identification flow, top to bottom.

prepare -> extract windows of batches -> detect + anonymize + residual screen (mapped) ->
validate and stage each window -> seal shards + enforce the gate -> stage the manifest ->
run summary + audit report -> publish (swap in the new version) -> Prefect artifacts.

Tasks return what they did and the flow folds it into the run's tally
(``pipelines.tasks.context.RunTally``); the staging area, a live handle, is passed to
the tasks that write into it.

Streaming: records are pulled one window at a time (``runtime.window_batches`` batches
of ``source.batch_size`` notes), processed, validated and appended to the staged
shards in order.  The next window's batches are submitted before the current one is
validated and staged, so the workers never wait for the flow process; at most two
windows are in memory, so memory stays flat as the input grows.

Residual screen: each mapped task checks its rows with the gate's residual-identifier
patterns; a row with a hit is withheld and quarantined (``RESIDUAL_IDENTIFIER``) rather
than failing the run, and the gate validates the rest.  ``enforce_gate`` fails the run if
the screen withheld more than ``validation.max_residual_fraction`` of the notes.

Atomicity: shards are staged in the next version of the output dir, a hidden sibling
``<parent>/.<name>.deidflow-next-<token>/``.  Sealing them and the validation gate run
in a Prefect transaction: a failed gate rolls it back, which deletes the staging dir,
and nothing is published.  Any other failure discards the staging dir too
(``finally``).  ``publish`` completes the next version (kept files hard-linked, manifest
written) and swaps it with the output dir in one atomic rename (``pipelines.output.shards``).
The run's summary and audit report are written into the next version before the swap,
so they are published with its data: new data never sits beside the previous run's
report, and a run whose report cannot be written publishes nothing.  The per-window
tasks stay outside the transaction on purpose: a transaction keeps every task run it
contains (and its inputs and results) alive until it closes, which would make memory
grow with the input.

The flow's only parameter is the config (no PHI: it names files, env variables and
settings), so that is all Prefect stores about a run besides states and counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar, cast

from prefect import flow, runtime, unmapped
from prefect.futures import PrefectFutureList
from prefect.transactions import transaction
from prefect.utilities.annotations import quote

from deid import safe_logging
from deid.errors import phi_safe_iter, register_safe_exception
from pipelines.config import PipelineConfig
from pipelines.gate.enforcement import ValidationFailed
from pipelines.output.shards import ShardCorrupted, UnswappableOutput, scratch_location
from pipelines.report.summary import RunSummary
from pipelines.stream import CountMismatch, RunCounts, Window, extract_windows
from pipelines.tasks.context import RunContext, RunTally, Staging
from pipelines.tasks.deidentify import deidentify_batch
from pipelines.tasks.gate import enforce_gate, validate_window
from pipelines.tasks.prepare import IncompatibleOutput, OutputBusy, open_staging, prepare_run
from pipelines.tasks.publish import publish
from pipelines.tasks.report import publish_artifacts, write_report, write_run_summary
from pipelines.tasks.stage import seal_shards, stage_manifest, stage_window
from pipelines.transform import BatchFailed, BatchOutput

# Messages built from counts, check names, exception type names and paths only: shown as
# they are.  Any other error raised while handling notes reaches Prefect as a
# ``RedactedError`` (type name only), see ``deid.errors``.
register_safe_exception(
    ValidationFailed,
    CountMismatch,
    BatchFailed,
    ShardCorrupted,
    OutputBusy,
    IncompatibleOutput,
    UnswappableOutput,
)
register_safe_exception(OSError)  # errno and file names

_T = TypeVar("_T")


def by_reference(value: _T) -> _T:
    """``value`` wrapped in Prefect's ``quote``: handed to a task as it is, never walked
    into or copied (Prefect unwraps it before the call, so the task gets a ``_T``)."""
    return cast(_T, quote(value))


ProgressCallback = Callable[[int, RunCounts, bool], None]
"""Called with (records done, running counts, whether a batch just finished) after each
batch and after each window is staged."""
_progress: list[ProgressCallback] = []
PublishedCallback = Callable[[Path], None]
_published: list[PublishedCallback] = []


def set_published_callback(callback: PublishedCallback | None) -> None:
    """Be told the output dir once the run's version of it is swapped in: whatever fails
    after that, the dataset and its audit files are published (``run_pipeline`` uses it
    to report such a failure as "published, but ...")."""
    _published.clear()
    if callback is not None:
        _published.append(callback)


def set_progress_callback(callback: ProgressCallback | None) -> None:
    """Receive progress after each batch (``run_pipeline`` draws a progress bar with it)."""
    _progress.clear()
    if callback is not None:
        _progress.append(callback)


@flow(name="deidflow", persist_result=False, log_prints=False)
def deidentify_notes(config: PipelineConfig) -> RunSummary:
    """De-identify the notes of ``config.source`` into Parquet shards + manifest."""
    safe_logging.install()  # no-op under run_pipeline; a served flow's process needs it
    run = prepare_run(config)  # lock output dir, clear leftovers, key fingerprint
    staging, failed = None, True
    tally = RunTally()  # counts, validation, stats: folded in from the tasks' results
    try:
        staging = open_staging(run)
        done = 0  # records of the windows finished so far
        _report_progress(done, tally.counts)
        # One window ahead: the next window's batches run while this one is validated
        # and staged, so the workers do not wait for the flow process (two windows in
        # memory at most).
        pending = None
        for window in windows(run, staging, tally):
            futures = deidentify_batch.map(window.batches, unmapped(config))
            if pending is not None:
                done = _finish_window(staging, tally, done, *pending)
            pending = (window, futures)
        if pending is not None:
            done = _finish_window(staging, tally, done, *pending)
        with transaction():  # a failed gate rolls back: the sealed shards are deleted
            shards = seal_shards(by_reference(staging))
            enforce_gate(config, by_reference(tally.counts), tally.window_failures)
        # The next version of the output dir, but its audit files; then those; then the swap.
        version = stage_manifest(
            by_reference(run), by_reference(staging), by_reference(tally), shards
        )
        flow_run_id = str(runtime.flow_run.id)
        summary = write_run_summary(
            by_reference(run), by_reference(staging), by_reference(tally), version, flow_run_id
        )
        files = write_report(
            by_reference(run), by_reference(staging), by_reference(tally), version, summary
        )
        publish(by_reference(staging), version)  # shards, manifest and audit files at once
        failed = False  # published: nothing this run made is removed, whatever follows
        publish_artifacts(files)  # the report in the Prefect UI
        return summary
    except ValidationFailed as err:
        _report_gate_failure(config, err)
        raise
    finally:
        if staging is not None:
            if staging.area.swapped:
                for callback in _published:
                    callback(config.output.dir)
            staging.discard()  # whatever a failed run staged (nothing left after publish)
        run.release()
        if failed:
            run.remove_created()  # an output or quarantine dir this failed run made


def _finish_window(
    staging: Staging,
    tally: RunTally,
    done: int,
    window: Window,
    futures: PrefectFutureList[BatchOutput],
) -> int:
    """Wait for a window's batches, then validate and stage them in order.

    Reports progress after each batch (the window's records in proportion to its notes
    done) and returns the records done once the window is staged.
    """
    outputs, notes_done = [], 0
    for future in futures:
        outputs.append(future.result())
        notes_done += len(window.batches[len(outputs) - 1])
        share = notes_done / window.notes if window.notes else 0.0
        _report_progress(done + int(window.rows_in * share), tally.counts, batch=True)
    tally.add_verdict(validate_window(by_reference(window), by_reference(outputs)))
    tally.add_staged(
        stage_window(by_reference(staging), by_reference(window), by_reference(outputs)), outputs
    )
    done += window.rows_in
    _report_progress(done, tally.counts)
    return done


def _report_gate_failure(config: PipelineConfig, err: ValidationFailed) -> None:
    """Tell the Prefect UI which checks stopped publication (names and counts only)."""
    from pipelines.report.artifacts import publish_failure_artifact

    with contextlib.suppress(Exception):  # the gate's own error is what must surface
        publish_failure_artifact(config.output.dir, err.failures)


def _report_progress(done: int, counts: RunCounts, batch: bool = False) -> None:
    for callback in _progress:
        callback(done, counts, batch)


def windows(run: RunContext, staging: Staging, tally: RunTally) -> Iterator[Window]:
    """Read the source as checked, de-duplicated windows of batches (errors: type only).

    The reader quarantines what it cannot take and counts everything it reads into
    ``tally`` as it goes."""
    config = run.config
    return phi_safe_iter(
        extract_windows(
            staging.source.records(),
            columns=config.columns,
            max_note_chars=config.limits.max_note_chars,
            date_shift_days=config.deid.anonymization.date_shift_days,
            batch_size=config.source.batch_size,
            window_batches=config.runtime.window_batches,
            quarantine=staging.quarantine,
            counts=tally.counts,
            input_digest=tally.input_digest,
            scratch=scratch_location(run.output_dir),
        )
    )
