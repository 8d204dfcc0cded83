"""Invariants every detector result must satisfy, shared by the detector test modules."""

from __future__ import annotations

from deid.entities import ENTITY_NAMES
from deid.spans import Span


def check_spans(text: str, spans: list[Span]) -> None:
    """Offsets inside ``text``, sorted, non-overlapping, and of known entity types."""
    end = 0
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert span.start >= end, "overlapping or unsorted spans"
        assert span.entity_type in ENTITY_NAMES
        end = span.end
