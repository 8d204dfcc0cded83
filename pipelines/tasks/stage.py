"""Stage the next version of the output dir: each window's rows and quarantined notes,
the sealed shards, the manifest."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from prefect import get_run_logger, task
from prefect.transactions import Transaction, get_transaction

from deid.errors import phi_safe_errors
from deid.safe_logging import SafeText
from pipelines.gate.residual import residual_detail
from pipelines.output.manifest import MANIFEST_NAME, write_manifest
from pipelines.output.shards import verify_staged_shards
from pipelines.quarantine import QuarantineItem, jsonable
from pipelines.records import Reason
from pipelines.report.audit import REPORT_HTML_NAME, REPORT_JSON_NAME
from pipelines.report.summary import SUMMARY_NAME
from pipelines.stream import Window
from pipelines.tasks import NO_PHI_STORAGE
from pipelines.tasks.context import NextVersion, RunContext, RunTally, StagedWindow, Staging
from pipelines.transform import BatchOutput, pipeline_version
from schemas.deidentified import SCHEMA_VERSION
from schemas.manifest import MANIFEST_VERSION, Counts, Manifest, RunEntry, ShardEntry, Validation
from schemas.notes import NoteRecord

AUDIT_FILES = (SUMMARY_NAME, REPORT_JSON_NAME, REPORT_HTML_NAME)
"""Written by each run into its own version of the output dir: never carried over, so
new data never sits beside the previous run's audit files."""


@task(name="stage-window", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def stage_window(staging: Staging, window: Window, outputs: list[BatchOutput]) -> StagedWindow:
    """Append the window's rows to the staged shards; quarantine notes that raised or
    that the residual screen withheld (in batch order: the quarantine file is reproducible)."""
    by_index = {b.index: b for b in window.batches}
    quarantined: Counter[str] = Counter()
    withheld: Counter[str] = Counter()
    phi_by_type: Counter[str] = Counter()
    rows_by_split: Counter[str] = Counter()
    policy_versions: set[str] = set()
    rows_out = 0
    for out in sorted(outputs, key=lambda o: o.index):
        problems = [
            *((pos, Reason.PROCESSING_ERROR, exc_type, None) for pos, exc_type in out.failures),
            *((pos, Reason.RESIDUAL_IDENTIFIER, residual_detail(h), h) for pos, h in out.residual),
        ]
        for pos, reason, detail, hits in sorted(problems, key=lambda p: p[0]):
            note = by_index[out.index].notes[pos]
            staging.quarantine.add(
                QuarantineItem(
                    reason,
                    f"batch {out.index} note {pos}",
                    note.note_id,
                    detail,
                    _note_payload(note),
                )
            )
            quarantined[reason.value] += 1
            if hits:
                withheld.update(hits.keys())
        staging.writer.write(out.table)
        rows_out += out.table.num_rows
        phi_by_type.update(out.phi_counts)
        rows_by_split.update(out.table.column("split").to_pylist())
        policy_versions.update(out.table.column("policy_version").unique().to_pylist())
    if withheld:
        get_run_logger().warning(
            "withheld %d note(s) whose output still matched a residual-identifier check "
            "(%s): quarantined as %s",
            sum(len(o.residual) for o in outputs),
            SafeText(residual_detail(dict(withheld))),  # check names and counts only
            Reason.RESIDUAL_IDENTIFIER,
        )
    return StagedWindow(
        rows_out, quarantined, withheld, phi_by_type, rows_by_split, frozenset(policy_versions)
    )


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


@task(name="seal-shards", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def seal_shards(staging: Staging, write_empty: bool) -> list[ShardEntry]:
    """Close the last staged shard; deleted again if the enclosing transaction rolls back.

    ``write_empty``: write a shard without rows if there is none (loaders get a schema
    even from an empty run).
    """
    txn = get_transaction()
    assert txn is not None, "seal_shards must run inside the flow's transaction"
    txn.set("staging", staging)
    if write_empty:
        staging.writer.write_empty_shard()
    return staging.writer.close()


@seal_shards.on_rollback
def _discard_staging(txn: Transaction) -> None:
    txn.get("staging").discard()


def run_id_for(run: RunContext, input_fingerprint: str) -> str:
    """Deterministic run ID: same config, key and input give the same ID (and manifest)."""
    blob = f"{run.config_hash}:{run.key_fingerprint}:{input_fingerprint}".encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@task(name="stage-manifest", **NO_PHI_STORAGE)
def stage_manifest(
    run: RunContext, staging: Staging, tally: RunTally, shards: list[ShardEntry]
) -> NextVersion:
    """Complete the next version of the output dir beside it, all but its audit files.

    The staging dir already holds the new shards; what stays from the current version
    (an incremental run's earlier shards, the lock, files of your own; not the previous
    run's audit files) is hard-linked in and the manifest written.  The report tasks
    then add this run's audit files, and ``publish`` swaps the whole version in at once.
    An incremental run that read nothing new keeps the published dataset as it is: its
    manifest is returned and nothing will be swapped.
    """
    input_fingerprint = tally.input_digest.hexdigest()
    run_id = run_id_for(run, input_fingerprint)
    previous = run.previous_manifest
    if previous is not None and tally.counts.rows_in == 0:
        staging.discard()
        return NextVersion(previous, publishing=False, audit_dir=run.output_dir)

    # Quarantine first: if publishing fails, a rerun rewrites the same run-named files.
    verify_staged_shards(staging.area, shards)  # changed since sealed: publish nothing
    quarantine_report = staging.quarantine.commit(run_id)
    validation = Validation(success=True, windows=tally.windows_validated, failures=[])
    run_entry = RunEntry(
        run_id=run_id,
        input_fingerprint=input_fingerprint,
        counts=Counts.model_validate(tally.counts.to_dict()),
        shards=[s.name for s in shards],
        validation=validation,
        watermark=staging.source.watermark,
    )
    old_shards = previous.shards if previous else []
    all_shards = [*old_shards, *shards]
    policies = sorted(tally.policy_versions | set(previous.policy_versions if previous else []))
    manifest = Manifest(
        manifest_version=MANIFEST_VERSION,
        schema_version=SCHEMA_VERSION,
        pipeline_version=pipeline_version(),
        policy_versions=policies,
        run_id=run_id,
        config_hash=run.config_hash,
        key_fingerprint=run.key_fingerprint,
        source={**staging.source.describe(), "watermark": staging.source.watermark},
        splits=run.config.output.splits.model_dump(),
        rows=sum(s.rows for s in all_shards),
        validation=validation,
        shards=all_shards,
        runs=[*(previous.runs if previous else []), run_entry],
    )
    staging.area.carry_over((s.name for s in old_shards), rewritten=[MANIFEST_NAME, *AUDIT_FILES])
    write_manifest(staging.area.path, manifest)
    return NextVersion(
        manifest, publishing=True, audit_dir=staging.area.path, quarantine_report=quarantine_report
    )
