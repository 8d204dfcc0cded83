"""Exact-duplicate removal and note-ID conflicts, decided in one pass.

An exact duplicate is a note whose text is byte-identical to one seen earlier in the
run, whatever its IDs: the first copy is kept, later ones are removed and counted.
Deduplicating on text (not on note ID) also keeps the same text from landing in two
splits under two patients.  A note ID seen before with *different* text is a
conflict that cannot be resolved automatically: that record is quarantined.

Memory: one 16-byte digest per distinct text and per note ID, so about 150 bytes
per note (150 MB per million notes), the one piece of state that grows with input.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from schemas.notes import NoteRecord


class Verdict(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    CONFLICTING_ID = "conflicting_id"


class Deduplicator:
    """Remembers digests of texts and note IDs seen so far."""

    def __init__(self) -> None:
        self._texts: set[bytes] = set()
        self._ids: dict[str, bytes] = {}

    def check(self, note: NoteRecord) -> Verdict:
        """Classify ``note`` and remember it if it is new."""
        digest = hashlib.blake2b(note.text.encode("utf-8"), digest_size=16).digest()
        seen_text = self._ids.get(note.note_id)
        if seen_text is not None and seen_text != digest:
            return Verdict.CONFLICTING_ID
        if digest in self._texts:
            return Verdict.DUPLICATE
        self._texts.add(digest)
        self._ids[note.note_id] = digest
        return Verdict.NEW
