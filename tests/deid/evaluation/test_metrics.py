"""Evaluation metrics: full-cover / any-overlap recall, token scores, Wilson interval."""

from __future__ import annotations

import json

import pytest

from deid.evaluation.corpora import Note, read_corpus
from deid.evaluation.metrics import evaluate, f_beta, misses_with_context, wilson_interval
from deid.spans import Span
from tests.paths import DEV_CORPUS
from tests.timing import assert_scales_linearly


def gold(text: str, phrase: str, category: str = "PERSON", occurrence: int = 0) -> Span:
    """Gold span of the ``occurrence``-th appearance of ``phrase`` in ``text``."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return Span(start, start + len(phrase), category, 1.0, "gold")


def pred(text: str, phrase: str, label: str = "PERSON") -> Span:
    start = text.index(phrase)
    return Span(start, start + len(phrase), label, 0.9, "test")


def one_note(text: str, gold_spans: list[Span], patient: str = "p1", note: str = "n1") -> Note:
    return Note(note, patient, text, tuple(gold_spans))


# --- span-level recall ---------------------------------------------------------------


def test_partial_cover_of_a_name_is_overlap_but_not_full_cover():
    text = "Seen by Dr. John Smith today."
    note = one_note(text, [gold(text, "John Smith")])
    report = evaluate([note], [[pred(text, "John")]])
    assert (report.full_cover, report.any_overlap) == (0, 1)
    assert report.full_cover_recall == 0.0
    assert report.any_overlap_recall == 1.0
    (miss,) = report.misses
    assert (miss.patient_id, miss.note_id, miss.start, miss.end) == ("p1", "n1", 12, 22)
    assert miss.category == "PERSON" and miss.overlapped


def test_punctuation_and_space_gaps_do_not_count_as_uncovered():
    text = "Born 7/22/2020, Smith, John called."
    note = one_note(text, [gold(text, "7/22/2020", "DATE"), gold(text, "Smith, John")])
    preds = [pred(text, "7"), pred(text, "22"), pred(text, "2020"), pred(text, "Smith")]
    preds.append(pred(text, "John"))
    report = evaluate([note], [preds])
    assert report.full_cover == 2
    assert report.misses == ()


def test_uncovered_single_letter_breaks_full_cover():
    text = "Pt J. Smith here."
    note = one_note(text, [gold(text, "J. Smith")])
    report = evaluate([note], [[pred(text, "Smith")]])
    assert report.full_cover == 0 and report.any_overlap == 1


def test_gold_span_without_alnum_counts_as_covered():
    text = "a -- b"
    note = one_note(text, [gold(text, "--", "OTHER")])
    report = evaluate([note], [[]])
    assert report.full_cover == 1
    assert report.any_overlap == 0


def test_labels_are_ignored_and_adjacent_predictions_join():
    text = "Dr. Alden Voss"
    note = one_note(text, [gold(text, "Alden Voss")])
    # "Alden " and "Voss" touch; the labels are wrong but de-identification is binary.
    preds = [Span(4, 10, "DATE"), Span(10, 14, "LOCATION")]
    assert evaluate([note], [preds]).full_cover == 1
    # A wider prediction also covers it.
    assert evaluate([note], [[Span(0, 14, "PERSON")]]).full_cover == 1


def test_prediction_in_another_note_does_not_count():
    text = "Mara called."
    notes = [one_note(text, [gold(text, "Mara")], note="a"), one_note(text, [], note="b")]
    report = evaluate(notes, [[], [pred(text, "Mara")]])
    assert report.full_cover == 0 and report.any_overlap == 0
    assert report.predicted_spans == 1 and report.notes == 2


# --- token metrics -------------------------------------------------------------------


def test_token_precision_recall_f1_f2():
    text = "Dr John Smith saw Mary Jones on 7/22 at Boston"
    gold_spans = [
        gold(text, "John Smith"),
        gold(text, "Mary Jones"),
        gold(text, "7/22", "DATE"),
        gold(text, "Boston", "LOCATION"),
    ]
    preds = [pred(text, "Dr John"), pred(text, "Mary"), pred(text, "7/22"), pred(text, " at ")]
    report = evaluate([one_note(text, gold_spans)], [preds])
    # gold tokens: John Smith Mary Jones 7 22 Boston; predicted: Dr John Mary 7 22 at
    assert (report.token_tp, report.token_fp, report.token_fn) == (4, 2, 3)
    assert report.token_precision == pytest.approx(4 / 6)
    assert report.token_recall == pytest.approx(4 / 7)
    assert report.token_f1 == pytest.approx(8 / 13)
    assert report.token_f2 == pytest.approx(10 / 17)


def test_one_character_makes_a_token_positive():
    text = "Johnson left"
    note = one_note(text, [Span(6, 7, "PERSON")])  # only the final "n"
    report = evaluate([note], [[Span(0, 1, "PERSON")]])  # only the "J"
    assert (report.token_tp, report.token_fp, report.token_fn) == (1, 0, 0)


def test_token_scores_without_predictions_or_gold():
    text = "Nothing to see."
    empty = evaluate([one_note(text, [])], [[]])
    assert empty.token_precision is None and empty.token_recall is None
    assert empty.token_f1 is None and empty.full_cover_recall is None
    no_preds = evaluate([one_note(text, [gold(text, "Nothing")])], [[]])
    assert no_preds.token_precision is None
    assert no_preds.token_recall == 0.0 and no_preds.token_f2 == 0.0


def test_f_beta():
    assert f_beta(0.5, 1.0, 1.0) == pytest.approx(2 / 3)
    assert f_beta(0.5, 1.0, 2.0) == pytest.approx(5 * 0.5 / (4 * 0.5 + 1.0))
    assert f_beta(0.0, 0.0, 2.0) == 0.0
    assert f_beta(None, None, 1.0) is None


# --- per category, counts, report ----------------------------------------------------


def _mixed_report():
    text = "Dr. Voss and Dr. Quill saw pt on 7/22 in Brookfield."
    gold_spans = [
        gold(text, "Voss", "HCPName"),
        gold(text, "Quill", "HCPName"),
        gold(text, "7/22", "Date"),
        gold(text, "Brookfield", "Location"),
    ]
    preds = [pred(text, "Voss"), pred(text, "7/22"), pred(text, "Brook")]
    notes = [one_note(text, gold_spans), one_note("No PHI.", [], note="n2")]
    return evaluate(notes, [preds, []])


def test_per_category_counts_and_totals():
    report = _mixed_report()
    assert (report.notes, report.gold_spans, report.predicted_spans) == (2, 4, 3)
    cats = report.per_category
    assert (cats["HCPName"].gold, cats["HCPName"].full_cover) == (2, 1)
    assert cats["HCPName"].full_cover_recall == 0.5
    assert (cats["Date"].gold, cats["Date"].full_cover) == (1, 1)
    assert (cats["Location"].full_cover, cats["Location"].any_overlap) == (0, 1)
    assert report.full_cover == 2 and report.any_overlap == 3
    assert [(m.category, m.overlapped) for m in report.misses] == [
        ("HCPName", False),
        ("Location", True),
    ]


def test_to_dict_is_json_ready_and_carries_no_text():
    report = _mixed_report()
    data = report.to_dict()
    dumped = json.dumps(data)
    for phi in ("Voss", "Quill", "7/22", "Brook"):
        assert phi not in dumped
    assert data["full_cover_recall"] == 0.5
    lo, hi = data["full_cover_recall_ci95"]
    assert (lo, hi) == (round(wilson_interval(2, 4)[0], 4), round(wilson_interval(2, 4)[1], 4))
    assert data["per_category"]["HCPName"]["gold"] == 2
    assert data["misses"][0] == {
        "patient_id": "p1",
        "note_id": "n1",
        "start": 17,
        "end": 22,
        "category": "HCPName",
        "overlapped": False,
    }


def test_format_text_is_aligned_and_carries_no_text():
    out = _mixed_report().format_text()
    for phi in ("Voss", "Quill", "7/22", "Brook"):
        assert phi not in out
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines() if line}
    assert "0.500" in lines["Full-cover recall"] and "2/4" in lines["Full-cover recall"]
    assert "95% CI [0.150, 0.850]" in lines["Full-cover recall"]
    # Values line up in one column.
    value_ends = {
        lines[name].index(value) + len(value)
        for name, value in [("Full-cover recall", "0.500"), ("Any-overlap recall", "0.750")]
    }
    assert len(value_ends) == 1
    assert "Missed gold spans: 2 (1 partly covered)" in out


def test_mismatched_or_out_of_range_predictions_are_rejected():
    note = one_note("Zebulon was here", [])
    with pytest.raises(ValueError, match="1 notes but 2 prediction lists"):
        evaluate([note], [[], []])
    with pytest.raises(ValueError, match="beyond the end of note patient=p1 note=n1") as exc:
        evaluate([note], [[Span(0, 99, "PERSON")]])
    assert "Zebulon" not in str(exc.value)


# --- Wilson interval -----------------------------------------------------------------


def test_wilson_interval_known_values():
    assert wilson_interval(8, 10) == pytest.approx((0.490, 0.943), abs=5e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=5e-4)
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=5e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


# --- developer view ------------------------------------------------------------------


def test_misses_with_context_marks_gold_and_covered_parts():
    text = "Seen by\nDr. John Smith today. Wife Mara called."
    note = one_note(text, [gold(text, "John Smith"), gold(text, "Mara", "RelativeProxyName")])
    lines = list(misses_with_context([note], [[pred(text, "John")]], width=8))
    assert lines == [
        "p1/n1 12-22 PERSON (partial): ... by Dr. ⟨[John] Smith⟩ today. ...",
        "p1/n1 35-39 RelativeProxyName (missed): ...y. Wife ⟨Mara⟩ called....",
    ]
    assert list(misses_with_context([note], [[Span(0, len(text), "X")]])) == []


# --- speed ---------------------------------------------------------------------------


def _dense_case(chars: int) -> tuple[Note, list[Span]]:
    """``chars`` of text with a gold span every 21 characters and a prediction every 42,
    followed by as many characters without any."""
    text = ("Smith 1234567 ,.;:-/ " * (chars // 21 + 1))[:chars] + "x" * chars
    spans = [Span(i, i + 5, "PERSON") for i in range(0, chars, 21)]
    preds = [Span(i, i + 13, "PERSON") for i in range(0, chars, 42)]
    return Note("n", "p", text, tuple(spans)), preds


def test_metrics_cost_grows_no_faster_than_the_spans():
    note, preds = _dense_case(100_000)
    report = evaluate([note], [preds])
    assert report.full_cover == len(preds)

    def score(case: tuple[Note, list[Span]]) -> None:
        evaluate([case[0]], [case[1]])
        list(misses_with_context([case[0]], [case[1]]))

    small, large = _dense_case(25_000), _dense_case(100_000)
    assert_scales_linearly(lambda: score(small), lambda: score(large), size_ratio=4)


@pytest.mark.skipif(not DEV_CORPUS.is_dir(), reason="PhysioNet dev corpus not available")
def test_dev_corpus_gold_scores_perfectly_in_linear_time():
    notes = list(read_corpus(DEV_CORPUS))
    report = evaluate(notes, [n.gold for n in notes])
    four = notes * 4
    assert_scales_linearly(
        lambda: evaluate(notes, [n.gold for n in notes]),
        lambda: evaluate(four, [n.gold for n in four]),
        size_ratio=4,
    )
    assert report.full_cover == report.any_overlap == report.gold_spans == 999
    assert report.token_fp == report.token_fn == 0
    assert report.token_f2 == 1.0
