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
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.transactions import Transaction, get_transaction

from deid.anonymization.keys import load_key
from deid.errors import phi_safe_errors
from deid.safe_logging import SafeText
from pipelines.config import PipelineConfig
from pipelines.gate.validation import PublicationRefused, ValidationFailed, validate_batch
from pipelines.output.manifest import MANIFEST_NAME, MANIFEST_VERSION, read_manifest, write_manifest
from pipelines.output.shards import (
    LOCK_NAME,
    ShardInfo,
    ShardWriter,
    StagingArea,
    check_swappable,
    clear_stale_staging,
    find_interrupted_swap,
    verify_staged_shards,
)
from pipelines.quarantine import README_NAME as QUARANTINE_README
from pipelines.quarantine import QuarantineItem, QuarantineWriter, jsonable
from pipelines.records import Reason
from pipelines.report import REPORT_HTML_NAME, REPORT_JSON_NAME, ReportFiles, RunStats
from pipelines.report.summary import SUMMARY_NAME, RunSummary, write_summary
from pipelines.sources import RecordSource, open_source
from pipelines.stream import RunCounts, Window
from pipelines.tasks.deidentify import (  # noqa: F401 - the flow's tasks, in one place
    NO_PHI_STORAGE,
    checked_out_transformer,
    deidentify_batch,
    screen_residuals,
)
from pipelines.transform import BatchOutput, pipeline_version
from schemas.deidentified import SCHEMA_VERSION
from schemas.notes import NoteRecord


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
    created: tuple[tuple[Path, Path, str], ...] = ()
    """``(topmost dir created, dir, the one file it may hold)`` for the output and the
    quarantine dirs this run made: a run that fails removes them again."""
    _lock_fd: int | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._lock_fd is not None:
            _unlock(self._lock_fd)
            self._lock_fd = None

    def remove_created(self) -> None:
        """Remove the dirs this run created, if they hold nothing but what it put there."""
        for top, directory, allowed in self.created:
            try:
                if not {p.name for p in directory.iterdir()} <= {allowed}:
                    continue
                (directory / allowed).unlink(missing_ok=True)
                for level in (directory, *directory.parents):
                    level.rmdir()  # stops at the first that is not empty
                    if level == top:
                        break
            except OSError:
                pass  # gone already, or holding something else: leave it


def _missing_top(directory: Path) -> Path | None:
    """The topmost of ``directory`` and its parents that does not exist yet."""
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    return missing[-1] if missing else None


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
        self.publishing = True
        """False once an incremental run that read nothing new decided to publish nothing."""

    @property
    def audit_dir(self) -> Path:
        """Where this run's audit files go: the next version of the output dir (they are
        published with its data), or the output dir when nothing is published."""
        return self.staging.path if self.publishing else self.run.output_dir

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


def restore_interrupted_swap(output_dir: Path) -> bool:
    """Put the previous dataset back if a run died between the two renames of a swap.

    Only the two-rename fallback of ``shards.exchange_dirs`` has such a moment (no output
    dir at all).  The previous version carries the same lock file (a hard link): if a
    live run holds it, that run is mid-swap and this raises ``OutputBusy``.
    """
    old = find_interrupted_swap(output_dir)
    if old is None:
        return False
    fd = _lock(old)
    try:
        os.rename(old, output_dir.resolve())
    finally:
        _unlock(fd)
    return True


@task(name="prepare-run", **NO_PHI_STORAGE)
def prepare_run(config: PipelineConfig) -> RunContext:
    """Lock the output dir, clear leftovers of interrupted runs, load the key."""
    output_dir = config.output.dir
    logger = get_run_logger()
    if restore_interrupted_swap(output_dir):
        logger.warning("restored the previous dataset of a publication that was interrupted")
    created = [
        (top, directory, allowed)
        for directory, allowed in (
            (output_dir, LOCK_NAME),
            (config.quarantine_path(), QUARANTINE_README),
        )
        if (top := _missing_top(directory)) is not None
    ]
    output_dir.mkdir(parents=True, exist_ok=True)
    check_swappable(output_dir)
    lock_fd = _lock(output_dir)
    try:
        removed = clear_stale_staging(output_dir)
        if removed:
            logger.warning("removed %d staging dir(s) of interrupted runs", removed)
        key = load_key(config.deid.anonymization)
        config_hash = config.config_hash()
        previous, first_index, watermark = None, 0, None
        existing = read_manifest(output_dir)
        if getattr(config.source, "incremental", False) and existing is not None:
            if (existing["config_hash"], existing["key_fingerprint"]) != (
                config_hash,
                key.fingerprint(),
            ):
                raise IncompatibleOutput(
                    f"{output_dir} holds a dataset made with another config or key — "
                    "use a new output directory, or a full (non-incremental) run"
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
        created=tuple(created),
        _lock_fd=lock_fd,
    )


