"""Counts the audit report needs beyond ``RunCounts``, gathered window by window.

Everything here is a count keyed by a category (note type, operator, check name): no
note text, no IDs.  Note types come from the source's ``note_type`` field; a source that
maps free text there by mistake would leak it into the report, so labels are clipped and
only the most frequent ``MAX_NOTE_TYPES`` are kept by name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipelines.transform import BatchOutput

NO_NOTE_TYPE = "(none)"
OTHER_NOTE_TYPES = "(other)"
MAX_NOTE_TYPES = 50
MAX_LABEL_CHARS = 64


@dataclass
class RunStats:
    """PHI and token counts per note type, operators applied, validation coverage."""

    notes_by_note_type: Counter[str] = field(default_factory=Counter)
    tokens_by_note_type: Counter[str] = field(default_factory=Counter)
    phi_by_note_type: Counter[str] = field(default_factory=Counter)
    operators: Counter[str] = field(default_factory=Counter)
    windows_validated: int = 0
    expectations_evaluated: int = 0
    residual_scopes: set[str] = field(default_factory=set)
    skipped_checks: set[str] = field(default_factory=set)
    ratio_bounds: list[float] | None = None

    def add_output(self, out: BatchOutput) -> None:
        """Count one batch's published rows (``out.table``) and applied operators."""
        note_types = out.table.column("note_type").to_pylist()
        phi_totals = out.table.column("phi_total").to_pylist()
        for note_type, tokens, phi in zip(note_types, out.orig_tokens, phi_totals, strict=True):
            label = _label(note_type)
            self.notes_by_note_type[label] += 1
            self.tokens_by_note_type[label] += tokens
            self.phi_by_note_type[label] += phi
        self.operators.update(out.operator_counts)

    def add_validation(self, summary: dict[str, Any]) -> None:
        """Fold in one window's ``ValidationOutcome.summary`` (names and counts only)."""
        self.windows_validated += 1
        self.expectations_evaluated += int(summary.get("evaluated_expectations", 0))
        if summary.get("residual_scope"):
            self.residual_scopes.add(str(summary["residual_scope"]))
        self.skipped_checks.update(str(name) for name in summary.get("skipped", []))
        if summary.get("ratio_bounds"):
            self.ratio_bounds = [float(x) for x in summary["ratio_bounds"]]

    def by_note_type(self) -> list[dict[str, Any]]:
        """Rows ``{note_type, notes, tokens, phi, phi_per_1000_tokens, phi_per_note}``.

        Ordered by number of notes; beyond ``MAX_NOTE_TYPES`` types the rest are summed
        under ``(other)``.
        """
        ordered = sorted(self.notes_by_note_type, key=lambda t: (-self.notes_by_note_type[t], t))
        keep, rest = ordered[:MAX_NOTE_TYPES], ordered[MAX_NOTE_TYPES:]
        groups = [(name, [name]) for name in keep]
        if rest:
            groups.append((OTHER_NOTE_TYPES, rest))
        rows = []
        for name, members in groups:
            notes = sum(self.notes_by_note_type[m] for m in members)
            tokens = sum(self.tokens_by_note_type[m] for m in members)
            phi = sum(self.phi_by_note_type[m] for m in members)
            rows.append(
                {
                    "note_type": name,
                    "notes": notes,
                    "tokens": tokens,
                    "phi": phi,
                    "phi_per_1000_tokens": round(1000 * phi / tokens, 3) if tokens else None,
                    "phi_per_note": round(phi / notes, 3) if notes else None,
                }
            )
        return rows


def _label(note_type: Any) -> str:
    if note_type is None or not str(note_type).strip():
        return NO_NOTE_TYPE
    text = " ".join(str(note_type).split())  # one line: no newlines or tabs in tables
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"
