"""Case style: read it from an original token, apply it to a surrogate."""

from __future__ import annotations

from typing import Literal

CaseStyle = Literal["upper", "lower", "title"]


def case_style(token: str) -> CaseStyle:
    """``HEALEY`` -> upper, ``healey`` -> lower, else (``Healey``, ``McDonald``) -> title."""
    if token.isascii() and token.isalpha():  # most tokens; every ASCII letter has a case
        if token.isupper():
            return "upper"
        return "lower" if token.islower() else "title"
    letters = [c for c in token if c.isalpha()]
    if not letters:
        return "title"
    if all(c.isupper() for c in letters):
        return "upper" if len(letters) > 1 or len(token) == 1 else "title"
    if all(c.islower() for c in letters):
        return "lower"
    return "title"


def apply_case(value: str, style: CaseStyle) -> str:
    """Render ``value`` in ``style``; title case keeps Faker's own inner capitals (McDonald)."""
    if style == "upper":
        return value.upper()
    if style == "lower":
        return value.lower()
    return value[:1].upper() + value[1:] if value[:1].islower() else value


def match_case(value: str, original: str) -> str:
    """``value`` in the case style of ``original``."""
    return apply_case(value, case_style(original))


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` (word lists read best as plain text)."""
    return frozenset(text.split())
