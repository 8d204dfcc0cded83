"""File sources: a directory of ``.txt`` notes, or one JSONL, CSV or Parquet file.

Every reader streams and none can lose a row:

* **Bounded memory.**  JSONL and CSV are read in 1 MiB chunks, and a record is held
  only up to ``record_byte_limit`` bytes (what a record whose text fits
  ``limits.max_note_chars`` can take, plus a fixed margin for its other fields).  A
  longer record is passed over without being kept and quarantined as ``OVERSIZED`` by
  reference (file, byte offset, length), never copied.  A ``.txt`` note larger than
  the limit is never read.  Parquet is read one batch at a time; a row over the limit
  is quarantined by reference (file, row) before it is turned into Python objects.
* **Lines.**  ``\\n``, ``\\r\\n`` and a lone ``\\r`` all end a line; a UTF-8 byte-order mark
  at the start of a file is not part of its first record.
* **Strict CSV.**  RFC 4180 quoting: a quoted cell may span lines, a quote inside an
  unquoted cell or text after a closing quote is an error, and every record must have
  as many cells as the header.  A record that breaks these rules is quarantined as
  ``MALFORMED`` with its line number and raw bytes.  When its quoting is broken (a
  quote that never closes, say), only its first line is quarantined and reading goes
  on with the next line: a stray quote never swallows the rows after it.
* **Raw records kept.**  Parsing problems keep the record's bytes; a parsed record keeps
  every field as read (a Parquet row keeps all its columns), so the quarantine holds
  the row as it was, whatever was wrong with it.

Bytes that are not UTF-8 are not replaced: they are decoded with ``surrogateescape`` so
the record keeps its IDs and ``check_record`` can quarantine it as ``UNDECODABLE``.

A ``.txt`` directory holds one note per ``*.txt`` file, at any depth.  The note ID is the
file's path relative to the directory (``P1/2020/a.txt``), so equal file names in two
folders never collide; the patient is the first folder (``P1``), and a file directly
under the directory is its own patient (date shifts and splits are then per note).
Symbolic links are followed only to files inside the directory: a link out of it is
quarantined as ``OUTSIDE_ROOT`` (never read), a broken link or a loop as
``BROKEN_LINK``, and a FIFO, socket or device named ``*.txt`` as ``NOT_A_FILE`` (never
opened, so it cannot block the run).  Hidden entries, files not named ``*.txt`` and links
to directories are counted as skipped (``pipelines.records.Skip``), not read.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.config import FileFormat, FilesSource
from pipelines.records import MAX_NESTING, RawRecord, Reason, Skip, nesting_depth
from pipelines.sources import RecordSource
from schemas.notes import ColumnMapping

UTF8_BOM = b"\xef\xbb\xbf"
RECORD_MARGIN_BYTES = 1 << 20
"""Room in a raw record for its fields other than the text (IDs, dates, other columns)."""
_BYTES_PER_CHAR: dict[FileFormat, int] = {
    # A JSON string may escape one character (outside the BMP) as \\uXXXX\\uXXXX.
    "jsonl": 12,
    # UTF-8 takes at most 4 bytes a character; CSV doubles a quote (1 character, 2 bytes).
    "csv": 4,
    "parquet": 4,
    "txt": 4,
}
_CHUNK = 1 << 20
_EOL = re.compile(rb"\r\n|\r|\n")
_QUOTE, _COMMA = 0x22, 0x2C


def record_byte_limit(fmt: FileFormat, max_note_chars: int) -> int:
    """The most bytes a raw record of format ``fmt`` is held in memory with: enough for
    any record whose text fits ``max_note_chars``; a longer one is ``OVERSIZED``."""
    margin = 0 if fmt == "txt" else RECORD_MARGIN_BYTES
    return _BYTES_PER_CHAR[fmt] * max_note_chars + margin + len(UTF8_BOM)


class FileRecordSource(RecordSource):
    """Reads ``source.path`` in the declared or inferred format.

    ``exclude``: directories a ``.txt`` walk never enters (the run's own quarantine and
    output directories, should they lie inside the source directory).
    """

    def __init__(
        self,
        source: FilesSource,
        columns: ColumnMapping,
        max_note_chars: int,
        exclude: Iterable[Path] = (),
    ) -> None:
        if source.path is not None and not source.path.exists():
            raise FileNotFoundError(f"source {source.path} does not exist")
        if source.url is not None and source.resolved_format() == "txt":
            raise ValueError("a folder of .txt notes is read from a local path only")
        self.source = source
        self.columns = columns
        self.max_note_chars = max_note_chars
        self.format = source.resolved_format()
        self.byte_limit = record_byte_limit(self.format, max_note_chars)
        self.exclude = frozenset(os.path.realpath(p) for p in exclude)

    def describe(self) -> dict[str, Any]:
        return {"kind": "files", "format": self.format, "name": self.source.name}

    def _open(self) -> IO[bytes]:
        """The source file, local or remote (fsspec, read in blocks)."""
        if self.source.url is not None:
            from pipelines.sources._remote import open_url

            return open_url(self.source.url, self.source.storage_options)
        return self.source.local_path().open("rb")

    def records(self) -> Iterator[RawRecord]:
        readers = {
            "txt": self._txt,
            "jsonl": self._jsonl,
            "csv": self._csv,
            "parquet": self._parquet,
        }
        yield from readers[self.format]()

    def count(self) -> int:
        """How many entries ``records`` will yield (its ``rows_in``), reading as little as
        it can and holding no more than ``records`` does: Parquet from its metadata,
        JSONL by its non-blank lines, CSV by record boundaries, a folder by its walk."""
        if self.format == "parquet":
            with self._open() as fh:
                return int(pq.ParquetFile(fh).metadata.num_rows)
        if self.format == "txt":
            root = os.path.realpath(self.source.local_path())
            walker = _TxtWalk(root, self.byte_limit, self.exclude)
            return sum(1 for _ in walker.walk(read=False))
        with self._open() as fh:
            if self.format == "jsonl":
                # Lines are kept up to 64 bytes only: enough to tell a blank one.
                return sum(1 for ln in _lines(fh, 64) if ln.data is None or ln.data.strip())
            return max(0, sum(1 for _ in _CsvRecords(fh, self.byte_limit)) - 1)  # - header

    # --- JSONL --------------------------------------------------------------------------

    def _jsonl(self) -> Iterator[RawRecord]:
        name = self.source.name
        with self._open() as fh:
            for item in json_lines(fh, name, self.byte_limit):
                if isinstance(item, RawRecord):
                    yield item
                else:
                    yield RawRecord(item.ref, item.obj, location=item.line.location(name))

    # --- CSV ----------------------------------------------------------------------------

    def _csv(self) -> Iterator[RawRecord]:
        name = self.source.name
        with self._open() as fh:
            reader = _CsvRecords(fh, self.byte_limit)
            header = reader.header(name)
            for rec in reader:
                ref = f"{name}:{rec.line}"
                location = {
                    "file": name,
                    "offset": rec.offset,
                    "length": rec.length,
                    "line": rec.line,
                }
                if rec.problem is not None:
                    yield RawRecord(
                        ref, problem=rec.problem, raw=rec.raw, detail=rec.detail, location=location
                    )
                    continue
                assert rec.cells is not None
                if len(rec.cells) != len(header):
                    detail = f"{len(rec.cells)} cells, the header has {len(header)}"
                    yield RawRecord(
                        ref, problem=Reason.MALFORMED, raw=rec.raw, detail=detail, location=location
                    )
                    continue
                fields = {
                    column: (_decode(cell) if cell else None)
                    for column, cell in zip(header, rec.cells, strict=True)
                }
                yield RawRecord(ref, fields, location=location)

    # --- Parquet ------------------------------------------------------------------------

    def _parquet(self) -> Iterator[RawRecord]:
        name = self.source.name
        with self._open() as fh:
            yield from self._parquet_batches(name, pq.ParquetFile(fh))

    def _parquet_batches(self, name: str, pf: pq.ParquetFile) -> Iterator[RawRecord]:
        rowno = 0
        # Every column, not only the mapped ones: a quarantined row keeps what it held.
        for batch in pf.iter_batches(batch_size=self.source.batch_size):
            sizes = _row_string_bytes(batch)
            fits = [i for i, size in enumerate(sizes) if size <= self.byte_limit]
            if len(fits) < batch.num_rows:  # leave the oversized rows in Arrow memory
                batch = batch.take(pa.array(fits, type=pa.int64()))
            rows = iter(batch.to_pylist())
            for size in sizes:
                rowno += 1
                ref = f"{name}:row {rowno}"
                location = {"file": name, "row": rowno}
                if size > self.byte_limit:
                    detail = f"row of {size} bytes of text > {self.byte_limit}"
                    yield RawRecord(ref, problem=Reason.OVERSIZED, detail=detail, location=location)
                    continue
                row = next(rows)
                if nesting_depth(row) > MAX_NESTING:
                    detail = f"nested deeper than {MAX_NESTING} levels"
                    yield RawRecord(ref, problem=Reason.MALFORMED, detail=detail, location=location)
                    continue
                yield RawRecord(ref, row, location=location)

    # --- .txt folders -------------------------------------------------------------------

    def _txt(self) -> Iterator[RawRecord]:
        root = self.source.local_path()
        if not root.is_dir():
            raise NotADirectoryError(f"txt source {root} must be a directory")
        walker = _TxtWalk(os.path.realpath(root), self.byte_limit, self.exclude)
        yield from walker.walk()


@dataclass(frozen=True)
class JsonLine:
    """A line of a JSON-lines file that holds one JSON object."""

    ref: str
    """``file:line``."""
    obj: dict[str, Any]
    data: bytes
    """The line's bytes, as parsed."""
    line: _Line


