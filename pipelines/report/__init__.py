"""The audit report of a run: versioned JSON, one self-contained HTML page, risk estimate.

``make_run_report`` builds and writes both files at the end of a run (the flow's
``audit-report`` task); ``regenerate_report`` re-renders them from the JSON, optionally
with a new residual-risk estimate from an annotated sample (``deidflow report``).

Files, beside ``manifest.json``: ``audit_report.json`` (schema
``schemas/audit_report.schema.json``) and ``audit_report.html`` (inline CSS and SVG, a
Content-Security-Policy that forbids every request: safe to open on locked-down machines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.output.lineage import lineage_summary
from pipelines.report.audit import (
    REPORT_HTML_NAME,
    REPORT_JSON_NAME,
    REPORT_SCHEMA_VERSION,
    build_report,
    read_report,
    utc_now,
    validation_checks,
    write_report_html,
    write_report_json,
)
from pipelines.report.risk import SampleInfo, estimate_risk, evaluate_sample, no_sample
from pipelines.report.stats import RunStats

if TYPE_CHECKING:
    from deid.config import DeidConfig
    from deid.detection.detector import Detector
    from deid.evaluation.metrics import EvaluationReport
    from pipelines.config import PipelineConfig
    from pipelines.report.summary import RunSummary
    from schemas.manifest import Manifest

__all__ = [
    "REPORT_HTML_NAME",
    "REPORT_JSON_NAME",
    "REPORT_SCHEMA_VERSION",
    "ReportFiles",
    "RunStats",
    "make_run_report",
    "read_report",
    "regenerate_report",
    "risk_section",
]

SampleEvaluator = Callable[[Path], "EvaluationReport"]


@dataclass(frozen=True)
class ReportFiles:
    """Where the report went, and the report itself (JSON-ready dict)."""

    json_path: Path
    html_path: Path
    report: dict[str, Any]


def risk_section(
    *,
    phi_total: int,
    notes_in_run: int,
    gold_sample: Path | None,
    evaluate: SampleEvaluator,
    detector_config_hash: str,
) -> dict[str, Any]:
    """The report's ``risk`` section: an estimate from ``gold_sample``, or "no sample"."""
    phi_per_note = phi_total / notes_in_run if notes_in_run else None
    if gold_sample is None:
        return no_sample(phi_per_note)
    evaluation = evaluate(gold_sample)
    return estimate_risk(
        evaluation,
        phi_per_note=phi_per_note,
        notes_in_run=notes_in_run,
        sample=SampleInfo.from_path(gold_sample),
        detector_config_hash=detector_config_hash,
    )


def make_run_report(
    *,
    config: PipelineConfig,
    manifest: Manifest,
    summary: RunSummary,
    stats: RunStats,
    source: dict[str, Any],
    evaluate: SampleEvaluator,
    directory: Path | None = None,
) -> ReportFiles:
    """Build the report of a run and write its JSON and HTML beside the manifest.

    ``evaluate`` scores the run's detector on an annotated sample (called only when
    ``config.report.gold_sample`` is set).  ``directory`` holds the run's shards and
    receives the report: the next version of the output dir, before it is published
    (default: the output dir).
    """
    output_dir = directory if directory is not None else Path(summary.output_dir)
    run_entry = manifest.runs[-1] if manifest.runs else None
    risk = risk_section(
        phi_total=sum(summary.phi_by_type.values()),
        notes_in_run=summary.rows_out,
        gold_sample=config.report.gold_sample,
        evaluate=evaluate,
        detector_config_hash=config.deid.config_hash(),
    )
    report = build_report(
        config=config,
        manifest=manifest,
        summary=summary,
        stats=stats,
        source=source,
        risk=risk,
        lineage=lineage_summary(output_dir, run_entry.run_id if run_entry else ""),
        validation_checks=validation_checks(),
    )
    json_path = write_report_json(output_dir, report)
    html_path = write_report_html(output_dir, report)
    return ReportFiles(json_path, html_path, report)


def regenerate_report(
    run_dir: Path, gold_sample: Path | None = None, deid_config: DeidConfig | None = None
) -> ReportFiles:
    """Re-render a run's report; with ``gold_sample``, re-estimate the residual risk first.

    The detector is built from ``deid_config``, else from the config recorded in the
    report (the run's own).  Needs no key: the report already holds the run's counts.
    """
    from deid.config import DeidConfig

    report = read_report(run_dir)
    if gold_sample is not None:
        config = deid_config or DeidConfig.model_validate(report["config"]["deid"])
        report["risk"] = risk_section(
            phi_total=int(report["phi"]["total"]),
            notes_in_run=int(report["counts"]["rows_out"]),
            gold_sample=gold_sample,
            evaluate=lambda path: evaluate_sample(path, _detector(config)),
            detector_config_hash=config.config_hash(),
        )
    report["generated_at"] = utc_now()
    json_path = write_report_json(run_dir, report)
    html_path = write_report_html(run_dir, report)
    return ReportFiles(json_path, html_path, report)


def _detector(config: DeidConfig) -> Detector:
    from deid.detection.detector import Detector

    return Detector(config.detection)
