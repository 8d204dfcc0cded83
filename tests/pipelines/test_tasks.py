"""Task bodies called directly (``.fn``): failure accounting without a Prefect server."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipelines.config import PipelineConfig
from pipelines.stream import CountMismatch, Window
from pipelines.tasks import RunContext, RunState, enforce_gate, stage_window, validate_window
from pipelines.transform import BatchOutput, NoteBatch
from pipelines.validation import ValidationFailed
from schemas.deidentified import DEIDENTIFIED_SCHEMA
from schemas.notes import NoteRecord


@pytest.fixture
def state(tmp_path: Path) -> RunState:
    src = tmp_path / "notes.jsonl"
    src.write_text("")
    config = PipelineConfig.model_validate(
        {"source": {"kind": "files", "path": str(src)}, "output": {"dir": str(tmp_path / "out")}}
    )
    (tmp_path / "out").mkdir()
    return RunState(RunContext(config, tmp_path / "out", "hash", "fp", None, 0, None))


def test_a_note_that_raised_is_quarantined_and_accounted_for(state: RunState) -> None:
    note = NoteRecord("n1", "p1", "Mr. Canary was seen.")
    window = Window([NoteBatch(0, (note,))], rows_in=1)
    failed = BatchOutput(0, DEIDENTIFIED_SCHEMA.empty_table(), [], [], Counter(), [(0, "KeyError")])
    assert validate_window.fn(state, window, [failed]) is True
    stage_window.fn(state, window, [failed])
    state.counts.rows_in = 1
    enforce_gate.fn(state)  # 1 in == 0 out + 1 quarantined
    report = json.loads(state.quarantine.commit("r1").read_text())
    assert report["records"] == [
        {
            "detail": "KeyError",
            "note_id": "n1",
            "reason": "PROCESSING_ERROR",
            "source_ref": "batch 0 note 0",
        }
    ]
    held = (state.quarantine.directory / "quarantine-r1.jsonl").read_text()
    assert "Mr. Canary" in held


def test_gate_refuses_lost_records_and_failed_windows(state: RunState) -> None:
    state.counts.rows_in = 2
    with pytest.raises(CountMismatch, match="rows_in=2"):
        enforce_gate.fn(state)
    state.counts.rows_in = 0
    state.validation_failures["residual_ssn: x"] = 3
    with pytest.raises(ValidationFailed, match=r"residual_ssn: x \[3 row"):
        enforce_gate.fn(state)


def test_a_window_that_loses_a_record_fails_validation(state: RunState) -> None:
    window = Window([], rows_in=3, quarantined=1, duplicates_removed=1)
    assert validate_window.fn(state, window, []) is False
    assert state.validation_failures == {"row_reconciliation": 1}
