"""Which ASCII characters one item of a parsed regex matches (``re._parser`` trees).

Two speed-ups read spaCy's and deidflow's own regexes instead of trusting hand-kept
lists: the tokenizer's affix gates (``deid.detection._speedups.affix_gates``) and the labelled
patterns' word filter (``deid.detection._speedups.word_filter``).  Both need the characters a
literal or a character class can match; this is that one reading.  Only ASCII is
modelled: both use it only to decide about ASCII text.
"""

from __future__ import annotations

import string
from re import _constants as sre  # type: ignore[attr-defined]
from typing import Any

ASCII = frozenset(map(chr, range(128)))
_CATEGORY_CHARS = {
    sre.CATEGORY_DIGIT: frozenset(string.digits),
    sre.CATEGORY_SPACE: frozenset(string.whitespace + "\x1c\x1d\x1e\x1f"),
}


class UnknownClass(Exception):
    """A class this module does not read (``\\w``, ``\\W``, ...): assume anything."""


def ascii_chars(op: Any, av: Any) -> frozenset[str]:
    """The ASCII characters a ``LITERAL`` or ``IN`` item matches (case as written).

    Raises ``UnknownClass`` for members it does not model.
    """
    if op is sre.LITERAL:
        return frozenset({chr(av)}) & ASCII
    if op is not sre.IN:
        raise UnknownClass
    chars: set[str] = set()
    negate = False
    for kind, value in av:
        if kind is sre.NEGATE:
            negate = True
        elif kind is sre.LITERAL:
            chars.add(chr(value))
        elif kind is sre.RANGE:
            chars |= {chr(c) for c in range(value[0], min(value[1], 127) + 1)}
        elif kind is sre.CATEGORY and value in _CATEGORY_CHARS:
            chars |= _CATEGORY_CHARS[value]
        else:
            raise UnknownClass
    return ASCII - chars if negate else frozenset(chars) & ASCII
