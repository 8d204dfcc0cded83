"""Windows and batches: sizes ramp up, every record is counted once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipelines.quarantine import QuarantineWriter
from pipelines.records import RawRecord
from pipelines.stream import RunCounts, extract_windows, ramped_batch_size
from pipelines.transform import NoteBatch
from schemas.notes import ColumnMapping, NoteRecord


def _records(n: int) -> list[RawRecord]:
    return [
        RawRecord(f"notes.jsonl:{i}", {"note_id": f"n{i}", "patient_id": "p1", "text": f"x {i}"})
        for i in range(n)
    ]


def test_batches_ramp_up_to_batch_size() -> None:
    assert [ramped_batch_size(1024, i) for i in range(6)] == [128, 256, 512, 1024, 1024, 1024]
    assert [ramped_batch_size(2, i) for i in range(4)] == [1, 1, 1, 2]


def test_windows_hold_ramped_batches_and_every_note(tmp_path: Path) -> None:
    counts = RunCounts()
    windows = list(
        extract_windows(
            _records(100),
            columns=ColumnMapping(),
            max_note_chars=1_000,
            batch_size=16,
            window_batches=3,
            quarantine=QuarantineWriter(tmp_path / "q"),
            counts=counts,
            input_digest=hashlib.sha256(),
        )
    )
    sizes = [[len(b) for b in w.batches] for w in windows]
    assert sizes == [[2, 4, 8], [16, 16, 16], [16, 16, 6]]
    indexes = [b.index for w in windows for b in w.batches]
    assert indexes == list(range(9))
    notes = [note.note_id for w in windows for b in w.batches for note in b.notes]
    assert notes == [f"n{i}" for i in range(100)]
    assert counts.rows_in == sum(w.rows_in for w in windows) == 100


def test_dask_names_a_batch_without_hashing_its_notes() -> None:
    """Dask's default token hashed every note of a batch, per task, in the flow process."""
    dask_tokenize = pytest.importorskip("dask.tokenize")
    secret = NoteRecord("n1", "p1", "Mr. Canary seen today.")
    batch = NoteBatch(0, (secret,))
    assert "Canary" not in repr(dask_tokenize.normalize_token(batch))
    assert dask_tokenize.tokenize(batch) == dask_tokenize.tokenize(batch)
    assert dask_tokenize.tokenize(batch) != dask_tokenize.tokenize(NoteBatch(0, (secret,)))
