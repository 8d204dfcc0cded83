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
from spacy.attrs import LOWER, ORTH
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc, Token

from deid import entities
from deid.detection import lexicon
from deid.detection.nlp import doc_text
from deid.detection.wordclass import (
    NameLikeness,
    is_initial,
    is_name_word,
    lexical_name_likeness,
)
from deid.spans import Span

PROPAGATED_TYPES = frozenset({entities.PERSON.name, entities.HOSPITAL.name, entities.LOCATION.name})
PROPAGATION_RECOGNIZER = "NoteConsistency"
_MIN_SEED_SCORE = 0.6
_MIN_EXACT_SEED_SCORE = 0.7
_PROPAGATED_SCORE = 0.6
_MAX_INITIALS_ZIPF = 4.0
# Two- and three-letter abbreviations that initials would collide with in notes.
_CLINICAL_LETTER_PAIRS = frozenset(
    {
        "ms",
        "mr",
        "pt",
        "co",
        "am",
        "pm",
        "bp",
        "hr",
        "rr",
        "er",
        "ed",
        "or",
        "ot",
        "pa",
        "np",
        "md",
        "rn",
        "dr",
        "iv",
        "po",
        "gi",
        "gu",
        "ct",
        "cv",
        "ns",
        "lr",
        "tv",
        "ac",
        "pc",
        "hs",
        "sq",
        "im",
        "ob",
        "ep",
        "ng",
        "og",
        "ho",
        "hd",
        "sb",
        "ss",
        "dm",
        "mi",
        "pe",
        "uti",
        "cad",
        "chf",
        "dnr",
        "dni",
        "abg",
        "cbc",
        "icu",
        "mrs",
        "jp",
        "av",
        "va",
    }
)


def _propagates(word: str) -> bool:
    """Rare words, and dictionary names even if common ("bill"); not "rehab" or "verbal"."""
    like = lexical_name_likeness(word)
    if like >= NameLikeness.MEDIUM:
        return True
    return (
        like == NameLikeness.WEAK
        and word in lexicon.person_names()
        and word not in lexicon.ambiguous_words()
    )


def _propagates_as_written(tok: Token, entity: str, score: float) -> bool:
    """A name that is also a medical term or common word ("Lou", "Hope"), found with
    confidence as a person: carried only to mentions written exactly alike."""
    return (
        entity == entities.PERSON.name
        and score >= _MIN_EXACT_SEED_SCORE
        and is_name_word(tok.lower_)
        and tok.lower_ in lexicon.first_names()
    )


def _seed_tokens(doc: Doc, spans: list[Span]) -> Iterator[tuple[Token, str, bool]]:
    """Tokens of confident name and place ``spans`` that may propagate, with their type
    and whether only their exact spelling propagates."""
    for sp in spans:
        if sp.entity_type not in PROPAGATED_TYPES or sp.score < _MIN_SEED_SCORE:
            continue
        for tok in doc.char_span(sp.start, sp.end, alignment_mode="expand") or ():
            if len(tok) < 3:
                continue
            if _propagates(tok.lower_):
                yield tok, sp.entity_type, False
            elif _propagates_as_written(tok, sp.entity_type, sp.score):
                yield tok, sp.entity_type, True


def seed_words(doc: Doc, spans: list[Span]) -> dict[str, str]:
    """The lower-cased words ``propagate`` would carry from ``spans``, with their type
    (across segments of long notes; exact-spelling seeds and initials stay in their segment)."""
    seeds: dict[str, str] = {}
    for tok, entity, exact in _seed_tokens(doc, spans):
        if not exact:
            seeds.setdefault(tok.lower_, entity)
    return seeds


