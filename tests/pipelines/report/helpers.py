"""A small, realistic report built through the real builders (no Prefect, no detector)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from deid.evaluation.metrics import CategoryScore, EvaluationReport
from pipelines.config import PipelineConfig
from pipelines.output.lineage import write_lineage
from pipelines.report import REPORT_SCHEMA_VERSION, RunStats, make_run_report
from pipelines.report.summary import RunSummary
from pipelines.transform import BatchOutput
from schemas.deidentified import DEIDENTIFIED_SCHEMA
from schemas.manifest import Manifest
from tests.paths import REPO

SCHEMA_PATH = REPO / "schemas" / "audit_report.schema.json"
HASHES = [f"{i:024x}" for i in range(1, 6)]
EVIL_NOTE_TYPE = '<script>alert("x")</script>'


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def output_batch(note_types: list[str | None], tokens: list[int], phi: list[int]) -> BatchOutput:
    """A batch whose table carries only what ``RunStats`` reads (note types, PHI totals)."""
    n = len(note_types)
    columns: dict[str, list[Any]] = {name: [None] * n for name in DEIDENTIFIED_SCHEMA.names}
    columns["note_type"] = note_types
    columns["phi_total"] = phi
    table = pa.Table.from_pydict(columns, schema=DEIDENTIFIED_SCHEMA.remove_metadata())
    out = BatchOutput(0, table, [], [], Counter(), [])
    out.orig_tokens = tokens
    out.operator_counts = Counter({"surrogate": 5, "date_shift": 3, "keep": 1})
    return out


def evaluation(full_cover: int = 90, gold: int = 100, name_cover: int = 5) -> EvaluationReport:
    """``gold`` spans, 10 of them names (``name_cover`` of those covered), the rest dates."""
    return EvaluationReport(
        notes=20,
        gold_spans=gold,
        predicted_spans=gold + 5,
        full_cover=full_cover,
        any_overlap=full_cover,
        token_tp=0,
        token_fp=0,
        token_fn=0,
        per_category={
            "Date": CategoryScore(gold - 10, full_cover - name_cover, full_cover - name_cover),
            "Name": CategoryScore(10, name_cover, name_cover),
        },
    )


def write_run(tmp_path: Path, gold_sample: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """An output dir with one real shard, a manifest-like dict and a written report."""
    out = tmp_path / "out"
    out.mkdir()
    source = tmp_path / "notes.jsonl"
    source.write_text("")
    shard = "data/train-00000-of-00001.parquet"
    (out / "data").mkdir()
    pq.write_table(pa.table({"note_pseudonym": HASHES}), out / shard)
    config = PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(source)},
            "output": {"dir": str(out)},
            "report": {"gold_sample": str(gold_sample) if gold_sample else None},
        }
    )
    summary = RunSummary(
        run_id="0123456789abcdef",
        flow_run_id="7c1f2e4a-0000-0000-0000-000000000000",
        output_dir=str(out),
        manifest=str(out / "manifest.json"),
        quarantine_dir=str(tmp_path / "notes.jsonl.deidflow-quarantine-RESTRICTED"),
        quarantine_report=str(tmp_path / "q" / "report-0123456789abcdef.json"),
        rows_in=7,
        rows_out=5,
        quarantined=1,
        quarantined_by_reason={"EMPTY_TEXT": 1},
        duplicates_removed=1,
        phi_by_type={"DATE": 6, "PERSON": 4},
        rows_by_split={"train": 5},
        shards_written=1,
        shard_bytes=100,
        validation_success=True,
        wall_seconds=1.5,
        notes_per_second=4.7,
        key_fingerprint="0123456789abcdef",
        config_hash="a" * 64,
    )
    manifest = example_manifest(shard)
    write_lineage(out, manifest.shards, manifest.run_id)
    stats = RunStats()
    stats.add_output(
        output_batch(["nursing_note", "nursing_note", None], [100, 300, 50], [3, 2, 1])
    )
    stats.add_output(output_batch([EVIL_NOTE_TYPE, "discharge"], [200, 400], [4, 0]))
    stats.add_validation(
        {"evaluated_expectations": 72, "residual_scope": "outside_replaced_spans", "skipped": []}
    )
    files = make_run_report(
        config=config,
        manifest=manifest,
        summary=summary,
        stats=stats,
        source={"kind": "files", "format": "jsonl", "name": "notes.jsonl"},
        evaluate=lambda path: evaluation(),
    )
    assert files.report["schema_version"] == REPORT_SCHEMA_VERSION
    return out, files.report


def example_manifest(shard: str = "data/train-00000-of-00001.parquet") -> Manifest:
    """A one-shard, one-run manifest of 5 rows."""
    validation = {"success": True, "windows": 1, "failures": []}
    counts = {
        "rows_in": 7,
        "rows_out": 5,
        "quarantined": 1,
        "quarantined_by_reason": {"EMPTY_TEXT": 1},
        "duplicates_removed": 1,
        "skipped": 0,
        "skipped_by_reason": {},
        "phi_by_type": {"DATE": 6, "PERSON": 4},
        "rows_by_split": {"train": 5},
    }
    return Manifest.model_validate(
        {
            "manifest_version": 2,
            "schema_version": "2",
            "pipeline_version": "0.1.0",
            "policy_versions": ["safe_harbor@abc"],
            "run_id": "0123456789abcdef",
            "config_hash": "a" * 64,
            "key_fingerprint": "0123456789abcdef",
            "source": {"kind": "files", "format": "jsonl", "name": "notes.jsonl"},
            "splits": {"train": 0.8, "validation": 0.1, "test": 0.1},
            "rows": 5,
            "rows_by_split": {"train": 5, "validation": 0, "test": 0},
            "validation": validation,
            "shards": [
                {"name": shard, "split": "train", "rows": 5, "bytes": 100, "sha256": "b" * 64}
            ],
            "runs": [
                {
                    "run_id": "0123456789abcdef",
                    "input_fingerprint": "c" * 64,
                    "counts": counts,
                    "shards": [shard],
                    "validation": validation,
                    "watermark": None,
                }
            ],
        }
    )
