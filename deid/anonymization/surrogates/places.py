"""Place surrogates: hospitals, locations and street addresses, token by token.

Generic words ("Hospital", "Medical Center", "Street") are kept, so
"Kernan Hospital" -> "Lucasville Hospital".  Each distinctive word is replaced on its
own by a Faker-made place word keyed on the word alone, so "CALVERT" and "Calvert
Hospital" agree whether the detector called them LOCATION or HOSPITAL.  Short
acronyms ("GH", "MGH") become other letters of the same length and case, states other
states, countries other countries, numbers other numbers of the same length.
"""

from __future__ import annotations

import re
import string

from faker import Faker
from faker.providers.address.en_US import Provider as _AddressProvider

from deid.anonymization.surrogates.casing import match_case, word_set
from deid.anonymization.surrogates.source import Draw

TOKEN_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\d+")

GENERIC_WORDS = word_set(
    # Words that say what kind of place it is, and nothing about which one.  Words that
    # are part of what names a place ("Sacred Heart", "Memorial", "Mount", "North",
    # "Square", "St.") are not here: inside a detected span they are replaced too.
    "hospital hosp hospitals medical med center centre ctr clinic clinics health healthcare "
    "rehab rehabilitation nursing home homes care unit units ward wards floor icu ccu micu sicu "
    "nicu picu csru er ed or pacu emergency dept department institute infirmary services "
    "service system lab laboratory pavilion wing building bldg hospice assisted living "
    "skilled facility rehabilitative acute chronic long term specialty surgical surgery "
    # connectors
    "of the and at in on for "
    # street and unit words
    "street rd road ave avenue blvd boulevard dr drive ln lane way ct court pl place "
    "ter terrace hwy highway pkwy parkway cir circle apt apartment suite "
    "rm room no box po"
)
_STATES = {s.casefold(): s for s in _AddressProvider.states}
_STATE_ABBRS = {s.casefold(): s for s in _AddressProvider.states_abbr}
_COUNTRIES = {c.casefold(): c for c in _AddressProvider.countries}


def place_surrogate(text: str, draw: Draw) -> str:
    """Surrogate for a HOSPITAL or LOCATION span (comma-separated parts handled one by one)."""
    return ",".join(_part_surrogate(part, draw) for part in text.split(","))


def street_address_surrogate(text: str, draw: Draw) -> str:
    """Surrogate for a STREET_ADDRESS span: numbers and street names replaced, suffixes kept."""
    return ",".join(_part_surrogate(part, draw) for part in text.split(","))


def _part_surrogate(part: str, draw: Draw) -> str:
    core = part.strip()
    if not core:
        return part
    lead = part[: len(part) - len(part.lstrip())]
    trail = part[len(part.rstrip()) :]
    key = " ".join(core.casefold().split())
    if key in _STATES:
        return lead + match_case(draw("PLACE/state", key, _state), core) + trail
    if key in _COUNTRIES:
        return lead + match_case(draw("PLACE/country", key, _country), core) + trail
    replaced, changed = _tokens_surrogate(part, draw)
    if changed:
        return replaced
    # Only generic words (e.g. "St"): the value is still PHI, replace it whole.
    return lead + match_case(draw("PLACE/whole", key, _city), core) + trail


def _tokens_surrogate(text: str, draw: Draw) -> tuple[str, bool]:
    out: list[str] = []
    pos = 0
    changed = False
    for m in TOKEN_RE.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        word = m.group()
        new = _word_surrogate(word, draw)
        changed = changed or new != word
        out.append(new)
    out.append(text[pos:])
    return "".join(out), changed


def _word_surrogate(word: str, draw: Draw) -> str:
    low = word.casefold()
    if word.isdigit():
        return draw("PLACE/number", word, lambda fake: _digits(fake, len(word)))
    if low in GENERIC_WORDS:
        return word
    if len(word) == 2 and word.isupper() and low in _STATE_ABBRS:
        return draw("PLACE/state_abbr", low, _state_abbr)
    if _is_acronym(word):
        return match_case(draw("PLACE/acronym", low, lambda fake: _letters(fake, len(word))), word)
    return match_case(draw("PLACE/word", low, _place_word), word)


def _is_acronym(word: str) -> bool:
    return word.isalpha() and (len(word) <= 3 or (word.isupper() and len(word) <= 5))


def _place_word(fake: Faker) -> str:
    # One-word place names ("Lucasville", "Baileyton"), not a real place list.
    return fake.last_name() + fake.city_suffix()


def _city(fake: Faker) -> str:
    return fake.city()


def _state(fake: Faker) -> str:
    return fake.state()


def _state_abbr(fake: Faker) -> str:
    return fake.state_abbr(include_territories=False)


def _country(fake: Faker) -> str:
    return fake.country()


def _letters(fake: Faker, n: int) -> str:
    return "".join(fake.random_element(string.ascii_lowercase) for _ in range(n))


def _digits(fake: Faker, n: int) -> str:
    return "".join(str(fake.random_digit()) for _ in range(n))
