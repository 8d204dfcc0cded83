"""Task bodies called directly (``.fn``): failure accounting without a Prefect server."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipelines.config import PipelineConfig
from pipelines.gate.enforcement import PublicationRefused, ValidationFailed, publication_guard
from pipelines.gate.residual import screen_residuals
from pipelines.stream import CountMismatch, RunCounts, Window
from pipelines.tasks.context import RunContext, RunTally, Staging
from pipelines.tasks.gate import enforce_gate, validate_window
from pipelines.tasks.stage import stage_window
from pipelines.transform import BatchOutput, NoteBatch, NoteTransformer
from schemas.deidentified import DEIDENTIFIED_SCHEMA
from schemas.notes import NoteRecord
from tests.pipelines.test_transform import KEY, FakeDeidentifier


@dataclass
class Rig:
    """One run's context, staging area and tally, as the flow holds them."""

    run: RunContext
    staging: Staging
    tally: RunTally = field(default_factory=RunTally)

    @property
    def counts(self) -> RunCounts:
        return self.tally.counts

    def validate(self, window: Window, outputs: list[BatchOutput]) -> bool:
        outcome = validate_window.fn(window, outputs)
        self.tally.add_verdict(outcome)
        return outcome.success

    def stage(self, window: Window, outputs: list[BatchOutput]) -> None:
        self.tally.add_staged(stage_window.fn(self.staging, window, outputs), outputs)

    def enforce(self) -> None:
        enforce_gate.fn(self.run.config, self.counts, self.tally.window_failures)


def _rig(config: PipelineConfig, out: Path) -> Rig:
    run = RunContext(config, out, "hash", "fp", None, 0, None)
    return Rig(run, Staging(run))


@pytest.fixture
def state(tmp_path: Path) -> Rig:
    src = tmp_path / "notes.jsonl"
    src.write_text("")
    config = PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(src)},
            "output": {"dir": str(tmp_path / "out")},
            # These tests account for a handful of records, most of them failing on purpose.
            "validation": {"max_quarantine_fraction": 1.0, "allow_empty": True},
        }
    )
    (tmp_path / "out").mkdir()
    return _rig(config, tmp_path / "out")


def test_a_note_that_raised_is_quarantined_and_accounted_for(state: Rig) -> None:
    note = NoteRecord("n1", "p1", "Mr. Canary was seen.")
    window = Window([NoteBatch(0, (note,))], rows_in=1)
    failed = BatchOutput(0, DEIDENTIFIED_SCHEMA.empty_table(), [], [], Counter(), [(0, "KeyError")])
    assert state.validate(window, [failed]) is True
    state.stage(window, [failed])
    state.counts.rows_in = 1
    state.enforce()  # 1 in == 0 out + 1 quarantined
    report = json.loads(state.staging.quarantine.commit("r1").read_text())
    assert report["records"] == [
        {
            "detail": "KeyError",
            "note_id": "n1",
            "reason": "PROCESSING_ERROR",
            "source_ref": "batch 0 note 0",
        }
    ]
    held = (state.staging.quarantine.directory / "quarantine-r1.jsonl").read_text()
    assert "Mr. Canary" in held


def test_gate_refuses_lost_records_and_failed_windows(state: Rig) -> None:
    state.counts.rows_in = 2
    with pytest.raises(CountMismatch, match="rows_in=2"):
        state.enforce()
    state.counts.rows_in = 0
    state.tally.window_failures["residual_ssn: x"] = 3
    with pytest.raises(ValidationFailed, match=r"residual_ssn: x \[3 row"):
        state.enforce()


def test_a_window_that_loses_a_record_fails_validation(state: Rig) -> None:
    window = Window([], rows_in=3, quarantined=1, duplicates_removed=1)
    assert state.validate(window, []) is False
    assert state.tally.window_failures == {"row_reconciliation": 1}
    assert state.tally.windows_validated == 1


SSN = "078-05-1120"


