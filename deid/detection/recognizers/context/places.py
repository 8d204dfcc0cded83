"""Towns, cities, states and countries named after words that introduce a place.

``lives in catonsville``, ``Sister called from Seattle``, ``vacationing in Daytona Beach``,
``RETURN TO Baltimore``, ``fly from ROME``, ``FROM MIAMI.``, ``@ Dayton VA``, ``treated at
our Springfield office``.  A candidate is a known place (``deid.lexicons``: US places
down to hamlets, counties, states, countries, foreign cities; multi-word names matched
whole) or, in mixed-case text, a capitalised rare word.  The stronger the phrase, the
less the word itself must show: after "lives in" or "flew from" a place that is also a
medical eponym counts ("miami"); after a bare "from" only an unambiguous place does;
places that are common English words ("reading", "home") need a capital in mixed case.
"""

from __future__ import annotations

import calendar
import re

from spacy.tokens import Doc

from deid import entities
from deid.detection import lexicon
from deid.detection.recognizers.context._token_rules import (
    TokenRuleRecognizer,
    candidates,
    doc_text,
    next_word,
    prev_word,
    same_line,
    tokens_starting_at,
)
from deid.detection.wordclass import CaseMode, NameLikeness, name_likeness
from deid.lexicons import fold, place_key

_TRIGGERS = frozenset(
    {
        ("lives", "in"),
        ("living", "in"),
        ("lived", "in"),
        ("resides", "in"),
        ("resident", "of"),
        ("moved", "to"),
        ("moved", "from"),
        ("move", "to"),
        ("return", "to"),
        ("returned", "to"),
        ("returning", "to"),
        ("vacationing", "in"),
        ("vacation", "in"),
        ("visiting", "from"),
        ("home", "in"),
        ("native", "of"),
        ("born", "in"),
        ("called", "from"),
        ("fly", "from"),
        ("fly", "to"),
        ("flew", "in"),
        ("flew", "from"),
        ("flew", "to"),
        ("flying", "in"),
        ("flying", "from"),
        ("flying", "to"),
        ("flight", "from"),
        ("flight", "to"),
        ("driving", "from"),
        ("drove", "from"),
        ("drive", "from"),
        ("trip", "to"),
        ("travel", "to"),
        ("traveled", "to"),
        ("travelled", "to"),
        ("traveling", "to"),
        ("coming", "from"),
        ("came", "from"),
        ("arrived", "from"),
        ("arrives", "from"),
        ("here", "from"),
        ("lives", "near"),
        ("works", "in"),
        ("family", "in"),
        ("house", "in"),
        ("transferred", "from"),
        ("transfered", "from"),
        ("transfer", "from"),
        ("transported", "from"),
        ("relocated", "to"),
        ("relocated", "from"),
    }
)
_TRIGGER_FIRST_WORDS = frozenset(first for first, _ in _TRIGGERS)
# A bare word that introduces a place: a known, unambiguous place after it is one.
_PREPOSITIONS = frozenset({"in", "of", "near", "from", "to", "at", "@"})
_CONFIDENT_PREPOSITIONS = frozenset({"from", "near", "@"})
# "our Springfield office", "your Dover clinic": a branch named by its town.
_OWNERS = frozenset({"our", "your", "ur", "their", "the", "teh", "a", "any"})
# Owners after which only a known place names the branch ("the Dover office", "a Dover location").
_LOOSE_OWNERS = frozenset({"the", "teh", "a", "any"})
_BRANCHES = frozenset(
    {"office", "offices", "facility", "clinic", "location", "branch", "site", "campus"}
)
_NOT_BRANCH_NAMES = frozenset(
    {
        "main",
        "local",
        "new",
        "old",
        "other",
        "same",
        "downtown",
        "uptown",
        "nearest",
        "closest",
        "home",
        "doctor",
        "doctors",
        "dental",
        "medical",
        "front",
        "back",
        "billing",
        "satellite",
        "primary",
        "care",
        "urgent",
        "walk",
        "eye",
        "skin",
        "lab",
        "x-ray",
        "imaging",
        "physical",
        "therapy",
        "heart",
        "cancer",
        "women",
        "womens",
        "kids",
        "family",
        "pain",
        "sleep",
        "vein",
        "allergy",
        "cardiology",
        "neurology",
        "oncology",
        "pediatric",
        "pediatrics",
        "orthopedic",
        "dermatology",
        "surgery",
        "surgical",
        "specialty",
        "infusion",
        "dialysis",
        "wound",
        "diabetes",
        "weight",
        "loss",
        "fertility",
        "mental",
        "health",
        "behavioral",
        "student",
        "employee",
        "travel",
        "vaccine",
        "flu",
        "covid",
        "testing",
        "rehab",
        "ob",
        "gyn",
        "ent",
        "gi",
        "er",
        "va",
    }
)
# Months, days and holidays that are also towns ("in March", "from Christmas").
_NOT_PLACES = frozenset(
    {
        *(month.lower() for month in calendar.month_name[1:]),
        *(day.lower() for day in calendar.day_name),
        "sept",
        "christmas",
        "easter",
        "thanksgiving",
        "today",
        "tonight",
        "tomorrow",
        "yesterday",
        "morning",
        "evening",
        "afternoon",
        "osh",
    }
)
_MAX_PLACE_WORDS = 4
_TRIGGERS_ALL = _TRIGGER_FIRST_WORDS | _PREPOSITIONS | _BRANCHES
_ZIP = re.compile(r"(?<![\w-])\d{5}(?![\w-])")
# After a medical-eponym place ("from Jackson Pratt drain", "from Foley"), more words follow;
# the place stands alone, closes its clause, or has its state after a comma.
_CLOSERS = frozenset({",", ".", ";", ")", "!", "?", "/"})


