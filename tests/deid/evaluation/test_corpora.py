"""Corpus readers: PhysioNet deid format and JSON Lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deid.evaluation.corpora import Note, read_corpus, read_jsonl, read_physionet
from deid.spans import Span
from tests.paths import DEV_CORPUS, PHYSIONET_FIXTURE

FIXTURE = PHYSIONET_FIXTURE

# A marker that must never appear in an error message.
SECRET = "Zebulon"


def _phrase_entries(phrase_file: Path) -> list[tuple[str, str, int, int, str, str]]:
    """(patient, note, start, end, category, text) per line, text kept verbatim."""
    entries = []
    for line in phrase_file.read_text(encoding="utf-8").splitlines():
        patient, note, start, end, category, text = line.split(" ", 5)
        entries.append((patient, note, int(start), int(end), category, text))
    return entries


def _write_physionet(tmp_path: Path, records: list[tuple[str, str, str]], phrase: str | None):
    text = "".join(
        f"START_OF_RECORD={p}||||{n}||||\n{t}||||END_OF_RECORD\n\n" for p, n, t in records
    )
    (tmp_path / "id.text").write_text(text, encoding="utf-8")
    if phrase is not None:
        (tmp_path / "id-phi.phrase").write_text(phrase, encoding="utf-8")
    return tmp_path


# --- PhysioNet -----------------------------------------------------------------------


def test_physionet_records_ids_and_exact_text():
    notes = list(read_physionet(FIXTURE))
    assert [(n.patient_id, n.note_id) for n in notes] == [("3", "1"), ("3", "2"), ("5", "1")]
    # Text starts after the header's newline and stops right before ||||END_OF_RECORD.
    assert notes[1].text == "No events overnight. Family at bedside.\n\n"
    assert notes[1].gold == ()


def test_physionet_gold_offsets_round_trip_to_phrase_text():
    notes = {(n.patient_id, n.note_id): n for n in read_physionet(FIXTURE)}
    entries = _phrase_entries(FIXTURE / "id-phi.phrase")
    assert sum(len(n.gold) for n in notes.values()) == len(entries) == 8
    for patient, note_id, start, end, category, text in entries:
        note = notes[(patient, note_id)]
        assert Span(start, end, category, 1.0, "gold") in note.gold
        assert note.text[start:end] == text
    # Multi-word phrases keep their offsets and category.
    assert notes[("5", "1")].gold[0] == Span(14, 27, "Location", 1.0, "gold")


def test_physionet_gold_sorted_by_offset():
    for note in read_physionet(FIXTURE):
        assert list(note.gold) == sorted(note.gold, key=lambda s: s.start)


def test_physionet_text_file_path_equals_directory_path():
    assert list(read_physionet(FIXTURE / "id.text")) == list(read_physionet(FIXTURE))


def test_physionet_without_phrase_file_has_no_gold(tmp_path):
    shutil.copy(FIXTURE / "id.text", tmp_path / "id.text")
    notes = list(read_physionet(tmp_path))
    assert len(notes) == 3
    assert all(n.gold == () for n in notes)


def test_physionet_is_streamed(tmp_path):
    # The second record is unterminated: the first note must come out before the error.
    path = tmp_path / "id.text"
    path.write_text(
        "START_OF_RECORD=1||||1||||\nfine\n||||END_OF_RECORD\n\n"
        f"START_OF_RECORD=1||||2||||\n{SECRET} never ends\n",
        encoding="utf-8",
    )
    notes = read_physionet(path)
    assert next(notes).text == "fine\n"
    with pytest.raises(ValueError, match=r"id\.text:5: .*note=2.*END_OF_RECORD") as exc:
        next(notes)
    assert SECRET not in str(exc.value)


def test_physionet_gold_beyond_note_names_file_and_line_not_text(tmp_path):
    _write_physionet(
        tmp_path,
        [("1", "1", f"Seen by {SECRET}.\n")],
        f"1 1 8 15 HCPName {SECRET}\n1 1 8 99 HCPName {SECRET}\n",
    )
    with pytest.raises(ValueError, match=r"id-phi\.phrase:2: .*8-99.*patient=1 note=1") as exc:
        list(read_physionet(tmp_path))
    assert SECRET not in str(exc.value)


@pytest.mark.parametrize(
    "bad_line, reason",
    [
        (f"1 1 x 15 HCPName {SECRET}", "not integers"),
        (f"1 1 15 8 HCPName {SECRET}", "invalid gold span offsets"),
        ("1 1 8", "got 3 fields"),
    ],
)
def test_physionet_malformed_phrase_line(tmp_path, bad_line, reason):
    _write_physionet(tmp_path, [("1", "1", f"Seen by {SECRET}.\n")], f"\n{bad_line}\n")
    with pytest.raises(ValueError, match=rf"id-phi\.phrase:2: .*{reason}") as exc:
        list(read_physionet(tmp_path))
    assert SECRET not in str(exc.value)


def test_physionet_gold_for_absent_note_is_an_error(tmp_path):
    _write_physionet(
        tmp_path, [("1", "1", "text\n")], f"1 1 0 4 Other text\n7 7 0 4 Other {SECRET}\n"
    )
    with pytest.raises(ValueError, match=r"id-phi\.phrase:2: .*absent") as exc:
        list(read_physionet(tmp_path))
    assert SECRET not in str(exc.value)


@pytest.mark.parametrize(
    "content, message",
    [
        (f"{SECRET} before any record\n", r"id\.text:1: text outside a record"),
        (f"START_OF_RECORD=1||||{SECRET}\nx\n||||END_OF_RECORD\n", r"id\.text:1: malformed"),
        (
            "START_OF_RECORD=1||||1||||\na\n||||END_OF_RECORD\n"
            "START_OF_RECORD=1||||1||||\nb\n||||END_OF_RECORD\n",
            "duplicate record patient=1 note=1",
        ),
    ],
)
def test_physionet_malformed_notes_file(tmp_path, content, message):
    (tmp_path / "id.text").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as exc:
        list(read_physionet(tmp_path))
    assert SECRET not in str(exc.value)


def test_physionet_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_physionet(tmp_path)


# --- JSON Lines ----------------------------------------------------------------------


def _write_jsonl(path: Path, rows: list[object | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_reads_notes_spans_and_optional_fields(tmp_path):
    path = _write_jsonl(
        tmp_path / "notes.jsonl",
        [
            {
                "note_id": "n1",
                "patient_id": "p1",
                "text": "Dr. Voss saw pt on 7/22.",
                "spans": [
                    {"start": 19, "end": 23, "label": "DATE"},
                    {"start": 4, "end": 8, "label": "PERSON"},
                ],
                "note_type": "nursing",
                "note_date": "2020-07-22",
            },
            "",
            {"note_id": 2, "patient_id": 10, "text": "Nothing here."},
        ],
    )
    first, second = read_jsonl(path)
    assert first.gold == (Span(4, 8, "PERSON", 1.0, "gold"), Span(19, 23, "DATE", 1.0, "gold"))
    assert first.text[4:8] == "Voss"
    assert (first.note_type, first.note_date) == ("nursing", "2020-07-22")
    assert (second.note_id, second.patient_id, second.gold) == ("2", "10", ())
    assert second.note_type is None


@pytest.mark.parametrize(
    "row, message",
    [
        ('{"note_id": "n", "text": "' + SECRET + '", ', "invalid JSON"),
        ('["' + SECRET + '"]', "expected one JSON object per line, got an array"),
        ({"note_id": "n", "text": SECRET}, "field 'patient_id' is missing"),
        ({"note_id": "n", "patient_id": "p"}, "field 'text' is missing"),
        ({"note_id": "", "patient_id": "p", "text": SECRET}, "field 'note_id' is empty"),
        ({"note_id": "n", "patient_id": "p", "text": 5}, "field 'text' is of type int"),
        (
            {
                "note_id": "n",
                "patient_id": "p",
                "text": SECRET,
                "spans": [{"start": 0, "end": 99, "label": "X"}],
            },
            r"spans\[0\] offsets 0-99 outside the note",
        ),
        (
            {"note_id": "n", "patient_id": "p", "text": SECRET, "spans": [{"start": 0, "end": 3}]},
            r"spans\[0\] needs a non-empty string 'label'",
        ),
        (
            {"note_id": "n", "patient_id": "p", "text": SECRET, "note_type": 3},
            "field 'note_type' must be a string or null",
        ),
    ],
)
def test_jsonl_errors_name_line_and_never_text(tmp_path, row, message):
    ok = {"note_id": "a", "patient_id": "p", "text": "fine"}
    path = _write_jsonl(tmp_path / "notes.jsonl", [ok, row])
    with pytest.raises(ValueError, match=rf"notes\.jsonl:2: {message}") as exc:
        list(read_jsonl(path))
    assert SECRET not in str(exc.value)


# --- dispatch and Note ---------------------------------------------------------------


def test_read_corpus_detects_format(tmp_path):
    assert len(list(read_corpus(FIXTURE))) == 3
    assert len(list(read_corpus(FIXTURE / "id.text"))) == 3
    row = {"note_id": "a", "patient_id": "p", "text": "x"}
    for name in ("notes.jsonl", "notes.json"):
        assert [n.note_id for n in read_corpus(_write_jsonl(tmp_path / name, [row]))] == ["a"]
    (tmp_path / "notes.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unrecognised corpus format"):
        read_corpus(tmp_path / "notes.csv")
    with pytest.raises(FileNotFoundError):
        read_corpus(tmp_path / "absent.jsonl")


def test_note_repr_hides_text():
    note = Note("n1", "p1", f"Seen by {SECRET}.")
    assert SECRET not in repr(note)
    assert "n1" in repr(note)


# --- the real development corpus -----------------------------------------------------


@pytest.mark.skipif(not DEV_CORPUS.is_dir(), reason="PhysioNet dev corpus not available")
def test_dev_corpus_counts_and_offsets_match_phrase_text():
    notes = {(n.patient_id, n.note_id): n for n in read_corpus(DEV_CORPUS)}
    assert len(notes) == 1450
    assert sum(len(n.gold) for n in notes.values()) == 999
    entries = _phrase_entries(DEV_CORPUS / "id-phi.phrase")
    assert len(entries) == 999
    mismatches = [
        (p, n, s, e) for p, n, s, e, _cat, text in entries if notes[(p, n)].text[s:e] != text
    ]
    assert mismatches == []
