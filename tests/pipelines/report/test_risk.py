"""The residual-risk arithmetic: leaks = N × d / r × (1 − r), interval from the recall CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deid.evaluation.metrics import wilson_interval
from deid.spans import Span
from pipelines.report import risk_section
from pipelines.report.risk import (
    SampleInfo,
    estimate_risk,
    evaluate_sample,
    leaks_per_notes,
    no_sample,
)
from tests.pipelines.report.helpers import evaluation


def test_leaks_per_notes_is_the_stated_formula() -> None:
    # d = 2 detected per note, r = 0.9: 2 / 0.9 present, 10 % of them missed.
    assert leaks_per_notes(2.0, 0.9) == pytest.approx(10_000 * 2.0 / 0.9 * 0.1)
    assert leaks_per_notes(2.0, 0.9, notes=1) == pytest.approx(2.0 / 0.9 * 0.1)
    assert leaks_per_notes(3.0, 1.0) == 0.0
    assert leaks_per_notes(0.0, 0.5) == 0.0
    assert leaks_per_notes(1.0, 0.0) is None  # nothing found: presence cannot be inferred


@pytest.mark.parametrize(("density", "recall"), [(-1.0, 0.5), (1.0, 1.5), (1.0, -0.1)])
def test_leaks_per_notes_rejects_impossible_inputs(density: float, recall: float) -> None:
    with pytest.raises(ValueError):
        leaks_per_notes(density, recall)


def test_estimate_uses_the_recall_interval_ends_the_right_way_round() -> None:
    report = evaluation(full_cover=90, gold=100)
    lo, hi = wilson_interval(90, 100)
    risk = estimate_risk(
        report,
        phi_per_note=2.0,
        notes_in_run=500,
        sample=SampleInfo("gold.jsonl", "c" * 64),
        detector_config_hash="d" * 64,
    )
    leaks = risk["expected_leaks_per_10k_notes"]
    assert leaks["estimate"] == pytest.approx(10_000 * 2.0 / 0.9 * 0.1, abs=1e-3)
    assert leaks["ci95"][0] == pytest.approx(10_000 * 2.0 / hi * (1 - hi), abs=1e-3)
    assert leaks["ci95"][1] == pytest.approx(10_000 * 2.0 / lo * (1 - lo), abs=1e-3)
    assert leaks["ci95"][0] < leaks["estimate"] < leaks["ci95"][1]
    in_run = risk["expected_leaks_in_run"]
    assert in_run["notes"] == 500
    assert in_run["estimate"] == pytest.approx(leaks["estimate"] * 500 / 10_000, abs=1e-3)
    assert risk["recall"] == {
        "full_cover": 90,
        "gold": 100,
        "estimate": 0.9,
        "ci95": [round(lo, 4), round(hi, 4)],
        "method": "Wilson score interval, 95 %",
    }
    # Per-type rows, largest first, each with its own Wilson interval.
    assert [(t["type"], t["gold"], t["full_cover"]) for t in risk["per_type"]] == [
        ("Date", 90, 85),
        ("Name", 10, 5),
    ]
    assert risk["per_type"][1]["ci95"] == [round(x, 4) for x in wilson_interval(5, 10)]
    assert risk["status"] == "estimated"
    assert "10,000 × (d / r) × (1 − r)" in risk["formula"]


def test_perfect_sample_recall_still_gives_a_nonzero_upper_bound() -> None:
    risk = estimate_risk(
        evaluation(full_cover=100, gold=100, name_cover=10),
        phi_per_note=5.0,
        notes_in_run=10,
        sample=SampleInfo("s", "c" * 64),
        detector_config_hash="d" * 64,
    )
    leaks = risk["expected_leaks_per_10k_notes"]
    assert leaks["estimate"] == 0.0
    assert leaks["ci95"][0] == 0.0
    assert leaks["ci95"][1] > 0  # 100/100 does not prove recall 1


def test_zero_recall_leaves_the_estimate_open_rather_than_infinite() -> None:
    risk = estimate_risk(
        evaluation(full_cover=0, gold=20, name_cover=0),
        phi_per_note=1.0,
        notes_in_run=10,
        sample=SampleInfo("s", "c" * 64),
        detector_config_hash="d" * 64,
    )
    leaks = risk["expected_leaks_per_10k_notes"]
    assert leaks["estimate"] is None and leaks["ci95"][1] is None
    json.dumps(risk, allow_nan=False)  # no inf/NaN in the report


def test_without_a_sample_the_report_says_so_and_how_to_give_one() -> None:
    risk = no_sample(3.25)
    assert risk["status"] == "no_sample"
    assert "not estimated" in risk["message"]
    assert "deidflow report RUN_DIR --gold SAMPLE" in risk["how_to"]
    assert "report.gold_sample" in risk["how_to"]
    section = risk_section(
        phi_total=10,
        notes_in_run=4,
        gold_sample=None,
        evaluate=lambda path: pytest.fail("no sample: nothing to evaluate"),
        detector_config_hash="d" * 64,
    )
    assert section["status"] == "no_sample" and section["phi_per_note"] == 2.5


class _FixedDetector:
    """Predicts the first gold span of every note only (so recall is known)."""

    def __init__(self, first_spans: list[tuple[int, int]]) -> None:
        self.first_spans = first_spans

    def detect_batch(self, texts):  # noqa: ANN001, ANN201 - Detector's duck type
        return [[Span(s, e, "PERSON")] for (s, e), _ in zip(self.first_spans, texts, strict=True)]


def test_evaluate_sample_scores_an_annotated_jsonl(tmp_path: Path) -> None:
    notes = [
        {
            "note_id": "a",
            "patient_id": "p",
            "text": "Dr. Kim on 7/22.",
            "spans": [
                {"start": 4, "end": 7, "label": "NAME"},
                {"start": 11, "end": 15, "label": "DATE"},
            ],
        },
        {
            "note_id": "b",
            "patient_id": "p",
            "text": "Seen by Lee.",
            "spans": [{"start": 8, "end": 11, "label": "NAME"}],
        },
    ]
    sample = tmp_path / "gold.jsonl"
    sample.write_text("".join(json.dumps(n) + "\n" for n in notes))
    report = evaluate_sample(sample, _FixedDetector([(4, 7), (8, 11)]))
    assert (report.gold_spans, report.full_cover) == (3, 2)
    assert report.per_category["DATE"].full_cover == 0


def test_sample_checksum_pins_the_content(tmp_path: Path) -> None:
    sample = tmp_path / "gold.jsonl"
    sample.write_text("a")
    first = SampleInfo.from_path(sample)
    sample.write_text("b")
    assert SampleInfo.from_path(sample).sha256 != first.sha256
    assert first.name == "gold.jsonl"