def json_lines(fh: IO[bytes], name: str, byte_limit: int) -> Iterator[RawRecord | JsonLine]:
    """The objects of a JSON-lines file (JSONL, FHIR NDJSON) named ``name``: a line longer
    than ``byte_limit`` or not a JSON object comes as its quarantine record (``OVERSIZED``,
    ``MALFORMED``); blank lines are layout, not records."""
    for line in _lines(fh, byte_limit):
        ref = f"{name}:{line.number}"
        if line.data is None:
            detail = f"line of {line.length} bytes > {byte_limit}"
            location = line.location(name)
            yield RawRecord(ref, problem=Reason.OVERSIZED, detail=detail, location=location)
            continue
        if not line.data.strip():
            continue
        obj, detail = _parse_json_object(line.data)
        if obj is None:
            yield RawRecord(
                ref,
                problem=Reason.MALFORMED,
                raw=line.data,
                detail=detail,
                location=line.location(name),
            )
            continue
        yield JsonLine(ref, obj, line.data, line)


def _parse_json_object(data: bytes) -> tuple[dict[str, Any] | None, str]:
    """The JSON object on a line, or ``None`` and why not (no content in the reason)."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        obj = json.loads(data.decode("utf-8", errors="surrogateescape"))
    except RecursionError:
        return None, "nested too deep to parse"
    except ValueError:
        return None, "not JSON"
    if not isinstance(obj, dict):
        return None, f"a JSON {type(obj).__name__}, not an object"
    if nesting_depth(obj) > MAX_NESTING:
        return None, f"nested deeper than {MAX_NESTING} levels"
    return obj, ""


def _decode(cell: bytes) -> str:
    return cell.decode("utf-8", errors="surrogateescape")


def _row_string_bytes(batch: pa.RecordBatch) -> list[int]:
    """Bytes of string and binary values per row of ``batch`` (other columns count 0)."""
    total = pa.array([0] * batch.num_rows, type=pa.int64())
    for column in batch.columns:
        kind = column.type
        if (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
        ):
            lengths = pc.cast(pc.binary_length(column), pa.int64()).fill_null(0)
            total = pc.add(total, lengths)
    return total.to_pylist()


# --- lines ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    """One physical line: where it starts, its number, its bytes (``None`` when longer
    than the limit: not kept), its length without the line ending, the ending itself."""

    offset: int
    number: int
    data: bytes | None
    length: int
    eol: bytes
    quotes: int = 0
    """``"`` characters in the line (counted for CSV, kept or not)."""

    def location(self, name: str) -> dict[str, Any]:
        return {"file": name, "offset": self.offset, "length": self.length, "line": self.number}


