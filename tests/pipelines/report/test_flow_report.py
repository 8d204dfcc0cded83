"""A real flow run writes the audit report and the Prefect artifacts, with no PHI in either.

Detection runs without the trained tagger to keep the module fast; the report's
figures are checked against the run's own summary and against the keyed pseudonyms.
"""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import jsonschema
import pyarrow.parquet as pq
import pytest

from deid.anonymization.keys import SecretKey
from pipelines.config import PipelineConfig
from pipelines.report import REPORT_HTML_NAME, REPORT_JSON_NAME
from pipelines.report.artifacts import artifact_key
from pipelines.report.summary import RunSummary
from pipelines.run import run_pipeline
from pipelines.transform import pseudonym
from tests.conftest import TEST_KEY
from tests.paths import SAMPLE
from tests.pipelines.report.helpers import schema

CANARY = "Zqxreportcanary"
N_NOTES = 12


@pytest.fixture(scope="module")
def run(
    prefect_harness: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[PipelineConfig, RunSummary, list[dict]]:
    tmp = tmp_path_factory.mktemp("report-flow")
    lines = SAMPLE.read_text().splitlines()
    notes = [json.loads(line) for line in lines[:N_NOTES]]
    notes.append(
        {
            "note_id": "canary-1",
            "patient_id": "pc",
            "note_type": "progress_note",
            "text": f"Seen with {CANARY} on the ward. Plan: continue.",
        }
    )
    source = tmp / "notes.jsonl"
    source.write_text(
        "".join(json.dumps({k: v for k, v in n.items() if k != "spans"}) + "\n" for n in notes)
    )
    gold = tmp / "gold.jsonl"
    gold.write_text("\n".join(lines[N_NOTES : N_NOTES + 6]) + "\n")
    config = PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(source), "batch_size": 8},
            "output": {"dir": str(tmp / "out")},
            "deid": {"detection": {"use_tagger": False}},
            "report": {"gold_sample": str(gold)},
        }
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEIDFLOW_KEY", TEST_KEY)
        summary = run_pipeline(config)
    return config, summary, notes


def _report(config: PipelineConfig) -> dict:
    return json.loads((config.output.dir / REPORT_JSON_NAME).read_text())


def test_report_is_valid_and_agrees_with_the_run(run) -> None:
    config, summary, notes = run
    report = _report(config)
    jsonschema.Draft202012Validator(schema()).validate(report)
    assert report["run"]["run_id"] == summary.run_id
    assert report["run"]["flow_run_id"] == summary.flow_run_id
    assert report["counts"]["rows_out"] == summary.rows_out == len(notes)
    assert report["phi"]["by_type"] == summary.phi_by_type
    by_note_type = report["phi"]["by_note_type"]
    assert sum(r["notes"] for r in by_note_type) == summary.rows_out
    assert sum(r["phi"] for r in by_note_type) == report["phi"]["total"]
    operators = report["operators"]
    assert sum(n for op, n in operators.items() if op != "keep") == report["phi"]["total"]
    assert (
        report["validation"]["windows"] >= 1 and report["validation"]["expectations_evaluated"] > 0
    )


def test_lineage_is_the_keyed_hash_of_each_input_id(run) -> None:
    config, _, notes = run
    key = SecretKey.from_text(TEST_KEY)
    lineage = pq.read_table(config.output.dir / "lineage.parquet").to_pylist()
    expected = {pseudonym(key, "note", n["note_id"]) for n in notes}
    assert {row["note_pseudonym"] for row in lineage} == expected
    for row in lineage:  # each entry names the shard and row that holds the note
        shard = pq.read_table(config.output.dir / row["shard"]).to_pylist()
        assert shard[row["row"]]["note_pseudonym"] == row["note_pseudonym"]
    report = _report(config)
    assert report["lineage"]["rows"] == len(notes) and set(report["lineage"]["sample"]) <= expected
    assert not any(n["note_id"] in json.dumps(report) for n in notes)


def test_risk_is_estimated_from_the_configured_sample(run) -> None:
    config, _, _ = run
    risk = _report(config)["risk"]
    assert risk["status"] == "estimated"
    assert risk["sample"]["notes"] == 6 and risk["sample"]["gold_spans"] > 0
    assert 0 < risk["recall"]["estimate"] <= 1
    assert risk["detector_config_hash"] == config.deid.config_hash()


def test_artifacts_are_on_the_flow_run_and_hold_no_note_text(run) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    config, summary, notes = run
    flow_filter = ArtifactFilter(
        flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(summary.flow_run_id)])
    )
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=flow_filter)
    keys = {a.key for a in artifacts}
    for suffix in (
        "summary",
        "counts",
        "phi-by-type",
        "phi-by-note-type",
        "validation",
        "recall-by-type",
    ):
        assert artifact_key(config.output.dir, suffix) in keys
    stored = json.dumps([a.model_dump(mode="json") for a in artifacts])
    assert str(summary.rows_out) in stored
    page = (config.output.dir / REPORT_HTML_NAME).read_text()
    for text in [CANARY, *(n["text"][:30] for n in notes)]:
        assert text not in stored and text not in page
        assert text not in (config.output.dir / REPORT_JSON_NAME).read_text()
