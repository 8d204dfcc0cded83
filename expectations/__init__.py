"""Great Expectations suites, defined as code (the one source of truth for the gate).

Names are re-exported lazily so that ``expectations.residual_patterns`` (no GX) can be
imported without loading Great Expectations.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DERIVED_COLUMNS",
    "RESIDUAL_PATTERNS",
    "build_batch_counts_suite",
    "build_deidentified_suite",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from expectations import deidentified_notes

        return getattr(deidentified_notes, name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