def _lines(
    fh: IO[bytes], limit: int, offset: int = 0, number: int = 0, count_quotes: bool = False
) -> Iterator[_Line]:
    """Physical lines of ``fh`` from ``offset`` (line ``number + 1``), none held longer
    than ``limit`` bytes: a longer one is scanned to its end and handed on without data.

    A UTF-8 BOM at offset 0 is dropped.  ``\\r`` at the end of a chunk may begin ``\\r\\n``:
    it is only taken for a line ending once the next byte is known.
    """
    fh.seek(offset)
    buf, pos, base, eof = b"", 0, offset, False
    if offset == 0:
        head = fh.read(len(UTF8_BOM))
        if head == UTF8_BOM:
            base = len(UTF8_BOM)
        else:
            buf = head
    while True:
        m = _EOL.search(buf, pos)
        if m is not None and not (m.end() == len(buf) and buf[m.start()] == 0x0D and not eof):
            number += 1
            data = buf[pos : m.start()]
            quotes = data.count(b'"') if count_quotes else 0
            kept = data if len(data) <= limit else None  # read in one chunk, still too long
            yield _Line(base + pos, number, kept, len(data), m.group(), quotes)
            pos = m.end()
            continue
        if eof:
            if pos < len(buf):
                number += 1
                data = buf[pos:]
                quotes = data.count(b'"') if count_quotes else 0
                kept = data if len(data) <= limit else None
                yield _Line(base + pos, number, kept, len(data), b"", quotes)
            return
        if len(buf) - pos > limit:
            # Too long to hold: scan on to the line's end, keeping only its length.
            start, length, quotes, eol = base + pos, 0, 0, b""
            while True:
                m = _EOL.search(buf, pos)
                if m is not None and not (
                    m.end() == len(buf) and buf[m.start()] == 0x0D and not eof
                ):
                    seg = buf[pos : m.start()]
                    length += len(seg)
                    quotes += seg.count(b'"') if count_quotes else 0
                    eol, pos = m.group(), m.end()
                    break
                keep = 1 if (m is not None and not eof) else 0  # a trailing \r
                seg = buf[pos : len(buf) - keep]
                length += len(seg)
                quotes += seg.count(b'"') if count_quotes else 0
                if eof:
                    pos = len(buf)
                    break
                base += len(buf) - keep
                buf, pos = buf[len(buf) - keep :], 0
                chunk = fh.read(_CHUNK)
                eof = not chunk
                buf += chunk
            number += 1
            yield _Line(start, number, None, length, eol, quotes)
            continue
        chunk = fh.read(_CHUNK)
        eof = not chunk
        base += pos
        buf, pos = buf[pos:] + chunk, 0


