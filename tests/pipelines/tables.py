"""Output-table rows for tests that write shards (schema-valid, no PHI)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from schemas.deidentified import DEIDENTIFIED_SCHEMA, PHI_COUNT_COLUMNS


def deidentified_rows(
    n: int, start: int = 0, text_len: int = 20, splits: tuple[str, ...] = ("train",)
) -> pa.Table:
    """``n`` rows numbered from ``start``; three notes per patient; text of ``text_len``
    digits; row ``i`` in ``splits[i % len(splits)]``."""
    ids = range(start, start + n)
    cols = {
        "note_pseudonym": [f"n{i:06d}" for i in ids],
        "patient_pseudonym": [f"p{i // 3}" for i in ids],
        "encounter_pseudonym": [None for _ in ids],
        "note_type": ["progress_note" for _ in ids],
        "note_date": [dt.date(2020, 1, 1) for _ in ids],
        "text": [f"{i:0{text_len}d}" for i in ids],
        "split": [splits[i % len(splits)] for i in ids],
        **{c: [0 for _ in ids] for c in PHI_COUNT_COLUMNS},
        "phi_total": [0 for _ in ids],
        "n_words": [1 for _ in ids],
        "n_tokens": [None for _ in ids],
        "pipeline_version": ["0.1.0" for _ in ids],
        "policy_version": ["safe_harbor@x" for _ in ids],
    }
    return pa.Table.from_pydict(cols, schema=DEIDENTIFIED_SCHEMA)
