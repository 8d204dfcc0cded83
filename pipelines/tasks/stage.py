"""Stage the next version of the output dir: each window's rows and quarantined notes,
the sealed shards, the manifest."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from prefect import get_run_logger, task
from prefect.transactions import Transaction, get_transaction

from deid.entities import ENTITY_NAMES
from deid.errors import phi_safe_errors
from deid.safe_logging import SafeText
from pipelines.gate.residual import residual_detail
from pipelines.output.card import CARD_NAME
from pipelines.output.lineage import LINEAGE_NAME, write_lineage
from pipelines.output.manifest import MANIFEST_NAME, write_manifest
from pipelines.output.shards import file_sha256, renamed_shards, verify_staged_shards
from pipelines.quarantine import QuarantineItem, jsonable
from pipelines.records import Reason
from pipelines.report.audit import REPORT_HTML_NAME, REPORT_JSON_NAME
from pipelines.report.summary import SUMMARY_NAME
from pipelines.stream import Window
from pipelines.tasks import NO_PHI_STORAGE
from pipelines.tasks.context import NextVersion, RunContext, RunTally, StagedWindow, Staging
from pipelines.transform import BatchOutput, pipeline_version
from schemas.deidentified import SCHEMA_VERSION, SPLITS, phi_count_column
from schemas.manifest import MANIFEST_VERSION, Counts, Manifest, RunEntry, ShardEntry, Validation
from schemas.notes import NoteRecord

AUDIT_FILES = (SUMMARY_NAME, REPORT_JSON_NAME, REPORT_HTML_NAME, CARD_NAME)
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
    filtered: Counter[str] = Counter()
    removed_near = [0]
    words_by_split: Counter[str] = Counter()
    tokens_by_split: Counter[str] | None = Counter() if staging.counts_tokens else None
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
        table = _drop_removed(staging, out, filtered, removed_near)
        staging.writer.write(table)
        rows_out += table.num_rows
        phi_by_type.update(_phi_counts(table))
        splits = table.column("split").to_pylist()
        rows_by_split.update(splits)
        for split, words in zip(splits, table.column("n_words").to_pylist(), strict=True):
            words_by_split[split] += words
        if tokens_by_split is not None:
            for split, n in zip(splits, table.column("n_tokens").to_pylist(), strict=True):
                tokens_by_split[split] += n or 0
        policy_versions.update(table.column("policy_version").unique().to_pylist())
    if withheld:
        get_run_logger().warning(
            "withheld %d note(s) whose output still matched a residual-identifier check "
            "(%s): quarantined as %s",
            sum(len(o.residual) for o in outputs),
            SafeText(residual_detail(dict(withheld))),  # check names and counts only
            Reason.RESIDUAL_IDENTIFIER,
        )
    return StagedWindow(
        rows_out,
        quarantined,
        withheld,
        phi_by_type,
        rows_by_split,
        frozenset(policy_versions),
        near_duplicates_removed=removed_near[0],
        filtered=filtered,
        words_by_split=words_by_split,
        tokens_by_split=tokens_by_split,
    )


def _drop_removed(
    staging: Staging, out: BatchOutput, filtered: Counter[str], removed_near: list[int]
) -> pa.Table:
    """The batch's rows minus those a content filter or the near-duplicate index removes
    (``out`` is trimmed to them).

    Filters first (a filtered note never enters the index); then each remaining row's
    signature is checked in row order against every note staged before it.
    """
    index = staging.near_duplicates
    table = out.table
    if not out.filter_reasons:  # an empty batch, or every note failed
        return table
    patients = table.column("patient_pseudonym").to_pylist() if index is not None else []
    scope_patient = staging.near_duplicate_scope == "patient"
    keep = []
    for i, (reason, sig) in enumerate(zip(out.filter_reasons, out.signatures, strict=True)):
        if reason is not None:
            filtered[reason] += 1
        elif (
            index is not None
            and sig is not None
            and index.check(sig, patients[i] if scope_patient else "")
        ):
            removed_near[0] += 1
        else:
            keep.append(i)
    # Trim the batch's per-row lists too: the report's statistics (built from ``outputs``
    # after staging) then cover the published rows only.  Validation already ran on all.
    out.keep_rows(keep)
    return out.table


def _phi_counts(table: pa.Table) -> Counter[str]:
    """Replaced spans per entity type over the rows of ``table``."""
    counts: Counter[str] = Counter()
    for entity in ENTITY_NAMES:
        total = pc.sum(table.column(phi_count_column(entity))).as_py() or 0
        if total:
            counts[entity] = total
    return counts


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
def seal_shards(staging: Staging) -> list[ShardEntry]:
    """Close and name the staged shards; deleted again if the enclosing transaction rolls
    back.  A split without any shard gets a schema-only one, so loaders always find the
    three splits (``ShardWriter.close``)."""
    txn = get_transaction()
    assert txn is not None, "seal_shards must run inside the flow's transaction"
    txn.set("staging", staging)
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
    renames = renamed_shards(old_shards, shards)  # appends change each split's -of-N
    kept = [s.model_copy(update={"name": renames[s.name]}) for s in old_shards]
    all_shards = sorted([*kept, *shards], key=lambda s: (SPLITS.index(s.split), s.name))
    earlier_runs = [
        r.model_copy(update={"shards": [renames.get(n, n) for n in r.shards]})
        for r in (previous.runs if previous else [])
    ]
    rows_by_split = dict.fromkeys(SPLITS, 0)
    for shard in all_shards:
        rows_by_split[shard.split] += shard.rows
    policies = sorted(tally.policy_versions | set(previous.policy_versions if previous else []))
    tokenizer = run.config.tokens.tokenizer
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
        rows_by_split=rows_by_split,
        tokenizer_sha256=file_sha256(tokenizer) if tokenizer is not None else None,
        validation=validation,
        shards=all_shards,
        runs=[*earlier_runs, run_entry],
    )
    staging.area.carry_over(renames, rewritten=[MANIFEST_NAME, LINEAGE_NAME, *AUDIT_FILES])
    previous_lineage = run.output_dir / LINEAGE_NAME if previous is not None else None
    write_lineage(staging.area.path, shards, run_id, previous_lineage, renames)
    write_manifest(staging.area.path, manifest)
    return NextVersion(
        manifest, publishing=True, audit_dir=staging.area.path, quarantine_report=quarantine_report
    )