def _screened_window(state: Rig, tmp_path: Path) -> tuple[Window, list[BatchOutput]]:
    """Four notes: clean, residual SSN, raises, residual phone + SSN (stand-in detector)."""
    notes = (
        NoteRecord("n0", "p0", "SECRET was seen."),
        NoteRecord("n1", "p1", f"SECRET gave SSN {SSN}."),
        NoteRecord("n2", "p2", "BOOM"),
        NoteRecord("n3", "p3", f"SECRET: call 617-555-0199, SSN {SSN}"),
    )
    batch = NoteBatch(0, notes)
    out = NoteTransformer(state.run.config, KEY, FakeDeidentifier()).transform(batch)
    assert out.phi_counts == {"PERSON": 3} and out.operator_counts == {"tag": 3, "keep": 3}
    assert screen_residuals(out, len(batch)) == 2
    return Window([batch], rows_in=4), [out]


def test_a_residual_identifier_withholds_the_row_not_the_run(
    state: Rig,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logger = logging.getLogger("test.deidflow.tasks")  # stands in for Prefect's run logger
    monkeypatch.setattr("pipelines.tasks.stage.get_run_logger", lambda: logger)
    window, outputs = _screened_window(state, tmp_path)
    (out,) = outputs
    assert out.table.num_rows == 1 and out.residual == [
        (1, {"residual_ssn": 1}),
        (3, {"residual_phone": 1, "residual_ssn": 1}),
    ]
    # Every per-row list and per-batch count now describes the one row that stays.
    assert out.phi_counts == {"PERSON": 1} and out.operator_counts == {"tag": 1, "keep": 1}
    assert len(out.replaced_spans) == len(out.orig_kept_chars) == len(out.orig_tokens) == 1
    assert out.orig_kept_chars == [len(" was seen.")]  # n0's, not a withheld note's
    assert state.validate(window, outputs) is True  # 4 in = 1 out + 3 quarantined
    with caplog.at_level(logging.WARNING, logger=logger.name):
        state.stage(window, outputs)
    assert [r.getMessage() for r in caplog.records if r.name == logger.name] == [
        "withheld 2 note(s) whose output still matched a residual-identifier check "
        "(residual_phone=1 residual_ssn=2): quarantined as RESIDUAL_IDENTIFIER"
    ]
    state.counts.rows_in = 4
    assert state.counts.quarantined == {"PROCESSING_ERROR": 1, "RESIDUAL_IDENTIFIER": 2}
    assert state.counts.residual_by_check == {"residual_ssn": 2, "residual_phone": 1}
    assert (state.counts.rows_out, state.counts.screened) == (1, 3)
    with pytest.raises(ValidationFailed, match=r"residual_identifier_fraction: 2 of 3 "):
        state.enforce()  # default cap: 0.1 %

    report = state.staging.quarantine.commit("r1")
    entries = json.loads(report.read_text())["records"]
    assert [(e["note_id"], e["reason"], e["detail"]) for e in entries] == [
        ("n1", "RESIDUAL_IDENTIFIER", "residual_ssn=1"),
        ("n2", "PROCESSING_ERROR", "ValueError"),
        ("n3", "RESIDUAL_IDENTIFIER", "residual_phone=1 residual_ssn=1"),
    ]
    assert SSN not in report.read_text()  # the PHI-free report
    held = (state.staging.quarantine.directory / "quarantine-r1.jsonl").read_text()
    assert held.count(SSN) == 2  # the raw records are kept, restricted


def test_the_residual_cap_is_a_share_of_the_screened_notes(tmp_path: Path) -> None:
    def gate(cap: float, withheld: int, published: int) -> None:
        src = tmp_path / "notes.jsonl"
        src.touch()
        config = PipelineConfig.model_validate(
            {
                "source": {"kind": "files", "path": str(src)},
                "output": {"dir": str(tmp_path / "out")},
                "validation": {"max_residual_fraction": cap, "max_quarantine_fraction": 1.0},
            }
        )
        (tmp_path / "out").mkdir(exist_ok=True)
        counts = RunCounts(rows_in=withheld + published, rows_out=published)
        counts.quarantined["RESIDUAL_IDENTIFIER"] = withheld
        enforce_gate.fn(config, counts, {})

    gate(0.001, 1, 999)  # exactly 0.1 %: allowed
    gate(0.5, 1, 1)
    gate(0.0, 0, 10)
    for cap, withheld, published in [(0.001, 2, 998), (0.0, 1, 10_000), (0.5, 2, 1)]:
        with pytest.raises(ValidationFailed, match="residual_identifier_fraction"):
            gate(cap, withheld, published)


def test_a_batch_whose_every_row_is_withheld_stages_nothing_and_counts_all(
    state: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first batch of a run is small (one note for small batch sizes): all withheld."""
    logger = logging.getLogger("test.deidflow.tasks")  # stands in for Prefect's run logger
    monkeypatch.setattr("pipelines.tasks.stage.get_run_logger", lambda: logger)
    batch = NoteBatch(0, (NoteRecord("n1", "p1", f"SECRET gave SSN {SSN}."),))
    out = NoteTransformer(state.run.config, KEY, FakeDeidentifier()).transform(batch)
    assert screen_residuals(out, len(batch)) == 1
    assert out.table.num_rows == 0 and out.table.schema == DEIDENTIFIED_SCHEMA
    window = Window([batch], rows_in=1)
    assert state.validate(window, [out]) is True
    state.stage(window, [out])
    assert state.counts.rows_out == 0
    assert state.counts.quarantined == {"RESIDUAL_IDENTIFIER": 1}


def _guard(tmp_path: Path, counts: dict[str, int], **validation: object) -> str | None:
    """The publication guard's verdict for these counts (``None``: it lets the run publish)."""
    src = tmp_path / "notes.jsonl"
    src.touch()
    incremental = bool(validation.pop("incremental", False))
    source: dict[str, object] = {"kind": "files", "path": str(src)}
    if incremental:
        source = {"kind": "postgres", "table": "t", "incremental": True, "watermark_column": "w"}
    config = PipelineConfig.model_validate(
        {
            "source": source,
            "output": {"dir": str(tmp_path / "out")},
            "quarantine_dir": str(tmp_path / "q"),
            "validation": validation,
        }
    )
    run_counts = RunCounts(rows_in=counts["in"], rows_out=counts["out"])
    run_counts.quarantined.update({"EMPTY_TEXT": counts.get("empty", 0)})
    run_counts.quarantined.update({"MISSING_ID": counts.get("missing", 0)})
    refused = publication_guard(config, run_counts)
    return None if refused is None else str(refused)


def test_the_publication_guard_refuses_mostly_quarantined_or_empty_runs(tmp_path: Path) -> None:
    assert _guard(tmp_path, {"in": 100, "out": 95, "empty": 5}) is None  # 5 %: allowed
    assert _guard(tmp_path, {"in": 100, "out": 94, "empty": 5, "missing": 1}) == (
        "6 of 100 records were quarantined (EMPTY_TEXT 5, MISSING_ID 1), more than "
        "validation.max_quarantine_fraction (5%)"
    )
    assert _guard(tmp_path, {"in": 1000, "out": 0, "empty": 1000}).startswith("1,000 of 1,000")
    assert _guard(tmp_path, {"in": 10, "out": 0, "empty": 10}, max_quarantine_fraction=1.0) == (
        "the run has no rows to publish (of 10 records read)"
    )
    assert _guard(tmp_path, {"in": 0, "out": 0}) == (
        "the run has no rows to publish (the source yielded no records)"
    )
    assert _guard(tmp_path, {"in": 0, "out": 0}, allow_empty=True) is None
    assert _guard(tmp_path, {"in": 0, "out": 0}, incremental=True) is None  # nothing new
    assert _guard(tmp_path, {"in": 3, "out": 0, "empty": 3}, incremental=True) is not None
    assert _guard(tmp_path, {"in": 10, "out": 4, "empty": 6}, max_quarantine_fraction=0.6) is None


def test_the_gate_raises_the_guard_with_advice(state: Rig) -> None:
    strict = state.run.config.model_copy(update={"validation": type(state.run.config.validation)()})
    state.run.config = strict
    state.counts.rows_in = 4
    state.counts.rows_out = 1
    state.counts.quarantined["EMPTY_TEXT"] = 3
    with pytest.raises(PublicationRefused) as refused:
        state.enforce()
    assert str(refused.value).startswith("3 of 4 records were quarantined (EMPTY_TEXT 3)")
    assert "--max-quarantine-fraction" in refused.value.advice
