"""The clinical-question note type: exact gold spans, valid labels, PHI-free questions,
the forms the issue asks for, and determinism per seed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from random import Random

import pytest

from deid.entities import ENTITY_NAMES
from sample_data import identifiers as ids
from sample_data.builder import NoteBuilder
from sample_data.context import NoteContext
from sample_data.generate import iter_notes, iter_questions
from sample_data.identity import make_patient
from sample_data.question_places import hospital_forms, us_town
from sample_data.questions import PHI_FREE_SHARE, Voice, clinical_question
from tests.paths import REPO

N = 1500


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return list(iter_questions(N, seed=3))


def _values(qs: list[dict], label: str) -> list[str]:
    return [q["text"][s["start"] : s["end"]] for q in qs for s in q["spans"] if s["label"] == label]


def _span_texts(q: dict) -> list[tuple[str, str]]:
    return [(q["text"][s["start"] : s["end"]], s["label"]) for s in q["spans"]]


# --- determinism -------------------------------------------------------------------------


def test_same_seed_same_questions_and_different_seed_different_ones() -> None:
    a = list(iter_questions(40, seed=5))
    assert a == list(iter_questions(40, seed=5))
    b = list(iter_questions(40, seed=6))
    assert sum(x["text"] == y["text"] for x, y in zip(a, b, strict=True)) < 5
    # Question i does not depend on how many are asked for.
    assert list(iter_questions(10, seed=5)) == a[:10]


def test_questions_are_identical_in_a_fresh_process() -> None:
    code = (
        "import json; from sample_data.generate import iter_questions; "
        "print(json.dumps(list(iter_questions(25, seed=8)), sort_keys=True))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == list(iter_questions(25, seed=8))


# --- gold spans --------------------------------------------------------------------------


def test_spans_are_sorted_disjoint_unpadded_and_labelled(questions: list[dict]) -> None:
    labels = set(ENTITY_NAMES)
    for q in questions:
        assert q["note_type"] == "clinical_question"
        end = 0
        for s in q["spans"]:
            value = q["text"][s["start"] : s["end"]]
            assert s["label"] in labels
            assert s["start"] >= end and value and value == value.strip(), q["note_id"]
            end = s["end"]


def test_spans_cover_whole_tokens(questions: list[dict]) -> None:
    """No span starts or ends inside a word: the gold is the whole value, exactly."""
    for q in questions:
        text = q["text"]
        for s in q["spans"]:
            before = text[s["start"] - 1] if s["start"] else " "
            after = text[s["end"]] if s["end"] < len(text) else " "
            assert not before.isalnum(), (q["note_id"], s)
            # "94F", "94yo": an age glued to sex or unit is the one exception.
            assert not after.isalnum() or s["label"] == "AGE", (q["note_id"], s)


def test_values_have_the_shape_of_their_label(questions: list[dict]) -> None:
    assert all(int(v) > 89 for v in _values(questions, "AGE"))
    assert all("@" in v for v in _values(questions, "EMAIL_ADDRESS"))
    for v in _values(questions, "US_SSN"):
        assert re.fullmatch(r"\d{3}[- ]?\d{2}[- ]?\d{4}", v), v
    for v in _values(questions, "PHONE_NUMBER"):
        assert len(re.sub(r"\D", "", v)) in (7, 10, 11), v
    # Labels and "#" stay outside the span; the value itself holds a digit.
    label_words = re.compile(r"(?i)\b(mrn|ssn|ss|policy|member|plan|id|no|ins|ref|code)\b|#|:")
    for label in ("MRN", "US_SSN", "HEALTH_PLAN_ID", "ID_NUMBER", "ACCOUNT_NUMBER"):
        for v in _values(questions, label):
            assert re.search(r"\d", v) and not label_words.search(v), (label, v)


def test_dates_are_absolute_or_weekday_anchored_and_intervals_are_not_phi(
    questions: list[dict],
) -> None:
    anchored = re.compile(
        r"(?i)(last|this past|next) (monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    )
    interval = re.compile(
        r"(?i)(last|next) (week|month)|(\d+|two|three|four|five|six|a) (days?|weeks?) ago"
    )
    dates = _values(questions, "DATE")
    kinds = Counter("anchored" if anchored.fullmatch(d) else "absolute" for d in dates)
    assert kinds["anchored"] > 0.1 * len(dates) and kinds["absolute"] > 0.5 * len(dates)
    for d in dates:
        assert anchored.fullmatch(d) or re.search(r"\d", d), d
    # Every weekday-anchored date is inside a DATE span; no interval is inside any span.
    seen_interval = False
    for q in questions:
        spans = [(s["start"], s["end"]) for s in q["spans"]]
        dated = [(s["start"], s["end"]) for s in q["spans"] if s["label"] == "DATE"]
        for m in anchored.finditer(q["text"]):
            assert any(a <= m.start() and m.end() <= b for a, b in dated), q["note_id"]
        for m in interval.finditer(q["text"]):
            seen_interval = True
            assert not any(a < m.end() and m.start() < b for a, b in spans), q["note_id"]
    assert seen_interval


# --- PHI-free questions ------------------------------------------------------------------


def test_about_a_third_are_phi_free(questions: list[dict]) -> None:
    share = sum(not q["spans"] for q in questions) / len(questions)
    assert abs(share - PHI_FREE_SHARE) < 0.05


def test_phi_free_questions_hold_no_phi_cue_but_look_alikes(questions: list[dict]) -> None:
    free = [q["text"] for q in questions if not q["spans"]]
    cue = re.compile(
        r"(?i)\b(mrn|ssn|dob|dr\.?|patient id|policy|member|thanks|thx|born|"
        r"last (week|month)|ago|next week|our \w+ (office|facility))\b|@|\d+/\d+/\d+"
    )
    assert not [t for t in free if cue.search(t)]
    look_alike = re.compile(
        r"(?i)(parkinson|foley|crohn|bell|holter|epley|lyme|apgar|tommy john|\d+/\d+|"
        r"\d+(\.\d+)? ?(mg|mcg|%)|type 2|stage 3)"
    )
    assert sum(bool(look_alike.search(t)) for t in free) > 0.3 * len(free)


# --- forms the benchmark must cover --------------------------------------------------------


def test_hospitals_come_in_full_and_short_forms(questions: list[dict]) -> None:
    names = _values(questions, "HOSPITAL")
    assert any(re.match(r"(?i)(mt\.?|mount) ", n) for n in names)
    assert any(re.match(r"(?i)(st\.?|saint) ", n) for n in names)
    assert any(re.fullmatch(r"[A-Z]{3,5}", n) for n in names)
    assert any("-" in n for n in names)
    assert any(re.search(r"(?i)(hospital|medical center)$", n) for n in names)
    assert len(set(names)) > 0.7 * len(names)


def test_towns_appear_in_office_facility_and_travel_phrases(questions: list[dict]) -> None:
    before: Counter[str] = Counter()
    for q in questions:
        for s in q["spans"]:
            if s["label"] == "LOCATION":
                words = q["text"][: s["start"]].split()
                before[words[-1].lower() if words else ""] += 1
    assert {"our", "your", "in", "from"} <= set(before)


def test_identifier_shapes_validators_would_reject_are_labelled(questions: list[dict]) -> None:
    ssns = _values(questions, "US_SSN")
    assert any(re.fullmatch(r"987-65-432\d", v) for v in ssns)
    assert any(v[:1] == "9" or v[:3] in ("000", "666") for v in ssns)
    mrns = _values(questions, "MRN")
    assert any(re.fullmatch(r"[A-Za-z]{1,2}-\d{6,7}", v) for v in mrns)
    plans = _values(questions, "HEALTH_PLAN_ID")
    assert any(re.fullmatch(r"(?i)(hmo|ppo|epo|pos)-\d{6}", v) for v in plans)
    assert any(re.fullmatch(r"\d{3}-\d{4}-\d{3}", v) for v in plans)
    assert _values(questions, "ID_NUMBER") and _values(questions, "AGE")


def test_questions_are_typed_in_several_styles(questions: list[dict]) -> None:
    texts = [q["text"] for q in questions]
    lower = sum(t == t.lower() for t in texts) / len(texts)
    upper = sum(t == t.upper() for t in texts) / len(texts)
    assert 0.15 < lower < 0.5 and 0.01 < upper < 0.1
    mixed = [t for t in texts if t != t.lower() and t != t.upper()]
    assert any(re.search(r"\bi\b", t) for t in mixed)  # "i think"
    assert any(re.search(r"\b(u|pls|appt|w/)\b", t) for t in mixed)
    assert any(not t.rstrip().endswith(("?", ".")) for t in texts)


def test_voice_retypes_literal_text_but_never_slot_names() -> None:
    v = Voice(shorthand=True, apostrophes=False, lower_i=True, typo_rate=1.0)
    out = v.literal(Random(0), "Can you see the doctor, I'm {doctor} with {appointment}?")
    assert out == "can u see teh docter, im {doctor} w/ {appointment}?"


# --- within a patient's notes ------------------------------------------------------------


def test_questions_are_a_share_of_the_mixed_corpus_with_the_patients_identifiers() -> None:
    notes = list(iter_notes(1200, seed=4))
    qs = [n for n in notes if n["note_type"] == "clinical_question"]
    assert 0.05 < len(qs) / len(notes) < 0.2
    for q in qs:
        index = int(q["patient_id"][4:]) - 1
        pt = make_patient(4, index)
        assert set(_values([q], "MRN")) <= {pt.mrn}
        ssns = {re.sub(r"\D", "", v) for v in _values([q], "US_SSN")}
        assert ssns <= {re.sub(r"\D", "", pt.ssn)}


def test_writer_is_a_note_writer_like_the_others() -> None:
    pt = make_patient(2, 0)
    b = NoteBuilder("mixed")
    clinical_question(b, NoteContext(pt, Random(1), pt.discharge_date))
    text, spans = b.build()
    assert 0 < len(text) < 600 and text.count("\n") <= 3
    assert all(0 <= s["start"] < s["end"] <= len(text) for s in spans)


# --- word pools --------------------------------------------------------------------------


def test_hospital_forms_are_ones_people_type() -> None:
    forms = hospital_forms()
    assert all(forms.by_kind.values()) and len(forms.full) > 3000
    everything = [f for group in forms.by_kind.values() for f in group] + list(forms.full)
    assert "Johns Hopkins" in forms.by_kind["base"]
    assert "Cedars-Sinai" in forms.by_kind["hyphenated"]
    assert {"Mt. Sinai", "UCSF"} <= set(forms.by_kind["mount"]) | set(
        forms.by_kind["acronym_in_name"]
    )
    # Possessives misread in names ending in s, and names cut off mid-word, are dropped.
    assert not [f for f in everything if re.search(r"\b(Thoma|Jame|Franci|Loui)'s\b", f)]
    assert not [f for f in everything if re.search(r"\b(Hospita|Cente|Medica)$", f)]


def test_towns_are_real_places_not_airports() -> None:
    rng = Random(0)
    towns = [us_town(rng) for _ in range(400)]
    assert not [t for t in towns if "Airport" in t]
    assert len(set(towns)) > 300


def test_identifier_helpers() -> None:
    rng = Random(0)
    assert re.fullmatch(r"[A-Z]{1,2}-?\d{6,7}", ids.prefixed_mrn(rng, "00123456"))
    ssns = [ids.unusual_ssn(rng) for _ in range(300)]
    assert all(re.fullmatch(r"\d{3}-\d{2}-\d{4}", s) for s in ssns)
    invalid = ("000", "666")
    assert all(
        s[0] == "9" or s[:3] in invalid or s[4:6] == "00" or s[7:] == "0000" or s == "123-45-6789"
        for s in ssns
    )
    assert len({ids.plan_number(rng) for _ in range(50)}) == 50
    assert len({ids.reference_code(rng) for _ in range(50)}) == 50


def test_cli_writes_questions_only(tmp_path: Path) -> None:
    from pipelines.cli import main

    out = tmp_path / "questions.jsonl"
    assert main(["sample", "--questions", "--n", "7", "--seed", "3", "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == list(iter_questions(7, seed=3))
