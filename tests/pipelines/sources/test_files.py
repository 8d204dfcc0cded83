"""File sources stream records in a stable order, lose none and hold none whole if too big.

Each reader is fed what broke its predecessor: a CSV quote that never closes (it used to
swallow the rows after it into one note), surplus cells (dropped silently), a BOM and
CR-only line endings (a lost or merged first record), JSON nested 5,000 levels deep
(``RecursionError`` stopped the run), a Parquet row without an ID (quarantined as
``{}``), and in ``.txt`` folders broken links, link loops, links out of the folder, a
FIFO (the run hung), hidden files (skipped uncounted) and equal file names in two
patients' folders (the second quarantined as a duplicate).
"""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.config import FilesSource
from pipelines.quarantine import QuarantineItem, check_record
from pipelines.records import RawRecord, Reason, Skip
from pipelines.sources.files import FileRecordSource, record_byte_limit
from schemas.notes import NOTE_SCHEMA, ColumnMapping, NoteRecord

MAPPING = ColumnMapping()


def _read(path: Path, columns: ColumnMapping = MAPPING, max_chars: int = 1000) -> list[RawRecord]:
    return list(FileRecordSource(FilesSource(path=path), columns, max_chars).records())


def _checked(
    records: list[RawRecord], columns: ColumnMapping = MAPPING, max_chars: int = 1000
) -> list:
    return [check_record(r, columns, max_chars) for r in records if r.skipped is None]


def _reasons(records: list[RawRecord]) -> list[str | None]:
    return [getattr(c, "reason", None) for c in _checked(records)]


# --- .txt folders ---------------------------------------------------------------------


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
        "p1/skip.md",
        "p2/n3.txt",
    ]
    assert records[4].skipped is Skip.NOT_TXT  # counted, not read
    checked = _checked(records)
    assert checked[0].reason is Reason.UNDECODABLE and checked[0].note_id == "loose.txt"
    assert checked[1].reason is Reason.OVERSIZED  # decided from the file size, never read
    assert checked[1].reference == {"file": "p1/huge.txt"} and checked[1].payload is None
    assert (checked[2].note_id, checked[2].patient_id, checked[2].text) == (
        "p1/n1.txt",
        "p1",
        "first",
    )
    assert checked[4].patient_id == "p2"


