"""Person names marked by an initial: ``J. Smith``, ``E. WELSH AWARE``, ``per d welsh``,
``B. KOWALSKI PA``, ``maria t. ruiz bsn``.

An initial followed by a surname is the way clinicians sign and name each other.  The
initial alone is weak evidence (``S. aureus``, ``A fib``, ``T max``); it decides together
with a role or verb after the name (``aware``, ``paged``, ``PA``, ``RN``), a word that
introduces a clinician before it (``per``, ``by``, ``HO``), or a surname that is a name
on its own (a dictionary surname that is not a common word, or a capitalised rare word
in mixed-case text).  A given name right before the initial joins the span.
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from deid import entities
from deid.detection import lexicon
from deid.detection.recognizers.context._token_rules import (
    TokenRuleRecognizer,
    candidates,
    next_word,
    prev_word,
    same_line,
)
from deid.detection.wordclass import (
    CaseMode,
    NameLikeness,
    is_initial,
    is_name_word,
    name_likeness,
)

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SIDES = frozenset({"l", "r", "b"})  # left, right, bilateral
_INITIAL_FORMS = frozenset(c for letter in _LETTERS for c in (letter, letter + "."))
# Words after a name that say it is a clinician's: roles, credentials, notification verbs.
_ROLES_AFTER = frozenset(
    {
        "rn",
        "bsn",
        "lpn",
        "np",
        "pa",
        "pa-c",
        "md",
        "rrt",
        "msw",
        "licsw",
        "ho",
        "resident",
        "intern",
        "fellow",
        "attending",
        "aware",
        "notified",
        "paged",
        "informed",
        "ordered",
        "consulted",
    }
)
# Words before an initial that introduce a clinician ("per d welsh", "seen by J. Lu").
_INTRODUCERS = frozenset(
    {"per", "by", "paged", "called", "notified", "dr", "dr.", "drs", "ho", "md"}
)
# Species names after a genus initial, and clinical words after a letter ("A fib", "T max").
_NOT_SURNAMES = frozenset(
    {
        "coli",
        "diff",
        "difficile",
        "aureus",
        "pylori",
        "aeruginosa",
        "pneumoniae",
        "pneumonia",
        "fragilis",
        "catarrhalis",
        "albicans",
        "glabrata",
        "faecalis",
        "faecium",
        "epidermidis",
        "influenzae",
        "cloacae",
        "marcescens",
        "baumannii",
        "maltophilia",
        "jirovecii",
        "carinii",
        "tuberculosis",
        "agalactiae",
        "pyogenes",
        "viridans",
        "mirabilis",
        "vulgaris",
        "lugdunensis",
        "oxytoca",
        "aerogenes",
        "fib",
        "flutter",
        "max",
        "line",
        "wave",
        "waves",
        "cells",
        "cell",
        "tach",
        "paced",
        "pacing",
        "lead",
        "leads",
    }
)


class InitialNameRecognizer(TokenRuleRecognizer):
    """An initial and a surname, decided by the role, introducer or name around them."""

    ENTITIES = (entities.PERSON.name,)
    NAME = "InitialNameRecognizer"

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        for i in candidates(doc, _INITIAL_FORMS):
            hit = self._name_after_initial(doc, i, mode)
            if hit is not None:
                first, last, score = hit
                found.append((first, last, entities.PERSON.name, score))
        return found

    def _name_after_initial(
        self, doc: Doc, i: int, mode: CaseMode
    ) -> tuple[int, int, float] | None:
        initial = doc[i]
        if not is_initial(initial) or _pronoun_or_article(initial, mode):
            return None
        j = next_word(doc, i, skip=frozenset({"."}))
        if j is None or j - i > 2 or not same_line(doc, i, j):
            return None
        surname = doc[j]
        low = surname.lower_
        if (
            not surname.is_alpha
            or len(surname) < 2
            or low in _NOT_SURNAMES
            or surname.is_stop
            or low in lexicon.medical_terms()
        ):
            return None
        if initial.lower_.rstrip(".") == "u" and low in lexicon.place_names():
            return None  # "U Maryland": a university
        like = name_likeness(surname, mode)
        in_dict = is_name_word(low)
        if like < NameLikeness.MEDIUM and not in_dict:
            return None  # "T. TW": a surname is a dictionary name or a rare word
        last = _extend_hyphenated(doc, j)
        role = _role_after(doc, last)
        introduced = _introduced(doc, i)
        first = i
        k = prev_word(doc, i, skip=frozenset())
        given_before = (
            k is not None
            and same_line(doc, k, i)
            and doc[k].is_alpha
            and doc[k].lower_ in lexicon.first_names()
            and name_likeness(doc[k], mode) >= NameLikeness.WEAK
        )
        if given_before and k is not None:
            first = k  # "maria t. ruiz"
        dotted = initial.text.endswith(".") or (i + 1 < len(doc) and doc[i + 1].text == ".")
        side = initial.lower_.rstrip(".") in _SIDES
        if side and not dotted and not (role and in_dict):
            return None  # "R IJ", "L ICA STENT", "r lung": left and right
        # Even a role or an introducer needs a surname that is a name or reads as one.
        plain_name = in_dict and (
            low not in lexicon.english_words() or low in lexicon.popular_names()
        )
        name_shaped = plain_name or dotted or (mode == CaseMode.MIXED and surname.is_title)
        if (role or introduced) and name_shaped:
            return first, last, 0.8
        if not initial.text[0].isupper() or not (dotted or given_before):
            return None  # "r teh signs", "V PACED", "P CATH": letters, not initials
        if like >= NameLikeness.STRONG or (given_before and like >= NameLikeness.MEDIUM):
            return first, last, 0.7
        if mode == CaseMode.MIXED and initial.is_upper and surname.is_title:
            # "J. Smith" in mixed-case text: capitalised unknown or dictionary surname.
            return first, last, 0.7 if like >= NameLikeness.MEDIUM or in_dict else 0.45
        if like >= NameLikeness.MEDIUM:
            return first, last, 0.45  # left to the tagger, which sees this rule as a feature
        return None


def _pronoun_or_article(token: Token, mode: CaseMode) -> bool:
    """ "I", "a" and lower-case "i." are words, not initials (except "A." with its period)."""
    low = token.lower_
    if low == "i":
        return True
    return low == "a" and not (mode == CaseMode.UPPER and token.text == "A.")


def _extend_hyphenated(doc: Doc, j: int) -> int:
    """ "smith-jones": the last token of a hyphenated surname starting at ``j``."""
    if (
        j + 2 < len(doc)
        and not doc[j].whitespace_
        and doc[j + 1].text == "-"
        and not doc[j + 1].whitespace_
        and doc[j + 2].is_alpha
    ):
        return j + 2
    return j


def _role_after(doc: Doc, last: int) -> bool:
    k = next_word(doc, last, skip=frozenset({",", "-", "/"}))
    if k is None or k - last > 3 or not same_line(doc, last, k):
        return False
    return doc[k].lower_.replace(".", "") in _ROLES_AFTER


def _introduced(doc: Doc, i: int) -> bool:
    k = prev_word(doc, i, skip=frozenset({":"}))
    return k is not None and same_line(doc, k, i) and doc[k].lower_ in _INTRODUCERS


RECOGNIZERS = [InitialNameRecognizer]
