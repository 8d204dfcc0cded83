"""What a note says around its names: the sex its words and pronouns suggest.

A given name of unclear sex ("Pat", "Jordan") keeps the sex the note gives it, so "Pat
... she" does not become "Robert ... she".  Only words within ``WINDOW`` characters of
the name count; a relation word right before it ("wife", "son") outweighs pronouns.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from deid.anonymization.surrogates.source import NO_CONTEXT, NoteContext
from deid.spans import Span

WINDOW = 120
_FEMALE = (
    "she her hers herself woman female lady girl mrs ms miss mother mom wife daughter "
    "sister aunt niece grandmother granddaughter"
)
_MALE = (
    "he him his himself man male gentleman boy mr father dad husband son brother uncle "
    "nephew grandfather grandson"
)
_SEX_WORD = re.compile(
    r"\b(?:(?P<F>" + "|".join(_FEMALE.split()) + r")|(?P<M>" + "|".join(_MALE.split()) + r"))\b",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W\d_]{2,}")
_RIGHT_BEFORE = 2  # weight of a sex word just before the name ("wife Mary", "Mrs. Smith")


def note_context(text: str, spans: Sequence[Span], person: str = "PERSON") -> NoteContext:
    """The sex suggested for each name word of the note's ``person`` spans (read from the
    note only when a surrogate first asks; ``spans`` must not change until then)."""
    for sp in spans:
        if sp.entity_type == person:
            break
    else:
        return NO_CONTEXT
    return NoteContext(
        build=lambda: name_sexes(text, (sp for sp in spans if sp.entity_type == person))
    )


def name_sexes(text: str, spans: Iterable[Span]) -> dict[str, str]:
    """Name word (case-folded) -> "F"/"M", by the sex words within ``WINDOW`` of each span."""
    votes: dict[str, Counter[str]] = {}
    for sp in spans:
        tally: Counter[str] = Counter()
        before = text[max(0, sp.start - WINDOW) : sp.start]
        after = text[sp.end : sp.end + WINDOW]
        for m in _SEX_WORD.finditer(before):
            near = len(before) - m.end() <= 6
            tally["F" if m.group("F") else "M"] += _RIGHT_BEFORE if near else 1
        for m in _SEX_WORD.finditer(after):
            tally["F" if m.group("F") else "M"] += 1
        for m in _SEX_WORD.finditer(text[sp.start : sp.end]):  # "Mrs. Smith"
            tally["F" if m.group("F") else "M"] += _RIGHT_BEFORE
        if not tally or tally["F"] == tally["M"]:
            continue
        for word in _NAME_WORD.findall(text[sp.start : sp.end]):
            votes.setdefault(word.casefold(), Counter()).update(tally)
    return {w: max(c, key=lambda s: c[s]) for w, c in votes.items() if c["F"] != c["M"]}