# --- CSV ------------------------------------------------------------------------------


@dataclass(slots=True)
class _CsvRecord:
    line: int
    offset: int
    length: int
    cells: list[bytes] | None = None
    raw: bytes | None = None
    problem: Reason | None = None
    detail: str = ""


class _CsvRecords:
    """Records of a CSV file, strictly, each held only up to ``limit`` bytes.

    A record ends at the first line ending outside quotes, i.e. after a line that leaves
    an even number of ``"`` in the record.  If the record then does not tokenize (a quote
    never closes, text after a closing quote, a quote inside an unquoted cell), its first
    line alone is quarantined and reading resumes at the next line, from memory or by
    seeking back: the lines a broken quote would have swallowed are read as records.
    """

    def __init__(self, fh: IO[bytes], limit: int) -> None:
        self.fh = fh
        self.limit = limit
        self._pending: deque[_Line] = deque()
        self._lines = _lines(fh, limit, count_quotes=True)

    def header(self, name: str) -> list[str]:
        for rec in self:
            if rec.problem is not None or rec.cells is None:
                raise ValueError(
                    f"{name}: line {rec.line}: the CSV header cannot be read ({rec.detail})"
                )
            names = [_decode(cell) for cell in rec.cells]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{name}: the CSV header names column(s) {dupes} twice")
            return names
        raise ValueError(f"{name} is empty: a CSV source needs a header line")

    def _next_line(self) -> _Line | None:
        if self._pending:
            return self._pending.popleft()
        return next(self._lines, None)

    def _restart_after(self, line: _Line) -> None:
        """Resume reading with the line after ``line`` (re-reading the file from there)."""
        self._pending.clear()
        after = line.offset + line.length + len(line.eol)
        self._lines = _lines(self.fh, self.limit, after, line.number, count_quotes=True)

    def __iter__(self) -> Iterator[_CsvRecord]:
        while (first := self._next_line()) is not None:
            if first.data is not None and not first.data.strip():
                continue  # blank lines are layout, not records
            held, last = [first], first
            held_bytes, quotes = first.length, first.quotes
            overflow = first.data is None
            while quotes % 2 == 1:  # inside a quoted cell: the record goes on
                nxt = self._next_line()
                if nxt is None:
                    break
                quotes += nxt.quotes
                if not overflow:
                    held_bytes += len(last.eol) + nxt.length
                    overflow = nxt.data is None or held_bytes > self.limit
                    if not overflow:
                        held.append(nxt)
                last = nxt
            length = last.offset + last.length - first.offset
            if quotes % 2 == 1:  # the file ended inside quotes
                yield self._first_line_alone(first, held, overflow, "a quote that never closes")
            elif overflow:
                detail = f"record of {length} bytes > {self.limit}"
                yield _CsvRecord(
                    first.number, first.offset, length, problem=Reason.OVERSIZED, detail=detail
                )
            else:
                raw = b"".join(
                    (line.data or b"") + (line.eol if line is not last else b"") for line in held
                )
                cells = _csv_cells(raw)
                if isinstance(cells, list):
                    yield _CsvRecord(first.number, first.offset, length, cells=cells, raw=raw)
                elif len(held) > 1:
                    yield self._first_line_alone(first, held, overflow, cells)
                else:
                    yield _CsvRecord(
                        first.number,
                        first.offset,
                        length,
                        raw=raw,
                        problem=Reason.MALFORMED,
                        detail=cells,
                    )

    def _first_line_alone(
        self, first: _Line, held: list[_Line], overflow: bool, why: str
    ) -> _CsvRecord:
        """Quarantine the record's first line alone and read on from the line after it:
        from memory when every line since is held, else by reading the file again."""
        if overflow:
            self._restart_after(first)
        else:
            self._pending.extendleft(reversed(held[1:]))
        return _CsvRecord(
            first.number,
            first.offset,
            first.length,
            raw=first.data,
            problem=Reason.MALFORMED,
            detail=f"quoting broken from this line on ({why}): this line alone is quarantined, "
            "the lines after it are read as records",
        )


