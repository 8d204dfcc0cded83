"""Word lists the detector consults, all from maintained public sources (none hand-typed,
none derived from annotated corpora):

* person names: Census 2010 surnames (162k) and Census 2020 first names (54k) plus
  philter-lite's rare given names, vendored in ``deid.lexicons``;
* places: US places incl. small ones (GeoNames cities500 + ZIP place names), US counties
  and states, countries, foreign cities over 15k people (``deid.lexicons``);
* hospitals: CMS hospital names and their short forms ("St. Luke's", "Johns Hopkins",
  acronyms), ``deid.lexicons``;
* the *ambiguous* class: lexicon entries that are also common English words or medical
  terms ("white", "hope", "lou", "miami"): weak evidence that context must raise;
* English word frequency: wordfreq's "best" English list (Zipf scale, 0-8);
* medical vocabulary that collides with names or places (eponyms, drugs, abbreviations):
  ``deid/detection/data/medical_terms.txt``, an allow-list curated for this purpose.

Every list is built on first use and kept for the process (about 2 s in all).
Site-specific lists (a hospital's staff directory, ward names) come from user config,
never from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

from deid import lexicons
from deid.lexicons import FirstName, Surname

# Words of multi-word place names ("Daytona Beach", "White Marsh") count as place words
# only when rarer than this (Zipf): "daytona" does, "beach" and "white" do not.
_PLACE_WORD_MAX_ZIPF = 3.0
# Hospital short forms are matched over at most this many words.
MAX_HOSPITAL_FORM_WORDS = 5


@cache
def first_names() -> frozenset[str]:
    """Lower-cased given names: Census 2020 first names and rare given names."""
    return frozenset(lexicons.first_names()) | lexicons.extra_first_names()


@cache
def last_names() -> frozenset[str]:
    """Lower-cased family names: Census 2010 surnames (100+ holders)."""
    return frozenset(lexicons.surnames())


# A given name this many people hold is a name after a relation word even when it is also
# a common word ("pat", "rob", "eve"); rarer ones that are words ("said", "case") are not.
_COMMON_FIRST_NAME_HOLDERS = 10_000


@cache
def common_first_names() -> frozenset[str]:
    """Census 2020 first names held by at least 10,000 people ("pat", "lou", "grace")."""
    names = lexicons.first_names()
    return frozenset(k for k in names if names[k].people >= _COMMON_FIRST_NAME_HOLDERS)


@cache
def census_first_names() -> frozenset[str]:
    """Census 2020 first names only (no rare-name list): for rules that start from a
    given name and cannot afford philter's noisier entries ("tol", "bair")."""
    return frozenset(lexicons.first_names())


@cache
def person_names() -> frozenset[str]:
    """Every given or family name (lower-case), ambiguous ones included."""
    return first_names() | last_names()


# A name this many people hold is a name even when it is also a common word ("lee", "white").
_POPULAR_NAME_HOLDERS = 20_000


@cache
def popular_names() -> frozenset[str]:
    """Given and family names held by at least 20,000 people in the US Census
    ("lee", "white", "mark"), unlike rare names that are common words ("pain")."""
    return frozenset(
        [n for n, r in _items(lexicons.surnames()) if r >= _POPULAR_NAME_HOLDERS]
        + [n for n, r in _items(lexicons.first_names()) if r >= _POPULAR_NAME_HOLDERS]
    )


def _items(records: Mapping[str, Surname | FirstName]) -> list[tuple[str, int]]:
    return [(key, records[key].people) for key in records]


@cache
def ambiguous_words() -> frozenset[str]:
    """Lexicon entries that are also common English words or medical terms: they need
    context ("white", "hope", "pat", "lou", "miami", "jackson")."""
    return frozenset(lexicons.ambiguous())


@cache
def english_words() -> frozenset[str]:
    """Ambiguous lexicon entries that are common English words ("home", "reading"), as
    opposed to those only on the medical allow-list ("miami", "foley")."""
    return frozenset(w for w, a in lexicons.ambiguous().items() if "english" in a.reasons)


@cache
def place_names() -> frozenset[str]:
    """Lower-cased place names (US places, counties, states, countries, foreign cities),
    whole (``"daytona beach"``) and the rare words of multi-word names (``"daytona"``)."""
    names: set[str] = set(lexicons.us_places())
    names |= set(lexicons.foreign_cities())
    names |= {c.base for counties in lexicons.us_counties().values() for c in counties}
    names |= {lexicons.place_key(s.name) for s in lexicons.us_states().values()}
    names |= {lexicons.place_key(c.name) for c in lexicons.countries().values()}
    words = {
        w
        for n in names
        if " " in n
        for w in n.split()
        if len(w) > 2 and w.isalpha() and zipf(w) < _PLACE_WORD_MAX_ZIPF
    }
    return frozenset(names | words)


