"""Record checks, reason codes, the quarantine writer and duplicate handling."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.quarantine import (
    README_NAME,
    QuarantineItem,
    QuarantineWriter,
    check_record,
)
from pipelines.records import RawRecord, Reason
from schemas.notes import ColumnMapping, NoteRecord

MAPPING = ColumnMapping()
GOOD = {"note_id": "n1", "patient_id": "p1", "text": "Seen today."}


def _check(fields: dict, max_chars: int = 100) -> NoteRecord | QuarantineItem:
    return check_record(RawRecord("src:1", fields), MAPPING, max_chars)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"note_id": None}, Reason.MISSING_ID),
        ({"note_id": "   "}, Reason.MISSING_ID),
        ({"patient_id": ["p"]}, Reason.MISSING_ID),
        ({"note_id": True}, Reason.MISSING_ID),
        ({"text": None}, Reason.EMPTY_TEXT),
        ({"text": " \n\t "}, Reason.EMPTY_TEXT),
        ({"text": 42}, Reason.NOT_TEXT),
        ({"text": {"a": 1}}, Reason.NOT_TEXT),
        ({"text": "ab\x00cd"}, Reason.NOT_TEXT),
        ({"text": b"caf\xe9 au lait"}, Reason.UNDECODABLE),
        ({"text": b"caf\xe9".decode("utf-8", "surrogateescape")}, Reason.UNDECODABLE),
        ({"text": "x" * 101}, Reason.OVERSIZED),
        ({"note_date": "not a date"}, Reason.INVALID_DATE),
    ],
)
def test_each_problem_gets_its_reason(change: dict, reason: Reason) -> None:
    result = _check({**GOOD, **change})
    assert isinstance(result, QuarantineItem)
    assert result.reason is reason
    assert result.source_ref == "src:1"


def test_valid_records_are_normalised() -> None:
    note = _check({**GOOD, "note_id": 17, "text": "caf\xe9".encode(), "note_date": "2020-02-03"})
    assert isinstance(note, NoteRecord)
    assert (note.note_id, note.text, note.note_date) == ("17", "café", dt.date(2020, 2, 3))
    assert _check({**GOOD, "text": "x" * 100}).text == "x" * 100  # the limit itself is fine
    assert "Seen" not in repr(_check(GOOD))  # note text stays out of repr


def test_column_mapping_renames_source_columns() -> None:
    mapping = ColumnMapping(note_id="doc", patient_id="mrn", text="body")
    raw = RawRecord("r", {"doc": "d1", "mrn": "m1", "body": "Hello."})
    note = check_record(raw, mapping, 100)
    assert isinstance(note, NoteRecord)
    assert (note.note_id, note.patient_id, note.text) == ("d1", "m1", "Hello.")


def test_source_problems_pass_through_with_raw_bytes() -> None:
    raw = RawRecord("f.jsonl:3", problem=Reason.MALFORMED, raw=b"{not json")
    item = check_record(raw, MAPPING, 100)
    assert isinstance(item, QuarantineItem)
    assert item.reason is Reason.MALFORMED
    assert item.payload == {"base64": "e25vdCBqc29u"}


def test_report_entries_carry_ids_and_reasons_not_text() -> None:
    item = _check({**GOOD, "text": "SECRET-" + "x" * 200})
    assert isinstance(item, QuarantineItem)
    entry = item.report_entry()
    assert entry == {
        "source_ref": "src:1",
        "note_id": "n1",
        "reason": "OVERSIZED",
        "detail": "207 chars",
    }
    assert item.payload is None  # oversized notes stay in the source, not in the quarantine


def test_writer_commits_restricted_files_and_a_phi_free_report(tmp_path: Path) -> None:
    qdir = tmp_path / "notes.jsonl.deidflow-quarantine-RESTRICTED"
    writer = QuarantineWriter(qdir)
    writer.add(_check({**GOOD, "text": 42, "extra": "Mr. Canary"}))
    writer.add(_check({**GOOD, "note_id": None}))
    report = writer.commit("run1")
    assert report == qdir / "report-run1.json"
    assert stat.S_IMODE(qdir.stat().st_mode) == 0o700
    held = qdir / "quarantine-run1.jsonl"
    assert stat.S_IMODE(held.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in held.read_text().splitlines()]
    assert [line["reason"] for line in lines] == ["NOT_TEXT", "MISSING_ID"]
    assert lines[0]["record"]["extra"] == "Mr. Canary"  # raw record kept for stewards
    body = report.read_text()
    assert "Canary" not in body and "Seen today" not in body
    assert json.loads(body)["counts"] == {"MISSING_ID": 1, "NOT_TEXT": 1}
    assert "RAW CLINICAL NOTES" in (qdir / README_NAME).read_text()
    assert not list(qdir.glob(".in-progress-*"))


@pytest.mark.parametrize(
    ("change", "reason", "detail"),
    [
        # Bytes that are not UTF-8 in an ID: undecodable, not "missing".
        ({"note_id": b"n\xe9".decode("utf-8", "surrogateescape")}, Reason.UNDECODABLE, "note_id"),
        ({"note_id": "n\ud800"}, Reason.UNDECODABLE, "note_id"),  # a JSON \ud800 escape
        (
            {"patient_id": b"p\xff".decode("utf-8", "surrogateescape")},
            Reason.UNDECODABLE,
            "patient_id",
        ),
        ({"patient_id": None}, Reason.MISSING_ID, "patient_id"),  # never a shared "None"
        ({"note_type": ["x"]}, Reason.INVALID_FIELD, "note_type: list"),  # never "['x']"
        ({"note_type": {"a": 1}}, Reason.INVALID_FIELD, "note_type: dict"),
        ({"encounter_id": ["e"]}, Reason.INVALID_FIELD, "encounter_id: list"),
        ({"note_type": "Letter \udcff"}, Reason.UNDECODABLE, "note_type"),
        ({"note_date": "0001-01-01"}, Reason.INVALID_DATE, "out of range for the date shift"),
    ],
)
def test_identity_and_metadata_problems_are_named(
    change: dict, reason: Reason, detail: str
) -> None:
    result = check_record(RawRecord("src:1", {**GOOD, **change}), MAPPING, 100, (-365, -1))
    assert isinstance(result, QuarantineItem)
    assert (result.reason, result.detail) == (reason, detail)


def test_labels_are_one_line_of_text() -> None:
    note = _check({**GOOD, "note_type": "  Progress\n\tNote ", "encounter_id": 7})
    assert isinstance(note, NoteRecord)
    assert (note.note_type, note.encounter_id) == ("Progress Note", "7")
    assert _check({**GOOD, "note_type": 3}).note_type == "3"
    assert _check({**GOOD, "note_type": "  "}).note_type is None


_SHIFTS = st.tuples(st.integers(-40_000, 40_000), st.integers(-40_000, 40_000)).map(sorted)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(date=st.dates(), shift=_SHIFTS, pick=st.floats(0, 1))
def test_a_note_date_passes_only_if_every_offset_keeps_it_on_the_calendar(
    date: dt.date, shift: list[int], pick: float
) -> None:
    """The rule: a date that some offset of the policy's range would move before
    0001-01-01 or after 9999-12-31 is INVALID_DATE, whoever the patient (so the key never
    decides what is quarantined).  A date that passes can be shifted by any offset."""
    low, high = shift
    result = check_record(
        RawRecord("r", {**GOOD, "note_date": date.isoformat()}), MAPPING, 100, (low, high)
    )

    def shiftable(offset: int) -> bool:
        try:
            date + dt.timedelta(days=offset)
        except OverflowError:
            return False
        return True

    if shiftable(low) and shiftable(high):  # the range's ends are the extremes
        assert isinstance(result, NoteRecord)
        offset = round(low + pick * (high - low))
        date + dt.timedelta(days=offset)  # never raises OverflowError
    else:
        assert isinstance(result, QuarantineItem) and result.reason is Reason.INVALID_DATE


def test_an_oversized_record_is_kept_by_reference() -> None:
    where = {"file": "notes.jsonl", "offset": 10, "length": 500, "line": 2}
    raw = RawRecord("notes.jsonl:2", {**GOOD, "text": "x" * 500}, location=where)
    item = check_record(raw, MAPPING, 100)
    assert isinstance(item, QuarantineItem)
    assert (item.reason, item.payload, item.reference) == (Reason.OVERSIZED, None, where)


def test_concurrent_runs_on_one_source_keep_their_own_quarantine_files(tmp_path: Path) -> None:
    """Two runs reading one source share its quarantine folder: a run starting never
    removes the in-progress file of a run still going; it does remove a dead run's."""
    qdir = tmp_path / "q"
    first = QuarantineWriter(qdir)
    first.add(_check({**GOOD, "text": None}))
    (qdir / ".in-progress-dead.jsonl").write_text("{}\n")  # a killed run's: nobody holds it
    second = QuarantineWriter(qdir)
    assert second.clear_stale() == 1
    assert len(list(qdir.glob(".in-progress-*"))) == 1  # the live one stays
    second.add(_check({**GOOD, "note_id": None}))
    assert first.commit("run-a") is not None and second.commit("run-b") is not None
    assert json.loads((qdir / "quarantine-run-a.jsonl").read_text())["reason"] == "EMPTY_TEXT"
    assert json.loads((qdir / "quarantine-run-b.jsonl").read_text())["reason"] == "MISSING_ID"
    assert not list(qdir.glob(".*"))


def test_writer_abort_and_stale_cleanup(tmp_path: Path) -> None:
    writer = QuarantineWriter(tmp_path / "q")
    writer.add(_check({**GOOD, "text": None}))
    writer.abort()
    assert not list((tmp_path / "q").glob("*.jsonl"))
    (tmp_path / "q" / ".in-progress-dead.jsonl").write_text("{}\n")
    QuarantineWriter(tmp_path / "q").clear_stale()
    assert not list((tmp_path / "q").glob(".in-progress-*"))
    assert QuarantineWriter(tmp_path / "empty").commit("r") is None
