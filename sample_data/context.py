"""What a note writer needs: the patient, a seeded RNG and where the note sits in time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random
from typing import TypeVar

from sample_data.identity import Patient

T = TypeVar("T")


@dataclass(frozen=True)
class NoteContext:
    pt: Patient
    rng: Random
    note_date: dt.date

    @property
    def hospital_day(self) -> int:
        """Days since admission (0 on the day of admission; negative before it)."""
        return (self.note_date - self.pt.admit_date).days

    def stay_date(self) -> dt.date:
        """A day of the stay up to and including the note's date."""
        last = max(0, min(self.hospital_day, self.pt.stay_days))
        return self.pt.admit_date + dt.timedelta(days=self.rng.randint(0, last))

    def past_date(self, min_days: int = 20, max_days: int = 700) -> dt.date:
        """A date some time before admission (prior visits, outside tests)."""
        return self.pt.admit_date - dt.timedelta(days=self.rng.randint(min_days, max_days))

    def future_date(self, min_days: int = 5, max_days: int = 45) -> dt.date:
        """A date after the note (follow-up appointments)."""
        return self.note_date + dt.timedelta(days=self.rng.randint(min_days, max_days))

    def pick(self, options: Sequence[T]) -> T:
        # Same distribution as rng.choice at a third of the cost; called ~100x per note.
        return options[int(len(options) * self.rng.random())]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p
