"""The de-identification flow, top to bottom.

extract -> batches -> detect + anonymize + residual screen (mapped) -> validate -> stage
shards -> publish (swap in the new version) -> audit summary -> audit report + Prefect
artifacts.

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
The run's audit summary and report are written into the next version before the swap,
so they are published with its data: new data never sits beside the previous run's
report, and a run whose report cannot be written publishes nothing.  The per-window tasks stay outside the transaction on purpose: a transaction
keeps every task run it contains (and its inputs and results) alive until it closes,
which would make memory grow with the input.

The flow's only parameter is the config (no PHI: it names files, env variables and
settings), so that is all Prefect stores about a run besides states and counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from prefect import flow, runtime, unmapped
from prefect.futures import PrefectFutureList
from prefect.transactions import transaction
from prefect.utilities.annotations import quote

from deid import safe_logging
from deid.errors import phi_safe_iter, register_safe_exception
from pipelines.config import PipelineConfig
from pipelines.gate.validation import ValidationFailed
from pipelines.output.shards import ShardCorrupted, UnswappableOutput, scratch_location
from pipelines.report.summary import RunSummary
from pipelines.stream import CountMismatch, RunCounts, Window, extract_windows
from pipelines.tasks import (
    IncompatibleOutput,
    OutputBusy,
    RunState,
    deidentify_batch,
    enforce_gate,
    open_staging,
    prepare_run,
    publish,
    publish_artifacts,
    seal_shards,
    stage_manifest,
    stage_window,
    validate_window,
    write_audit,
    write_report,
)
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
    state, failed = None, True
    try:
        state = open_staging(run)
        done = 0  # records of the windows finished so far
        _report_progress(done, state.counts)
        # One window ahead: the next window's batches run while this one is validated
        # and staged, so the workers do not wait for the flow process (two windows in
        # memory at most).
        pending = None
        for window in windows(state):
            futures = deidentify_batch.map(window.batches, unmapped(config))
            if pending is not None:
                done = _finish_window(state, done, *pending)
            pending = (window, futures)
        if pending is not None:
            done = _finish_window(state, done, *pending)
        with transaction():  # a failed gate rolls back: the sealed shards are deleted
            shards = seal_shards(quote(state))
            enforce_gate(quote(state))
        manifest = stage_manifest(quote(state), shards)  # the next version, but its audit
        summary = write_audit(quote(state), manifest, str(runtime.flow_run.id))
        files = write_report(quote(state), manifest, summary)  # audit_report.json/.html
        publish(quote(state))  # swap in shards, manifest and audit files at once
        failed = False  # published: nothing this run made is removed, whatever follows
        publish_artifacts(files)  # the report in the Prefect UI
        return summary
    except ValidationFailed as err:
        _report_gate_failure(config, err)
        raise
    finally:
        if state is not None:
            if state.staging.swapped:
                for callback in _published:
                    callback(config.output.dir)
            state.discard()  # whatever a failed run staged (nothing left after publish)
        run.release()
        if failed:
            run.remove_created()  # an output or quarantine dir this failed run made


def _finish_window(
    state: RunState, done: int, window: Window, futures: PrefectFutureList[BatchOutput]
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
        _report_progress(done + int(window.rows_in * share), state.counts, batch=True)
    validate_window(quote(state), quote(window), quote(outputs))
    stage_window(quote(state), quote(window), quote(outputs))
    done += window.rows_in
    _report_progress(done, state.counts)
    return done


def _report_gate_failure(config: PipelineConfig, err: ValidationFailed) -> None:
    """Tell the Prefect UI which checks stopped publication (names and counts only)."""
    from pipelines.report.artifacts import publish_failure_artifact

    with contextlib.suppress(Exception):  # the gate's own error is what must surface
        publish_failure_artifact(config.output.dir, err.failures)


def _report_progress(done: int, counts: RunCounts, batch: bool = False) -> None:
    for callback in _progress:
        callback(done, counts, batch)


def windows(state: RunState) -> Iterator[Window]:
    """Read the source as checked, de-duplicated windows of batches (errors: type only)."""
    config = state.run.config
    return phi_safe_iter(
        extract_windows(
            state.source.records(),
            columns=config.columns,
            max_note_chars=config.limits.max_note_chars,
            date_shift_days=config.deid.anonymization.date_shift_days,
            batch_size=config.source.batch_size,
            window_batches=config.runtime.window_batches,
            quarantine=state.quarantine,
            counts=state.counts,
            input_digest=state.input_digest,
            scratch=scratch_location(state.run.output_dir),
        )
    )
