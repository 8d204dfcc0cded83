"""Great Expectations suites, defined as code (the one source of truth for the gate)."""

from expectations.deidentified_notes import (
    DERIVED_COLUMNS,
    RESIDUAL_PATTERNS,
    build_batch_counts_suite,
    build_deidentified_suite,
)

__all__ = [
    "DERIVED_COLUMNS",
    "RESIDUAL_PATTERNS",
    "build_batch_counts_suite",
    "build_deidentified_suite",
]
