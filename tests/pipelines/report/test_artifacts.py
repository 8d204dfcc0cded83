"""Prefect artifacts rendered from the report: keys, summary text, tables; no PHI."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.report.artifacts import (
    artifact_key,
    artifact_tables,
    risk_sentence,
    summary_markdown,
)
from pipelines.report.risk import SampleInfo, estimate_risk
from tests.pipelines.report.helpers import HASHES, evaluation, write_run
from tests.timing import assert_costs_like_benign

_VALID_KEY = re.compile(r"^[a-z0-9-]+$")


def test_keys_follow_prefect_rules() -> None:
    assert artifact_key("/data/out/Cardiology Notes_2024", "summary") == (
        "deidflow-cardiology-notes-2024-summary"
    )
    assert artifact_key("/", "counts") == "deidflow-output-counts"
    assert _VALID_KEY.match(artifact_key("/x/ÄÖ__--..", "phi-by-type"))
    assert len(artifact_key("/x/" + "a" * 500, "summary")) <= 120


def test_key_slug_runs_in_linear_time() -> None:
    for hostile in ("a-" * 50_000, "-" * 100_000, "Ab1 ." * 20_000):
        assert _VALID_KEY.match(artifact_key(f"/x/{hostile}", "summary"))
        assert_costs_like_benign(lambda name: artifact_key(f"/x/{name}", "summary"), hostile)


def test_summary_and_tables_carry_the_runs_numbers(tmp_path: Path) -> None:
    _, report = write_run(tmp_path)
    markdown = summary_markdown(report)
    assert "| Rows in | 7 |" in markdown and "| Quarantined | 1 |" in markdown
    assert "**Validation:** passed" in markdown
    assert "not estimated" in markdown
    assert "audit_report.html" in markdown
    tables = artifact_tables(report)
    assert set(tables) == {
        "counts",
        "phi-by-type",
        "phi-by-source",
        "phi-by-note-type",
        "operators",
        "quarantine",
        "validation",
        "shards",
    }
    assert tables["phi-by-type"][1] == [
        {"type": "DATE", "spans": 6},
        {"type": "PERSON", "spans": 4},
    ]
    assert tables["phi-by-source"][1][0] == {
        "source": "files:notes.jsonl",
        "type": "DATE",
        "spans": 6,
    }
    assert {r["status"] for r in tables["validation"][1]} == {"passed"}
    # Lineage hashes stay in the JSON report; artifacts carry counts.
    assert not any(h in str(tables) + markdown for h in HASHES)


def test_estimated_risk_adds_the_recall_table_and_sentence(tmp_path: Path) -> None:
    _, report = write_run(tmp_path)
    report["risk"] = estimate_risk(
        evaluation(90, 100),
        phi_per_note=2.0,
        notes_in_run=5,
        sample=SampleInfo("mine.jsonl", "c" * 64),
        detector_config_hash="d" * 64,
    )
    sentence = risk_sentence(report["risk"])
    assert sentence.startswith("about 2,222.2 leaked identifiers per 10,000 notes (95 % CI ")
    assert "90.0 %" in sentence and "`mine.jsonl`" in sentence
    rows = artifact_tables(report)["recall-by-type"][1]
    assert rows[0]["type"] == "Date" and rows[0]["annotated"] == 90