def _csv_cells(record: bytes) -> list[bytes] | str:
    """Cells of one CSV record (RFC 4180, ``,`` and ``"``), or what is wrong with it."""
    cells: list[bytes] = []
    i, n = 0, len(record)
    while True:
        if i < n and record[i] == _QUOTE:
            j, parts = i + 1, []
            while True:
                k = record.find(b'"', j)
                if k < 0:
                    return "a quote that never closes"
                if k + 1 < n and record[k + 1] == _QUOTE:  # "" is a quote inside the cell
                    parts.append(record[j : k + 1])
                    j = k + 2
                    continue
                parts.append(record[j:k])
                i = k + 1
                break
            cells.append(b"".join(parts))
            if i == n:
                return cells
            if record[i] != _COMMA:
                return "text after a closing quote"
            i += 1
            continue
        k = record.find(b",", i)
        cell = record[i:] if k < 0 else record[i:k]
        if b'"' in cell:
            return "a quote inside an unquoted cell"
        cells.append(cell)
        if k < 0:
            return cells
        i = k + 1


# --- .txt folders -----------------------------------------------------------------------


_FILE_KINDS = (
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISDIR, "directory"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _FILE_KINDS if test(mode)), "special file")


def _errno_name(err: OSError) -> str:
    return errno.errorcode.get(err.errno or 0, "OSError")


