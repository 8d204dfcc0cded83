"""Record checks, reason codes, the quarantine writer and duplicate handling."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest

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


def test_writer_abort_and_stale_cleanup(tmp_path: Path) -> None:
    writer = QuarantineWriter(tmp_path / "q")
    writer.add(_check({**GOOD, "text": None}))
    writer.abort()
    assert not list((tmp_path / "q").glob("*.jsonl"))
    (tmp_path / "q" / ".in-progress-dead.jsonl").write_text("{}\n")
    QuarantineWriter(tmp_path / "q").clear_stale()
    assert not list((tmp_path / "q").glob(".in-progress-*"))
    assert QuarantineWriter(tmp_path / "empty").commit("r") is None
