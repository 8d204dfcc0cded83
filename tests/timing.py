"""CPU-time checks that hold on a loaded machine: comparisons, never fixed bounds.

A fixed bound ("under one second") fails when other processes take the CPU.  These
helpers compare instead: the CPU time this thread spends on a hostile input against
the time it spends, just before, on benign clinical text of the same length.  Load
slows both alike, and ``thread_time`` counts only this thread's CPU; the best of a
few runs drops the noise a scheduler or a garbage collection adds.  A quadratic
algorithm on a hostile input of tens of thousands of characters costs thousands of
times the linear benign run, so a factor in the tens separates the two with room on
both sides.
"""

from __future__ import annotations

import time
from collections.abc import Callable

BENIGN_NOTE = (
    "Pt seen by Dr. Healey this AM, resting comfortably. BP 118/76, HR 80, RR 18, sats 97% "
    "on 2L NC. Lungs clear bilaterally, abd soft, +BS. Wife Mary in to visit, updated on "
    "plan of care. Cont lasix 40mg IV BID, K+ 3.9 repleted. Adm 7/22 from Kernan Hospital "
    "for CHF exacerbation. Plan: ambulate TID, daily wts, f/u echo. Call 617-555-0199 if "
    "questions. Pain 2/10, medicated w/ tylenol 650mg PO x1 with good effect.\n"
)
"""Ordinary nursing-note text: names, dates, numbers, abbreviations and a phone."""

DEFAULT_FACTOR = 30.0
"""How many times the benign cost a hostile input may take (see the module docstring)."""


def benign_text(length: int) -> str:
    """``BENIGN_NOTE`` repeated to exactly ``length`` characters."""
    return (BENIGN_NOTE * (length // len(BENIGN_NOTE) + 1))[:length]


def cpu_seconds(call: Callable[[], object], repeat: int = 3) -> float:
    """The least CPU time of this thread over ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        call()
        best = min(best, time.thread_time() - start)
    return best


def assert_costs_like_benign(
    run: Callable[[str], object],
    hostile: str,
    *,
    factor: float = DEFAULT_FACTOR,
    benign: str | None = None,
) -> None:
    """``run(hostile)`` costs at most ``factor`` times ``run`` on same-length benign text."""
    reference = benign if benign is not None else benign_text(len(hostile))
    assert len(reference) == len(hostile), "compare inputs of the same length"
    base = cpu_seconds(lambda: run(reference))
    cost = cpu_seconds(lambda: run(hostile))
    assert cost <= factor * base, (
        f"{hostile[:12]!r}... ({len(hostile):,} chars): {cost:.4f} s CPU, "
        f"{cost / base if base else float('inf'):.1f}x the {base:.4f} s of benign text"
    )


def assert_scales_linearly(
    small: Callable[[], object],
    large: Callable[[], object],
    *,
    size_ratio: float,
    slack: float = 2.0,
) -> None:
    """``large`` (on ``size_ratio`` times the input of ``small``) costs at most ``slack`` x
    ``size_ratio`` times ``small``: linear growth passes, quadratic (``size_ratio`` squared,
    with ``size_ratio`` >= 4) fails."""
    base = cpu_seconds(small)
    cost = cpu_seconds(large)
    bound = slack * size_ratio
    assert cost <= bound * base, (
        f"{size_ratio:g}x the input cost {cost / base if base else float('inf'):.1f}x the CPU "
        f"({base:.4f} s -> {cost:.4f} s); linear growth allows up to {bound:g}x"
    )
