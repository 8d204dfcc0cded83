"""Batch transform: pseudonyms, splits, date shift, PHI counts and per-note failures.

A stand-in deidentifier keeps these tests about the pipeline's own logic; the flow tests
run the real one (here too, with a stand-in detector, for what the gate's kept-text
length ratio needs).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from deid.anonymization.deidentifier import KEEP, AppliedSpan, Deidentifier, DeidResult
from deid.anonymization.keys import SecretKey
from deid.spans import Span
from pipelines.config import PipelineConfig, SplitRatios
from pipelines.gate.residual import chars_outside
from pipelines.gate.validation import validate_batch
from pipelines.transform import (
    PSEUDONYM_HEX_CHARS,
    BatchFailed,
    NoteBatch,
    NoteTransformer,
    assign_split,
    pseudonym,
)
from schemas.deidentified import DEIDENTIFIED_SCHEMA
from schemas.notes import NoteRecord

KEY = SecretKey(b"k" * 32)


class FakeDetector:
    """Finds the word SECRET; raises on BOOM."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, text: str) -> list[Span]:
        self.calls += 1
        if "BOOM" in text:
            raise ValueError(f"cannot handle {text}")
        start = text.find("SECRET")
        return [] if start < 0 else [Span(start, start + 6, "PERSON")]


class FakeDeidentifier:
    """Replaces the word SECRET by [NAME]; raises on notes containing BOOM."""

    def __init__(self) -> None:
        self.detector = FakeDetector()

    def date_offset(self, patient_id: str) -> int:
        return -10 if patient_id == "p1" else -20

    def deidentify(self, text: str, patient_id: str, spans: list[Span] | None = None) -> DeidResult:
        if "BOOM" in text:
            raise ValueError(f"cannot handle {text}")  # message quotes the note
        start = text.find("SECRET")
        if start < 0:
            return DeidResult(text, (), "safe_harbor")
        new = text.replace("SECRET", f"[NAME-{patient_id}]", 1)
        end = start + len(f"[NAME-{patient_id}]")
        spans_out = (
            AppliedSpan(start, end, start, start + 6, "PERSON", "tag"),
            AppliedSpan(0, 2, 0, 2, "AGE", KEEP),
        )
        return DeidResult(new, spans_out, "safe_harbor")

    def deidentify_batch(self, records):
        for text, patient_id in records:
            yield self.deidentify(text, patient_id)


def _config(tmp_path: Path, **extra: object) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(tmp_path)},
            "output": {"dir": str(tmp_path)},
            **extra,
        }
    )


def _transformer(tmp_path: Path, **extra: object) -> NoteTransformer:
    return NoteTransformer(_config(tmp_path, **extra), KEY, FakeDeidentifier())  # type: ignore[arg-type]


def test_rows_carry_pseudonyms_shifted_dates_and_counts(tmp_path: Path) -> None:
    notes = (
        NoteRecord("n1", "p1", "42 SECRET here", "progress_note", dt.date(2020, 3, 1), "e1"),
        NoteRecord("n2", "p2", "nothing", None, None, None),
    )
    out = _transformer(tmp_path).transform(NoteBatch(0, notes))
    rows = out.table.to_pylist()
    assert out.table.schema == DEIDENTIFIED_SCHEMA
    assert rows[0]["note_pseudonym"] == pseudonym(KEY, "note", "n1")
    assert rows[0]["patient_pseudonym"] == pseudonym(KEY, "patient", "p1")
    assert rows[0]["encounter_pseudonym"] == pseudonym(KEY, "encounter", "e1")
    assert rows[1]["encounter_pseudonym"] is None
    assert rows[0]["note_date"] == dt.date(2020, 2, 20)  # the patient's offset, -10 days
    assert rows[0]["text"] == "42 [NAME-p1] here"
    assert (rows[0]["phi_person"], rows[0]["phi_age"], rows[0]["phi_total"]) == (1, 0, 1)
    assert rows[0]["policy_version"].startswith("safe_harbor@")
    assert out.replaced_spans == [[(3, 12)], []]  # kept spans are not "replaced"
    assert out.orig_kept_chars == [8, 7]  # a kept span ("42") is kept text
    assert out.phi_counts == Counter({"PERSON": 1})


def test_a_failing_note_is_reported_by_position_and_type_only(tmp_path: Path) -> None:
    notes = (NoteRecord("n1", "p1", "fine"), NoteRecord("n2", "p1", "BOOM secret"))
    out = _transformer(tmp_path).transform(NoteBatch(3, notes))
    assert out.table.num_rows == 1
    assert out.failures == [(1, "ValueError")]


def test_note_types_are_deidentified_like_the_text_by_default(tmp_path: Path) -> None:
    notes = (
        NoteRecord("n1", "p1", "fine", "Letter to SECRET"),
        NoteRecord("n2", "p2", "also fine", "Letter to SECRET"),
        NoteRecord("n3", "p2", "more", "progress note"),
        NoteRecord("n4", "p2", "and more", "progress note"),
    )
    transformer = _transformer(tmp_path)
    out = transformer.transform(NoteBatch(0, notes))
    assert out.table.column("note_type").to_pylist() == [
        "Letter to [NAME-p1]",  # the patient's own surrogate, as in the text
        "Letter to [NAME-p2]",
        "progress note",
        "progress note",
    ]
    assert transformer.deidentifier.detector.calls == 2  # once per distinct value


