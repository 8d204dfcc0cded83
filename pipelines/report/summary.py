"""The run summary: counts, timing, where things went.  No PHI, no raw IDs.

Not the audit report (``pipelines.report.audit``), which stewards sign off: this is
the run's own record, returned by ``run_pipeline`` and printed by ``deidflow run``.

``run_summary.json`` in the output directory is overwritten by each run.  Unlike the
manifest it varies between identical runs (wall time, the Prefect flow run ID), which
is why it is a separate file.  Per-record quarantine entries (source reference, note
ID, reason) are in the quarantine directory's ``report-<run_id>.json``, not here.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SUMMARY_NAME = "run_summary.json"


@dataclass(frozen=True)
class RunSummary:
    """What a finished run did; returned by ``run_pipeline`` and written as JSON."""

    run_id: str
    flow_run_id: str | None
    output_dir: str
    manifest: str
    quarantine_dir: str
    quarantine_report: str | None
    rows_in: int
    rows_out: int
    quarantined: int
    quarantined_by_reason: dict[str, int]
    duplicates_removed: int
    phi_by_type: dict[str, int]
    rows_by_split: dict[str, int]
    shards_written: int
    shard_bytes: int
    validation_success: bool
    wall_seconds: float
    notes_per_second: float
    key_fingerprint: str
    config_hash: str
    skipped: int = 0
    """Entries of the source that are not records (hidden files, ...): counted, not read."""
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        """One line for the terminal (the rate is the CLI's: it leaves start-up out)."""
        skipped = f", {self.skipped:,} skipped" if self.skipped else ""
        near, filtered = self.extra.get("near_duplicates_removed"), self.extra.get("filtered")
        if near:
            skipped += f", {near:,} near-duplicates removed"
        if filtered:
            skipped += f", {filtered:,} filtered"
        return (
            f"run {self.run_id or '(nothing new)'}: {self.rows_in:,} in, {self.rows_out:,} out, "
            f"{self.quarantined:,} quarantined, {self.duplicates_removed:,} duplicates removed"
            f"{skipped}, {self.shards_written} shard(s) in {self.wall_seconds:.1f} s"
        )


def write_summary(output_dir: Path, summary: RunSummary) -> Path:
    """Write ``run_summary.json`` atomically."""
    path = output_dir / SUMMARY_NAME
    tmp = output_dir / f".{SUMMARY_NAME}.tmp"
    tmp.write_text(json.dumps(summary.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
