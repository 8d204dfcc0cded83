"""Counts per note type and operator, as the flow feeds them window by window."""

from __future__ import annotations

from pipelines.report.stats import MAX_NOTE_TYPES, NO_NOTE_TYPE, OTHER_NOTE_TYPES, RunStats
from tests.pipelines.report.helpers import output_batch


def test_density_per_note_type_sums_over_batches() -> None:
    stats = RunStats()
    stats.add_output(output_batch(["nursing", "nursing", None], [100, 300, 50], [3, 2, 1]))
    stats.add_output(output_batch(["nursing", "discharge"], [600, 400], [5, 0]))
    rows = {r["note_type"]: r for r in stats.by_note_type()}
    assert rows["nursing"] == {
        "note_type": "nursing",
        "notes": 3,
        "tokens": 1000,
        "phi": 10,
        "phi_per_1000_tokens": 10.0,
        "phi_per_note": 3.333,
    }
    assert rows[NO_NOTE_TYPE]["phi_per_1000_tokens"] == 20.0
    assert rows["discharge"]["phi"] == 0
    assert [r["note_type"] for r in stats.by_note_type()][0] == "nursing"  # most notes first
    assert stats.operators == {"surrogate": 10, "date_shift": 6, "keep": 2}


def test_free_text_in_note_type_is_clipped_and_rare_types_are_pooled() -> None:
    stats = RunStats()
    long_label = "Patient John Smith\nseen " + "x" * 200
    types = [f"type-{i:03d}" for i in range(MAX_NOTE_TYPES + 5)] + [long_label]
    stats.add_output(output_batch(types, [10] * len(types), [1] * len(types)))
    rows = stats.by_note_type()
    assert len(rows) == MAX_NOTE_TYPES + 1
    assert rows[-1]["note_type"] == OTHER_NOTE_TYPES and rows[-1]["notes"] == 6
    assert all(len(r["note_type"]) <= 64 and "\n" not in r["note_type"] for r in rows)
    assert sum(r["notes"] for r in rows) == len(types)


def test_validation_summaries_accumulate() -> None:
    stats = RunStats()
    stats.add_validation(
        {
            "evaluated_expectations": 70,
            "residual_scope": "outside_replaced_spans",
            "skipped": ["text_length_ratio"],
            "ratio_bounds": [1.0, 1.0],
        }
    )
    stats.add_validation({})  # a window with no rows: reconciled without GX
    assert (stats.windows_validated, stats.expectations_evaluated) == (2, 70)
    assert stats.skipped_checks == {"text_length_ratio"}
    assert stats.ratio_bounds == [1.0, 1.0]
