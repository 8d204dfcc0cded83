"""Lexical judgements shared by the context rules: is this word plausibly a name?

Combines spaCy's stop words, the medical allow-list, dictionary membership (the Census
name lists of ``deid.lexicons``), the ambiguous class (names that are also common
English words) and English frequency (wordfreq) into a few cached answers.  Context rules
raise what the word alone cannot: ``is_name_word`` says a word *may* be a name whatever
its class, for triggers strong enough to decide ("son rob", "daughter Lou").
"""

from __future__ import annotations

from enum import IntEnum
from functools import lru_cache

from spacy.attrs import IS_ALPHA, IS_TITLE, IS_UPPER
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc, Token

from deid.detection import lexicon

# Words whose answers are remembered: common words stay, while the stream of new names
# and numbers cycles through (an unbounded cache grew with every word a worker saw).
WORD_CACHE_SIZE = 65_536


class NameLikeness(IntEnum):
    """How plausible a word is as (part of) a proper name, from the word alone."""

    NO = 0  # stop word, medical term, punctuation, number, very common word
    WEAK = 1  # an ordinary English word that is sometimes a name
    MEDIUM = 2  # rare word, or a capitalised uncommon word in mixed-case text
    STRONG = 3  # a dictionary first or last name that is not a common word


class CaseMode(IntEnum):
    """The prevailing case style of a note: capitalisation only means something in MIXED."""

    UPPER = 0
    MIXED = 1
    LOWER = 2


def case_mode(doc: Doc) -> CaseMode:
    """Classify the note's case style from its alphabetic tokens (cached on the Doc)."""
    mode = doc.user_data.get("deid_case_mode")
    if mode is None:
        attrs = doc.to_array([IS_ALPHA, IS_UPPER, IS_TITLE])
        alpha = attrs[attrs[:, 0] == 1]
        if len(alpha) == 0:
            mode = CaseMode.MIXED
        elif alpha[:, 1].mean() > 0.5:
            mode = CaseMode.UPPER
        else:
            mode = CaseMode.MIXED if alpha[:, 2].mean() > 0.08 else CaseMode.LOWER
        doc.user_data["deid_case_mode"] = mode
    return mode


@lru_cache(maxsize=WORD_CACHE_SIZE)
def _is_word_token(text: str) -> bool:
    core = text.replace("'", "").replace("-", "")
    return len(core) >= 2 and core.isalpha() and core.isascii()


@lru_cache(maxsize=WORD_CACHE_SIZE)
def lexical_name_likeness(word: str) -> NameLikeness:
    """Name-likeness of a lower-cased word, ignoring its case in the text."""
    if not _is_word_token(word) or word in STOP_WORDS or word in lexicon.medical_terms():
        return NameLikeness.NO
    z = lexicon.zipf(word)
    in_dict = word in lexicon.person_names()
    if in_dict and z < 4.6 and word not in lexicon.ambiguous_words():
        return NameLikeness.STRONG
    if z < 3.0:
        return NameLikeness.MEDIUM
    # Common words that are also rare names ("service", "pain") are names only where
    # context says so (``is_name_word``); popular names ("lee", "white") weakly so.
    if z < 4.2 or (
        in_dict
        and (z < 4.6 or word not in lexicon.ambiguous_words() or word in lexicon.popular_names())
    ):
        return NameLikeness.WEAK
    return NameLikeness.NO


@lru_cache(maxsize=WORD_CACHE_SIZE)
def is_name_word(word: str) -> bool:
    """A lower-cased word that is a dictionary given or family name, even one that is
    also a common English word or on the medical allow-list ("pat", "lou", "wilson"):
    for contexts that decide on their own (relation words, titles, initials)."""
    return _is_word_token(word) and word in lexicon.person_names() and word not in STOP_WORDS


def name_likeness(token: Token, mode: CaseMode) -> NameLikeness:
    """Name-likeness of a token in context of its note's case style."""
    base = lexical_name_likeness(token.lower_)
    if base == NameLikeness.WEAK and mode == CaseMode.MIXED and token.is_title:
        return NameLikeness.MEDIUM
    return base


def is_initial(token: Token) -> bool:
    """A single letter, optionally with its period: ``J`` or ``j.``."""
    t = token.text
    return (len(t) == 1 and t.isalpha()) or (len(t) == 2 and t[0].isalpha() and t[1] == ".")
