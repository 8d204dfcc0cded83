"""Towns, cities, states and countries named after words that introduce a place.

``lives in catonsville``, ``Sister called from Seattle``, ``vacationing in Daytona Beach``,
``RETURN TO Baltimore``, ``OLD RECORDS FROM ANNAPOLIS, MD``.  A candidate must be a
known place (geonames, via ``deid.detection.lexicon``) or, in mixed-case text, a capitalised rare word.
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

_TRIGGERS = frozenset(
    {
        ("lives", "in"),
        ("living", "in"),
        ("lived", "in"),
        ("resides", "in"),
        ("resident", "of"),
        ("moved", "to"),
        ("moved", "from"),
        ("return", "to"),
        ("returned", "to"),
        ("returning", "to"),
        ("vacationing", "in"),
        ("visiting", "from"),
        ("home", "in"),
        ("native", "of"),
        ("born", "in"),
        ("called", "from"),
        ("flew", "in"),
        ("flying", "in"),
        ("driving", "from"),
        ("drove", "from"),
        ("trip", "to"),
        ("travel", "to"),
        ("traveled", "to"),
        ("travelled", "to"),
        ("coming", "from"),
        ("came", "from"),
        ("lives", "near"),
        ("works", "in"),
        ("family", "in"),
        ("house", "in"),
    }
)


_TRIGGER_FIRST_WORDS = frozenset(first for first, _ in _TRIGGERS)
_PREPOSITIONS = frozenset({"in", "of", "near", "from", "to", "at"})


class PlaceRecognizer(TokenRuleRecognizer):
    """Named places after a place-introducing phrase."""

    ENTITIES = (entities.LOCATION.name,)
    NAME = "PlaceRecognizer"

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        places = lexicon.place_names()
        for i in candidates(doc, _TRIGGER_FIRST_WORDS):
            if i + 2 >= len(doc) or (doc[i].lower_, doc[i + 1].lower_) not in _TRIGGERS:
                continue
            j = i + 2
            while j < len(doc) and doc[j].is_space:
                j += 1
            if (
                j >= len(doc)
                or not same_line(doc, i, j)
                or doc[j].lower_ in ("the", "a", "his", "her")
            ):
                continue
            last = None
            k = j
            while k < len(doc) and k - j < 3 and same_line(doc, j, k) and doc[k].is_alpha:
                low = doc[k].lower_
                capital_rare = (
                    mode == CaseMode.MIXED
                    and doc[k].is_title
                    and name_likeness(doc[k], mode) >= NameLikeness.MEDIUM
                )
                if (low in places and not doc[k].is_stop) or capital_rare:
                    last = k
                    k += 1
                else:
                    break
            if last is not None:
                found.append((j, last, entities.LOCATION.name, 0.7))
        found.extend(self._known_places(doc, mode, places))
        return found

    @staticmethod
    def _known_places(
        doc: Doc, mode: CaseMode, places: frozenset[str]
    ) -> list[tuple[int, int, str, float]]:
        """ "in rockport", "of Reisterstown": a rare known place name after a preposition.

        Weak evidence on its own (scored below the threshold unless capitalised in
        mixed-case text); the tagger sees it as a feature.
        """
        out = []
        for i in candidates(doc, _PREPOSITIONS):
            j = i + 1
            if j >= len(doc) or not doc[j].is_alpha or len(doc[j]) < 4:
                continue
            if doc[j].lower_ in places and name_likeness(doc[j], mode) >= NameLikeness.MEDIUM:
                score = 0.6 if mode == CaseMode.MIXED and doc[j].is_title else 0.45
                out.append((j, j, entities.LOCATION.name, score))
        return out


RECOGNIZERS = [PlaceRecognizer]
