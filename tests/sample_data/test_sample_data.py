"""The synthetic note generator: determinism, exact gold spans, coverage, consistency."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from deid.entities import ENTITY_NAMES
from sample_data import NOTE_TYPES, generate_notes, write_jsonl
from sample_data.builder import NoteBuilder, Phi
from sample_data.generate import generate, iter_notes, iter_questions, main, patient_notes
from sample_data.identifiers import dea_is_valid, vin_is_valid
from sample_data.identity import make_patient
from tests.paths import REPO
from tests.timing import assert_scales_linearly

SAMPLE = REPO / "sample_data" / "notes.jsonl"


def _digest(notes: list[dict]) -> str:
    return hashlib.sha256(json.dumps(notes, sort_keys=True).encode()).hexdigest()


def _span_text(note: dict, span: dict) -> str:
    return note["text"][span["start"] : span["end"]]


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    """A mid-sized corpus (seed 3) for property checks."""
    return list(iter_notes(1500, seed=3))


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


# --- determinism -----------------------------------------------------------------------


def test_same_seed_gives_identical_notes() -> None:
    assert generate_notes(6, seed=4) == generate_notes(6, seed=4)


def test_different_seed_gives_different_notes() -> None:
    a, b = generate_notes(4, seed=0), generate_notes(4, seed=1)
    assert [n["text"] for n in a] != [n["text"] for n in b]
    assert {n["text"] for n in a}.isdisjoint({n["text"] for n in b})


def test_output_is_identical_in_a_fresh_process() -> None:
    # Guards against hash randomisation, set ordering and today's date leaking in.
    code = (
        "import hashlib, json; from sample_data import generate_notes; "
        "print(hashlib.sha256(json.dumps(generate_notes(3, seed=9), sort_keys=True)"
        ".encode()).hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == _digest(generate_notes(3, seed=9))


def test_patient_does_not_depend_on_how_many_are_generated() -> None:
    few = generate_notes(2, seed=5)
    many = generate_notes(5, seed=5)
    assert many[: len(few)] == few
    assert patient_notes(5, 1) == [n for n in many if n["patient_id"] == few[-1]["patient_id"]]


def test_committed_sample_is_what_the_generator_writes(sample: list[dict]) -> None:
    assert sample == list(iter_notes(60, seed=0)), (
        "sample_data/notes.jsonl is stale: python -m sample_data.generate --n 60 "
        "-o sample_data/notes.jsonl"
    )


# --- spans -----------------------------------------------------------------------------


def _assert_valid_spans(notes: list[dict]) -> None:
    labels = set(ENTITY_NAMES)
    for note in notes:
        previous_end = 0
        for span in note["spans"]:
            where = (note["note_id"], span["start"])
            assert 0 <= span["start"] < span["end"] <= len(note["text"]), where
            assert span["start"] >= previous_end, f"overlapping or unsorted span at {where}"
            assert span["label"] in labels, where
            value = _span_text(note, span)
            assert value == value.strip() and value, f"padded span at {where}"
            previous_end = span["end"]


def test_spans_are_valid(corpus: list[dict]) -> None:
    _assert_valid_spans(corpus)


def test_committed_sample_spans_are_valid(sample: list[dict]) -> None:
    _assert_valid_spans(sample)


def test_committed_sample_covers_every_entity_and_note_type(sample: list[dict]) -> None:
    labels = {s["label"] for n in sample for s in n["spans"]}
    assert set(ENTITY_NAMES) - labels == set()
    assert {n["note_type"] for n in sample} == set(NOTE_TYPES)
    assert len(sample) == 60


def test_record_fields_and_types(corpus: list[dict]) -> None:
    assert {n["note_type"] for n in corpus} == set(NOTE_TYPES)
    for note in corpus[:200]:
        assert set(note) == {
            "note_id", "patient_id", "encounter_id", "note_type", "note_date", "text", "spans"
        }  # fmt: skip
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", note["note_date"])
        assert "2011-01-01" <= note["note_date"] <= "2024-12-31"
    assert len({n["note_id"] for n in corpus}) == len(corpus)


def test_span_offsets_survive_case_changes() -> None:
    b = NoteBuilder("upper")
    b.say("seen by dr {name} on {d}.", name=Phi("Healey", "PERSON"), d=Phi("7/22", "DATE"))
    text, spans = b.build()
    assert text == "SEEN BY DR HEALEY ON 7/22."
    assert [text[s["start"] : s["end"]] for s in spans] == ["HEALEY", "7/22"]
    # A piece whose capital form is longer ("ß" -> "SS") is left as it is.
    b = NoteBuilder("upper")
    b.add("straße ", Phi("Weiß", "PERSON"), " ok")
    text, spans = b.build()
    assert text[spans[0]["start"] : spans[0]["end"]] == "Weiß"
    assert text.endswith(" OK")


def test_builder_rejects_unknown_labels_and_padded_pieces() -> None:
    with pytest.raises(ValueError, match="unknown entity label"):
        NoteBuilder().add(Phi("x", "NAME"))
    with pytest.raises(ValueError, match="padded"):
        NoteBuilder().add(Phi(" Healey", "PERSON"))


# --- what the spans contain ------------------------------------------------------------


def _values(notes: list[dict], label: str) -> list[str]:
    return [_span_text(n, s) for n in notes for s in n["spans"] if s["label"] == label]


def test_structured_identifiers_are_well_formed(corpus: list[dict]) -> None:
    deas = [v for v in _values(corpus, "LICENSE_NUMBER") if re.fullmatch(r"[A-Za-z]{2}\d{7}", v)]
    assert deas and all(dea_is_valid(v.upper()) for v in deas)
    vins = [v for v in _values(corpus, "VEHICLE_ID") if len(v) == 17]
    assert vins and all(vin_is_valid(v.upper()) for v in vins)
    for ssn in _values(corpus, "US_SSN"):
        digits = re.sub(r"\D", "", ssn)
        assert len(digits) == 9
        assert digits[:3] not in ("000", "666") and digits[0] != "9"
        assert digits[3:5] != "00" and digits[5:] != "0000"
    assert all(v.isdigit() for v in _values(corpus, "MRN"))
    assert all(int(v) > 89 for v in _values(corpus, "AGE"))


def test_every_age_over_89_is_labelled_and_no_younger_age_is(corpus: list[dict]) -> None:
    age_pattern = re.compile(r"\b(\d{2,3})(?: yo| y/o|-year-old| year old| yr old)\b", re.I)
    checked = 0
    for note in corpus:
        ages = {(s["start"], s["end"]) for s in note["spans"] if s["label"] == "AGE"}
        for match in age_pattern.finditer(note["text"]):
            labelled = (match.start(1), match.end(1)) in ages
            assert labelled == (int(match.group(1)) > 89), note["note_id"]
            checked += 1
    assert checked > 500


_NAME_LIKE = ("PERSON", "HOSPITAL", "LOCATION", "STREET_ADDRESS", "EMAIL_ADDRESS", "URL")


def test_lookalike_clinical_text_is_present_and_unlabelled(corpus: list[dict]) -> None:
    lookalikes = ("Foley", "Coumadin", "Lasix", "MR", "Parkinson's", "Hodgkin", "BP 120/80")
    unlabelled: Counter[str] = Counter()
    for note in corpus:
        text = note["text"]
        for word in lookalikes:
            for match in re.finditer(rf"\b{re.escape(word)}\b", text, re.I):
                inside = [
                    s
                    for s in note["spans"]
                    if s["start"] < match.end() and match.start() < s["end"]
                ]
                # "Foley" is also a surname (and a street, and part of an email address):
                # labelled only inside such names, never on its own as a number or date.
                assert all(s["label"] in _NAME_LIKE for s in inside), word
                unlabelled[word] += not inside
    assert all(unlabelled[w] >= 5 for w in lookalikes), unlabelled


def test_case_styles_are_mixed(corpus: list[dict]) -> None:
    nursing = [n["text"] for n in corpus if n["note_type"] == "nursing_note"]
    upper = sum(t == t.upper() for t in nursing)
    lower = sum(t == t.lower() for t in nursing)
    assert upper > 0.15 * len(nursing) and lower > 0.15 * len(nursing)


def test_some_notes_carry_no_phi(corpus: list[dict]) -> None:
    assert sum(not n["spans"] for n in corpus) > 0.02 * len(corpus)


# --- per-patient consistency -----------------------------------------------------------


def test_patient_identity_is_consistent_across_notes() -> None:
    notes = generate_notes(40, seed=0)
    by_patient: dict[str, list[dict]] = defaultdict(list)
    for note in notes:
        by_patient[note["patient_id"]].append(note)
    mrns_seen: dict[str, str] = {}
    named_in_several = 0
    for index, pid in enumerate(by_patient):
        pt = make_patient(0, index)
        assert pt.patient_id == pid
        patient_notes_ = by_patient[pid]
        mrns = set(_values(patient_notes_, "MRN"))
        assert mrns <= {pt.mrn}, pid
        if mrns:
            assert mrns_seen.setdefault(pt.mrn, pid) == pid, "two patients share an MRN"
        with_name = sum(pt.last.lower() in n["text"].lower() for n in patient_notes_)
        named_in_several += with_name >= 2
        outpatient = ("referral_letter", "clinical_question")
        inpatient = {n["encounter_id"] for n in patient_notes_ if n["note_type"] not in outpatient}
        assert len(inpatient) <= 1, pid
        for note in patient_notes_:
            # A clinical question may come after discharge (a portal message).
            late = 45 if note["note_type"] == "clinical_question" else 0
            assert note["note_date"] <= (pt.discharge_date + dt.timedelta(days=late)).isoformat()
    assert named_in_several >= 0.7 * len(by_patient)


def test_notes_per_patient_bounds_are_respected() -> None:
    counts = Counter(n["patient_id"] for n in generate_notes(30, notes_per_patient=(3, 4), seed=2))
    assert set(counts.values()) <= {3, 4}
    with pytest.raises(ValueError):
        generate_notes(1, notes_per_patient=(5, 2))


# --- writing ---------------------------------------------------------------------------


def test_generate_writes_exactly_n_notes(tmp_path: Path) -> None:
    summary = generate(23, seed=1, path=tmp_path / "out" / "notes.jsonl")
    lines = summary.path.read_text(encoding="utf-8").splitlines()
    assert summary.notes == len(lines) == 23
    assert summary.patients == len({json.loads(x)["patient_id"] for x in lines})
    assert [json.loads(x) for x in lines] == list(iter_notes(23, seed=1))
    assert generate(0, seed=1, path=tmp_path / "empty.jsonl").notes == 0


def test_cli_writes_jsonl_and_prints_counts_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.jsonl"
    main(["--n", "7", "--seed", "2", "-o", str(out)])
    notes = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(notes) == 7
    printed = capsys.readouterr().out
    assert "7 notes" in printed
    values = {_span_text(n, s) for n in notes for s in n["spans"]}
    assert not any(v in printed for v in values if len(v) >= 4)


def test_write_jsonl_round_trips(tmp_path: Path) -> None:
    notes = generate_notes(2, seed=8)
    assert write_jsonl(notes, tmp_path / "x.jsonl") == len(notes)
    back = [json.loads(x) for x in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()]
    assert back == notes


def test_generation_cost_grows_no_faster_than_the_notes() -> None:
    list(iter_notes(10, seed=6))  # build the shared pools first
    list(iter_questions(1, seed=6))  # and the lexicon pools that questions draw from
    assert len(list(iter_notes(1000, seed=6))) == 1000
    assert_scales_linearly(
        lambda: list(iter_notes(250, seed=6)),
        lambda: list(iter_notes(1000, seed=6)),
        size_ratio=4,
    )
