"""Names of relatives and contacts introduced by their relation.

``pt's wife Mary``, ``son bill called``, ``DAUGHTER LISA ROSSETTI``, ``dtr suzette``,
``Sister is health care proxy - Marcela Carlson``, ``Nephew, Neil Meitz``.
"""

from __future__ import annotations

from spacy.tokens import Doc

from deid import entities
from deid.detection import lexicon
from deid.detection.recognizers.context._token_rules import (
    TokenRuleRecognizer,
    candidates,
    next_word,
    same_line,
)
from deid.detection.wordclass import CaseMode, NameLikeness, is_name_word, name_likeness

_RELATIONS = frozenset(
    {
        "wife",
        "husband",
        "hsb",
        "spouse",
        "son",
        "sons",
        "daughter",
        "daughters",
        "dtr",
        "dau",
        "sister",
        "sis",
        "brother",
        "bro",
        "mother",
        "mom",
        "father",
        "dad",
        "nephew",
        "niece",
        "grandson",
        "granddaughter",
        "grandchild",
        "cousin",
        "aunt",
        "uncle",
        "fiance",
        "fiancee",
        "partner",
        "boyfriend",
        "girlfriend",
        "friend",
        "neighbor",
        "neighbour",
        "hcp",
        "proxy",
        "guardian",
        "stepson",
        "stepdaughter",
        "sil",
        "dil",
        "bil",
        "mil",
        "fil",
        "inlaw",
        "in-law",
        "companion",
        "caregiver",
        "grandmother",
        "grandfather",
        "grandma",
        "grandpa",
        "law",  # "son-in-law", "daughter-in-law" (spaCy splits the hyphens)
        "stepmother",
        "stepfather",
        "gf",
        "bf",
        "contact",
        "roommate",
    }
)
# Words after which a contact's name often follows ("social: bill called", "spoke with helen").
_CONTACT_WORDS = frozenset(
    {
        "social",
        "soc",
        "caseworker",
        "coordinator",
        "chaplain",
        "visitor",
        "visitors",
        "contacts",
        "with",
        "visited",
        "by",
    }
)
# "patient jacqueline", "Patient Gregorio,": a name, where the word is one on its own.
_PATIENT_WORDS = frozenset({"patient", "pt", "pt."})
# Prepositions that precede names as often as diseases and drugs ("with Barrett's"): only
# a full name after them is confident.
_WEAK_CONTACT_WORDS = frozenset({"with", "by"})
# Given names that are also words that follow a relation word ("son able to", "son in law").
_NOT_NAMES_AFTER_RELATION = frozenset(
    {"able", "sat", "law", "home", "here", "present", "ok", "case", "ceo", "ie", "niece", "nephew"}
)
# Words that may sit between the relation and the name.
_BRIDGES = frozenset({",", ":", "-", "(", "is", "named", "'s", "s"})


_TRIGGERS = _RELATIONS | _CONTACT_WORDS | _PATIENT_WORDS


class RelativeNameRecognizer(TokenRuleRecognizer):
    """A name right after a family/contact relation word."""

    ENTITIES = (entities.PERSON.name,)
    NAME = "RelativeNameRecognizer"

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        for i in candidates(doc, _TRIGGERS):
            j = next_word(doc, i, skip=_BRIDGES)
            if j is None or not same_line(doc, i, j) or j - i > 4:
                continue
            if doc[i].lower_ in _PATIENT_WORDS:
                if not _patient_named(doc, i, j, mode):
                    continue
            elif not self._first_name_like(doc, j, mode, relation=doc[i].lower_ in _RELATIONS):
                continue
            if (
                doc[i].lower_ in _CONTACT_WORDS
                and name_likeness(doc[j], mode) < NameLikeness.STRONG
            ):
                continue  # weaker trigger: only dictionary names
            last = j
            k = j + 1
            if (
                k < len(doc)
                and not doc[j].whitespace_
                and doc[k].text in ("-", "'")
                and k + 1 < len(doc)
            ):
                last = k + 1
                k = last + 1
            if (
                k < len(doc)
                and same_line(doc, last, k)
                and not doc[k].is_space
                and name_likeness(doc[k], mode) >= NameLikeness.MEDIUM
            ):
                last = k
            tok = doc[j]
            # A rare word after "dtr" is usually a name but may be a misspelling
            # ("grandaughter"): without dictionary or case support, the tagger decides.
            confident = (
                name_likeness(tok, mode) >= NameLikeness.STRONG
                or (mode == CaseMode.MIXED and tok.is_title)
                or (doc[i].lower_ in _RELATIONS and tok.lower_ in lexicon.first_names())
            )
            if doc[i].lower_ in _WEAK_CONTACT_WORDS and not (last > j and doc[j].whitespace_):
                confident = False  # "with Barrett's", "with Osgood-Schlatter": a full name only
            found.append((j, last, entities.PERSON.name, 0.75 if confident else 0.45))
        return found

    @staticmethod
    def _first_name_like(doc: Doc, j: int, mode: CaseMode, relation: bool) -> bool:
        tok = doc[j]
        low = tok.lower_
        ambiguous = low in lexicon.ambiguous_words() or low in lexicon.medical_terms()
        if (
            relation
            and (low in lexicon.common_first_names() or not ambiguous)
            and low in lexicon.first_names()
            and is_name_word(low)
            and low not in _RELATIONS
            and low not in _NOT_NAMES_AFTER_RELATION
        ):
            # A relation word decides: "son rob", "daughter pat", "girlfriend EVE", even for
            # names that are common words or medical terms.
            return True
        like = name_likeness(tok, mode)
        if like == NameLikeness.NO:
            return False
        if like >= NameLikeness.MEDIUM:
            return True  # a rare word right after "dtr", "husband": nearly always a name
        return tok.lower_ in lexicon.first_names() or tok.lower_ in lexicon.last_names()


def _patient_named(doc: Doc, i: int, j: int, mode: CaseMode) -> bool:
    """ "Patient Gregorio, 84", "patient jacqueline (51 yo f)": in notes "pt" is followed
    by verbs and abbreviations ("PT TOL PO"), so a name there must be a Census given name
    set off by a pause and followed by an age, or capitalised in mixed-case text."""
    tok = doc[j]
    low = tok.lower_
    if j != i + 1 or low not in lexicon.census_first_names() or low in lexicon.medical_terms():
        return False
    if low in lexicon.english_words() and low not in lexicon.common_first_names():
        return False
    if mode == CaseMode.MIXED and tok.is_title and name_likeness(tok, mode) >= NameLikeness.MEDIUM:
        return True
    k = j + 1
    while k < len(doc) and doc[k].is_alpha and k - j <= 2 and name_likeness(doc[k], mode):
        k += 1  # a surname
    if k < len(doc) and doc[k].text in (",", "("):
        k += 1
        return k < len(doc) and doc[k].text[:1].isdigit()
    return False


RECOGNIZERS = [RelativeNameRecognizer]
