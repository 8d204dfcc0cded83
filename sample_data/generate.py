"""Generate synthetic clinical notes with exact gold PHI spans.

    python -m sample_data.generate --n 60 -o sample_data/notes.jsonl

Output is deterministic for a seed, across processes and machines: identities come from
``Random`` seeded by ``(seed, patient index)`` and from Faker pools built with a fixed
seed, and all dates come from fixed ranges (never today's date).  Patient ``i`` of a seed
is the same however many patients are generated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from random import Random
from typing import Any, NamedTuple, TextIO

from sample_data.builder import CaseStyle, NoteBuilder
from sample_data.context import NoteContext
from sample_data.document_notes import discharge_summary, ed_note, referral_letter
from sample_data.identity import Patient, make_patient
from sample_data.questions import clinical_question
from sample_data.ward_notes import nursing_note, progress_note, radiology_report

NOTE_TYPES = (
    "discharge_summary",
    "progress_note",
    "radiology_report",
    "nursing_note",
    "ed_note",
    "referral_letter",
    "clinical_question",
)

_WRITERS: dict[str, Callable[[NoteBuilder, NoteContext], None]] = {
    "discharge_summary": discharge_summary,
    "progress_note": progress_note,
    "radiology_report": radiology_report,
    "nursing_note": nursing_note,
    "ed_note": ed_note,
    "referral_letter": referral_letter,
    "clinical_question": clinical_question,
}

# (upper, lower) probabilities per note type; the rest is mixed case.  Nursing notes in
# MIMIC are often all caps or all lower-case shorthand; letters never are.
_CASE_ODDS: dict[str, tuple[float, float]] = {
    "nursing_note": (0.35, 0.35),
    "progress_note": (0.1, 0.1),
    "radiology_report": (0.5, 0.0),
    "ed_note": (0.2, 0.0),
    "discharge_summary": (0.1, 0.0),
    "referral_letter": (0.0, 0.0),
    # Typed by patients and staff: some never press shift, a few only type capitals.
    "clinical_question": (0.04, 0.25),
}

_WARD_TYPES = ("nursing_note", "progress_note", "radiology_report")
_INPATIENT_TYPES = frozenset({*_WARD_TYPES, "ed_note", "discharge_summary"})
_WARD_WEIGHTS = (3.0, 2.0, 1.5)
# Order of notes written on the same day.
_DAY_ORDER = {t: i for i, t in enumerate(("referral_letter", "ed_note", *_WARD_TYPES))}
_DAY_ORDER["discharge_summary"] = len(_DAY_ORDER)
_DAY_ORDER["clinical_question"] = len(_DAY_ORDER)
# Share of patients who send one clinical question (a portal message or a question to a
# health assistant), before admission or after discharge: about 1 note in 11.
_QUESTION_ODDS = 0.45


def _case_style(rng: Random, note_type: str) -> CaseStyle:
    upper, lower = _CASE_ODDS[note_type]
    x = rng.random()
    if x < upper:
        return "upper"
    if x < upper + lower:
        return "lower"
    return "mixed"


def _plan(rng: Random, pt: Patient, k: int) -> list[tuple[str, dt.date]]:
    """Which notes a patient gets and when, in chronological order."""
    types: list[str] = []
    if rng.random() < 0.3:
        types.append("referral_letter")
    if rng.random() < 0.55:
        types.append("ed_note")
    if k >= 2 and rng.random() < 0.75:
        types.append("discharge_summary")
    if rng.random() < _QUESTION_ODDS:
        types.append("clinical_question")
    types = types[:k]
    types += rng.choices(_WARD_TYPES, weights=_WARD_WEIGHTS, k=k - len(types))
    plan = []
    for t in types:
        if t == "referral_letter":
            day = pt.admit_date - dt.timedelta(days=rng.randint(5, 40))
        elif t == "ed_note":
            day = pt.admit_date
        elif t == "discharge_summary":
            day = pt.discharge_date
        elif t == "clinical_question":
            before = rng.random() < 0.3
            day = (
                pt.admit_date - dt.timedelta(days=rng.randint(1, 30))
                if before
                else pt.discharge_date + dt.timedelta(days=rng.randint(1, 45))
            )
        else:
            day = pt.admit_date + dt.timedelta(days=rng.randint(0, pt.stay_days))
        plan.append((t, day))
    plan.sort(key=lambda td: (td[1], _DAY_ORDER[td[0]]))
    return plan


def patient_notes(
    seed: int, index: int, notes_per_patient: tuple[int, int] = (2, 6)
) -> list[dict[str, Any]]:
    """All notes of patient ``index`` for ``seed``, in chronological order."""
    lo, hi = notes_per_patient
    if not 1 <= lo <= hi:
        raise ValueError(
            f"notes_per_patient must be (low, high) with 1 <= low <= high, got {lo, hi}"
        )
    pt = make_patient(seed, index)
    rng = Random(f"notes:{seed}:{index}")
    k = rng.randint(lo, hi)
    inpatient = f"E{rng.randrange(10**8):08d}"
    outpatient = f"E{rng.randrange(10**8):08d}"
    notes = []
    for i, (note_type, day) in enumerate(_plan(rng, pt, k), 1):
        builder = NoteBuilder(_case_style(rng, note_type))
        _WRITERS[note_type](builder, NoteContext(pt, rng, day))
        text, spans = builder.build()
        notes.append(
            {
                "note_id": f"{pt.patient_id}-{i:02d}",
                "patient_id": pt.patient_id,
                "encounter_id": inpatient if note_type in _INPATIENT_TYPES else outpatient,
                "note_type": note_type,
                "note_date": day.isoformat(),
                "text": text,
                "spans": spans,
            }
        )
    return notes


def generate_notes(
    n_patients: int, notes_per_patient: tuple[int, int] = (2, 6), seed: int = 0
) -> list[dict[str, Any]]:
    """Notes for ``n_patients`` synthetic patients, each with a consistent identity.

    Each note is ``{"note_id", "patient_id", "encounter_id", "note_type", "note_date",
    "text", "spans"}``; ``spans`` are ``{"start", "end", "label"}`` with labels from
    ``deid.entities.ENTITY_NAMES``.  Same arguments give the same notes in any process.
    """
    return [note for i in range(n_patients) for note in patient_notes(seed, i, notes_per_patient)]


def iter_notes(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Exactly ``n`` notes: whole patients in order, the last one possibly cut short."""
    produced, index = 0, 0
    while produced < n:
        for note in patient_notes(seed, index):
            if produced == n:
                break
            yield note
            produced += 1
        index += 1


