"""Hospitals and other care facilities named before a facility word or after "St.".

``CALVERT HOSPITAL``, ``kernan hosp``, ``franklin square hosp``, ``Holy Cross Hospital``,
``LAUREL REGIONAL``, ``Kessler Adventist``, ``Baltimore Rehab``, ``St. Mary``.
The facility word itself is kept: it is not identifying and keeps the note readable.
"""

from __future__ import annotations

from spacy.tokens import Doc

from deid import lexicon
from deid.recognizers._token_rules import TokenRuleRecognizer, candidates, doc_text, next_word
from deid.wordclass import CaseMode, NameLikeness, lexical_name_likeness

_FACILITY_WORDS = frozenset(
    {
        "hospital",
        "hospitals",
        "hosp",
        "hospiatal",
        "hosptial",
        "rehab",
        "rehabilitation",
        "regional",
        "memorial",
        "adventist",
        "clinic",
        "infirmary",
        "hospice",
        "healthcare",
        "sanitarium",
    }
)
# Words before a facility word that describe rather than name it.
_GENERIC = frozenset(
    {
        "outside",
        "local",
        "another",
        "other",
        "previous",
        "prior",
        "same",
        "community",
        "this",
        "that",
        "osh",
        "home",
        "the",
        "a",
        "an",
        "her",
        "his",
        "their",
        "our",
        "to",
        "from",
        "at",
        "in",
        "acute",
        "chronic",
        "long",
        "term",
        "care",
        "cardiac",
        "pulmonary",
        "inpatient",
        "outpatient",
        "day",
        "state",
        "county",
        "city",
        "university",
        "teaching",
        "private",
        "psychiatric",
        "rehab",
        "medical",
        "nursing",
        "skilled",
        "assisted",
        "living",
        "facility",
        "pain",
        "cancer",
        "heart",
        "children",
        "childrens",
        "womens",
        "veterans",
        "area",
        "transferred",
        "transfer",
        "admitted",
        "seen",
        "went",
        "taken",
        "arrived",
        "sent",
        "surgical",
        "dialysis",
        "imaging",
        "wound",
        "endoscopy",
        "trauma",
        "burn",
        "stroke",
        "sleep",
        "anticoag",
        "coumadin",
        "vascular",
        "renal",
        "transplant",
        "general",
        *_FACILITY_WORDS,
    }
)
_TWO_WORD_FACILITIES = frozenset(
    {
        ("medical", "center"),
        ("med", "center"),
        ("nursing", "home"),
        ("health", "center"),
        ("medical", "centre"),
        ("care", "center"),
    }
)
_SAINTS = frozenset({"st", "st.", "saint", "ste", "ste."})


class FacilityRecognizer(TokenRuleRecognizer):
    """Names of hospitals, rehab centres and similar, found by the words around them."""

    ENTITIES = ("HOSPITAL",)
    NAME = "FacilityRecognizer"

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        triggers = _FACILITY_WORDS | {first for first, _ in _TWO_WORD_FACILITIES} | _SAINTS
        for i in candidates(doc, triggers):
            low = doc[i].lower_
            if (low in _FACILITY_WORDS or _two_word_facility(doc, i)) and i > 0:
                first = self._name_before(doc, i)
                if first is not None:
                    found.append(
                        (first, i - 1 if doc[i - 1].text != "-" else i - 2, "HOSPITAL", 0.7)
                    )
            elif low.rstrip(".") in _SAINTS and (
                low.endswith(".") or doc[i + 1 : i + 2].text == "."
            ):
                # "St. Mary" but not "ST elevation": a period, then a first name.
                j = next_word(doc, i, skip=frozenset({"."}))
                if j is not None and j - i <= 2 and doc[j].lower_ in lexicon.first_names():
                    found.append((i, j, "HOSPITAL", 0.7))
        return found

    @staticmethod
    def _name_before(doc: Doc, i: int) -> int | None:
        """First token of up to three name words directly before the facility word."""
        first = None
        k = i - 1
        if k >= 0 and doc[k].text == "-":  # kessler-adventist
            k -= 1
        taken = 0
        while k >= 0 and taken < 3:
            tok = doc[k]
            if tok.is_space or "\n" in doc_text(doc)[tok.idx : doc[i].idx]:
                break
            low = tok.lower_
            if not tok.is_alpha or low in _GENERIC or tok.is_stop or len(low) < 2:
                break
            # Ordinary words pass only if some place carries them ("Union", "Harbor", "Cross").
            if lexical_name_likeness(low) == NameLikeness.NO and low not in lexicon.place_names():
                break
            first = k
            taken += 1
            k -= 1
        return first


def _two_word_facility(doc: Doc, i: int) -> bool:
    return i + 1 < len(doc) and (doc[i].lower_, doc[i + 1].lower_) in _TWO_WORD_FACILITIES


RECOGNIZERS = [FacilityRecognizer]
