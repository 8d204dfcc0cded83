"""Duplicate texts and conflicting note IDs, remembered in a private scratch file."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from pipelines.output import dedup as dedup_module
from pipelines.output.dedup import Deduplicator, Verdict
from schemas.notes import NoteRecord


def test_dedup_keeps_first_copy_and_flags_conflicting_ids(tmp_path: Path) -> None:
    with Deduplicator(tmp_path) as dedup:
        a = NoteRecord("n1", "p1", "text A")
        assert dedup.check(a) is Verdict.NEW
        assert dedup.check(a) is Verdict.DUPLICATE
        assert dedup.check(NoteRecord("n2", "p2", "text A")) is Verdict.DUPLICATE
        assert dedup.check(NoteRecord("n1", "p1", "text B")) is Verdict.CONFLICTING_ID
        assert dedup.check(NoteRecord("n3", "p1", "text B")) is Verdict.NEW
        assert dedup.check(NoteRecord("n3", "p1", "text B")) is Verdict.DUPLICATE


def test_verdicts_hold_across_transactions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedup_module, "_COMMIT_EVERY", 3)
    with Deduplicator(tmp_path) as dedup:
        notes = [NoteRecord(f"n{i}", "p", f"text {i}") for i in range(10)]
        assert [dedup.check(n) for n in notes] == [Verdict.NEW] * 10
        assert [dedup.check(n) for n in notes] == [Verdict.DUPLICATE] * 10
        assert dedup.check(NoteRecord("n4", "p", "changed")) is Verdict.CONFLICTING_ID


def test_the_scratch_file_is_private_keyed_and_removed(tmp_path: Path) -> None:
    text = "Pt Zqxvelt Harrow seen today."
    with Deduplicator(tmp_path) as dedup:
        dedup.check(NoteRecord("note-id-7731", "p1", text))
        (scratch,) = tmp_path.iterdir()
        assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
        stored = b"".join(f.read_bytes() for f in scratch.iterdir())
        plain = hashlib.blake2b(text.encode(), digest_size=16).digest()
        assert text.encode() not in stored and b"note-id-7731" not in stored
        assert plain not in stored  # keyed per run: the file cannot confirm a guessed note
    assert not list(tmp_path.iterdir())


def test_an_abandoned_deduplicator_removes_its_file(tmp_path: Path) -> None:
    dedup = Deduplicator(tmp_path)
    dedup.check(NoteRecord("n1", "p1", "text"))
    dedup._db.close()
    del dedup
    assert not list(tmp_path.iterdir())
