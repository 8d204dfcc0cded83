"""Cross-validation helpers: folds by patient, so no patient is in training and test."""

from __future__ import annotations

import random
from collections.abc import Sequence

from deid.evaluation.corpora import Note


def patient_folds(notes: Sequence[Note], folds: int, seed: int = 13) -> dict[str, int]:
    """Assign every patient to one of ``folds`` folds (deterministic)."""
    patients = sorted({n.patient_id for n in notes})
    random.Random(seed).shuffle(patients)
    return {p: i % folds for i, p in enumerate(patients)}
