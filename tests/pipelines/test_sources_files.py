"""File sources stream records in a stable order and keep undecodable bytes for the checks."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import FilesSource
from pipelines.quarantine import check_record
from pipelines.records import RawRecord, Reason
from pipelines.sources.files import FileRecordSource
from schemas.notes import NOTE_SCHEMA, ColumnMapping, NoteRecord

MAPPING = ColumnMapping()


def _read(path: Path, columns: ColumnMapping = MAPPING, max_chars: int = 1000) -> list[RawRecord]:
    return list(FileRecordSource(FilesSource(path=path), columns, max_chars).records())


def _checked(records: list[RawRecord], columns: ColumnMapping = MAPPING) -> list:
    return [check_record(r, columns, 1000) for r in records]


def test_txt_directory_layout_and_order(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    (root / "p2").mkdir(parents=True)
    (root / "p1").mkdir()
    (root / "p2" / "n3.txt").write_text("third")
    (root / "p1" / "n2.txt").write_text("second")
    (root / "p1" / "n1.txt").write_text("first")
    (root / "loose.txt").write_bytes(b"\xff\xfe bad")
    (root / "p1" / "skip.md").write_text("not a note")
    (root / "p1" / "huge.txt").write_text("y" * 50)
    records = _read(root, max_chars=10)
    assert [r.source_ref for r in records] == [
        "loose.txt",
        "p1/huge.txt",
        "p1/n1.txt",
        "p1/n2.txt",
        "p2/n3.txt",
    ]
    checked = _checked(records)
    assert checked[0].reason is Reason.UNDECODABLE and checked[0].note_id == "loose"
    assert checked[1].reason is Reason.OVERSIZED  # decided from the file size, never read
    assert (checked[2].note_id, checked[2].patient_id, checked[2].text) == ("n1", "p1", "first")
    assert checked[4].patient_id == "p2"


def test_jsonl_skips_blank_lines_and_flags_malformed_ones(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    good = {"note_id": "a", "patient_id": "p", "text": "ok"}
    path.write_bytes(
        json.dumps(good).encode()
        + b"\n\n"
        + b'{"note_id": "b", "patient_id": "p", "text": "caf\xe9"}\n'
        + b"[1, 2]\n{broken\n"
    )
    records = _read(path)
    assert [r.source_ref for r in records] == [
        "notes.jsonl:1",
        "notes.jsonl:3",
        "notes.jsonl:4",
        "notes.jsonl:5",
    ]
    reasons = [getattr(c, "reason", None) for c in _checked(records)]
    assert reasons == [None, Reason.UNDECODABLE, Reason.MALFORMED, Reason.MALFORMED]
    assert _checked(records)[1].note_id == "b"  # the ID survives the bad bytes


def test_csv_with_mapping_multiline_cells_and_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(
        b"\xef\xbb\xbfdoc,mrn,body\n"
        b'd1,m1,"line one\nline two, with comma"\n'
        b"d2,m2,caf\xe9\n"
        b"d3,,empty patient\n" + b"d4,m4," + b"z" * 200_000 + b"\n"
    )
    mapping = ColumnMapping(note_id="doc", patient_id="mrn", text="body")
    checked = [check_record(r, mapping, 300_000) for r in _read(path, mapping)]
    assert isinstance(checked[0], NoteRecord)
    assert checked[0].text == "line one\nline two, with comma"
    assert checked[1].reason is Reason.UNDECODABLE and checked[1].note_id == "d2"
    assert checked[2].reason is Reason.MISSING_ID
    assert isinstance(checked[3], NoteRecord)  # past the csv module's default field limit


def test_parquet_reads_only_mapped_columns_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "notes.parquet"
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "pid": ["p", "p", "q"],
            "body": [b"fine", b"\xff", b"also fine"],
            "unrelated": [1, 2, 3],
        }
    )
    pq.write_table(table, path)
    mapping = ColumnMapping(note_id="id", patient_id="pid", text="body")
    src = FileRecordSource(FilesSource(path=path, batch_size=2), mapping, 100)
    records = list(src.records())
    assert [r.source_ref for r in records] == [
        "notes.parquet:row 1",
        "notes.parquet:row 2",
        "notes.parquet:row 3",
    ]
    assert "unrelated" not in records[0].fields
    checked = [check_record(r, mapping, 100) for r in records]
    assert checked[0].text == "fine"
    assert checked[1].reason is Reason.UNDECODABLE


def test_a_parquet_file_in_the_input_schema_needs_no_mapping(tmp_path: Path) -> None:
    path = tmp_path / "clean.parquet"
    rows = [
        {
            "note_id": "n1",
            "patient_id": "p1",
            "text": "Seen.",
            "note_type": "ed_note",
            "note_date": None,
            "encounter_id": "e1",
        }
    ]
    pq.write_table(pa.Table.from_pylist(rows, schema=NOTE_SCHEMA), path)
    (note,) = _checked(_read(path))
    assert note == NoteRecord("n1", "p1", "Seen.", "ed_note", None, "e1")