# A city this large is known by name: "FROM MIAMI." names the city even though "Miami"
# is also on the medical allow-list ("Miami J collar").
_LARGE_PLACE_POPULATION = 100_000


@cache
def large_places() -> frozenset[str]:
    """Keys of US places and foreign cities of at least 100,000 people, US states and
    countries ("miami", "richmond", "rome", "ohio")."""
    big = {
        key
        for key, places in lexicons.us_places().items()
        if any((p.population or 0) >= _LARGE_PLACE_POPULATION for p in places)
    }
    big |= {
        key
        for key, cities in lexicons.foreign_cities().items()
        if any(c.population >= _LARGE_PLACE_POPULATION for c in cities)
    }
    return frozenset(
        big | us_state_names() | {lexicons.place_key(c.name) for c in lexicons.countries().values()}
    )


@cache
def place_prefixes() -> frozenset[str]:
    """Every leading run of words of a multi-word place name ("silver" for "silver
    spring"): lets a matcher stop as soon as no known place can continue."""
    return _prefixes(n for n in place_names() if " " in n)


def _prefixes(keys: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for key in keys:
        words = key.split()
        out.update(" ".join(words[:n]) for n in range(1, len(words)))
    return frozenset(out)


@cache
def country_names() -> frozenset[str]:
    """Keys of country names ("france", "united kingdom")."""
    return frozenset(lexicons.place_key(c.name) for c in lexicons.countries().values())


@cache
def us_state_names() -> frozenset[str]:
    """Lower-cased US state names ("maryland", "new york")."""
    return frozenset(lexicons.place_key(s.name) for s in lexicons.us_states().values())


@cache
def hospital_forms() -> frozenset[tuple[str, ...]]:
    """Hospital names and short forms as word tuples (``("johns", "hopkins")``,
    ``("saint", "luke's")``), two to ``MAX_HOSPITAL_FORM_WORDS`` words; acronyms apart."""
    forms: set[tuple[str, ...]] = set()
    for key in lexicons.hospitals_by_name():
        words = tuple(key.split())
        if 2 <= len(words) <= MAX_HOSPITAL_FORM_WORDS:
            forms.add(words)
    return frozenset(forms)


_GENERIC_HOSPITAL_WORD_KINDS = frozenset({"institution", "qualifier", "direction", "connector"})


@cache
def hospital_name_keys() -> frozenset[str]:
    """Keys (``place_key``) of CMS names and short forms of two or more words that hold a
    word which is not generic: "johns hopkins", "holy cross", "university of maryland"
    (not "university medical").  A leading "the" is dropped."""
    generic = {
        w
        for w, kind in lexicons.hospital_word_kinds().items()
        if kind in _GENERIC_HOSPITAL_WORD_KINDS
    }
    out = set()
    for words in hospital_forms():
        if words[0] == "the":
            words = words[1:]
        if len(words) >= 2 and any(w not in generic for w in words):
            out.add(" ".join(words))
    return frozenset(out)


@cache
def hospital_name_prefixes() -> frozenset[str]:
    """Leading runs of words of ``hospital_name_keys`` (see ``place_prefixes``)."""
    return _prefixes(hospital_name_keys())


@cache
def hospital_acronyms() -> frozenset[str]:
    """Lower-cased acronyms of CMS hospital names ("gbmc", "ucla")."""
    return frozenset(
        lexicons.place_key(f.form)
        for forms in lexicons.hospital_forms().values()
        for f in forms
        if f.kind in ("acronym", "acronym_in_name")
    )


@cache
def medical_terms() -> frozenset[str]:
    """Medical words that look like names or places but are not PHI (lower-case)."""
    text = (
        resources.files("deid.detection.data")
        .joinpath("medical_terms.txt")
        .read_text(encoding="utf-8")
    )
    terms = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            terms.add(line)
    return frozenset(terms)


@cache
def _english_frequencies() -> dict[str, float]:
    import wordfreq

    return wordfreq.get_frequency_dict("en", wordlist="best")


def zipf(word: str) -> float:
    """Zipf frequency of a lower-cased English word (0 for unknown, ~7.7 for 'the')."""
    f = _english_frequencies().get(word, 0.0)
    return round(math.log10(f) + 9, 2) if f > 0 else 0.0
