"""Within-note consistency: a word found as a name once is a name everywhere in the note.

Notes repeat the same people and places ("dtr suzette called ... suzette will visit").
Context often marks only one mention; this pass carries the finding to the others.
Only words that are plausible names on their own are propagated (never stop words,
medical terms or common English words), so one mistake does not spread through a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
from spacy.attrs import LOWER
from spacy.tokens import Doc, Token

from deid import entities
from deid.detection import lexicon
from deid.detection.wordclass import NameLikeness, lexical_name_likeness
from deid.spans import Span

PROPAGATED_TYPES = frozenset({entities.PERSON.name, entities.HOSPITAL.name, entities.LOCATION.name})
PROPAGATION_RECOGNIZER = "NoteConsistency"
_MIN_SEED_SCORE = 0.6
_PROPAGATED_SCORE = 0.6


def _propagates(word: str) -> bool:
    """Rare words, and dictionary names even if common ("bill"); not "rehab" or "verbal"."""
    like = lexical_name_likeness(word)
    if like >= NameLikeness.MEDIUM:
        return True
    return like == NameLikeness.WEAK and (
        word in lexicon.first_names() or word in lexicon.last_names()
    )


def _seed_tokens(doc: Doc, spans: list[Span]) -> Iterator[tuple[Token, str]]:
    """Tokens of confident name and place ``spans`` that may propagate, with their type."""
    for sp in spans:
        if sp.entity_type not in PROPAGATED_TYPES or sp.score < _MIN_SEED_SCORE:
            continue
        for tok in doc.char_span(sp.start, sp.end, alignment_mode="expand") or ():
            if len(tok) >= 3 and _propagates(tok.lower_):
                yield tok, sp.entity_type


def seed_words(doc: Doc, spans: list[Span]) -> dict[str, str]:
    """The lower-cased words ``propagate`` would carry from ``spans``, with their type."""
    seeds: dict[str, str] = {}
    for tok, entity in _seed_tokens(doc, spans):
        seeds.setdefault(tok.lower_, entity)
    return seeds


def propagate(doc: Doc, spans: list[Span]) -> list[Span]:
    """Spans for further mentions of words already found as names or places in ``doc``."""
    seeds: dict[int, str] = {}
    for tok, entity in _seed_tokens(doc, spans):
        seeds.setdefault(tok.lower, entity)
    if not seeds:
        return []
    lower = doc.to_array(LOWER)
    hits = np.flatnonzero(np.isin(lower, np.fromiter(seeds, dtype=np.uint64)))
    out = []
    for i in hits.tolist():
        tok = doc[i]
        out.append(
            Span(
                tok.idx,
                tok.idx + len(tok),
                seeds[tok.lower],
                _PROPAGATED_SCORE,
                PROPAGATION_RECOGNIZER,
            )
        )
    return out


# A word, with inner apostrophes ("o'brien's").  Linear: an apostrophe must be followed by
# a word character for the group to repeat, so no character can be matched two ways.
_WORD = re.compile(r"\w+(?:'\w+)*")


def propagate_in_text(text: str, seeds: dict[str, str]) -> list[Span]:
    """Spans for every mention in ``text`` of a word in ``seeds`` (from ``seed_words``).

    The text-level twin of ``propagate``, for notes detected in several segments (one
    Doc each): a name found in one segment is carried to mentions in all the others.
    Words are matched case-insensitively between non-word characters, as tokens are;
    a possessive or other apostrophe ending ("smith's") is also tried without it.
    """
    # A token may keep a hyphen at its edge ("smith-"); the words matched here never do.
    lookup = {word.strip("-"): entity for word, entity in reversed(seeds.items())}
    if not lookup:
        return []
    out = []
    for m in _WORD.finditer(text):
        word = m.group().lower()
        end = m.end()
        entity = lookup.get(word)
        while entity is None and "'" in word:  # "smith's" -> "smith"
            word = word[: word.rindex("'")]
            end = m.start() + len(word)
            entity = lookup.get(word)
        if entity is not None:
            out.append(Span(m.start(), end, entity, _PROPAGATED_SCORE, PROPAGATION_RECOGNIZER))
    return out