class PlaceRecognizer(TokenRuleRecognizer):
    """Named places after a place-introducing phrase or before "office"/"facility"."""

    ENTITIES = (entities.LOCATION.name,)
    NAME = "PlaceRecognizer"

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        strong_at: set[int] = set()
        moving = candidates(doc, _MOVING)
        for i in candidates(doc, _TRIGGERS_ALL):
            low = doc[i].lower_
            if (
                low in _TRIGGER_FIRST_WORDS
                and i + 1 < len(doc)
                and (low, doc[i + 1].lower_) in _TRIGGERS
            ):
                j = next_word(doc, i + 1, skip=frozenset())
                if j is None or j in strong_at or not same_line(doc, i, j):
                    continue
                last = _place(doc, j, mode, strength=2)
                if last is not None:
                    strong_at.add(j)
                    found.append((j, last, entities.LOCATION.name, 0.75))
            if low in _PREPOSITIONS:
                j = next_word(doc, i, skip=frozenset())
                if j is None or j in strong_at or j - i > 2 or not same_line(doc, i, j):
                    continue
                if low == "of":  # "signs of Zika", "history of Marburg": the tagger decides
                    last = _place(doc, j, mode, strength=0)
                    if last is not None:
                        found.append((j, last, entities.LOCATION.name, 0.45))
                    continue
                if moving and any(i - 4 <= m < i and same_line(doc, m, i) for m in moving):
                    # "we just moved to Salem", "lives alone in mecca", "visiting X from Y"
                    last = _place(doc, j, mode, strength=2)
                    if last is not None:
                        strong_at.add(j)
                        found.append((j, last, entities.LOCATION.name, 0.75))
                        continue
                confident = low in _CONFIDENT_PREPOSITIONS
                last = _place(doc, j, mode, strength=1 if confident else 0)
                if last is not None:
                    strong_at.add(j)
                    capital = mode == CaseMode.MIXED and doc[j].is_title
                    score = 0.7 if confident or capital or _well_known(doc, j, last) else 0.45
                    found.append((j, last, entities.LOCATION.name, score))
            if low in _BRANCHES:
                hit = _branch_name(doc, i, mode)
                if hit is not None and hit[0] not in strong_at:
                    strong_at.add(hit[0])
                    found.append((hit[0], hit[1], entities.LOCATION.name, hit[2]))
        for start, end in _cities_before_zips(doc):
            if start not in strong_at:
                strong_at.add(start)
                found.append((start, end, entities.LOCATION.name, 0.7))
        return found


