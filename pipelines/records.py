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
    """Bytes that are not valid UTF-8 (in the text or in an ID or metadata field: the
    detail names the field)."""
    OVERSIZED = "OVERSIZED"
    """Longer than ``limits.max_note_chars``, or a raw record too long to hold a note of
    that size.  Not copied: the quarantine holds a reference (file, offset, length)."""
    MALFORMED = "MALFORMED"
    """The source could not parse the record: a JSONL line that is not a JSON object or
    is nested too deep, a CSV record with an unterminated quote or the wrong number of
    cells.  The raw bytes are kept."""
    INVALID_FIELD = "INVALID_FIELD"
    """A metadata field of the wrong type (a list or object where ``note_type`` or
    ``encounter_id`` should be text); the detail names the field."""
    INVALID_DATE = "INVALID_DATE"
    """``note_date`` present but not a date, or so close to the calendar's ends
    (0001-01-01, 9999-12-31) that the date shift could move it out of range."""
    DUPLICATE_ID = "DUPLICATE_ID"
    """A ``note_id`` seen before with different text (which copy is right is unknowable)."""
    BROKEN_LINK = "BROKEN_LINK"
    """A ``.txt`` entry that is a symbolic link to nothing, or a loop of links."""
    OUTSIDE_ROOT = "OUTSIDE_ROOT"
    """A ``.txt`` entry that is a symbolic link to a file outside the source directory:
    not followed, not read."""
    NOT_A_FILE = "NOT_A_FILE"
    """A ``.txt`` entry that is not a regular file (FIFO, socket, device): never opened
    for reading, so it cannot block the run."""
    UNREADABLE = "UNREADABLE"
    """The file could not be read (permission denied, I/O error: the detail names the
    error number)."""
    UNSUPPORTED_CONTENT = "UNSUPPORTED_CONTENT"
    """A FHIR note whose attachments are all of a content type deidflow does not read
    (PDF, images: only text/plain, text/html and text/rtf are); the detail names them."""
    UNRESOLVED_REFERENCE = "UNRESOLVED_REFERENCE"
    """A FHIR attachment ``url`` that is not a ``Binary`` in the same export (another
    server, or missing from it): never fetched."""
    PROCESSING_ERROR = "PROCESSING_ERROR"
    """De-identification raised for this record (the exception type is recorded)."""
    RESIDUAL_IDENTIFIER = "RESIDUAL_IDENTIFIER"
    """The de-identified text still matched a residual-identifier check outside the
    replaced spans (an identifier the detector missed); the check names and match counts
    are recorded, never the matched value."""


class Skip(StrEnum):
    """Why an entry of a source was passed over without being read as a record.

    Skipped entries are counted (``rows_in = rows_out + quarantined + duplicates_removed
    + skipped``), never quarantined: they are not notes.
    """

    HIDDEN = "HIDDEN"
    """A hidden file or directory (name starting with ``.``) in a ``.txt`` folder; a
    hidden directory counts once and is not entered."""
    NOT_TXT = "NOT_TXT"
    """A file in a ``.txt`` folder whose name does not end in ``.txt``."""
    DIRECTORY_LINK = "DIRECTORY_LINK"
    """A symbolic link to a directory in a ``.txt`` folder: not followed."""
    NOT_A_NOTE = "NOT_A_NOTE"
    """A FHIR resource that is not a note (``Patient``, ``Encounter``, ``Binary``...):
    only ``DocumentReference`` and ``DiagnosticReport`` are; a ``Binary`` is read when
    a note's attachment points to it."""
    NOT_FHIR_FILE = "NOT_FHIR_FILE"
    """A file in a FHIR export folder not named ``*.ndjson`` or ``*.json`` (the export's
    manifest, a log...)."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read, before any checks.

    ``source_ref`` locates the record without PHI (``notes.jsonl:17``, ``p01/n3.txt``,
    ``postgres:row 17``).  ``fields`` maps source column names to values (input field
    names when ``canonical``).  ``problem`` is set when the source could not even parse
    the record; ``raw`` then keeps its bytes for the quarantine, and ``detail`` says what
    was wrong (no content).  ``location`` says where the record lies in its file
    (``{"file", "offset", "length"}`` or ``{"file", "row"}``): an oversized record is
    quarantined by this reference instead of a copy.  ``skipped`` marks an entry that is
    counted but not a record at all.
    """

    source_ref: str
    fields: dict[str, Any] = field(default_factory=dict, repr=False)
    canonical: bool = False
    problem: Reason | None = None
    raw: bytes | None = field(default=None, repr=False)
    detail: str = ""
    location: dict[str, Any] | None = None
    skipped: Skip | None = None


MAX_NESTING = 64
"""Deepest nesting of lists and objects a record may have.  Deeper records are
MALFORMED: every later step (fingerprint, quarantine, JSON) would otherwise have to
recurse through them, and Python's recursion limit is ~1,000 frames."""


def nesting_depth(value: Any, limit: int = MAX_NESTING) -> int:
    """Depth of nested lists/tuples/dicts in ``value`` (a scalar is 0), counted without
    recursion and only up to ``limit + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest
