"""Fixed keys and span helpers for the anonymizer tests."""

from __future__ import annotations

from deid.anonymization.deidentifier import Deidentifier, DeidResult
from deid.anonymization.keys import SecretKey
from deid.config import AnonymizationConfig
from deid.spans import Span

KEY = SecretKey.from_text("unit-test-key-0123456789abcdef")
OTHER_KEY = SecretKey.from_text("rotated-key-fedcba9876543210")


def mark(text: str, *items: tuple[str, str]) -> list[Span]:
    """Spans for (substring, entity_type) pairs, each found after the previous one."""
    spans = []
    pos = 0
    for value, entity_type in items:
        start = text.index(value, pos)
        spans.append(Span(start, start + len(value), entity_type))
        pos = start + len(value)
    return spans


def replaced(result: DeidResult, index: int) -> str:
    """New text of the ``index``-th applied span of a result."""
    span = result.spans[index]
    return result.text[span.start : span.end]


def make_deid(key: SecretKey = KEY, **anon: object) -> Deidentifier:
    """A Deidentifier with an explicit key and anonymization settings."""
    return Deidentifier(AnonymizationConfig.model_validate(anon), key=key)
