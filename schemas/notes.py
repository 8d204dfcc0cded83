"""The input record: what every source yields once its columns are mapped.

A note needs ``note_id``, ``patient_id`` and ``text``; ``note_type``, ``note_date`` and
``encounter_id`` are optional.  Sources that name these differently declare a
``ColumnMapping`` in the pipeline config; nothing else in the code base spells out the
input columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

REQUIRED_FIELDS: tuple[str, ...] = ("note_id", "patient_id", "text")
OPTIONAL_FIELDS: tuple[str, ...] = ("note_type", "note_date", "encounter_id")
INPUT_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS

NOTE_SCHEMA = pa.schema(
    [
        pa.field("note_id", pa.string(), nullable=False),
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("note_type", pa.string()),
        pa.field("note_date", pa.date32()),
        pa.field("encounter_id", pa.string()),
    ]
)
"""Arrow form of a valid input record (what a clean source table looks like)."""


class ColumnMapping(BaseModel):
    """Source column name for each input field (defaults: the field's own name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note_id: str = "note_id"
    patient_id: str = "patient_id"
    text: str = "text"
    note_type: str = "note_type"
    note_date: str = "note_date"
    encounter_id: str = "encounter_id"

    def source_columns(self) -> dict[str, str]:
        """``{field: source column}`` for every input field."""
        return {name: getattr(self, name) for name in INPUT_FIELDS}

    def apply(self, row: dict[str, object]) -> dict[str, object]:
        """Rename a source row to input field names; absent columns become ``None``."""
        return {name: row.get(column) for name, column in self.source_columns().items()}


@dataclass(frozen=True, slots=True)
class NoteRecord:
    """One valid clinical note.  ``text`` is PHI and is kept out of ``repr``."""

    note_id: str
    patient_id: str
    text: str = field(repr=False)
    note_type: str | None = None
    note_date: dt.date | None = None
    encounter_id: str | None = None
