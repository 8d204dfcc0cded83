"""Lexicon entries that are also common English words or medical terms ("white", "hope",
"foley"). They stay in their lexicons; this class says a match needs context."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from deid.lexicons._keys import fold
from deid.lexicons._tables import read_rows


class Ambiguity(NamedTuple):
    """Why a lexicon word is ambiguous."""

    zipf: float  # English frequency (wordfreq, Zipf scale) at build time
    reasons: frozenset[str]  # {"english", "medical"}
    lexicons: frozenset[str]  # surname, first_name, first_name_extra, us_place, ...


@cache
def ambiguous() -> dict[str, Ambiguity]:
    """Ambiguous single words (lower-case) -> why: 5.5k of them. Do not mutate."""
    sets: dict[str, frozenset[str]] = {}  # a few dozen distinct sets, shared

    def shared(cell: str) -> frozenset[str]:
        return sets.setdefault(cell, frozenset(cell.split(",")))

    return {
        word: Ambiguity(float(z), shared(reasons), shared(lexicons))
        for word, z, reasons, lexicons in read_rows("ambiguous.tsv.gz")
    }


def is_ambiguous(word: str) -> bool:
    """Is ``word`` (any case) a lexicon entry that is also a common English or medical word?"""
    return fold(word).strip() in ambiguous()
