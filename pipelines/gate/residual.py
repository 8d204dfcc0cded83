"""The residual-identifier screen and kept-text arithmetic, without Great Expectations.

What runs on the workers next to detection (``pipelines.tasks.deidentify``): masking the
spans the anonymizer replaced, counting ``RESIDUAL_PATTERNS`` hits in what is left
(``screen_residuals`` withholds such rows), and counting the characters outside the
replaced spans.  The per-window check (``pipelines.gate.validation``) builds its derived
columns with the same functions, so the screen and the check see the same masked text;
keeping them apart from it spares each worker process the Great Expectations import
(seconds of CPU and ~100 MB).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from expectations.residual_patterns import (
    RESIDUAL_PATTERNS,
    RESIDUAL_PREFILTERS,
    residual_check_name,
)

if TYPE_CHECKING:
    from pipelines.transform import BatchOutput

MASK_CHAR = "\u2588"
"""Replaces each character of a replaced span before residual-identifier checks."""


class _HasBounds(Protocol):
    start: int
    end: int


SpanLike = tuple[int, int] | _HasBounds
"""A replaced span in output-text offsets: ``(start, end)`` or any object with both."""


def mask_replaced(text: str, applied_spans: Iterable[SpanLike]) -> str:
    """``text`` with every character inside ``applied_spans`` replaced by ``MASK_CHAR``.

    Offsets are into ``text`` (the *output*), end exclusive; spans may overlap and come in
    any order.  The length is kept so offsets stay comparable.  Raises ``ValueError``
    (offsets and length only) if a span falls outside the text: wrong offsets could hide
    a leak, so they are an error, not something to clip.
    """
    bounds = sorted(_bounds(span) for span in applied_spans)
    parts: list[str] = []
    pos = 0
    for start, end in bounds:
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"replaced span [{start}, {end}) outside text of length {len(text)}")
        start = max(start, pos)
        if end <= start:
            continue
        parts += [text[pos:start], MASK_CHAR * (end - start)]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def residual_hits(text: str, replaced_spans: Iterable[SpanLike]) -> dict[str, int]:
    """Residual-identifier matches per check name in ``text`` outside ``replaced_spans``.

    The row-level screen in front of the gate: the gate's own ``RESIDUAL_PATTERNS`` on the
    same masked text (``mask_replaced``).  A row with any hit is withheld and quarantined
    instead of failing the whole run; the gate then checks the rows that are left.  Each
    pattern runs with both Unicode and ASCII semantics (``\\b``, ``\\d``), so the screen
    flags at least what the gate's pandas engine (Python ``re``, or RE2 for Arrow strings)
    would: a row it lets through cannot fail the gate's residual checks.  Values are counts
    of non-overlapping matches (``{"residual_ssn": 1}``); ``{}`` means clean.  Raises
    ``ValueError`` (offsets only) for a span outside the text, like ``mask_replaced``.
    """
    masked = mask_replaced(text, replaced_spans)
    # In ASCII text (the mask aside) both semantics agree: the ASCII scan alone will do.
    semantics = slice(1, None) if text.isascii() else slice(None)
    hits: dict[str, int] = {}
    for check, prefilter, patterns in _residual_regexes():
        if prefilter.search(masked) is None:
            continue  # every match holds a prefilter match
        found = max(sum(1 for _ in pattern.finditer(masked)) for pattern in patterns[semantics])
        if found:
            hits[check] = found
    return hits


@functools.cache
def _residual_regexes() -> tuple[tuple[str, re.Pattern[str], tuple[re.Pattern[str], ...]], ...]:
    """Per check: its prefilter, and its pattern with Unicode then ASCII semantics."""
    return tuple(
        (
            residual_check_name(name),
            re.compile(RESIDUAL_PREFILTERS[name]),
            (re.compile(pattern), re.compile(pattern, re.ASCII)),
        )
        for name, pattern in RESIDUAL_PATTERNS.items()
    )


def chars_outside(length: int, spans: Iterable[SpanLike]) -> int:
    """Characters of a text of ``length`` outside every one of ``spans``.

    Spans are ``(start, end)`` or objects with both, end exclusive, in any order; overlaps
    count once.  The numerator of the kept-text ratio is this for the output text and
    its replaced spans.  Raises ``ValueError`` (offsets and length only) for a span
    outside the text.
    """
    covered = pos = 0
    for start, end in sorted(_bounds(span) for span in spans):
        if not 0 <= start <= end <= length:
            raise ValueError(f"replaced span [{start}, {end}) outside text of length {length}")
        start = max(start, pos)
        if end > start:
            covered += end - start
            pos = end
    return length - covered


def _bounds(span: SpanLike) -> tuple[int, int]:
    if isinstance(span, tuple):
        start, end = span
        return int(start), int(end)
    return int(span.start), int(span.end)


def screen_residuals(out: BatchOutput, batch_len: int) -> int:
    """Withhold the rows whose text still holds a residual identifier; returns how many.

    The row-level screen in front of the gate (``residual_hits``: the gate's own patterns
    on the text outside replaced spans).  Withheld notes are listed in ``out.residual``
    with their check names and match counts; the stage task quarantines them as
    ``RESIDUAL_IDENTIFIER``.
    """
    texts = out.table.column("text").to_pylist()
    hits = {}
    for row, (text, spans) in enumerate(zip(texts, out.replaced_spans, strict=True)):
        found = residual_hits(text, spans)
        if found:
            hits[row] = found
    out.withhold(hits, batch_len)
    return len(hits)


def residual_detail(hits: dict[str, int]) -> str:
    """``residual_phone=1 residual_ssn=2``: check names and match counts, never values."""
    return " ".join(f"{check}={n}" for check, n in sorted(hits.items()))
