"""Hospitals and other care facilities named before a facility word or after "St.".

``CALVERT HOSPITAL``, ``kernan hosp``, ``franklin square hosp``, ``Holy Cross Hospital``,
``LAUREL REGIONAL``, ``Kessler Adventist``, ``Baltimore Rehab``, ``St. Mary``.
The facility word itself is kept: it is not identifying and keeps the note readable.
"""

from __future__ import annotations

import regex
from spacy.tokens import Doc

from deid import entities
from deid.detection import lexicon
from deid.detection.recognizers.context._token_rules import (
    TokenRuleRecognizer,
    candidates,
    doc_text,
    next_word,
    tokens_starting_at,
)
from deid.detection.wordclass import CaseMode, NameLikeness, lexical_name_likeness

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
        "campus",
        "health",
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
        "children",
        "physical",
        "occupational",
        "vocational",
        "drug",
        "alcohol",
        "substance",
        "spinal",
        "brain",
        "geriatric",
        "pediatric",
        "mental",
        "behavioral",
        "ortho",
        "orthopedic",
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
        "prev",
        "poss",
        "possible",
        "basic",
        "leave",
        "dep",
        "dept",
        "department",
        *_FACILITY_WORDS,
    }
)
# Facility words that also follow ordinary verbs and adjectives ("begin rehab").
_LOOSE_FACILITY_WORDS = frozenset(
    {"rehab", "rehabilitation", "clinic", "hospice", "healthcare", "campus", "health"}
)
_NAME_PART_FACILITY_WORDS = frozenset({"rehab", "regional", "memorial", "adventist", "infirmary"})
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
_UNIVERSITY = frozenset({"u", "univ", "university"})
_MOVES = frozenset(
    {
        "transfer",
        "transferred",
        "transfered",
        "tx",
        "txd",
        "admitted",
        "admit",
        "moved",
        "go",
        "going",
        "return",
        "returned",
        "sent",
        "back",
        "came",
        "arrived",
    }
)


_TRIGGERS = frozenset(
    _FACILITY_WORDS | {first for first, _ in _TWO_WORD_FACILITIES} | _SAINTS | _UNIVERSITY
)
# A word of 4+ letters and a floor number: "Quartermain 2", "quartermain2".  Scanned from
# the number, with the word in a lookbehind: ``\b[A-Za-z]{4,} ?[1-9][0-9]{0,2}\b`` (the
# same matches) was tried at every word of the note, 4x slower.
_WARD_RE = regex.compile(r"(?<=\b(?P<word>[A-Za-z]{4,}) ?)[1-9][0-9]{0,2}\b")


class FacilityRecognizer(TokenRuleRecognizer):
    """Names of hospitals, rehab centres and similar, found by the words around them."""

    ENTITIES = (entities.HOSPITAL.name,)
    NAME = "FacilityRecognizer"
    DROPS_EPONYMS = False  # "U Maryland scale" (a sliding scale) still names the hospital

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        for i in candidates(doc, _TRIGGERS):
            low = doc[i].lower_
            if (low in _FACILITY_WORDS or _two_word_facility(doc, i)) and i > 0:
                first = self._name_before(doc, i)
                if first is None and low in ("hospital", "hosp") and _named_by(doc, i):
                    # "MEMORIAL HOSPITAL", "Adventist Hospital": the qualifier is the name.
                    found.append((i - 1, i - 1, entities.HOSPITAL.name, 0.6))
                if first is not None:
                    # Distinctive parts of a name ("Baltimore Rehab", "Kessler-Adventist") are
                    # kept in the span; "hospital" itself is not identifying and stays.
                    last = i if low in _NAME_PART_FACILITY_WORDS else i - 1
                    if doc[last].text == "-":
                        last -= 1
                    found.append((first, last, entities.HOSPITAL.name, 0.7))
            elif low.rstrip(".") in _SAINTS:
                # "St. Mary", "St Joseph's" but not "ST elevation": a first name follows.
                j = next_word(doc, i, skip=frozenset({"."}))
                saint = doc[j].lower_ if j is not None else ""
                if saint.endswith("s") and saint[:-1] in lexicon.common_first_names():
                    saint = saint[:-1]  # "St Clares", "st annes": a possessive without "'"
                if (
                    j is not None
                    and j - i <= 2
                    and saint in lexicon.census_first_names()
                    and saint not in lexicon.english_words()
                    and saint not in lexicon.medical_terms()
                ):
                    found.append((i, j, entities.HOSPITAL.name, 0.7))
            elif low in _UNIVERSITY:
                # "U Maryland", "Univ of Maryland", "University of Iowa"
                j = next_word(doc, i, skip=frozenset({".", "of"}))
                if j is not None and j - i <= 3 and doc[j].lower_ in lexicon.place_names():
                    found.append((i, j, entities.HOSPITAL.name, 0.65))
        found.extend(self._wards(doc, mode))
        return found

    @staticmethod
    def _wards(doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        """Named wards with a floor number: "transfer to Quartermain 2", "quartermain2".

        Confident after a movement word ("transfer to", "admitted to"); elsewhere weak
        evidence, left to the tagger (which sees this rule as a feature).
        """
        moved_to = set()
        for i in candidates(doc, _MOVES):
            j = next_word(doc, i, skip=frozenset())
            if j is not None and doc[j].lower_ in ("to", "from", "on", "in"):
                j = next_word(doc, j, skip=frozenset())
            if j is not None and j - i <= 2:
                moved_to.add(j)
        out = []
        for k in tokens_starting_at(
            doc, (m.start("word") for m in _WARD_RE.finditer(doc_text(doc)))
        ):
            tok = doc[k]
            word = tok.text.rstrip("0123456789")
            if len(word) < 4 or not word.isalpha():
                continue
            numbered = (
                k + 1 < len(doc) and doc[k + 1].text[:1] in "123456789" and len(doc[k + 1]) <= 3
            )
            if not (numbered or word != tok.text):
                continue
            if lexical_name_likeness(word.lower()) < NameLikeness.MEDIUM:
                continue
            score = 0.6 if k in moved_to else 0.45
            out.append(
                (k, k + 1 if numbered and doc[k + 1].is_digit else k, entities.HOSPITAL.name, score)
            )
        return out

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
            # Before "hospital" even ordinary words name it ("Union", "Sacred Heart");
            # before "rehab" or "clinic" they are usually verbs ("begin rehab"), so there
            # only name-like words or known places count.
            if (
                doc[i].lower_ in _LOOSE_FACILITY_WORDS
                and lexical_name_likeness(low) <= NameLikeness.WEAK
                and (low not in lexicon.place_names() or low in lexicon.english_words())
            ):
                break
            first = k
            taken += 1
            k -= 1
        return first


def _named_by(doc: Doc, i: int) -> bool:
    """The word before "hospital" is a name-part facility word opening its phrase."""
    if i < 1 or doc[i - 1].lower_ not in _NAME_PART_FACILITY_WORDS - {"rehab", "regional"}:
        return False
    before = doc[i - 2].lower_ if i >= 2 else ""
    return before not in ("a", "the", "community", "local", "outside", "another")


def _two_word_facility(doc: Doc, i: int) -> bool:
    return i + 1 < len(doc) and (doc[i].lower_, doc[i + 1].lower_) in _TWO_WORD_FACILITIES


RECOGNIZERS = [FacilityRecognizer]
