"""Freed heap goes back to the operating system (glibc ``malloc_trim``)."""

from __future__ import annotations

import sys

import pytest

from deid.detection._speedups.heap import _malloc_trim, release_free_heap


def test_freed_heap_goes_back_to_the_os() -> None:
    """What the detector calls after each memory zone: freed heap is no longer resident."""
    if not sys.platform.startswith("linux") or _malloc_trim() is None:
        pytest.skip("glibc malloc_trim only")

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    blocks = [bytes(2000) + bytes([i % 256]) for i in range(100_000)]  # ~200 MB of heap
    blocks = blocks[-1:]  # freed: glibc keeps most of it resident
    held = rss_mb()
    release_free_heap()
    assert rss_mb() < held - 100
