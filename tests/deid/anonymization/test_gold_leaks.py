"""Guarantee #8 on the development corpus, with GOLD spans injected as detections.

No gold PHI string of three or more characters may survive verbatim in its note's
output unless it also occurs in that note outside every gold span; no span may keep its
original value.  Bare years (gold ``DateYear``) are allowed to stay under Safe Harbor
and must go under the strict policy.  (The detector-based version of this check lives
with the detection tests.)
"""

from __future__ import annotations

import pytest

from deid.anonymization.deidentifier import Deidentifier
from deid.entities import DateKind
from deid.evaluation.corpora import Note, read_physionet
from deid.spans import Span
from tests.deid.anonymization.helpers import KEY, OTHER_KEY, make_deid
from tests.paths import DEV_CORPUS

GOLD_TO_ENTITY = {
    "HCPName": "PERSON", "PTName": "PERSON", "RelativeProxyName": "PERSON",
    "PTNameInitial": "PERSON", "Location": "LOCATION", "Date": "DATE", "DateYear": "DATE",
    "Phone": "PHONE_NUMBER", "Age": "AGE", "Other": "ID_NUMBER",
}  # fmt: skip
MIN_LEN = 3

pytestmark = pytest.mark.skipif(not DEV_CORPUS.is_dir(), reason="dev corpus not available")


@pytest.fixture(scope="module")
def notes() -> list[Note]:
    return [n for n in read_physionet(DEV_CORPUS) if n.gold]


def _spans(note: Note) -> list[Span]:
    return [
        Span(s.start, s.end, GOLD_TO_ENTITY[s.entity_type], 1.0, "gold",
             DateKind.YEAR if s.entity_type == "DateYear" else "")
        for s in note.gold
    ]  # fmt: skip


def _leaks(deid: Deidentifier, notes: list[Note], allowed: set[str]) -> list[tuple[str, str, str]]:
    """(patient, note, gold category) of each gold string that survives; never the string."""
    leaks = []
    for note in notes:
        out = deid.deidentify(note.text, note.patient_id, _spans(note)).text
        outside = note.text
        for s in sorted(note.gold, key=lambda s: -s.start):
            outside = outside[: s.start] + "\0" + outside[s.end :]
        for s in note.gold:
            value = note.text[s.start : s.end]
            if s.entity_type in allowed or len(value) < MIN_LEN:
                continue
            if value in out and value not in outside:
                leaks.append((note.patient_id, note.note_id, s.entity_type))
    return leaks


@pytest.mark.parametrize("key", [KEY, OTHER_KEY], ids=["key", "rotated"])
def test_no_gold_phi_survives_under_safe_harbor(notes: list[Note], key) -> None:  # type: ignore[no-untyped-def]
    assert _leaks(Deidentifier(key=key), notes, allowed={"DateYear"}) == []


def test_no_gold_phi_survives_under_strict(notes: list[Note]) -> None:
    assert _leaks(make_deid(policy="strict"), notes, allowed=set()) == []


def test_no_span_keeps_its_value(notes: list[Note]) -> None:
    deid = Deidentifier(key=KEY)
    for note in notes:
        result = deid.deidentify(note.text, note.patient_id, _spans(note))
        for applied in result.spans:
            before = note.text[applied.orig_start : applied.orig_end]
            after = result.text[applied.start : applied.end]
            if applied.operator == "keep":
                assert after == before
            else:
                assert after != before, (note.patient_id, note.note_id, applied.entity_type)


def test_no_gold_phi_survives_when_bare_years_are_shifted(notes: list[Note]) -> None:
    assert _leaks(make_deid(keep_bare_years=False), notes, allowed=set()) == []
