"""Full names without a title: a given name followed by a family name.

``Gerry Masci arrived``, ``LINDSEY CARDARELLI CALLED``, ``Irene Czyzewicz- 204-...``,
``KAREN ANN YANULIS``.  The given name must be a dictionary first name that is not a
common English word; the next word a dictionary family name or a rare word.
"""

from __future__ import annotations

from spacy.tokens import Doc

from deid import entities
from deid.detection import lexicon
from deid.detection.recognizers.context._token_rules import (
    TokenRuleRecognizer,
    candidates,
    same_line,
)
from deid.detection.wordclass import CaseMode, NameLikeness, name_likeness

_MAX_PARTS = 3


class FullNameRecognizer(TokenRuleRecognizer):
    """First name + surname pairs, found from the name dictionaries and word rarity."""

    ENTITIES = (entities.PERSON.name,)
    NAME = "FullNameRecognizer"

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        first_names = lexicon.census_first_names()
        last_names = lexicon.last_names()
        english = lexicon.english_words()
        found: list[tuple[int, int, str, float]] = []
        n = len(doc)
        covered_to = -1
        for i in candidates(doc, first_names):
            tok = doc[i]
            if i <= covered_to or i >= n - 1 or name_likeness(tok, mode) < NameLikeness.STRONG:
                continue
            last = i
            surname_like = False
            k = i + 1
            while k < n and k - i <= _MAX_PARTS and same_line(doc, last, k) and not doc[k].is_space:
                like = name_likeness(doc[k], mode)
                # A surname that is also a common word ("drain", "tan") is not evidence here.
                if like >= NameLikeness.MEDIUM or (
                    doc[k].lower_ in last_names
                    and like >= NameLikeness.WEAK
                    and doc[k].lower_ not in english
                ):
                    last = k
                    surname_like = True
                    k += 1
                    continue
                break
            if last > i and surname_like:
                consistent_case = mode != CaseMode.MIXED or all(
                    doc[m].is_title or doc[m].is_upper for m in range(i, last + 1)
                )
                # Confident only with a dictionary surname too: "tan secretions" (a first name
                # before a clinical word) is left to the tagger, which sees this rule as a feature.
                both_dictionary = any(doc[m].lower_ in last_names for m in range(i + 1, last + 1))
                found.append(
                    (
                        i,
                        last,
                        entities.PERSON.name,
                        0.6 if consistent_case and both_dictionary else 0.45,
                    )
                )
                covered_to = last
        return found


RECOGNIZERS = [FullNameRecognizer]