def test_note_types_map_to_a_controlled_vocabulary(tmp_path: Path) -> None:
    policy = {
        "mode": "vocabulary",
        "vocabulary": ["progress_note", "discharge_summary"],
        "aliases": {"DC  Summary": "discharge_summary"},
    }
    notes = tuple(
        NoteRecord(f"n{i}", "p1", f"text {i}", value)
        for i, value in enumerate(
            ["Progress_Note", "dc summary", "Letter to SECRET", None, "discharge_summary"]
        )
    )
    out = _transformer(tmp_path, metadata={"note_type": policy}).transform(NoteBatch(0, notes))
    assert out.table.column("note_type").to_pylist() == [
        "progress_note",
        "discharge_summary",
        "other",  # anything outside the vocabulary
        None,
        "discharge_summary",
    ]
    dropped = _transformer(tmp_path, metadata={"note_type": {"mode": "drop"}})
    out = dropped.transform(NoteBatch(0, notes))
    assert out.table.column("note_type").to_pylist() == [None] * 5


def test_a_vocabulary_needs_its_terms() -> None:
    for policy in ({"mode": "vocabulary"}, {"vocabulary": ["a"], "aliases": {"x": "b"}}):
        with pytest.raises(ValueError):
            PipelineConfig.model_validate(
                {
                    "source": {"kind": "files", "path": "x.jsonl"},
                    "output": {"dir": "out"},
                    "metadata": {"note_type": policy},
                }
            )


def test_a_note_whose_row_cannot_be_made_fails_alone(tmp_path: Path) -> None:
    """A date the shift moves off the calendar, or a note type the detector raises on:
    that note is a per-note failure (quarantined), not the end of the run."""
    notes = (
        NoteRecord("n1", "p1", "fine"),
        NoteRecord("n2", "p1", "early", note_date=dt.date(1, 1, 1)),
        NoteRecord("n3", "p1", "odd type", note_type="BOOM"),
    )
    out = _transformer(tmp_path).transform(NoteBatch(0, notes))
    assert out.table.num_rows == 1
    assert out.failures == [(1, "OverflowError"), (2, "ValueError")]
    assert out.orig_kept_chars == [4]  # per-row lists stay aligned with the rows


def test_a_batch_where_every_note_fails_fails_loudly(tmp_path: Path) -> None:
    notes = (NoteRecord("n1", "p1", "BOOM a"), NoteRecord("n2", "p1", "BOOM b"))
    with pytest.raises(BatchFailed) as err:
        _transformer(tmp_path).transform(NoteBatch(0, notes))
    assert "BOOM" not in str(err.value) and "ValueError" in str(err.value)


def test_pseudonyms_are_keyed_and_namespaced() -> None:
    other = SecretKey(b"o" * 32)
    assert len(pseudonym(KEY, "note", "1")) == PSEUDONYM_HEX_CHARS
    assert pseudonym(KEY, "note", "1") == pseudonym(KEY, "note", "1")
    assert pseudonym(KEY, "note", "1") != pseudonym(other, "note", "1")
    assert pseudonym(KEY, "note", "1") != pseudonym(KEY, "patient", "1")


def test_splits_follow_ratios_by_patient() -> None:
    ratios = SplitRatios(train=0.6, validation=0.3, test=0.1)
    splits = Counter(assign_split(KEY, f"patient-{i}", ratios) for i in range(4000))
    assert abs(splits["train"] / 4000 - 0.6) < 0.03
    assert abs(splits["validation"] / 4000 - 0.3) < 0.03
    assert abs(splits["test"] / 4000 - 0.1) < 0.03
    only_test = SplitRatios(train=0.0, validation=0.0, test=1.0)
    assert {assign_split(KEY, f"p{i}", only_test) for i in range(50)} == {"test"}


# Stand-in detections for the real anonymizer: two-letter names (their surrogates are
# far longer), a long name (its surrogate is shorter), dates, a bare year (kept by the
# policy) and phone numbers.
_PHI = re.compile(
    r"(?P<PERSON>Al Bo|Jonathan Christopherson-Fitzwilliam)|(?P<DATE>\d\d/\d\d/\d{4}|\b2019\b)"
    r"|(?P<PHONE_NUMBER>555-123-4567)"
)


class _RegexDetector:
    def detect_batch(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[list[Span]]:
        for text in texts:
            yield [Span(m.start(), m.end(), str(m.lastgroup)) for m in _PHI.finditer(text)]


def test_the_real_anonymizer_carries_kept_text_over_exactly(tmp_path: Path) -> None:
    """Surrogates change the length, the text around them must not: kept ratio 1.0."""
    long_note = "Seen by Jonathan Christopherson-Fitzwilliam 03/04/2019, in 2019; call " * 1500
    notes = (
        NoteRecord("n1", "p1", "Al Bo,Al Bo"),  # mostly PHI, surrogates much longer
        NoteRecord("n2", "p1", "Al Bo"),  # nothing but PHI
        NoteRecord("n3", "p2", long_note + "555-123-4567."),  # replaced stretch by stretch
        NoteRecord("n4", "p3", "No PHI in here."),
    )
    deid = Deidentifier(key=KEY, detector=_RegexDetector())  # type: ignore[arg-type]
    out = NoteTransformer(_config(tmp_path), KEY, deid).transform(NoteBatch(0, notes))
    texts = out.table.column("text").to_pylist()
    assert len(texts[0]) > 1.5 * len(notes[0].text)  # a whole-text ratio would be far off
    assert len(texts[2]) != len(notes[2].text) and out.operator_counts[KEEP] == 1500

    assert out.orig_kept_chars == [1, 0, 1500 * len("Seen by  , in 2019; call ") + 1, 15]
    for text, spans, kept in zip(texts, out.replaced_spans, out.orig_kept_chars, strict=True):
        assert chars_outside(len(text), spans) == kept
    outcome = validate_batch(
        out.table, replaced_spans=out.replaced_spans, orig_kept_chars=out.orig_kept_chars
    )
    assert outcome.success, outcome.failures
    assert outcome.summary["skipped"] == ["row_reconciliation"]
