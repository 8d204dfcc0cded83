"""Prefect tasks: thin wrappers around the library calls the flow strings together.

PHI and Prefect.  No task persists its result (``persist_result=False``) or caches
(``NO_CACHE``), so nothing a task returns is written to Prefect's result storage.  Task
inputs are recorded by Prefect only as references and type names (``Constant(type=...)``),
never values, and run names use batch indexes only.  Nothing here logs note content: the
Prefect logger receives counts and IDs-free messages, and exceptions raised here carry
counts, check names and file names.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.transactions import Transaction, get_transaction

from deid.errors import phi_safe_errors
from deid.keys import load_key
from pipelines.audit import RunSummary, write_summary
from pipelines.config import PipelineConfig
from pipelines.manifest import MANIFEST_NAME, MANIFEST_VERSION, read_manifest, write_manifest
from pipelines.quarantine import QuarantineItem, QuarantineWriter, jsonable
from pipelines.records import Reason
from pipelines.report import ReportFiles, RunStats
from pipelines.shards import (
    ShardInfo,
    ShardWriter,
    StagingArea,
    clear_stale_staging,
    publish_shards,
    remove_unlisted_shards,
    verify_staged_shards,
)
from pipelines.sources import RecordSource, open_source
from pipelines.stream import RunCounts, Window
from pipelines.transform import BatchOutput, NoteBatch, NoteTransformer, pipeline_version
from pipelines.validation import ValidationFailed, validate_batch
from schemas.deidentified import SCHEMA_VERSION

# Every task handling notes: no result persistence, no cache keys over inputs.
NO_PHI_STORAGE: dict[str, Any] = {"persist_result": False, "cache_policy": NO_CACHE}

LOCK_NAME = ".deidflow.lock"


class OutputBusy(RuntimeError):
    """Another run holds the output directory's lock."""


class IncompatibleOutput(RuntimeError):
    """An incremental run would append to a dataset made with another config or key."""


@dataclass
class RunContext:
    """What ``prepare_run`` established before any record is read."""

    config: PipelineConfig
    output_dir: Path
    config_hash: str
    key_fingerprint: str
    previous_manifest: dict[str, Any] | None
    """The manifest this run appends to (incremental runs only)."""
    first_shard_index: int
    previous_watermark: Any
    started: float = field(default_factory=time.perf_counter)
    _lock_fd: int | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._lock_fd is not None:
            _unlock(self._lock_fd)
            self._lock_fd = None


class RunState:
    """Mutable state of one run: staging, quarantine, counts, validation results."""

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.staging = StagingArea(run.output_dir)
        self.writer = ShardWriter(self.staging.path, run.config.output, run.first_shard_index)
        self.quarantine = QuarantineWriter(run.config.quarantine_path())
        self.quarantine.clear_stale()
        self.quarantine_report: Path | None = None
        self.counts = RunCounts()
        self.input_digest = hashlib.sha256()
        self.source: RecordSource = open_source(run.config, run.previous_watermark)
        self.validation_failures: Counter[str] = Counter()
        self.windows_validated = 0
        self.policy_versions: set[str] = set()
        self.stats = RunStats()  # what the audit report adds to the counts

    def __deepcopy__(self, memo: dict[int, Any]) -> RunState:
        # A live handle (open files), not a value: Prefect's ``Transaction.get`` deep-copies.
        return self

    def discard(self) -> None:
        self.writer.abort()
        self.staging.discard()
        self.quarantine.abort()


# --- preparation ----------------------------------------------------------------------