def test_equal_file_names_in_two_folders_are_two_notes(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    for patient, text in (("P1", "one"), ("P2", "two")):
        (root / patient).mkdir(parents=True)
        (root / patient / "same.txt").write_text(text)
    notes = _checked(_read(root))
    assert [(n.note_id, n.patient_id, n.text) for n in notes] == [
        ("P1/same.txt", "P1", "one"),
        ("P2/same.txt", "P2", "two"),
    ]


def _read_in_thread(root: Path) -> list[RawRecord]:
    """Read ``root``; a reader that blocks (on a FIFO, say) fails the test instead of
    hanging it (the join's timeout is a hang guard, not a speed bound)."""
    found: list[RawRecord] = []
    reader = threading.Thread(target=lambda: found.extend(_read(root)), daemon=True)
    reader.start()
    reader.join(timeout=120)
    assert not reader.is_alive(), "the reader blocked"
    return found


def test_links_fifos_and_hidden_files_are_quarantined_or_counted(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    (root / "P1").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config.txt").write_text("not a note")
    (tmp_path / "elsewhere.txt").write_text("CANARY outside the source")
    (root / "P1" / "a.txt").write_text("a note")
    (root / "P1" / ".a.txt.swp").write_text("editor swap")
    (root / "P1" / ".hidden.txt").write_text("hidden note")
    os.symlink(tmp_path / "elsewhere.txt", root / "P1" / "out.txt")
    os.symlink("missing.txt", root / "P1" / "broken.txt")
    os.symlink("loop2.txt", root / "P1" / "loop1.txt")
    os.symlink("loop1.txt", root / "P1" / "loop2.txt")
    os.symlink("a.txt", root / "P1" / "alias.txt")  # inside the folder: followed
    os.symlink(tmp_path, root / "P1" / "up")  # a folder: not followed
    os.mkfifo(root / "P1" / "pipe.txt")
    records = _read_in_thread(root)
    by_ref = {r.source_ref: r for r in records}
    assert by_ref[".git"].skipped is Skip.HIDDEN  # counted once, not entered
    assert by_ref["P1/.a.txt.swp"].skipped is Skip.HIDDEN
    assert by_ref["P1/.hidden.txt"].skipped is Skip.HIDDEN
    assert by_ref["P1/up"].skipped is Skip.DIRECTORY_LINK
    outcome = {r.source_ref: check_record(r, MAPPING, 1000) for r in records if r.skipped is None}
    reasons = {ref: getattr(c, "reason", "note") for ref, c in outcome.items()}
    assert reasons == {
        "P1/a.txt": "note",
        "P1/alias.txt": "note",  # same text: the duplicate check counts it
        "P1/broken.txt": Reason.BROKEN_LINK,
        "P1/loop1.txt": Reason.BROKEN_LINK,
        "P1/loop2.txt": Reason.BROKEN_LINK,
        "P1/out.txt": Reason.OUTSIDE_ROOT,
        "P1/pipe.txt": Reason.NOT_A_FILE,
    }
    assert outcome["P1/out.txt"].payload is None  # never read: nothing of it is kept
    assert "CANARY" not in repr([r.fields for r in records])
    assert outcome["P1/loop1.txt"].detail == "a loop of links"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_quarantined(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "locked.txt").write_text("secret")
    (root / "locked.txt").chmod(0)
    (item,) = _checked(_read(root))
    assert (item.reason, item.detail) == (Reason.UNREADABLE, "EACCES")


def test_a_folder_nested_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    root = deep = tmp_path / "notes"
    root.mkdir()
    for _ in range(1200):  # one at a time: mkdir(parents=True) recurses too
        deep = deep / "d"
        deep.mkdir()
    (deep / "n.txt").write_text("deep note")
    try:
        (note,) = _checked(_read(root))
        assert (note.patient_id, note.text) == ("d", "deep note")
    finally:  # shutil.rmtree (pytest's clean-up) recurses as deep as the folder
        (deep / "n.txt").unlink()
        while deep != root:
            deep.rmdir()
            deep = deep.parent


def test_the_runs_own_folders_inside_the_source_are_not_read(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    (root / "quarantine").mkdir(parents=True)
    (root / "quarantine" / "README-RESTRICTED.txt").write_text("restricted")
    (root / "n.txt").write_text("note")
    source = FileRecordSource(FilesSource(path=root), MAPPING, 100, exclude=[root / "quarantine"])
    assert [r.source_ref for r in source.records()] == ["n.txt"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "txt"])
def test_count_says_how_many_entries_records_yields(tmp_path: Path, fmt: str) -> None:
    """The progress bar's total: what ``records`` yields (the run's rows_in), not lines."""
    rows = [
        {"note_id": f"n{i}", "patient_id": "p", "text": f"line one\nline {i}"} for i in range(5)
    ]
    if fmt == "jsonl":
        path = tmp_path / "notes.jsonl"
        path.write_bytes(b"\r".join(json.dumps(r).encode() for r in rows) + b"\n\n" + b"x" * 5000)
        expected = 6
    elif fmt == "csv":
        path = tmp_path / "notes.csv"
        body = "".join(f'{r["note_id"]},p,"{r["text"]}"\n' for r in rows)
        path.write_text("note_id,patient_id,text\n" + body + 'n9,p,"never closes\n')
        expected = 6
    elif fmt == "parquet":
        path = tmp_path / "notes.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
        expected = 5
    else:
        path = tmp_path / "notes"
        (path / "P1").mkdir(parents=True)
        for r in rows:
            (path / "P1" / f"{r['note_id']}.txt").write_text(str(r["text"]))
        (path / ".hidden").write_text("x")
        expected = 6
    source = FileRecordSource(FilesSource(path=path), MAPPING, 100)
    assert source.count() == len(list(source.records())) == expected


# --- JSONL ----------------------------------------------------------------------------


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
    reasons = _reasons(records)
    assert reasons == [None, Reason.UNDECODABLE, Reason.MALFORMED, Reason.MALFORMED]
    assert _checked(records)[1].note_id == "b"  # the ID survives the bad bytes
    assert _checked(records)[3].payload == {"base64": "e2Jyb2tlbg=="}  # raw bytes kept


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_jsonl_bom_and_every_line_ending(tmp_path: Path, eol: bytes) -> None:
    path = tmp_path / "notes.jsonl"
    rows = [{"note_id": f"n{i}", "patient_id": "p", "text": f"note {i}"} for i in range(3)]
    path.write_bytes(b"\xef\xbb\xbf" + eol.join(json.dumps(r).encode() for r in rows) + eol)
    notes = _checked(_read(path))
    assert [n.note_id for n in notes] == ["n0", "n1", "n2"]  # the first one too


def test_deeply_nested_json_is_malformed_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    deep = b'{"note_id": "d", "patient_id": "p", "text": "t", "x": ' + b"[" * 100 + b"]" * 100
    path.write_bytes(
        b"[" * 5000 + b"\n" + deep + b"}\n" + b'{"note_id": "ok", "patient_id": "p", "text": "t"}\n'
    )
    checked = _checked(_read(path))
    assert [(getattr(c, "reason", None), getattr(c, "detail", "")) for c in checked] == [
        (Reason.MALFORMED, "nested too deep to parse"),
        (Reason.MALFORMED, "nested deeper than 64 levels"),
        (None, ""),
    ]


def test_an_oversized_line_is_quarantined_by_reference_with_bounded_memory(
    tmp_path: Path,
) -> None:
    """A 64 MB line (not even JSON) with a 1,000-character limit: held never more than a
    few MB (tracemalloc: what Python allocates), and quarantined as file/offset/length."""
    path = tmp_path / "notes.jsonl"
    first = b'{"note_id": "a", "patient_id": "p", "text": "ok"}\n'
    with path.open("wb") as fh:
        fh.write(first)
        for _ in range(64):
            fh.write(b"x" * (1 << 20))
        fh.write(b"\r\n" + b'{"note_id": "b", "patient_id": "p", "text": "ok 2"}')
    tracemalloc.start()
    try:
        checked = _checked(_read(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * (1 << 20), f"peak {peak / 2**20:.1f} MiB"
    assert [getattr(c, "note_id", None) for c in checked] == ["a", None, "b"]
    item = checked[1]
    assert item.reason is Reason.OVERSIZED and item.payload is None
    assert item.reference == {
        "file": "notes.jsonl",
        "offset": len(first),
        "length": 64 << 20,
        "line": 2,
    }


def test_the_byte_limit_admits_every_note_within_max_note_chars(tmp_path: Path) -> None:
    """Worst case: every character outside the BMP, escaped by JSON as a surrogate pair."""
    path = tmp_path / "notes.jsonl"
    text = "\U0001f642" * 1000
    path.write_text(json.dumps({"note_id": "e", "patient_id": "p", "text": text}) + "\n")
    assert path.stat().st_size > 12_000
    (note,) = _checked(_read(path, max_chars=1000), max_chars=1000)
    assert isinstance(note, NoteRecord) and note.text == text
    assert record_byte_limit("jsonl", 1000) >= path.stat().st_size


# --- CSV ------------------------------------------------------------------------------


def test_csv_with_mapping_multiline_cells_and_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(
        b"\xef\xbb\xbfdoc,mrn,body\n"
        b'd1,m1,"line one\nline two, with comma"\n'
        b"d2,m2,caf\xe9\n"
        b"d3,,empty patient\n" + b"d4,m4," + b"z" * 200_000 + b"\n"
    )
    mapping = ColumnMapping(note_id="doc", patient_id="mrn", text="body")
    checked = [check_record(r, mapping, 300_000) for r in _read(path, mapping, 300_000)]
    assert isinstance(checked[0], NoteRecord)
    assert checked[0].text == "line one\nline two, with comma"
    assert checked[1].reason is Reason.UNDECODABLE and checked[1].note_id == "d2"
    assert checked[2].reason is Reason.MISSING_ID
    assert isinstance(checked[3], NoteRecord)  # past the csv module's default field limit


def test_an_unterminated_quote_never_swallows_the_rows_after_it(tmp_path: Path) -> None:
    """The issue's case: 10 data rows, the third opens a quote it never closes."""
    rows = [f'n{i},p{i},"note of patient {i}"' for i in range(10)]
    rows[2] = 'n2,p2,"note of patient 2 that never ends'
    path = tmp_path / "notes.csv"
    path.write_text("note_id,patient_id,text\n" + "\n".join(rows) + "\n")
    records = _read(path)
    checked = _checked(records)
    assert len(checked) == 10  # one record per row: none merged, none lost
    assert [getattr(c, "reason", None) for c in checked] == [None, None, Reason.MALFORMED] + [
        None
    ] * 7
    bad = checked[2]
    assert bad.source_ref == "notes.csv:4"  # its line number
    assert bad.payload == {"base64": _b64(rows[2])}  # the raw line, as read
    assert "quoting broken" in bad.detail
    for i, note in enumerate(checked):
        if i != 2:
            assert (note.note_id, note.patient_id, note.text) == (
                f"n{i}",
                f"p{i}",
                f"note of patient {i}",
            )


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ("n1,p1,text,surplus", "4 cells, the header has 3"),
        ("n1,p1", "2 cells, the header has 3"),
        ('n1,p1,he said "hi"', "a quote inside an unquoted cell"),
        ('n1,p1,"closed" then more', "text after a closing quote"),
    ],
)
def test_a_csv_row_of_the_wrong_shape_is_malformed(tmp_path: Path, line: str, detail: str) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(f"note_id,patient_id,text\n{line}\nn2,p2,fine\n")
    first, second = _checked(_read(path))
    assert (first.reason, first.detail, first.source_ref) == (
        Reason.MALFORMED,
        detail,
        "notes.csv:2",
    )
    assert first.payload == {"base64": _b64(line)}
    assert second.note_id == "n2"


def test_csv_with_cr_line_endings_and_a_cr_in_a_cell(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(b'note_id,patient_id,text\rn1,p1,"a\r\nb"\rn2,p2,two\r')
    notes = _checked(_read(path))
    assert [(n.note_id, n.text) for n in notes] == [("n1", "a\r\nb"), ("n2", "two")]


def test_an_oversized_csv_record_is_quarantined_by_reference(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    big = "x" * (record_byte_limit("csv", 100) + 10)
    path.write_text(f'note_id,patient_id,text\nn1,p1,"{big}\nmore"\nn2,p2,fine\n')
    big_item, note = _checked(_read(path, max_chars=100), max_chars=100)
    assert big_item.reason is Reason.OVERSIZED and big_item.payload is None
    assert big_item.reference["offset"] == len("note_id,patient_id,text\n")
    assert note.note_id == "n2"


def test_a_csv_header_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    for body, message in (
        ("", "is empty"),
        ('note_id,"patient_id\nn1,p1,x\n', "header cannot be read"),
        ("note_id,text,text\n", "twice"),
    ):
        path = tmp_path / "notes.csv"
        path.write_text(body)
        with pytest.raises(ValueError, match=message):
            _read(path)


def _rfc4180(cell: str) -> str:
    """A cell as RFC 4180 writes it (Python's csv writer leaves a \n unquoted when the
    line terminator is \r)."""
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


_CELL = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t') + ["é", "\U0001f642"]), max_size=12)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=12),
    eol=st.sampled_from(["\n", "\r\n", "\r"]),
    broken=st.integers(min_value=0),
)
def test_csv_rows_survive_as_written_and_a_broken_one_takes_no_other_row(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], eol: str, broken: int
) -> None:
    """Rows written as RFC 4180 says come back exactly; if one loses its closing quote,
    every other row still comes back exactly, and the broken row's first line is
    quarantined with its line number.

    What cannot be told apart: if the next quote after the broken one closes a cell
    right away (a quoted cell of a later row that starts with a comma, a line break or
    a quote), the two rows form a valid record.  Cells here start with anything else.
    """
    rows = [  # unique, unquoted IDs; no cell starts with , " or a line break
        [f"id{i}", *(f"a{cell}" if cell[:1] in ',"\r\n' else cell for cell in row[1:])]
        for i, row in enumerate(rows)
    ]
    lines = [",".join(_rfc4180(cell) for cell in row) + eol for row in rows]
    k = broken % len(rows)
    cut = lines[k].rstrip("\r\n")
    broken_row = cut.endswith('"') and not cut.endswith('""')
    if broken_row:
        lines[k] = cut[:-1] + eol  # its last cell's closing quote, gone
    path = tmp_path_factory.mktemp("csv") / "notes.csv"
    path.write_text("note_id,patient_id,text" + eol + "".join(lines), newline="")
    records = _read(path, max_chars=10_000)
    parsed = {r.fields["note_id"]: r for r in records if r.problem is None}
    for i, row in enumerate(rows):
        if broken_row and i == k:
            continue
        got = parsed[f"id{i}"].fields
        want = [cell or None for cell in row]
        assert [got["note_id"], got["patient_id"], got["text"]] == want
    if broken_row:
        line = 2 + sum(
            lines[j].count("\n") + lines[j].count("\r") - lines[j].count("\r\n") for j in range(k)
        )
        problems = [r for r in records if r.problem is not None]
        assert problems and problems[0].source_ref == f"notes.csv:{line}"
        assert f"id{k}" not in parsed


# --- Parquet --------------------------------------------------------------------------


def test_parquet_reads_rows_in_batches_with_every_column(tmp_path: Path) -> None:
    path = tmp_path / "notes.parquet"
    table = pa.table(
        {
            "id": ["a", "b", "c", None],
            "pid": ["p", "p", "q", "q"],
            "body": [b"fine", b"\xff", b"also fine", b"no id"],
            "unrelated": [1, 2, 3, 4],
        }
    )
    pq.write_table(table, path)
    mapping = ColumnMapping(note_id="id", patient_id="pid", text="body")
    src = FileRecordSource(FilesSource(path=path, batch_size=2), mapping, 100)
    records = list(src.records())
    assert [r.source_ref for r in records] == [f"notes.parquet:row {i}" for i in range(1, 5)]
    checked = [check_record(r, mapping, 100) for r in records]
    assert checked[0].text == "fine"
    assert checked[1].reason is Reason.UNDECODABLE
    missing = checked[3]
    assert isinstance(missing, QuarantineItem) and missing.reason is Reason.MISSING_ID
    # The raw row, every column of it, is what the quarantine keeps.
    assert missing.payload == {
        "id": None,
        "pid": "q",
        "body": {"base64": "bm8gaWQ="},
        "unrelated": 4,
    }


def test_an_oversized_parquet_row_is_quarantined_by_reference(tmp_path: Path) -> None:
    path = tmp_path / "notes.parquet"
    limit = record_byte_limit("parquet", 100)
    rows = [
        {"note_id": "a", "patient_id": "p", "text": "x" * (limit + 1)},
        {"note_id": "b", "patient_id": "p", "text": "fine"},
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    big, note = _checked(_read(path, max_chars=100), max_chars=100)
    assert big.reason is Reason.OVERSIZED and big.payload is None
    assert big.reference == {"file": "notes.parquet", "row": 1}
    assert note.note_id == "b"


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
