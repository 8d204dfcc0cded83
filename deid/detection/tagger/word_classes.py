"""What the public lexicons say about a word, as small integer codes for the tagger.

One lower-cased word in, three codes out (packed in one int by :func:`word_class`):

* **coarse**: English frequency (wordfreq Zipf, in half steps) and flags: first name,
  surname, place, medical term, stop word, ambiguous (a lexicon entry that is also a
  common English word), generic hospital word. Combined with context templates.
* **name**: the Census surname rank bucket, the first-name rank bucket and the sex most
  holders of the first name share ("healey": rare surname; "bill": common male first name
  and a surname).
* **place**: US place by population, county, state (name or two-letter code), country,
  foreign city, the kind of generic hospital word ("memorial": qualifier), and whether
  the word is a hospital's short form (an acronym such as "gbmc", or the distinctive part
  of a name).

No list is built from annotated notes: everything comes from ``deid.lexicons`` (Census,
GeoNames, ZIP records, CMS hospitals), wordfreq, spaCy's stop words and the medical
allow-list.
"""

from __future__ import annotations

from functools import cache

from spacy.lang.en.stop_words import STOP_WORDS

from deid import lexicons
from deid.detection import lexicon

# Coarse flags (bits 0-6); the Zipf bucket sits above them.
FIRST_NAME, LAST_NAME, PLACE, MEDICAL, STOP, AMBIGUOUS, HOSPITAL_WORD = 1, 2, 4, 8, 16, 32, 64
COARSE_BITS = 7
NAME_SHIFT, PLACE_SHIFT = 16, 32

_SURNAME_RANKS = (1_000, 10_000, 50_000)  # buckets 1..3; 4 = rarer
_FIRST_RANKS = (500, 5_000, 20_000)
_POPULATIONS = (10_000, 100_000)
_HOSPITAL_KINDS = {"institution": 1, "qualifier": 2, "religious": 3, "direction": 4}


def word_class(word: str) -> int:
    """``coarse | name << 16 | place << 32`` for a lower-cased word."""
    return coarse_class(word) | name_class(word) << NAME_SHIFT | place_class(word) << PLACE_SHIFT


def _bucket(value: int, bounds: tuple[int, ...]) -> int:
    for i, bound in enumerate(bounds):
        if value <= bound:
            return i + 1
    return len(bounds) + 1


def name_class(word: str) -> int:
    """Surname bucket (0-4) * 20 + first-name bucket (0-5) * 3 + sex (0 none, 1 F, 2 M)."""
    if not _letters(word):
        return 0
    surname = lexicons.surname(word)
    first = lexicons.first_name(word)
    s = _bucket(surname.rank, _SURNAME_RANKS) if surname else 0
    if first is not None:
        f = _bucket(first.rank, _FIRST_RANKS)
        sex = {"F": 1, "M": 2}.get(first.sex or "", 0)
    else:
        f = 5 if lexicons.name_key(word) in lexicons.extra_first_names() else 0
        sex = 0
    return s * 20 + f * 3 + sex


def place_class(word: str) -> int:
    """US place (0 none, 1 no population, 2 small, 3 town, 4 city), county, state name,
    state code, country, foreign city, hospital word kind, hospital short form; mixed
    radix so that each combination is one value."""
    if not _letters(word):
        return 0
    key = lexicons.place_key(word)
    code = 0
    places = lexicons.us_places().get(key)
    if places:
        population = max((p.population or 0) for p in places)
        code = 1 if population == 0 else 1 + _bucket(population, _POPULATIONS)
    code = code * 2 + (key in lexicons.us_counties())
    code = code * 2 + (key in lexicons.us_states())
    code = code * 2 + (len(word) == 2 and lexicons.us_state(word) is not None)
    code = code * 2 + (key in lexicons.countries())
    code = code * 2 + (key in lexicons.foreign_cities())
    code = code * 5 + _HOSPITAL_KINDS.get(lexicons.hospital_word_kinds().get(word, ""), 0)
    code = code * 3 + _hospital_form(key)
    return code


def _hospital_form(key: str) -> int:
    """0 no short form; 1 an acronym ("gbmc"); 2 another form ("johns hopkins" parts)."""
    forms = lexicons.hospital_forms().get(key)
    if not forms:
        return 0
    return 1 if any(f.kind.startswith("acronym") for f in forms) else 2


def coarse_class(word: str) -> int:
    """Zipf bucket (half steps) << 7 | flags."""
    flags = 0
    if _letters(word):
        key = lexicons.name_key(word)
        if key in lexicons.first_names() or key in lexicons.extra_first_names():
            flags |= FIRST_NAME
        if key in lexicons.surnames():
            flags |= LAST_NAME
        if _is_place(lexicons.place_key(word)):
            flags |= PLACE
        if word in _hospital_words():
            flags |= HOSPITAL_WORD
        if lexicons.is_ambiguous(word):
            flags |= AMBIGUOUS
    if word in lexicon.medical_terms():
        flags |= MEDICAL
    if word in STOP_WORDS:
        flags |= STOP
    return int(lexicon.zipf(word) * 2) << COARSE_BITS | flags


def _is_place(key: str) -> bool:
    return (
        key in lexicons.us_places()
        or key in lexicons.us_counties()
        or key in lexicons.us_states()
        or key in lexicons.countries()
        or key in lexicons.foreign_cities()
    )


@cache
def _hospital_words() -> frozenset[str]:
    return frozenset(w for w, k in lexicons.hospital_word_kinds().items() if k != "connector")


def _letters(word: str) -> bool:
    """Worth a lexicon lookup: mostly letters (apostrophes, hyphens, periods allowed)."""
    return (
        any(c.isalpha() for c in word)
        and word.replace("'", "").replace("-", "").replace(".", "").isalpha()
    )
