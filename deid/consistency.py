"""Within-note consistency: a word found as a name once is a name everywhere in the note.

Notes repeat the same people and places ("dtr suzette called ... suzette will visit").
Context often marks only one mention; this pass carries the finding to the others.
Only words that are plausible names on their own are propagated (never stop words,
medical terms or common English words), so one mistake does not spread through a note.
"""

from __future__ import annotations

import numpy as np
from spacy.attrs import LOWER
from spacy.tokens import Doc

from deid import lexicon
from deid.spans import Span
from deid.wordclass import NameLikeness, lexical_name_likeness

PROPAGATED_TYPES = frozenset({"PERSON", "HOSPITAL", "LOCATION"})
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


def propagate(doc: Doc, spans: list[Span]) -> list[Span]:
    """Spans for further mentions of words already found as names or places in ``doc``."""
    seeds: dict[int, str] = {}
    for sp in spans:
        if sp.entity_type not in PROPAGATED_TYPES or sp.score < _MIN_SEED_SCORE:
            continue
        for tok in doc.char_span(sp.start, sp.end, alignment_mode="expand") or ():
            if len(tok) >= 3 and _propagates(tok.lower_):
                seeds.setdefault(tok.lower, sp.entity_type)
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
