"""Hospitals named by their full or short name, with no facility word after them.

``HOLY CROSS``, ``Johns Hopkins``, ``Mt. Sinai``, ``Cedars-Sinai``, ``St. Luke's``,
``UCSF``, ``transferred to GBMC``.  Names and short forms come from the CMS hospital
list (``deid.lexicons``: 5,381 US hospitals and the forms derived from them by rule),
matched whole at the tokens that can open one (one vectorised lookup per note).  A form
made only of common words ("Good Samaritan", "Holy Cross") counts when written as a name
(capitalised or upper case); in lower-case text it is left to the tagger.  Acronyms need
a place word before them ("at", "from", "to", "@") or a transfer verb; ``UC`` + campus
letters is a university hospital anywhere.
"""

from __future__ import annotations

import re
from functools import cache

from spacy.tokens import Doc

from deid import entities
from deid.detection import lexicon
from deid.detection.recognizers.context._token_rules import (
    TokenRuleRecognizer,
    candidates,
    doc_text,
    prev_word,
    same_line,
)
from deid.detection.wordclass import CaseMode, NameLikeness, is_name_word, name_likeness
from deid.lexicons import fold, place_key

_MAX_TOKENS = 10  # tokens a form of at most five words may span ("St. Luke's-Roosevelt")
_AT = frozenset({"at", "from", "to", "@", "@the"})
# Where a three-letter code after the word names a place rather than a state ("in NSR",
# "to MN"): only "at" and "@" (and transfer verbs), and not in all-capital notes.
_AT_SHORT = frozenset({"at", "@", "@the"})
_MOVES = frozenset(
    {
        "transfer",
        "transferred",
        "transfered",
        "tx",
        "txd",
        "xfer",
        "xferred",
        "admitted",
        "admit",
        "sent",
        "taken",
        "flown",
        "medflighted",
        "transported",
        "brought",
        "went",
        "seen",
        "treated",
        "followed",
        "discharged",
        "go",
        "going",
        "drove",
        "drive",
        "driving",
    }
)
# Units, services and clinical abbreviations that follow "transferred to" / "at".
_NOT_HOSPITAL_CODES = frozenset(
    {
        "icu",
        "ccu",
        "micu",
        "sicu",
        "nicu",
        "picu",
        "cvicu",
        "tsicu",
        "csru",
        "ctic",
        "pacu",
        "ed",
        "er",
        "ew",
        "or",
        "ir",
        "ct",
        "mri",
        "ekg",
        "ecg",
        "echo",
        "cath",
        "osh",
        "snf",
        "ltac",
        "ltach",
        "ltc",
        "rehab",
        "vna",
        "home",
        "va",
        "vamc",
        "floor",
        "unit",
        "cmo",
        "dnr",
        "dni",
        "npo",
        "prn",
        "stat",
        "bid",
        "tid",
        "qid",
        "qd",
        "hs",
        "ac",
        "pc",
        "md",
        "rn",
        "np",
        "pa",
        "pt",
        "ot",
        "rt",
        "slp",
        "gi",
        "gu",
        "ob",
        "gyn",
        "ent",
        "ho",
        "ama",
        "ems",
        "iv",
        "po",
        "im",
        "sq",
        "prbc",
        "ffp",
        "ns",
        "lr",
        "hd",
        "crrt",
        "cvvh",
        "ivc",
        "svc",
        "lad",
        "rca",
        "lcx",
        "cxr",
        "kub",
        "us",
        "am",
        "pm",
        "noon",
        "midnight",
        "tele",
        "step",
        "stepdown",
        "sdu",
        "ccc",
        "ep",
        "bmt",
        "ctu",
        "cmi",
        "mds",
        "tpn",
        "ppn",
        "nsr",
        "sbp",
        "dbp",
        "map",
        "cvp",
        "imv",
        "nc",
        "mn",
        "afib",
        "svt",
        "chb",
        "tlc",
        "cdb",
        "arf",
        "asd",
        "dic",
        "rle",
        "rue",
        "lle",
        "lue",
        "wbc",
        "wbcs",
        "neuro",
        "pcu",
        "btb",
        "nas",
    }
)
# Hospital qualifiers that end a name used without "hospital" ("Quincy General").
_QUALIFIERS = frozenset({"general", "community", "memorial", "regional"})
_FACILITY_NOUNS = frozenset(
    {"hospital", "hosp", "medical", "health", "healthcare", "center", "clinic", "campus"}
)
_UC_CAMPUS = re.compile(r"^UC[A-Z]{1,3}$")