@task(name="open-staging", **NO_PHI_STORAGE)
def open_staging(run: RunContext) -> RunState:
    """Staging dir, shard writer, quarantine writer and the source reader for this run."""
    return RunState(run)


# --- validate and stage ---------------------------------------------------------------


@task(name="validate-window", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def validate_window(state: RunState, window: Window, outputs: list[BatchOutput]) -> bool:
    """Run the Great Expectations gate on one window's output rows and counts."""
    import pyarrow as pa

    failed_rows = sum(len(o.failures) + len(o.residual) for o in outputs)  # both quarantined
    counts = {
        "rows_in": window.rows_in - window.skipped,  # skipped entries are not records
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
        orig_kept_chars=[n for o in outputs for n in o.orig_kept_chars],
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


def _note_payload(note: NoteRecord) -> Any:
    """The note as read, for the quarantine (raw PHI: only the restricted file holds it)."""
    return jsonable(
        {
            "note_id": note.note_id,
            "patient_id": note.patient_id,
            "text": note.text,
            "note_type": note.note_type,
            "note_date": note.note_date,
            "encounter_id": note.encounter_id,
        }
    )


def residual_detail(hits: dict[str, int]) -> str:
    """``residual_phone=1 residual_ssn=2``: check names and match counts, never values."""
    return " ".join(f"{check}={n}" for check, n in sorted(hits.items()))


@task(name="stage-window", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def stage_window(state: RunState, window: Window, outputs: list[BatchOutput]) -> int:
    """Append the window's rows to the staged shards; quarantine notes that raised or
    that the residual screen withheld (in batch order: the quarantine file is reproducible)."""
    by_index = {b.index: b for b in window.batches}
    withheld: Counter[str] = Counter()
    for out in sorted(outputs, key=lambda o: o.index):
        problems = [
            *((pos, Reason.PROCESSING_ERROR, exc_type, None) for pos, exc_type in out.failures),
            *((pos, Reason.RESIDUAL_IDENTIFIER, residual_detail(h), h) for pos, h in out.residual),
        ]
        for pos, reason, detail, hits in sorted(problems, key=lambda p: p[0]):
            note = by_index[out.index].notes[pos]
            state.quarantine.add(
                QuarantineItem(
                    reason,
                    f"batch {out.index} note {pos}",
                    note.note_id,
                    detail,
                    _note_payload(note),
                )
            )
            state.counts.quarantined[reason.value] += 1
            if hits:
                state.counts.residual_by_check.update(hits.keys())
                withheld.update(hits.keys())
        state.writer.write(out.table)
        state.counts.rows_out += out.table.num_rows
        state.stats.add_output(out)
        state.counts.phi_by_type.update(out.phi_counts)
        state.counts.rows_by_split.update(out.table.column("split").to_pylist())
        state.policy_versions.update(out.table.column("policy_version").unique().to_pylist())
    if withheld:
        get_run_logger().warning(
            "withheld %d note(s) whose output still matched a residual-identifier check "
            "(%s): quarantined as %s",
            sum(len(o.residual) for o in outputs),
            SafeText(residual_detail(dict(withheld))),  # check names and counts only
            Reason.RESIDUAL_IDENTIFIER,
        )
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


RESIDUAL_CAP_CHECK = "residual_identifier_fraction"
QUARANTINE_CAP_CHECK = "quarantine_fraction"
NO_ROWS_CHECK = "rows_to_publish"


@task(name="enforce-gate", **NO_PHI_STORAGE)
def enforce_gate(state: RunState) -> None:
    """Raise if any window failed validation, any record is unaccounted for, the residual
    screen withheld more than ``validation.max_residual_fraction`` of the notes, or the
    publication guard refuses the run (``publication_guard``)."""
    counts = state.counts
    counts.check()
    failures = sorted(state.validation_failures.items())
    cap = state.run.config.validation.max_residual_fraction
    withheld, screened = counts.residual_withheld, counts.screened
    if withheld and withheld > cap * screened:
        failures.append(
            (
                f"{RESIDUAL_CAP_CHECK}: {withheld} of {screened} de-identified notes withheld "
                f"> validation.max_residual_fraction {cap:g}",
                withheld,
            )
        )
    refused = publication_guard(state.run.config, counts)
    if refused is not None and not failures:
        raise refused
    if refused is not None:
        failures.extend(refused.failures)
    if failures:
        raise ValidationFailed(failures)


def publication_guard(config: PipelineConfig, counts: RunCounts) -> PublicationRefused | None:
    """Why this run must not replace the published dataset, or ``None``.

    A wrong column mapping, an export that lost its text column or an empty extract reads
    as records that are all quarantined, or as nothing at all; published, it would
    replace a good dataset with an empty one.  So the run fails when more than
    ``validation.max_quarantine_fraction`` of the records read were quarantined, or when
    it has no row to publish (unless ``validation.allow_empty``, or an incremental run
    found nothing new, which publishes nothing anyway).
    """
    limits = config.validation
    # Skipped entries (hidden files, ...) are not records: they neither fail nor dilute it.
    quarantined, rows_in = counts.quarantined_total, counts.rows_in - counts.skipped_total
    if rows_in and quarantined > limits.max_quarantine_fraction * rows_in:
        reasons = ", ".join(f"{r} {n}" for r, n in counts.quarantined.most_common(3))
        return PublicationRefused(
            [
                (
                    f"{quarantined:,} of {rows_in:,} records were quarantined ({reasons}), "
                    f"more than validation.max_quarantine_fraction "
                    f"({limits.max_quarantine_fraction:.0%})",
                    quarantined,
                )
            ],
            advice="any previous dataset is untouched; most records failing the same way "
            "usually means a wrong `columns:` mapping or a broken export (EMPTY_TEXT, "
            "MISSING_ID): fix the source or the mapping, or raise "
            "validation.max_quarantine_fraction (--max-quarantine-fraction) if so many bad "
            "records are expected",
        )
    incremental_no_news = getattr(config.source, "incremental", False) and rows_in == 0
    if counts.rows_out == 0 and not limits.allow_empty and not incremental_no_news:
        what = "the source yielded no records" if rows_in == 0 else f"of {rows_in:,} records read"
        return PublicationRefused(
            [(f"the run has no rows to publish ({what})", rows_in)],
            advice="any previous dataset is untouched; check the source, or set "
            "validation.allow_empty (--allow-empty) to publish an empty dataset",
        )
    return None


# --- publish --------------------------------------------------------------------------


def run_id_for(run: RunContext, input_fingerprint: str) -> str:
    """Deterministic run ID: same config, key and input give the same ID (and manifest)."""
    blob = f"{run.config_hash}:{run.key_fingerprint}:{input_fingerprint}".encode()
    return hashlib.sha256(blob).hexdigest()[:16]


AUDIT_FILES = (SUMMARY_NAME, REPORT_JSON_NAME, REPORT_HTML_NAME)
"""Written by each run into its own version of the output dir: never carried over, so
new data never sits beside the previous run's audit files."""


@task(name="stage-manifest", **NO_PHI_STORAGE)
def stage_manifest(state: RunState, shards: list[ShardInfo]) -> dict[str, Any]:
    """Complete the next version of the output dir beside it, all but its audit files.

    The staging dir already holds the new shards; what stays from the current version
    (an incremental run's earlier shards, the lock, files of your own; not the previous
    run's audit files) is hard-linked in and the manifest written.  ``write_audit`` and
    ``write_report`` then add this run's audit files, and ``publish`` swaps the whole
    version in at once.  An incremental run that read nothing new keeps the published
    dataset as it is: the previous manifest is returned and nothing will be swapped.
    """
    run = state.run
    input_fingerprint = state.input_digest.hexdigest()
    run_id = run_id_for(run, input_fingerprint)
    previous = run.previous_manifest
    if previous is not None and state.counts.rows_in == 0:
        state.discard()
        state.publishing = False
        return previous

    # Quarantine first: if publishing fails, a rerun rewrites the same run-named files.
    verify_staged_shards(state.staging, shards)  # changed since sealed: publish nothing
    state.quarantine_report = state.quarantine.commit(run_id)
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
    state.staging.carry_over(
        (s["name"] for s in old_shards), rewritten=[MANIFEST_NAME, *AUDIT_FILES]
    )
    write_manifest(state.staging.path, manifest)
    return manifest


@task(name="publish", **NO_PHI_STORAGE)
def publish(state: RunState) -> None:
    """Swap the completed next version in: shards, manifest and audit files at once.

    One atomic exchange makes it the output dir (see ``pipelines.output.shards``): readers see
    the old dataset with its audit report or the new one with its own, never a mix.
    """
    if state.publishing:
        state.staging.swap_in()  # the commit point; the previous version is deleted after it


def residual_screen_summary(state: RunState) -> dict[str, Any]:
    """What the residual screen did in this run: counts and check names only."""
    counts = state.counts
    return {
        "max_fraction": state.run.config.validation.max_residual_fraction,
        "screened": counts.screened,
        "withheld": counts.residual_withheld,
        "by_check": dict(sorted(counts.residual_by_check.items())),
    }


@task(name="audit-summary", **NO_PHI_STORAGE)
def write_audit(state: RunState, manifest: dict[str, Any], flow_run_id: str | None) -> RunSummary:
    """Counts, timing and locations of this run, as ``run_summary.json`` and a return value."""
    run = state.run
    wall = time.perf_counter() - run.started
    counts = state.counts
    run_entry = manifest["runs"][-1] if manifest.get("runs") else {}
    # An incremental run with nothing new publishes nothing: the manifest is the last run's.
    published = counts.rows_in > 0 or run.previous_manifest is None
    new_shards = set(run_entry.get("shards", [])) if published else set()
    summary = RunSummary(
        run_id=manifest["run_id"] if published else "",
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
        skipped=counts.skipped_total,
        skipped_by_reason=dict(sorted(counts.skipped.items())),
        phi_by_type=dict(sorted(counts.phi_by_type.items())),
        rows_by_split=dict(sorted(counts.rows_by_split.items())),
        shards_written=len(new_shards),
        shard_bytes=sum(s["bytes"] for s in manifest["shards"] if s["name"] in new_shards),
        validation_success=True,
        wall_seconds=round(wall, 3),
        notes_per_second=round(counts.rows_in / wall, 1) if wall > 0 else 0.0,
        key_fingerprint=run.key_fingerprint,
        config_hash=run.config_hash,
        extra={"residual_screen": residual_screen_summary(state)},
    )
    write_summary(state.audit_dir, summary)  # into the version about to be published
    get_run_logger().info(summary.headline())
    return summary


@task(name="audit-report", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def write_report(
    state: RunState, manifest: dict[str, Any], summary: RunSummary
) -> ReportFiles | None:
    """Write ``audit_report.json`` + ``.html`` into the version about to be published.

    With ``report.gold_sample`` set, the run's detector is scored on that annotated sample
    to estimate the residual risk.  An incremental run that read nothing new keeps the
    previous report.  A failure here fails the run before anything is published.
    """
    from pipelines.report import make_run_report
    from pipelines.report.risk import evaluate_sample

    logger = get_run_logger()
    if not state.publishing:
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
        directory=state.audit_dir,
    )
    return files


@task(name="audit-artifacts", **NO_PHI_STORAGE)
def publish_artifacts(files: ReportFiles | None) -> None:
    """The audit report as Prefect artifacts (best effort: the dataset is published)."""
    from pipelines.report.artifacts import publish_run_artifacts

    logger = get_run_logger()
    if files is None:
        return
    logger.info("audit report: %s", Path(files.report["run"]["output_dir"]) / files.html_path.name)
    try:
        publish_run_artifacts(files.report)
    except Exception as exc:  # noqa: BLE001 - never fail a published run over the UI
        logger.warning("could not create Prefect artifacts (%s)", type(exc).__name__)
