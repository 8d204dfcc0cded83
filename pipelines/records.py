"""What sources hand on: a raw record, and the reason codes for records that fail.

Kept apart from the sources and the quarantine so both can use them without importing
each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    """Why a record went to the quarantine instead of the output."""

    MISSING_ID = "MISSING_ID"
    """``note_id`` or ``patient_id`` absent, blank or not a scalar."""
    EMPTY_TEXT = "EMPTY_TEXT"
    """No text, or only whitespace."""
    NOT_TEXT = "NOT_TEXT"
    """The text field is not a string (number, list, ...) or holds NUL bytes."""
    UNDECODABLE = "UNDECODABLE"
    """Bytes that are not valid UTF-8."""
    OVERSIZED = "OVERSIZED"
    """Longer than ``limits.max_note_chars``."""
    MALFORMED = "MALFORMED"
    """The source could not parse the record at all (e.g. a JSONL line that is not JSON)."""
    INVALID_DATE = "INVALID_DATE"
    """``note_date`` present but not a date."""
    DUPLICATE_ID = "DUPLICATE_ID"
    """A ``note_id`` seen before with different text (which copy is right is unknowable)."""
    PROCESSING_ERROR = "PROCESSING_ERROR"
    """De-identification raised for this record (the exception type is recorded)."""
    RESIDUAL_IDENTIFIER = "RESIDUAL_IDENTIFIER"
    """The de-identified text still matched a residual-identifier check outside the
    replaced spans (an identifier the detector missed); the check names and match counts
    are recorded, never the matched value."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read, before any checks.

    ``source_ref`` locates the record without PHI (``notes.jsonl:17``, ``p01/n3.txt``,
    ``postgres:row 17``).  ``fields`` maps source column names to values (input field
    names when ``canonical``).  ``problem`` is set when the source could not even parse
    the record; ``raw`` then keeps its bytes for the quarantine.
    """

    source_ref: str
    fields: dict[str, Any] = field(default_factory=dict, repr=False)
    canonical: bool = False
    problem: Reason | None = None
    raw: bytes | None = field(default=None, repr=False)
