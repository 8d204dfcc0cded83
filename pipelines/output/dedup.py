"""Exact-duplicate removal and note-ID conflicts, decided in one pass.

An exact duplicate is a note whose text is byte-identical to one seen earlier in the
run, whatever its IDs: the first copy is kept, later ones are removed and counted.
Deduplicating on text (not on note ID) also keeps the same text from landing in two
splits under two patients.  A note ID seen before with *different* text is a
conflict that cannot be resolved automatically: that record is quarantined.

Memory: the digests of every text and note ID seen are the one piece of state that grows
with the input.  Held in Python sets they took ~150 bytes per note, 1.5 GB for a run of
ten million notes, in the flow process.  They live in a SQLite file instead, in a
private temporary directory removed when the run ends, with a page cache of
``cache_mib``: the flow process stays the same size however long the run.  The digests
are keyed with a random per-run key, so the file says nothing about any note.  (The keys
are random, so lookups hit random pages: a bigger cache gained nothing over 1M notes.)
A run makes the directory beside its output dir (``shards.scratch_location``), on a disk
meant to hold the data: the system temp dir is often a tmpfs, where the file (~66 bytes
per note) would be held in RAM.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import weakref
from enum import Enum
from pathlib import Path
from types import TracebackType

from schemas.notes import NoteRecord

_COMMIT_EVERY = 10_000  # checks per transaction (a commit per check would write each page)


class Verdict(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    CONFLICTING_ID = "conflicting_id"


class Deduplicator:
    """Remembers (keyed digests of) the texts and note IDs seen so far, on disk.

    Use as a context manager, or call :meth:`close`: either removes the file.
    """

    def __init__(
        self,
        directory: str | Path | None = None,
        prefix: str = "deidflow-dedup-",
        *,
        cache_mib: int = 2,
    ) -> None:
        """Scratch dir ``<directory>/<prefix><random>`` (``directory``: the system temp dir
        if ``None``)."""
        self._key = os.urandom(16)
        self._dir = tempfile.mkdtemp(prefix=prefix, dir=directory)  # mode 0700
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        # Used by one thread at a time, but the flow may resume its generator elsewhere.
        self._path = Path(self._dir) / "digests.sqlite"
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode = OFF",  # a scratch file: nothing to recover after a crash
            "synchronous = OFF",
            "locking_mode = EXCLUSIVE",
            f"cache_size = -{cache_mib * 1024}",
        ):
            db.execute(f"PRAGMA {pragma}")
        db.execute("CREATE TABLE texts (digest BLOB PRIMARY KEY) WITHOUT ROWID")
        db.execute("CREATE TABLE ids (id BLOB PRIMARY KEY, text BLOB NOT NULL) WITHOUT ROWID")
        db.execute("BEGIN")
        self._db = db
        self._pending = 0

    def check(self, note: NoteRecord) -> Verdict:
        """Classify ``note`` and remember it if it is new."""
        text = self._digest(note.text)
        note_id = self._digest(note.note_id)
        seen = self._db.execute("SELECT text FROM ids WHERE id = ?", (note_id,)).fetchone()
        if seen is not None and seen[0] != text:
            return Verdict.CONFLICTING_ID
        if self._db.execute("INSERT OR IGNORE INTO texts VALUES (?)", (text,)).rowcount == 0:
            return Verdict.DUPLICATE
        # An ID seen before had this very text, so it was a duplicate: this ID is new.
        self._db.execute("INSERT INTO ids VALUES (?, ?)", (note_id, text))
        self._pending += 1
        if self._pending >= _COMMIT_EVERY:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._pending = 0
        return Verdict.NEW

    def file_bytes(self) -> int:
        """Size of the scratch file so far."""
        return self._path.stat().st_size

    def _digest(self, value: str) -> bytes:
        return hashlib.blake2b(value.encode("utf-8"), digest_size=16, key=self._key).digest()

    def close(self) -> None:
        """Forget everything and remove the file (idempotent)."""
        if self._cleanup.alive:
            self._db.close()
            self._cleanup()

    def __enter__(self) -> Deduplicator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