# Verbs of living and moving: a preposition up to three words after one introduces a place.
_MOVING = frozenset(
    {
        "live",
        "lives",
        "lived",
        "living",
        "moved",
        "visiting",
        "visit",
        "drove",
        "drive",
        "driving",
        "flew",
        "fly",
        "flying",
        "born",
        "raised",
        "resides",
        "reside",
        "vacationing",
        "relocated",
        "relocating",
    }
)


def _place(doc: Doc, j: int, mode: CaseMode, strength: int) -> int | None:
    """Last token of the known place starting at ``j``, if the context is strong enough.

    ``strength`` 2: a verb phrase ("lives in") -- places that are medical eponyms count,
    when they close the clause; 1: "from" / "@" -- unambiguous places; 0: "in" / "to"
    -- unambiguous places, or the tagger decides (low score)."""
    tok = doc[j]
    if not tok.is_alpha or tok.is_stop or len(tok) < 3 or tok.lower_ in _NOT_PLACES:
        return None
    if mode == CaseMode.MIXED and tok.is_upper and len(tok) <= 3:
        return None  # "from OSH", "to ED": abbreviations, where places are written "Rome"
    last = _longest_place(doc, j)
    if last is not None and (_is_hospital_name(doc, j) or _facility_after(doc, last)):
        return None  # "from Holy Cross", "from Calvert Hospital": a hospital, not the town
    if last is None:
        capital_rare = (
            strength == 2
            and mode == CaseMode.MIXED
            and tok.is_title
            and name_likeness(tok, mode) >= NameLikeness.MEDIUM
        )
        return j if capital_rare else None
    if _state_or_country(doc, j, last):
        return None  # Safe Harbor keeps states and countries
    if last > j:
        return last  # a multi-word place ("Daytona Beach", "Silver Spring") is specific
    low = _ascii(tok.lower_)
    capital = mode == CaseMode.MIXED and tok.is_title
    large = strength >= 1 and low in lexicon.large_places() and lexicon.zipf(low) < 4.5
    rare_enough = strength == 2 and mode != CaseMode.MIXED and lexicon.zipf(low) < 4.0
    if low in lexicon.english_words() and not (capital or large or rare_enough):
        return None  # "reading", "home", "falls": only capitalised in mixed-case text
    if low in lexicon.medical_terms():
        # "miami", "richmond": eponyms too ("Miami J collar"); a place closes its clause.
        if strength == 2 or (strength == 1 and low in lexicon.large_places()):
            return j if _closes(doc, j) or _clause_goes_on(doc, j) else None
        return None
    return j


_FACILITY_AFTER = frozenset(
    {
        "hospital",
        "hosp",
        "medical",
        "med",
        "clinic",
        "rehab",
        "health",
        "campus",
        "memorial",
        "regional",
        "general",
        "infirmary",
        "healthcare",
        "nursing",
        "center",
    }
)


def _facility_after(doc: Doc, last: int) -> bool:
    k = last + 1
    return k < len(doc) and doc[k].lower_ in _FACILITY_AFTER


def _is_hospital_name(doc: Doc, j: int) -> bool:
    names = lexicon.hospital_name_keys()
    k = j + 1
    while k < len(doc) and k - j < 6 and same_line(doc, j, k) and not doc[k].is_space:
        if place_key(doc_text(doc)[doc[j].idx : doc[k].idx + len(doc[k])]) in names:
            return True
        k += 1
    return False