@cache
def _openers() -> frozenset[str]:
    firsts = {f.split(" ", 1)[0] for f in lexicon.hospital_name_keys()}
    # Notes spell "saint" / "mount" many ways; the key spells them out.
    if "saint" in firsts:
        firsts |= {"st", "st.", "ste", "ste."}
    if "mount" in firsts:
        firsts |= {"mt", "mt."}
    return frozenset(firsts)


_SPELLED_OUT = {"st": "saint", "ste": "sainte", "mt": "mount"}


@cache
def _second_words() -> dict[str, frozenset[str]]:
    """First word of a hospital name -> the words that can follow it (a cheap test before
    the full key is built: most openers are ordinary words followed by other words)."""
    table: dict[str, set[str]] = {}
    for key in lexicon.hospital_name_keys():
        first, second = key.split(" ", 2)[:2]
        table.setdefault(first, set()).update(
            {second, second.removesuffix("'s"), second.replace("'", "")}
        )
    return {first: frozenset(words) for first, words in table.items()}


def _may_open(doc: Doc, i: int, seconds: dict[str, frozenset[str]]) -> bool:
    first = _ascii(doc[i].lower_).rstrip(".")
    follow = seconds.get(_SPELLED_OUT.get(first, first))
    if follow is None:
        return False
    k = i + 1
    while k < len(doc) and k - i <= 3 and doc[k].text in (".", "-"):
        k += 1
    if k >= len(doc):
        return False
    word = _ascii(doc[k].lower_)
    return word in follow or word.removesuffix("'s") in follow