def iter_questions(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Exactly ``n`` clinical questions, one each from patients ``0..n-1`` of ``seed``.

    The same writer as the questions among ``iter_notes`` (about a third PHI-free), but
    every record is one, and identifiers also come in the shapes validators reject
    (``varied_identifiers``): the question benchmark's input.  Deterministic per seed.
    """
    for index in range(n):
        pt = make_patient(seed, index)
        rng = Random(f"question:{seed}:{index}")
        day = pt.discharge_date + dt.timedelta(days=rng.randint(1, 45))
        builder = NoteBuilder(_case_style(rng, "clinical_question"))
        clinical_question(builder, NoteContext(pt, rng, day), varied_identifiers=True)
        text, spans = builder.build()
        yield {
            "note_id": f"{pt.patient_id}-Q",
            "patient_id": pt.patient_id,
            "encounter_id": f"E{rng.randrange(10**8):08d}",
            "note_type": "clinical_question",
            "note_date": day.isoformat(),
            "text": text,
            "spans": spans,
        }


def write_jsonl(notes: Iterable[dict[str, Any]], path: str | Path | TextIO) -> int:
    """Write notes one JSON object per line (to a path, or an open text stream such as
    stdout); returns the number written."""
    if not isinstance(path, str | Path):
        return _write_lines(notes, path)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as fh:
        return _write_lines(notes, fh)


def _write_lines(notes: Iterable[dict[str, Any]], fh: TextIO) -> int:
    count = 0
    for note in notes:
        fh.write(json.dumps(note, ensure_ascii=False))
        fh.write("\n")
        count += 1
    return count


class Summary(NamedTuple):
    """What ``generate`` wrote (counts only, safe to print)."""

    notes: int
    patients: int
    spans: int
    path: Path | None

    def describe(self) -> str:
        """``wrote 3,000 notes for 812 patients (41,234 gold spans) to notes.jsonl``."""
        where = "stdout" if self.path is None else str(self.path)
        return (
            f"wrote {self.notes:,} notes for {self.patients:,} patients "
            f"({self.spans:,} gold spans) to {where}"
        )


def generate(
    n: int, seed: int, path: str | Path | TextIO, *, questions_only: bool = False
) -> Summary:
    """Write ``n`` notes (not patients) for ``seed`` to ``path`` (or an open stream) as JSONL.

    ``questions_only``: ``n`` clinical questions (``iter_questions``) instead of a mix.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    patients: set[str] = set()
    spans = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal spans
        for note in iter_questions(n, seed) if questions_only else iter_notes(n, seed):
            patients.add(note["patient_id"])
            spans += len(note["spans"])
            yield note

    written = write_jsonl(counted(), path)
    return Summary(
        written, len(patients), spans, Path(path) if isinstance(path, str | Path) else None
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Generate synthetic clinical notes with gold PHI spans."
    )
    parser.add_argument("--n", type=int, default=60, help="number of notes (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output JSONL path")
    parser.add_argument(
        "--questions",
        action="store_true",
        help="only short clinical questions (one per patient; about a third PHI-free)",
    )
    args = parser.parse_args(argv)
    print(generate(args.n, args.seed, args.output, questions_only=args.questions).describe())


if __name__ == "__main__":
    main()