def _longest_place(doc: Doc, j: int) -> int | None:
    """Last token of the longest known place name (up to four words) starting at ``j``."""
    places = lexicon.place_names()
    prefixes = lexicon.place_prefixes()
    best = j if _ascii(doc[j].lower_) in places else None
    words = [doc[j].lower_]
    k = j
    while k + 1 < len(doc) and len(words) < _MAX_PLACE_WORDS:
        nxt = doc[k + 1]
        if not same_line(doc, k, k + 1) or not (nxt.is_alpha or nxt.text in (".", "-")):
            break
        k += 1
        if not nxt.is_alpha:
            continue
        words.append(nxt.lower_)
        key = place_key(" ".join(words))
        if key in places:
            best = k
        elif key not in prefixes:
            break  # no place name goes on like this
    return best


def _state_or_country(doc: Doc, j: int, last: int) -> bool:
    key = place_key(doc_text(doc)[doc[j].idx : doc[last].idx + len(doc[last])])
    return key in lexicon.us_state_names() or key in lexicon.country_names()


def _clause_goes_on(doc: Doc, j: int) -> bool:
    """ "moved to Salem from ...", "Miami and ...": a preposition or conjunction follows."""
    return j + 1 < len(doc) and doc[j + 1].lower_ in ("from", "to", "and", "in", "for", "with")


def _closes(doc: Doc, j: int) -> bool:
    k = j + 1
    return k >= len(doc) or doc[k].is_space or doc[k].text in _CLOSERS


def _well_known(doc: Doc, j: int, last: int) -> bool:
    """A state, a country or a multi-word place: specific even after a bare "in"."""
    if last > j:
        return True
    low = doc[j].lower_
    return low in lexicon.us_state_names() or low in lexicon.large_places()


def _cities_before_zips(doc: Doc) -> list[tuple[int, int]]:
    """ "..., albany 14073", "..., Silver Spring, MD 20901": a known place after a comma
    and before a ZIP code (or a state code and a ZIP) ends an address."""
    out = []
    for z in tokens_starting_at(doc, (m.start() for m in _ZIP.finditer(doc_text(doc)))):
        k = z - 1
        if k >= 0 and len(doc[k]) == 2 and doc[k].is_alpha and doc[k].is_upper:
            k -= 1  # state code
        if k >= 0 and doc[k].text == ",":
            k -= 1
        # the place's words end at k and start right after a comma
        for start in range(k, max(0, k - _MAX_PLACE_WORDS), -1):
            if doc[start - 1].text == ",":
                if doc[start].is_alpha and _longest_place(doc, start) == k:
                    out.append((start, k))
                break
    return out


def _branch_name(doc: Doc, i: int, mode: CaseMode) -> tuple[int, int, float] | None:
    """ "our Springfield office", "your silver spring clinic": the words before the branch
    word, after "our"/"your" (or a known place after "the")."""
    last = prev_word(doc, i, skip=frozenset())
    if last is None or not same_line(doc, last, i):
        return None
    first = None
    k: int | None = last
    while k is not None and last - k < 3:
        tok = doc[k]
        if tok.lower_ in _OWNERS:
            break
        if not tok.is_alpha or tok.is_stop or tok.lower_ in _NOT_BRANCH_NAMES:
            return None
        first = k
        k = k - 1 if k > 0 else None
    if first is None or k is None or doc[k].lower_ not in _OWNERS:
        return None
    known = _longest_place(doc, first) == last
    if doc[k].lower_ in _LOOSE_OWNERS and not known:
        return None
    return first, last, 0.75 if known else 0.6


def _ascii(word: str) -> str:
    """``word`` with accents dropped ("española" -> "espanola"); most words are ASCII."""
    return word if word.isascii() else fold(word)


RECOGNIZERS = [PlaceRecognizer]