class HospitalNameRecognizer(TokenRuleRecognizer):
    """CMS hospital names and short forms, and hospital codes after a place or transfer word."""

    ENTITIES = (entities.HOSPITAL.name,)
    NAME = "HospitalNameRecognizer"
    DROPS_EPONYMS = False  # "U Maryland scale" (a sliding scale) still names the hospital

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = self._forms(doc, mode)
        found.extend(self._codes(doc, mode))
        found.extend(self._qualified(doc, mode))
        return found

    @staticmethod
    def _qualified(doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        """ "transferred from quincy general", "at Laurel Regional": a name and a hospital
        qualifier, with no "hospital" after them, where a place word says it is one."""
        out = []
        for i in candidates(doc, _QUALIFIERS):
            if i + 1 < len(doc) and doc[i + 1].lower_ in _FACILITY_NOUNS:
                continue  # "X General Hospital": FacilityRecognizer's
            first = None
            k = i - 1
            while k >= 0 and i - k <= 2 and same_line(doc, k, i):
                tok = doc[k]
                if not tok.is_alpha or tok.is_stop or tok.lower_ in _AT | _MOVES:
                    break
                low = tok.lower_
                if (
                    not (
                        name_likeness(tok, mode) >= NameLikeness.MEDIUM
                        or low in lexicon.place_names()
                        or is_name_word(low)
                    )
                    or low in lexicon.medical_terms()
                ):
                    break
                first = k
                k -= 1
            if first is not None and _placed(doc, first):
                out.append((first, i, entities.HOSPITAL.name, 0.7))
        return out

    @staticmethod
    def _forms(doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        forms = lexicon.hospital_name_keys()
        prefixes = lexicon.hospital_name_prefixes()
        english = lexicon.english_words()
        out = []
        covered = -1
        seconds = _second_words()
        for i in candidates(doc, _openers()):
            if i <= covered or not _may_open(doc, i, seconds):
                continue
            best = None
            k = i
            while k < len(doc) and k - i < _MAX_TOKENS and same_line(doc, i, k):
                if doc[k].is_space:
                    break
                if k > i and (doc[k].is_alpha or doc[k].lower_ == "'s"):
                    key = place_key(doc_text(doc)[doc[i].idx : doc[k].idx + len(doc[k])])
                    if key in forms:
                        best = k
                    elif key not in prefixes:
                        break  # no hospital name goes on like this
                k += 1
            if best is None:
                continue
            words = [t for t in doc[i : best + 1] if t.is_alpha]
            distinctive = any(
                t.lower_ not in english and lexicon.zipf(t.lower_) < 3.5 and len(t) > 2
                for t in words
            )
            written_as_name = all(t.is_title or t.is_upper for t in words if len(t) > 2)
            if distinctive and (written_as_name or mode != CaseMode.MIXED):
                score = 0.75
            elif written_as_name and mode == CaseMode.MIXED:
                score = 0.7
            elif written_as_name and mode == CaseMode.UPPER:
                score = 0.6
            else:
                score = 0.45  # "holy cross" in lower-case text: the tagger decides
            if _placed(doc, i):
                score = max(score, 0.7)  # "admitted to mount auburn", "at newton-wellesley"
            out.append((i, best, entities.HOSPITAL.name, score))
            covered = best
        return out

    @staticmethod
    def _codes(doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        """ "at UCSF", "transferred to GBMC", "from jhh": a hospital acronym in context."""
        out = []
        acronyms = lexicon.hospital_acronyms()
        for i in candidates(doc, _AT | _MOVES):
            j = i + 1
            while j < len(doc) and (doc[j].is_space and "\n" not in doc[j].text):
                j += 1
            if j < len(doc) and doc[i].lower_ in _MOVES and doc[j].lower_ in ("to", "from", "at"):
                j += 1
                while j < len(doc) and doc[j].is_space and "\n" not in doc[j].text:
                    j += 1
            if j >= len(doc) or j - i > 3:
                continue
            tok = doc[j]
            text, low = tok.text, tok.lower_
            if not tok.is_alpha or not 2 <= len(text) <= 5 or low in _NOT_HOSPITAL_CODES:
                continue
            if low in lexicon.medical_terms() or tok.is_stop or low in lexicon.english_words():
                continue
            if lexicon.zipf(low) >= 3.5 and low not in acronyms:
                continue
            moved = doc[i].lower_ in _MOVES or _moved_before(doc, i)
            caps = text.isupper() and mode != CaseMode.UPPER  # stands out as a code
            if _UC_CAMPUS.match(text.upper()):
                out.append((j, j, entities.HOSPITAL.name, 0.75))
            elif low in acronyms and len(text) >= 4:
                out.append((j, j, entities.HOSPITAL.name, 0.7 if caps or moved else 0.6))
            elif (
                low in acronyms
                and mode != CaseMode.UPPER
                and (doc[i].lower_ in _AT_SHORT or moved)
                and (caps or lexicon.zipf(low) < 2.5)
            ):
                # "at TMH", "at hbh": a three-letter CMS acronym that is not a word
                out.append((j, j, entities.HOSPITAL.name, 0.6))
            elif moved and (text.isupper() or low in acronyms) and len(text) >= 3:
                out.append((j, j, entities.HOSPITAL.name, 0.6 if low in acronyms else 0.5))
        return out


def _placed(doc: Doc, i: int) -> bool:
    """A place or transfer word stands right before token ``i`` (one word may intervene:
    "transferred to the", "admitted to")."""
    k = prev_word(doc, i, skip=frozenset())
    if k is not None and doc[k].lower_ in ("the", "teh"):
        k = prev_word(doc, k, skip=frozenset())
    return k is not None and same_line(doc, k, i) and doc[k].lower_ in _AT | _MOVES


def _moved_before(doc: Doc, i: int) -> bool:
    k = prev_word(doc, i, skip=frozenset())
    return k is not None and doc[k].lower_ in _MOVES


def _ascii(word: str) -> str:
    """``word`` with accents dropped ("española" -> "espanola"); most words are ASCII."""
    return word if word.isascii() else fold(word)


RECOGNIZERS = [HospitalNameRecognizer]
