"""Extraction as a stream: raw records -> checks -> dedup -> batches -> windows.

The flow pulls one ``Window`` at a time, so at most ``window_batches * batch_size``
notes are in memory whatever the input size.  Every raw record is counted exactly
once: as a note in a batch, a quarantined record or a removed duplicate, and each
window carries its own counts so the validation gate can reconcile it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.output.dedup import Deduplicator, Verdict
from pipelines.quarantine import QuarantineItem, QuarantineWriter, check_record, jsonable
from pipelines.records import RawRecord, Reason
from pipelines.transform import NoteBatch
from schemas.notes import ColumnMapping, NoteRecord


class CountMismatch(AssertionError):
    """``rows_in != rows_out + quarantined + duplicates_removed + skipped``: a record went
    missing."""


@dataclass
class Window:
    """Batches to process together, and what happened to the rest of their records."""

    batches: list[NoteBatch] = field(default_factory=list)
    rows_in: int = 0
    quarantined: int = 0
    duplicates_removed: int = 0
    skipped: int = 0
    """Entries counted in ``rows_in`` that are not records (hidden files, ...)."""

    @property
    def notes(self) -> int:
        return sum(len(b) for b in self.batches)


@dataclass
class RunCounts:
    """Totals of one run.  ``check`` enforces that every record is accounted for."""

    rows_in: int = 0
    rows_out: int = 0
    duplicates_removed: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    phi_by_type: Counter[str] = field(default_factory=Counter)
    rows_by_split: Counter[str] = field(default_factory=Counter)
    residual_by_check: Counter[str] = field(default_factory=Counter)
    """Notes the residual screen withheld, per check that matched (a note can match several)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Entries of the source passed over without being read, per ``records.Skip`` reason."""
    near_duplicates_removed: int = 0
    """De-identified notes removed as near-duplicates (``pipelines.output.near_duplicates``)."""
    filtered: Counter[str] = field(default_factory=Counter)
    """De-identified notes removed per content filter (``pipelines.output.filters``)."""
    words_by_split: Counter[str] = field(default_factory=Counter)
    tokens_by_split: Counter[str] | None = None
    """Published ``n_tokens`` per split (only with ``tokens.tokenizer``)."""

    @property
    def filtered_total(self) -> int:
        return sum(self.filtered.values())

    @property
    def removed_after_deid(self) -> int:
        """Near-duplicates and filtered notes: de-identified, then not published."""
        return self.near_duplicates_removed + self.filtered_total

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def residual_withheld(self) -> int:
        """Notes quarantined as ``RESIDUAL_IDENTIFIER``."""
        return self.quarantined[Reason.RESIDUAL_IDENTIFIER.value]

    @property
    def screened(self) -> int:
        """Notes the residual screen saw: every de-identified note, published or withheld."""
        return self.rows_out + self.residual_withheld

    def check(self) -> None:
        accounted = (
            self.rows_out
            + self.quarantined_total
            + self.duplicates_removed
            + self.removed_after_deid
            + self.skipped_total
        )
        if accounted != self.rows_in:
            raise CountMismatch(
                f"rows_in={self.rows_in} but rows_out={self.rows_out} + "
                f"quarantined={self.quarantined_total} + "
                f"duplicates_removed={self.duplicates_removed} + "
                f"near_duplicates_removed={self.near_duplicates_removed} + "
                f"filtered={self.filtered_total} + "
                f"skipped={self.skipped_total} = {accounted}"
            )

    def to_dict(self) -> dict[str, object]:
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "quarantined": self.quarantined_total,
            "quarantined_by_reason": dict(sorted(self.quarantined.items())),
            "duplicates_removed": self.duplicates_removed,
            "skipped": self.skipped_total,
            "skipped_by_reason": dict(sorted(self.skipped.items())),
            "phi_by_type": dict(sorted(self.phi_by_type.items())),
            "rows_by_split": dict(sorted(self.rows_by_split.items())),
            "near_duplicates_removed": self.near_duplicates_removed,
            "filtered": self.filtered_total,
            "filtered_by_reason": dict(sorted(self.filtered.items())),
            "words_by_split": dict(sorted(self.words_by_split.items())),
            "tokens_by_split": (
                None if self.tokens_by_split is None else dict(sorted(self.tokens_by_split.items()))
            ),
        }


def record_fingerprint(raw: RawRecord) -> bytes:
    """Canonical bytes of a record's content (not its location) for the input digest.

    A record the source could not take adds its problem and detail (an oversized one,
    never read, is known by its size only).
    """
    content: dict[str, object] = {"fields": jsonable(raw.fields), "raw": jsonable(raw.raw)}
    if raw.problem is not None:
        content["problem"] = [raw.problem.value, raw.detail]
    return json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")


RAMP_BATCHES = 3
"""The first batches of a run are 1/8, 1/4 and 1/2 of ``batch_size``."""


def ramped_batch_size(batch_size: int, index: int) -> int:
    """Notes in batch ``index``: small first batches, then ``batch_size``.

    Large batches keep the per-task overhead low on long runs; small first ones let a
    short run (a few thousand notes) still spread over every worker, and get the first
    results out sooner.
    """
    return max(1, batch_size >> max(0, RAMP_BATCHES - index))


def extract_windows(
    records: Iterable[RawRecord],
    *,
    columns: ColumnMapping,
    max_note_chars: int,
    date_shift_days: tuple[int, int] = (0, 0),
    batch_size: int,
    window_batches: int,
    quarantine: QuarantineWriter,
    counts: RunCounts,
    input_digest: hashlib._Hash,
    scratch: tuple[Path, str] | None = None,
) -> Iterator[Window]:
    """Group checked, de-duplicated notes into windows of up to ``window_batches`` batches.

    Quarantined records go to ``quarantine`` as they are met; ``counts`` and
    ``input_digest`` are updated for every record read.  ``date_shift_days`` (the
    policy's offset range) decides which note dates are too close to the calendar's ends
    to shift.  The duplicate check keeps a
    scratch file in a dir made at ``scratch`` (directory, name prefix; default: the
    system temp dir), removed when the stream ends.
    """
    with Deduplicator(*scratch) if scratch is not None else Deduplicator() as dedup:
        window = Window()
        batch: list[NoteRecord] = []
        next_index = 0
        for raw in records:
            counts.rows_in += 1
            window.rows_in += 1
            if raw.skipped is not None:  # not a record: counted, never read
                counts.skipped[raw.skipped.value] += 1
                window.skipped += 1
                continue
            input_digest.update(record_fingerprint(raw))
            checked = check_record(raw, columns, max_note_chars, date_shift_days)
            if isinstance(checked, NoteRecord):
                verdict = dedup.check(checked)
                if verdict is Verdict.NEW:
                    batch.append(checked)
                elif verdict is Verdict.DUPLICATE:
                    counts.duplicates_removed += 1
                    window.duplicates_removed += 1
                else:
                    checked = QuarantineItem(
                        Reason.DUPLICATE_ID,
                        raw.source_ref,
                        checked.note_id,
                        payload=jsonable(raw.fields),
                    )
            if isinstance(checked, QuarantineItem):
                quarantine.add(checked)
                counts.quarantined[checked.reason.value] += 1
                window.quarantined += 1
            if len(batch) == ramped_batch_size(batch_size, next_index):
                window.batches.append(NoteBatch(next_index, tuple(batch)))
                next_index += 1
                batch = []
                if len(window.batches) == window_batches:
                    yield window
                    window = Window()
        if batch:
            window.batches.append(NoteBatch(next_index, tuple(batch)))
        if window.rows_in:
            yield window
