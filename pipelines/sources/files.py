"""File sources: a directory of ``.txt`` notes, or one JSONL, CSV or Parquet file.

Every reader streams: one line, row, file or Parquet batch at a time.  Bytes that are
not UTF-8 are not replaced: they are decoded with ``surrogateescape`` so the record
keeps its IDs and ``check_record`` can quarantine it as ``UNDECODABLE``.

A ``.txt`` directory is laid out ``<root>/<patient_id>/<note_id>.txt``.  A file directly
under ``<root>`` has no patient directory, so it is treated as its own patient
(``patient_id = note_id``): date shifts and splits are then per note.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipelines.config import FilesSource
from pipelines.records import RawRecord, Reason
from pipelines.sources import RecordSource
from schemas.notes import ColumnMapping

# A UTF-8 character takes at most 4 bytes: a file larger than this is over the limit
# for sure, and is quarantined without being read into memory.
_MAX_BYTES_PER_CHAR = 4


class FileRecordSource(RecordSource):
    """Reads ``source.path`` in the declared or inferred format."""

    def __init__(self, source: FilesSource, columns: ColumnMapping, max_note_chars: int) -> None:
        if not source.path.exists():
            raise FileNotFoundError(f"source {source.path} does not exist")
        self.source = source
        self.columns = columns
        self.max_note_chars = max_note_chars
        self.format = source.resolved_format()

    def describe(self) -> dict[str, Any]:
        return {"kind": "files", "format": self.format, "name": self.source.path.name}

    def records(self) -> Iterator[RawRecord]:
        readers = {
            "txt": self._txt,
            "jsonl": self._jsonl,
            "csv": self._csv,
            "parquet": self._parquet,
        }
        yield from readers[self.format]()

    def _txt(self) -> Iterator[RawRecord]:
        root = self.source.path
        if not root.is_dir():
            raise NotADirectoryError(f"txt source {root} must be a directory")
        for path in _sorted_txt_files(root):
            rel = path.relative_to(root)
            note_id = path.stem
            patient_id = rel.parts[0] if len(rel.parts) > 1 else note_id
            ref = rel.as_posix()
            fields: dict[str, Any] = {"note_id": note_id, "patient_id": patient_id}
            if path.stat().st_size > self.max_note_chars * _MAX_BYTES_PER_CHAR:
                yield RawRecord(ref, fields, canonical=True, problem=Reason.OVERSIZED)
                continue
            fields["text"] = path.read_bytes()
            yield RawRecord(ref, fields, canonical=True)

    def _jsonl(self) -> Iterator[RawRecord]:
        name = self.source.path.name
        with self.source.path.open("rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue  # blank lines are layout, not records
                ref = f"{name}:{lineno}"
                try:
                    obj = json.loads(line.decode("utf-8", errors="surrogateescape"))
                except ValueError:
                    yield RawRecord(ref, problem=Reason.MALFORMED, raw=line)
                    continue
                if not isinstance(obj, dict):
                    yield RawRecord(ref, problem=Reason.MALFORMED, raw=line)
                    continue
                yield RawRecord(ref, obj)

    def _csv(self) -> Iterator[RawRecord]:
        name = self.source.path.name
        _allow_long_csv_fields()
        with self.source.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
            reader = csv.DictReader(text, strict=False)
            for rowno, row in enumerate(reader, start=1):
                ref = f"{name}:row {rowno}"
                # csv puts surplus cells under the key None; they belong to no column.
                fields = {k: (v if v != "" else None) for k, v in row.items() if k is not None}
                yield RawRecord(ref, fields)

    def _parquet(self) -> Iterator[RawRecord]:
        name = self.source.path.name
        pf = pq.ParquetFile(self.source.path)
        present = set(pf.schema_arrow.names)
        wanted = [c for c in self.columns.source_columns().values() if c in present]
        rowno = 0
        for batch in pf.iter_batches(batch_size=self.source.batch_size, columns=wanted):
            for row in batch.to_pylist():
                rowno += 1
                yield RawRecord(f"{name}:row {rowno}", row)


def _sorted_txt_files(root: Path) -> Iterator[Path]:
    """``.txt`` files under ``root`` in a stable order (sorted per directory level)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fname in sorted(filenames):
            if fname.endswith(".txt") and not fname.startswith("."):
                yield Path(dirpath, fname)


def _allow_long_csv_fields() -> None:
    """Notes are long; the csv module's default 128 KiB field cap is not our limit."""
    limit = 2**31 - 1
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)