class _TxtWalk:
    """Walks a ``.txt`` folder in a stable order (entries sorted by name per folder)."""

    def __init__(self, root: str, byte_limit: int, exclude: frozenset[str]) -> None:
        self.root = root
        self.byte_limit = byte_limit
        self.exclude = exclude

    def _inside(self, path: str) -> bool:
        return path == self.root or path.startswith(self.root.rstrip(os.sep) + os.sep)

    def walk(self, prefix: str = "", read: bool = True) -> Iterator[RawRecord]:
        """Depth first, each folder's entries by name; a stack, not recursion, so a
        folder nested thousands deep cannot exhaust Python's recursion limit.  Without
        ``read`` the entries are only listed (one record each, no file opened)."""
        stack: list[Iterator[tuple[str, os.DirEntry[str]]]] = []
        stack.append(iter([]))
        yield from self._open_folder(prefix, stack)
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                continue
            rel, entry = nxt
            if entry.name.startswith("."):
                yield RawRecord(rel, skipped=Skip.HIDDEN)
            elif entry.is_dir(follow_symlinks=False):
                # The walk starts at the real root and follows no link: this is its real path.
                if os.path.join(self.root, rel) not in self.exclude:
                    yield from self._open_folder(rel + "/", stack)
            elif read:
                yield from self._entry(entry, rel)
            else:
                yield RawRecord(rel)

    def _open_folder(
        self, prefix: str, stack: list[Iterator[tuple[str, os.DirEntry[str]]]]
    ) -> Iterator[RawRecord]:
        """Push the folder's sorted entries on ``stack``; an unreadable folder is a record."""
        directory = os.path.join(self.root, prefix) if prefix else self.root
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            ref = prefix or "."
            yield RawRecord(ref, problem=Reason.UNREADABLE, detail=f"folder: {_errno_name(err)}")
            return
        stack.append(iter([(f"{prefix}{e.name}", e) for e in entries]))

    def _entry(self, entry: os.DirEntry[str], rel: str) -> Iterator[RawRecord]:
        is_txt = entry.name.endswith(".txt")
        path = entry.path
        if entry.is_symlink():
            try:
                path = os.path.realpath(entry.path, strict=True)
            except OSError as err:
                if not is_txt:
                    yield RawRecord(rel, skipped=Skip.NOT_TXT)
                    return
                why = "a loop of links" if err.errno == errno.ELOOP else "a link to nothing"
                yield self._problem(rel, Reason.BROKEN_LINK, why)
                return
            if os.path.isdir(path):
                yield RawRecord(rel, skipped=Skip.DIRECTORY_LINK)
                return
            if is_txt and not self._inside(path):
                yield self._problem(rel, Reason.OUTSIDE_ROOT, "a link out of the source folder")
                return
        if not is_txt:
            yield RawRecord(rel, skipped=Skip.NOT_TXT)
            return
        yield self._read(path, rel)

    def _fields(self, rel: str) -> dict[str, Any]:
        parts = rel.split("/")
        return {"note_id": rel, "patient_id": parts[0] if len(parts) > 1 else rel}

    def _problem(self, rel: str, reason: Reason, detail: str, **extra: Any) -> RawRecord:
        return RawRecord(
            rel, self._fields(rel), canonical=True, problem=reason, detail=detail, **extra
        )

    def _read(self, path: str, rel: str) -> RawRecord:
        """The file's bytes, unless it is not a regular file, too large or unreadable.

        Opened non-blocking and without following a link, and checked again once open:
        a file swapped for a FIFO between the check and the open cannot hang the run.
        """
        location = {"file": rel}
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                return self._problem(rel, Reason.NOT_A_FILE, _kind(st.st_mode))
            if st.st_size > self.byte_limit:
                detail = f"file of {st.st_size} bytes > {self.byte_limit}"
                return self._problem(rel, Reason.OVERSIZED, detail, location=location)
            flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(path, flags)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    return self._problem(rel, Reason.NOT_A_FILE, _kind(st.st_mode))
                data = _read_at_most(fd, self.byte_limit + 1)
            finally:
                os.close(fd)
        except OSError as err:
            return self._problem(rel, Reason.UNREADABLE, _errno_name(err))
        if len(data) > self.byte_limit:
            detail = f"file of more than {self.byte_limit} bytes"
            return self._problem(rel, Reason.OVERSIZED, detail, location=location)
        if data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM) :]
        return RawRecord(
            rel, {**self._fields(rel), "text": data}, canonical=True, location=location
        )


def _read_at_most(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(_CHUNK, n - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