def _lock(output_dir: Path) -> int:
    """Exclusive, non-blocking lock on the output dir (released when the process exits)."""
    fd = os.open(output_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputBusy(f"another deidflow run is writing to {output_dir}") from None
    return fd


def _unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@task(name="prepare-run", **NO_PHI_STORAGE)
def prepare_run(config: PipelineConfig) -> RunContext:
    """Lock the output dir, clear leftovers of interrupted runs, load the key."""
    output_dir = config.output.dir
    output_dir.mkdir(parents=True, exist_ok=True)
    lock_fd = _lock(output_dir)
    try:
        removed = clear_stale_staging(output_dir)
        if removed:
            get_run_logger().warning("removed %d staging dir(s) of interrupted runs", removed)
        key = load_key(config.deid)
        config_hash = config.config_hash()
        previous, first_index, watermark = None, 0, None
        existing = read_manifest(output_dir)
        if getattr(config.source, "incremental", False) and existing is not None:
            if (existing["config_hash"], existing["key_fingerprint"]) != (
                config_hash,
                key.fingerprint(),
            ):
                raise IncompatibleOutput(
                    f"{output_dir} holds a dataset made with another config or key; "
                    "use a new output directory or a full (non-incremental) run"
                )
            previous = existing
            first_index = len(existing["shards"])
            watermark = existing["source"].get("watermark")
    except BaseException:
        _unlock(lock_fd)
        raise
    return RunContext(
        config=config,
        output_dir=output_dir,
        config_hash=config_hash,
        key_fingerprint=key.fingerprint(),
        previous_manifest=previous,
        first_shard_index=first_index,
        previous_watermark=watermark,
        _lock_fd=lock_fd,
    )


@task(name="open-staging", **NO_PHI_STORAGE)
def open_staging(run: RunContext) -> RunState:
    """Staging dir, shard writer, quarantine writer and the source reader for this run."""
    return RunState(run)


# --- detect + anonymize ---------------------------------------------------------------

_idle_transformers: dict[tuple[str, str], list[NoteTransformer]] = {}
_idle_lock = threading.Lock()


@contextmanager
def checked_out_transformer(config: PipelineConfig) -> Iterator[NoteTransformer]:
    """A transformer for this config and key, used by one task at a time.

    Building one loads spaCy and the recognizers (seconds), so idle ones are kept for
    the next batch and the next run in this process; a deidentifier is not thread-safe,
    so each is lent to one task at a time.
    """
    secret = load_key(config.deid)
    pool_key = (config.config_hash(), secret.fingerprint())  # not locations: reused across runs
    with _idle_lock:
        idle = _idle_transformers.setdefault(pool_key, [])
        transformer = idle.pop() if idle else None
    if transformer is None:
        from deid.anonymize import Deidentifier

        deidentifier = Deidentifier(config.deid, key=secret)
        _ = deidentifier.detector  # build now: a broken setup must fail the run, not each note
        transformer = NoteTransformer(config, secret, deidentifier)
    try:
        yield transformer
    finally:
        with _idle_lock:
            _idle_transformers[pool_key].append(transformer)


@task(name="deidentify-batch", task_run_name="deidentify-batch-{batch.index}", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def deidentify_batch(batch: NoteBatch, config: PipelineConfig) -> BatchOutput:
    """Detect and replace PHI in one batch (runs mapped, several at once)."""
    with checked_out_transformer(config) as transformer:
        return transformer.transform(batch)


# --- validate and stage ---------------------------------------------------------------


@task(name="validate-window", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def validate_window(state: RunState, window: Window, outputs: list[BatchOutput]) -> bool:
    """Run the Great Expectations gate on one window's output rows and counts."""
    import pyarrow as pa

    failed_rows = sum(len(o.failures) for o in outputs)
    counts = {
        "rows_in": window.rows_in,
        "quarantined": window.quarantined + failed_rows,
        "duplicates_removed": window.duplicates_removed,
    }
    tables = [o.table for o in outputs]
    table = pa.concat_tables(tables) if tables else None
    if table is None or table.num_rows == 0:
        # Nothing to validate row-wise; the reconciliation still must hold.
        ok = counts["rows_in"] == counts["quarantined"] + counts["duplicates_removed"]
        if not ok:
            state.validation_failures["row_reconciliation"] += abs(
                counts["rows_in"] - counts["quarantined"] - counts["duplicates_removed"]
            )
        state.windows_validated += 1
        state.stats.add_validation({})
        return ok
    outcome = validate_batch(
        table,
        counts,
        replaced_spans=[spans for o in outputs for spans in o.replaced_spans],
        orig_lengths=[n for o in outputs for n in o.orig_lengths],
    )
    state.windows_validated += 1
    state.stats.add_validation(outcome.summary)
    for name, rows in outcome.failures:
        state.validation_failures[name] += rows
    if not outcome.success:
        get_run_logger().error(
            "validation failed for %d expectation(s) in this window", len(outcome.failures)
        )
    return outcome.success


@task(name="stage-window", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def stage_window(state: RunState, window: Window, outputs: list[BatchOutput]) -> int:
    """Append the window's rows to the staged shards; quarantine notes that raised."""
    by_index = {b.index: b for b in window.batches}
    for out in sorted(outputs, key=lambda o: o.index):
        for pos, exc_type in out.failures:
            note = by_index[out.index].notes[pos]
            state.quarantine.add(
                QuarantineItem(
                    Reason.PROCESSING_ERROR,
                    f"batch {out.index} note {pos}",
                    note.note_id,
                    exc_type,
                    jsonable(
                        {
                            "note_id": note.note_id,
                            "patient_id": note.patient_id,
                            "text": note.text,
                            "note_type": note.note_type,
                            "note_date": note.note_date,
                            "encounter_id": note.encounter_id,
                        }
                    ),
                )
            )
            state.counts.quarantined[Reason.PROCESSING_ERROR.value] += 1
        state.writer.write(out.table)
        state.counts.rows_out += out.table.num_rows
        state.stats.add_output(out)
        state.counts.phi_by_type.update(out.phi_counts)
        state.counts.rows_by_split.update(out.table.column("split").to_pylist())
        state.policy_versions.update(out.table.column("policy_version").unique().to_pylist())
    return sum(o.table.num_rows for o in outputs)


@task(name="seal-shards", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def seal_shards(state: RunState) -> list[ShardInfo]:
    """Close the last staged shard; deleted again if the enclosing transaction rolls back."""
    txn = get_transaction()
    assert txn is not None, "seal_shards must run inside the flow's transaction"
    txn.set("state", state)
    if state.counts.rows_out == 0 and state.run.previous_manifest is None:
        state.writer.write_empty_shard()  # loaders get a schema even from an empty run
    return state.writer.close()


@seal_shards.on_rollback
def _discard_staging(txn: Transaction) -> None:
    txn.get("state").discard()


@task(name="enforce-gate", **NO_PHI_STORAGE)
def enforce_gate(state: RunState) -> None:
    """Raise if any window failed validation or any record is unaccounted for."""
    state.counts.check()
    if state.validation_failures:
        raise ValidationFailed(sorted(state.validation_failures.items()))


# --- publish --------------------------------------------------------------------------


def run_id_for(run: RunContext, input_fingerprint: str) -> str:
    """Deterministic run ID: same config, key and input give the same ID (and manifest)."""
    blob = f"{run.config_hash}:{run.key_fingerprint}:{input_fingerprint}".encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@task(name="publish", **NO_PHI_STORAGE)
def publish(state: RunState, shards: list[ShardInfo]) -> dict[str, Any]:
    """Rename shards into place, then write the manifest (the commit point) last."""
    run = state.run
    input_fingerprint = state.input_digest.hexdigest()
    run_id = run_id_for(run, input_fingerprint)
    previous = run.previous_manifest
    if previous is not None and state.counts.rows_in == 0:
        # Incremental run with nothing new: the published dataset stays as it is.
        state.discard()
        return previous

    # Quarantine first: if publishing fails, a rerun rewrites the same run-named files.
    verify_staged_shards(state.staging, shards)  # changed since sealed: publish nothing
    state.quarantine_report = state.quarantine.commit(run_id)
    publish_shards(state.staging, shards)
    validation = {
        "success": True,
        "windows": state.windows_validated,
        "failures": [],
    }
    run_entry = {
        "run_id": run_id,
        "input_fingerprint": input_fingerprint,
        "counts": state.counts.to_dict(),
        "shards": [s.name for s in shards],
        "validation": validation,
        "watermark": state.source.watermark,
    }
    old_shards = previous["shards"] if previous else []
    old_runs = previous["runs"] if previous else []
    all_shards = [*old_shards, *(s.to_dict() for s in shards)]
    policies = sorted(state.policy_versions | set(previous["policy_versions"] if previous else []))
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "schema_version": SCHEMA_VERSION,
        "pipeline_version": pipeline_version(),
        "policy_versions": policies,
        "run_id": run_id,
        "config_hash": run.config_hash,
        "key_fingerprint": run.key_fingerprint,
        "source": {**state.source.describe(), "watermark": state.source.watermark},
        "splits": run.config.output.splits.model_dump(),
        "rows": sum(int(s["rows"]) for s in all_shards),
        "validation": validation,
        "shards": all_shards,
        "runs": [*old_runs, run_entry],
    }
    write_manifest(run.output_dir, manifest)
    remove_unlisted_shards(run.output_dir, {s["name"] for s in all_shards})
    state.staging.discard()
    return manifest


@task(name="audit-summary", **NO_PHI_STORAGE)
def write_audit(state: RunState, manifest: dict[str, Any], flow_run_id: str | None) -> RunSummary:
    """Counts, timing and locations of this run, as ``run_summary.json`` and a return value."""
    run = state.run
    wall = time.perf_counter() - run.started
    counts = state.counts
    run_entry = manifest["runs"][-1] if manifest.get("runs") else {}
    new_shards = set(run_entry.get("shards", [])) if counts.rows_in else set()
    summary = RunSummary(
        run_id=manifest["run_id"] if counts.rows_in else "",
        flow_run_id=flow_run_id,
        output_dir=str(run.output_dir),
        manifest=str(run.output_dir / MANIFEST_NAME),
        quarantine_dir=str(state.quarantine.directory),
        quarantine_report=str(state.quarantine_report) if state.quarantine_report else None,
        rows_in=counts.rows_in,
        rows_out=counts.rows_out,
        quarantined=counts.quarantined_total,
        quarantined_by_reason=dict(sorted(counts.quarantined.items())),
        duplicates_removed=counts.duplicates_removed,
        phi_by_type=dict(sorted(counts.phi_by_type.items())),
        rows_by_split=dict(sorted(counts.rows_by_split.items())),
        shards_written=len(new_shards),
        shard_bytes=sum(s["bytes"] for s in manifest["shards"] if s["name"] in new_shards),
        validation_success=True,
        wall_seconds=round(wall, 3),
        notes_per_second=round(counts.rows_in / wall, 1) if wall > 0 else 0.0,
        key_fingerprint=run.key_fingerprint,
        config_hash=run.config_hash,
    )
    write_summary(run.output_dir, summary)
    get_run_logger().info(summary.headline())
    return summary


@task(name="audit-report", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def write_report(
    state: RunState, manifest: dict[str, Any], summary: RunSummary
) -> ReportFiles | None:
    """Write ``audit_report.json`` + ``.html`` beside the manifest; publish Prefect artifacts.

    With ``report.gold_sample`` set, the run's detector is scored on that annotated sample
    to estimate the residual risk.  An incremental run that read nothing new keeps the
    previous report.  Artifacts are best effort: the dataset is already published.
    """
    from pipelines.artifacts import publish_run_artifacts
    from pipelines.report import make_run_report
    from pipelines.report.risk import evaluate_sample

    logger = get_run_logger()
    if not summary.rows_in:
        logger.info("nothing new was read: the previous audit report stays")
        return None
    config = state.run.config

    def evaluate(sample: Path) -> Any:
        with checked_out_transformer(config) as transformer:  # the run's own detector
            return evaluate_sample(sample, transformer.deidentifier.detector)

    files = make_run_report(
        config=config,
        manifest=manifest,
        summary=summary,
        stats=state.stats,
        source=state.source.describe(),
        evaluate=evaluate,
    )
    logger.info("audit report: %s", files.html_path)
    try:
        publish_run_artifacts(files.report)
    except Exception as exc:  # noqa: BLE001 - never fail a published run over the UI
        logger.warning("could not create Prefect artifacts (%s)", type(exc).__name__)
    return files
