"""Ages: the number a span states, and Safe Harbor's rendering of one over 89 (``90+``)."""

from __future__ import annotations

import re

MAX_AGE_KEPT = 89
"""Safe Harbor: ages up to 89 are not identifiers."""
AGE_OVER_89 = "90+"

_NUMBER_RE = re.compile(r"\d+")
_AGE_NUMBER_RE = re.compile(r"\d+(?:'?s\b)?")  # "92", "90s", "90's"
_UNITS_TEXT = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS_TEXT = "twenty thirty forty fifty sixty seventy eighty ninety"
_NUMBER_WORDS = {
    **{w: i for i, w in enumerate(_UNITS_TEXT.split())},
    **{w: 10 * i for i, w in enumerate(_TENS_TEXT.split(), start=2)},
}
_WORD_RE = re.compile(r"[a-z]+")
_SPELLED_AGE_RE = re.compile(
    r"(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r"|hundred)"
    r"(?:[\s-]+(?:and[\s-]+)?(?:"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r"|hundred))*",
    re.IGNORECASE,
)


def parse_age(value: str) -> int | None:
    """The age a span states: its first number, or a spelled-out one ("ninety-two")."""
    m = _NUMBER_RE.search(value)
    if m:
        return int(m.group())
    m = _SPELLED_AGE_RE.search(value)
    return _words_to_int(m.group()) if m else None


def generalize_age(value: str) -> str:
    """Safe Harbor rendering of an age over 89: its number becomes ``90+``."""
    m = _AGE_NUMBER_RE.search(value) or _SPELLED_AGE_RE.search(value)
    if m is None:
        return AGE_OVER_89
    return value[: m.start()] + AGE_OVER_89 + value[m.end() :]


def _words_to_int(text: str) -> int:
    total = 0
    for word in _WORD_RE.findall(text.casefold()):
        if word == "hundred":
            total = max(total, 1) * 100
        else:
            total += _NUMBER_WORDS.get(word, 0)
    return total
