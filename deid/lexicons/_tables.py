"""Reading the vendored files, and the read-only maps the loaders hand out.

Large tables keep their columns in flat lists and arrays and build a record only when one
is looked up, so a worker holds each table once, compactly (see ``__init__`` for sizes).
"""

from __future__ import annotations

import bisect
import gzip
import io
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources
from random import Random
from typing import TypeVar

T = TypeVar("T")

# Rows sharing a key are contiguous in the sorted files; a span packs (start, count).
_COUNT_BITS = 12


def read_rows(name: str) -> Iterator[list[str]]:
    """Rows of a vendored file (header skipped), each a list of its tab-separated cells."""
    # Streamed line by line: the whole text and a list of its lines would be a transient
    # peak several times the table's own size, and the process's RSS keeps its peak.
    raw = resources.files("deid.lexicons").joinpath("data", name).open("rb")
    with raw, gzip.GzipFile(fileobj=raw) if name.endswith(".gz") else raw as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
        next(text, None)  # header
        for line in text:
            yield line.rstrip("\n").split("\t")


class Records(Mapping[str, T]):
    """A read-only map from a key to one record, built on access from row ``index``."""

    __slots__ = ("_index", "_make")

    def __init__(self, index: dict[str, int], make: Callable[[int], T]) -> None:
        self._index = index
        self._make = make

    def __getitem__(self, key: str) -> T:
        return self._make(self._index[key])

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


class MultiRecords(Mapping[str, tuple[T, ...]]):
    """A read-only map from a key to all records with that key (a name shared by places)."""

    __slots__ = ("_spans", "_make")

    def __init__(self, keys: Sequence[str], make: Callable[[int], T]) -> None:
        spans: dict[str, int] = {}
        start = 0
        for i in range(1, len(keys) + 1):
            if i == len(keys) or keys[i] != keys[start]:
                spans[keys[start]] = (start << _COUNT_BITS) | (i - start)
                start = i
        self._spans = spans
        self._make = make

    def __getitem__(self, key: str) -> tuple[T, ...]:
        span = self._spans[key]
        start, count = span >> _COUNT_BITS, span & ((1 << _COUNT_BITS) - 1)
        return tuple(self._make(i) for i in range(start, start + count))

    def __contains__(self, key: object) -> bool:
        return key in self._spans

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)


class WeightedDraw:
    """Draws row numbers with probability proportional to their weights; optionally only
    among rows ``lo..hi`` (rows sorted by some value, to draw within a band of it)."""

    __slots__ = ("_rows", "_cumulative")

    def __init__(self, rows: Sequence[int], weights: Sequence[float]) -> None:
        self._rows = array("i", rows)
        total = 0.0
        cumulative = array("d")
        for w in weights:
            total += w
            cumulative.append(total)
        self._cumulative = cumulative

    def __len__(self) -> int:
        return len(self._rows)

    def draw(self, rng: Random, lo: int = 0, hi: int | None = None) -> int:
        """One row number; ``rng.random()`` is called exactly once."""
        hi = len(self._rows) if hi is None else hi
        if not 0 <= lo < hi <= len(self._rows):
            raise ValueError("nothing to draw from")
        base = self._cumulative[lo - 1] if lo else 0.0
        top = self._cumulative[hi - 1]
        u = base + rng.random() * (top - base)
        i = bisect.bisect_right(self._cumulative, u, lo, hi)
        return self._rows[min(i, hi - 1)]