def propagate(doc: Doc, spans: list[Span]) -> list[Span]:
    """Spans for further mentions of words already found as names or places in ``doc``.

    A surname found in a full name also covers an initial beside a later mention
    ("Smith J", "J. Smith"), and a confident two-part name its initials written as one
    word ("JS", "J.S.") when those are not a common word or clinical abbreviation."""
    seeds: dict[int, str] = {}
    exact: dict[int, str] = {}
    for tok, entity, as_written in _seed_tokens(doc, spans):
        if as_written:
            exact.setdefault(tok.orth, entity)
        else:
            seeds.setdefault(tok.lower, entity)
    initials = _initials_of(doc, spans)
    for form in initials:
        exact.setdefault(doc.vocab.strings.add(form), entities.PERSON.name)
    dotted = _dotted_initials(doc_text(doc), initials)
    if not seeds and not exact:
        return dotted
    hits = []
    if seeds:
        lower = doc.to_array(LOWER)
        hits += [(i, seeds[lower[i]]) for i in np.flatnonzero(np.isin(lower, _keys(seeds)))]
    if exact:
        orth = doc.to_array(ORTH)
        hits += [(i, exact[orth[i]]) for i in np.flatnonzero(np.isin(orth, _keys(exact)))]
    letters = {form[0] for form in initials} | _first_letters(doc, spans)
    out = []
    for i, entity in sorted(hits):
        tok = doc[int(i)]
        start, end = tok.idx, tok.idx + len(tok)
        if entity == entities.PERSON.name:
            start, end = _with_initial(doc, int(i), letters, start, end)
        out.append(Span(start, end, entity, _PROPAGATED_SCORE, PROPAGATION_RECOGNIZER))
    return out + dotted


def _dotted_initials(text: str, initials: set[str]) -> list[Span]:
    """Mentions of initials written with periods ("J.S."), which spaCy splits apart."""
    out = []
    for letters in initials:
        if len(letters) > 1:
            form = re.compile(r"(?<![\w.])" + re.escape(".".join(letters)) + r"\.?(?!\w)")
            for m in form.finditer(text):
                out.append(
                    Span(
                        m.start(),
                        m.end(),
                        entities.PERSON.name,
                        _PROPAGATED_SCORE,
                        PROPAGATION_RECOGNIZER,
                    )
                )
    return out


def _keys(table: dict[int, str]) -> np.ndarray:
    return np.fromiter(table, dtype=np.uint64, count=len(table))


def _person_tokens(doc: Doc, spans: list[Span]) -> Iterator[list[Token]]:
    for sp in spans:
        if sp.entity_type == entities.PERSON.name and sp.score >= _MIN_SEED_SCORE:
            toks = doc.char_span(sp.start, sp.end, alignment_mode="expand")
            if toks is not None:
                yield [t for t in toks if t.is_alpha or is_initial(t)]


def _first_letters(doc: Doc, spans: list[Span]) -> set[str]:
    """Upper-case first letters of given names and initials of confident person spans."""
    out = set()
    for toks in _person_tokens(doc, spans):
        for t in toks[:-1]:
            out.add(t.text[0].upper())
    return out


def _initials_of(doc: Doc, spans: list[Span]) -> set[str]:
    """ "JS", "J.S." for confident names of two or three words ("John Smith", "J. Smith")."""
    out = set()
    for toks in _person_tokens(doc, spans):
        if not 2 <= len(toks) <= 3 or not all(t.text[0].isalpha() for t in toks):
            continue
        letters = "".join(t.text[0].upper() for t in toks)
        if _safe_initials(letters):
            out.add(letters)
    return out


def _safe_initials(letters: str) -> bool:
    """Initials that are not a word or a clinical abbreviation ("MS", "PT", "CO", "AM")."""
    low = letters.lower()
    return (
        low not in STOP_WORDS
        and low not in lexicon.medical_terms()
        and low not in _CLINICAL_LETTER_PAIRS
        and lexicon.zipf(low) < _MAX_INITIALS_ZIPF
    )


def _with_initial(doc: Doc, i: int, letters: set[str], start: int, end: int) -> tuple[int, int]:
    """Widen a propagated surname over an initial of the same person beside it:
    "Smith J", "Smith, J.", "J. Smith" (same line)."""
    after = i + 1
    if after < len(doc) and doc[after].text == ",":
        after += 1
    if after < len(doc) and _initial_of(doc[after], letters) and "\n" not in doc[i].whitespace_:
        end = doc[after].idx + len(doc[after])
        if after + 1 < len(doc) and doc[after + 1].text == "." and not doc[after].whitespace_:
            end += 1
    before = i - 1
    if before >= 0 and doc[before].text == "." and before >= 1 and not doc[before].whitespace_:
        before -= 1
    if before >= 0 and _initial_of(doc[before], letters) and "\n" not in doc[before].whitespace_:
        start = doc[before].idx
    return start, end


def _initial_of(tok: Token, letters: set[str]) -> bool:
    return is_initial(tok) and tok.text[0].isupper() and tok.text[0] in letters


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
