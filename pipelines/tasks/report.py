"""After staging: the run summary, the audit report (JSON + HTML, with the risk estimate)
and the report as Prefect artifacts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task

from deid.errors import phi_safe_errors
from pipelines.output.card import write_card
from pipelines.output.manifest import MANIFEST_NAME
from pipelines.report import ReportFiles, make_run_report
from pipelines.report.artifacts import publish_run_artifacts
from pipelines.report.audit import REMOVAL_KEYS
from pipelines.report.risk import evaluate_sample
from pipelines.report.summary import RunSummary, write_summary
from pipelines.stream import RunCounts
from pipelines.tasks import NO_PHI_STORAGE
from pipelines.tasks.context import NextVersion, RunContext, RunTally, Staging
from pipelines.tasks.deidentify import checked_out_transformer


def residual_screen_summary(run: RunContext, counts: RunCounts) -> dict[str, Any]:
    """What the residual screen did in this run: counts and check names only."""
    return {
        "max_fraction": run.config.validation.max_residual_fraction,
        "screened": counts.screened,
        "withheld": counts.residual_withheld,
        "by_check": dict(sorted(counts.residual_by_check.items())),
    }


@task(name="run-summary", **NO_PHI_STORAGE)
def write_run_summary(
    run: RunContext,
    staging: Staging,
    tally: RunTally,
    version: NextVersion,
    flow_run_id: str | None,
) -> RunSummary:
    """Counts, timing and locations of this run, as ``run_summary.json`` and a return value."""
    wall = time.perf_counter() - run.started
    counts = tally.counts
    manifest = version.manifest
    run_entry = manifest.runs[-1] if manifest.runs else None
    # An incremental run with nothing new publishes nothing: the manifest is the last run's.
    published = counts.rows_in > 0 or run.previous_manifest is None
    new_shards = set(run_entry.shards) if published and run_entry else set()
    summary = RunSummary(
        run_id=manifest.run_id if published else "",
        flow_run_id=flow_run_id,
        output_dir=str(run.output_dir),
        manifest=str(run.output_dir / MANIFEST_NAME),
        quarantine_dir=str(staging.quarantine.directory),
        quarantine_report=str(version.quarantine_report) if version.quarantine_report else None,
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
        shard_bytes=sum(s.bytes for s in manifest.shards if s.name in new_shards),
        validation_success=True,
        wall_seconds=round(wall, 3),
        notes_per_second=round(counts.rows_in / wall, 1) if wall > 0 else 0.0,
        key_fingerprint=run.key_fingerprint,
        config_hash=run.config_hash,
        extra={
            "residual_screen": residual_screen_summary(run, counts),
            **{key: counts.to_dict()[key] for key in REMOVAL_KEYS},
        },
    )
    write_summary(version.audit_dir, summary)  # into the version about to be published
    get_run_logger().info(summary.headline())
    return summary


@task(name="audit-report", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def write_report(
    run: RunContext,
    staging: Staging,
    tally: RunTally,
    version: NextVersion,
    summary: RunSummary,
) -> ReportFiles | None:
    """Write ``audit_report.json`` + ``.html`` and the dataset card (``README.md``) into the
    version about to be published.

    With ``report.gold_sample`` set, the run's detector is scored on that annotated sample
    to estimate the residual risk.  An incremental run that read nothing new keeps the
    previous report.  A failure here fails the run before anything is published.
    """
    logger = get_run_logger()
    if not version.publishing:
        logger.info("nothing new was read: the previous audit report stays")
        return None
    config = run.config

    def evaluate(sample: Path) -> Any:
        with checked_out_transformer(config) as transformer:  # the run's own detector
            return evaluate_sample(sample, transformer.deidentifier.detector)

    files = make_run_report(
        config=config,
        manifest=version.manifest,
        summary=summary,
        stats=tally.stats,
        source=staging.source.describe(),
        evaluate=evaluate,
        directory=version.audit_dir,
    )
    # The dataset card, from the manifest and this report: published with them.
    write_card(version.audit_dir, version.manifest, files.report, config)
    return files


@task(name="audit-artifacts", **NO_PHI_STORAGE)
def publish_artifacts(files: ReportFiles | None) -> None:
    """The audit report as Prefect artifacts (best effort: the dataset is published)."""
    logger = get_run_logger()
    if files is None:
        return
    logger.info("audit report: %s", Path(files.report["run"]["output_dir"]) / files.html_path.name)
    try:
        publish_run_artifacts(files.report)
    except Exception as exc:  # noqa: BLE001 - never fail a published run over the UI
        logger.warning("could not create Prefect artifacts (%s)", type(exc).__name__)
