"""Place surrogates from real gazetteers: cities, counties, hospitals, units, addresses.

What a span holds is read from its text with the vendored lexicons (``deid.lexicons``),
not from the detector's label alone, so "Calvert" gets the same surrogate whether it
was called a LOCATION or part of a HOSPITAL:

* a US city -> a real US city of similar population in the same state ("Baltimore, MD"
  -> "<a city in MD>, MD"; a city alone stays in its most populous namesake's state);
  a county -> a county of that state; a foreign city -> a real city of that country of
  similar size; a state or country named beside a city is kept (Safe Harbor allows it);
* a hospital -> the same frame with real parts: generic words ("Memorial", "Medical
  Center"), "St."/"Saint"/"Mt." spellings, numbers' lengths and case are kept; a saint
  becomes another given name, a distinctive word another real place or name, an
  acronym a real hospital acronym of the same length that is no common word or
  medical abbreviation; a ward or unit with nothing distinctive a plausible unit name;
* a street address -> a number of the same digit count on a real street-name word, and
  the city, state and ZIP of one real ZIP record when the original names them;
* a word that is no place: a given name stays a given name, a surname a surname (the
  most probable type), anything else a small real US town -- never an invented one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from functools import cache
from random import Random

from deid import lexicons
from deid.anonymization.surrogates._lookup import (
    fast_place_key,
    foreign_best,
    given,
    state_code,
    surname_people,
    us_best,
)
from deid.anonymization.surrogates.casing import match_case
from deid.anonymization.surrogates.names import (
    first_name_surrogate,
    name_role,
    person_surrogate,
    surname_surrogate,
)
from deid.anonymization.surrogates.source import Draw
from deid.anonymization.surrogates.vocabulary import (
    DIRECTIONS,
    MEDICAL_ABBREVIATIONS,
    STREET_NAMES,
    STREET_WORDS,
    UNIT_NAMES,
    UNIT_WORDS,
)
from deid.lexicons._tables import WeightedDraw
from deid.lexicons.hospital_names import TITLE_SPELLINGS

TOKEN_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\d+")
_SAINTS = frozenset({"st", "saint", "ste", "sainte"})
_MOUNTS = frozenset({"mt", "mount", "ft", "fort"})
_COUNTY_WORDS = frozenset({"county", "parish", "borough", "co"})
_ZIP_RE = re.compile(r"\d{5}(?:-\d{4})?")
_SMALL_TOWN = 3_000
"""Population near which a word that is no known place gets its real-town surrogate."""
_KEPT_KINDS = frozenset({"institution", "qualifier", "connector", "direction"})

# Kept for callers of the old module: words that say what kind of place it is.
GENERIC_WORDS = UNIT_WORDS | STREET_WORDS


def place_surrogate(text: str, draw: Draw) -> str:
    """Surrogate for a LOCATION span (a hospital-looking one is handled as a hospital)."""
    if _looks_like_hospital(text):
        return hospital_surrogate(text, draw)
    if _looks_like_address(text):
        return street_address_surrogate(text, draw)
    return _location(text, draw)


def hospital_surrogate(text: str, draw: Draw) -> str:
    """Surrogate for a HOSPITAL span: its frame kept, its distinctive parts replaced."""
    words = [m for m in TOKEN_RE.finditer(text)]
    if not any(_is_distinctive(m.group(), words, i) for i, m in enumerate(words)):
        units = all(m.group().casefold() in UNIT_WORDS or m.group().isdigit() for m in words)
        if not units and (len(words) == 1 or all(_kind(m.group()) is None for m in words)):
            whole = _location(text, draw)  # a bare city or name inside a facility label
            if whole != text:
                return whole
        return _unit_or_generic(text, words, draw)
    out: list[str] = []
    pos = 0
    for i, m in enumerate(words):
        out.append(text[pos : m.start()])
        pos = m.end()
        word = m.group()
        if word.isdigit():
            out.append(_number(word, draw))  # "Ellison 11": the floor changes too
        elif not _is_distinctive(word, words, i):
            out.append(word)
        elif i > 0 and words[i - 1].group().casefold() in _SAINTS:
            out.append(_saint(word, draw))
        else:
            out.append(_word(word, draw))
    out.append(text[pos:])
    return "".join(out)


def street_address_surrogate(text: str, draw: Draw) -> str:
    """Surrogate for a STREET_ADDRESS span: street number and name, then city/state/ZIP."""
    parts = text.split(",")
    state_idx = next((i for i, p in enumerate(parts) if i and _state_and_zip(p) is not None), None)
    record = None
    if state_idx is not None or any(_ZIP_RE.search(p) for p in parts[1:]):
        named = _state_and_zip(parts[state_idx]) if state_idx is not None else None
        tail_key = fast_place_key(",".join(parts[1:]))
        code = named[0] if named else ""
        zip_code = draw.pick(f"ADDRESS/zip/{code}", tail_key, lambda f: _zip_in(f, code))
        record = lexicons.zip_codes()[zip_code]
    out = [_street(parts[0], draw)]
    for i, part in enumerate(parts[1:], start=1):
        if not part.strip() or (i == state_idx and record is None):
            out.append(part)
        elif record is not None and (i == state_idx or _ZIP_RE.search(part)):
            out.append(_zip_part(part, record, draw))
        elif record is not None:
            lead = part[: len(part) - len(part.lstrip())]
            out.append(lead + match_case(record.city.title(), part.strip()))
        elif _starts_with_street_word(part):
            out.append(_street(part, draw))  # "Apt 4", "Suite 200"
        else:
            out.append(_location(part, draw))
    return ",".join(out)


def _starts_with_street_word(part: str) -> bool:
    first = TOKEN_RE.search(part)
    return first is not None and first.group().casefold() in STREET_WORDS


# ---------------------------------------------------------------- locations


def _location(text: str, draw: Draw) -> str:
    """A city, county, state, country or foreign city (comma-separated parts)."""
    if "," not in text:
        return _place_part(text, draw, None)
    parts = text.split(",")
    named_parts = [_state_and_zip(p) if i else None for i, p in enumerate(parts)]
    named = next((n[0] for n in named_parts if n is not None), None)
    record = None
    if any(n is not None and n[1] for n in named_parts):  # "San Diego, CA 92101"
        key = fast_place_key(text)
        zip_code = draw.pick(f"ADDRESS/zip/{named}", key, lambda rng: _zip_in(rng, named or ""))
        record = lexicons.zip_codes()[zip_code]
    out = []
    for i, (part, state) in enumerate(zip(parts, named_parts, strict=True)):
        if state is not None:  # a state beside a city: Safe Harbor allows it
            out.append(_zip_part(part, record, draw) if record is not None else part)
        elif record is not None and i == 0 and part.strip():
            lead = part[: len(part) - len(part.lstrip())]
            out.append(lead + match_case(record.city.title(), part.strip()))
        else:
            out.append(_place_part(part, draw, named))
    return ",".join(out)


def _place_part(part: str, draw: Draw, state: str | None) -> str:
    core = part.strip()
    if not core:
        return part
    lead, trail = part[: len(part) - len(part.lstrip())], part[len(part.rstrip()) :]
    return lead + _place(core, draw, state) + trail


def _place(core: str, draw: Draw, state: str | None) -> str:
    if core.isdigit():
        return _number(core, draw)
    key = fast_place_key(core)
    words = key.split()
    if words and words[-1] in _COUNTY_WORDS and len(words) > 1:
        return match_case(_county(" ".join(words[:-1]), draw, state), core)
    country = key in lexicons.countries()
    if country or state_code(key) is not None:
        kind = "country" if country else "state"
        return match_case(draw.pick(f"PLACE/{kind}", key, _COUNTRY_OR_STATE[kind]), core)
    us = us_best(key, state)
    if _reads_as_person(core) and (us is None or not us[0]):
        return person_surrogate(core, draw)
    foreign = foreign_best(key) if state is None else None
    given_name = len(words) == 1 and name_role(core) == "first"
    if foreign is not None and not given_name and foreign[0] > (us[0] if us else 0):
        new = draw.pick(f"PLACE/foreign/{foreign[1]}", key, _foreign_maker(*foreign))
        return match_case(new, core)
    acronym = _is_acronym(core)
    if state is not None and not acronym:
        return match_case(_city(key, state, us[0] if us else None, draw), core)
    if us is not None and len(words) > 1:
        return match_case(_city(key, us[1], us[0], draw), core)
    if len(words) == 1 and " " not in core and not acronym:
        return _word(core, draw)
    if acronym:
        return _acronym(core, draw)
    return match_case(_city(key, None, None, draw), core)


_CITY_TRIES = 8
_COMMON_NAME = 2_000
"""People holding a given name for it to count as a saint's name."""


def _city(key: str, state: str | None, population: int | None, draw: Draw) -> str:
    """A real US city near ``population`` in ``state``, of no more words than ``key``."""
    near = population or _SMALL_TOWN
    max_words = max(1, len(key.split()))

    def make(rng: Random) -> str:
        sample = _city_sampler(near, state)
        name = ""
        for _ in range(_CITY_TRIES):
            name = sample(rng)
            if len(name.split()) <= max_words and name.replace(" ", "").isalpha():
                break
        return name

    return draw.pick(f"PLACE/city/{state or ''}", key, make)


def _city_sampler(near: int, state: str | None) -> Callable[[Random], str]:
    try:
        return lexicons.us_city_name_sampler(population_near=near, state=state)
    except ValueError:  # a state or territory without a GeoNames place ("DC", "GU")
        return lexicons.us_city_name_sampler(population_near=near)


def _county(base: str, draw: Draw, state: str | None) -> str:
    """Another county's full name ("Howard County"), in ``state`` or the original's."""
    found = lexicons.us_counties().get(base, ())
    if state is None and found:
        state = found[0].state

    def make(rng: Random) -> str:
        try:
            return lexicons.sample_us_county(rng, state=state).name
        except ValueError:  # no county in that state or territory
            return lexicons.sample_us_county(rng).name

    return draw.pick(f"PLACE/county/{state or ''}", base, make)


def _foreign_maker(population: int, country: str) -> Callable[[Random], str]:
    def make(rng: Random) -> str:
        for _ in range(_CITY_TRIES):  # "Zürich (Kreis 11)" is a district, not a city name
            name = lexicons.sample_foreign_city(rng, population_near=population, country=country)
            if all(c.isalpha() or c in " -'" for c in name.name):
                return name.name
        return lexicons.sample_foreign_city(rng, population_near=population).name

    return make


def _country(rng: Random) -> str:
    names = _country_names()
    return names[int(rng.random() * len(names))]


def _state(rng: Random) -> str:
    states = list(lexicons.us_states().values())
    return states[int(rng.random() * len(states))].name


_COUNTRY_OR_STATE = {"country": _country, "state": _state}


@cache
def _country_names() -> tuple[str, ...]:
    return tuple(sorted(c.name for c in lexicons.countries().values() if c.population >= 1_000_000))


def _reads_as_person(text: str) -> bool:
    """Two or three words, a clear given name first and a surname last ("Thomas Green")."""
    words = text.split()
    if not 2 <= len(words) <= 3:
        return False
    first = given(words[0])
    return (
        first is not None
        and first[1] is not None
        and first[0] >= _COMMON_NAME
        and surname_people(words[-1]) > 0
    )


# ---------------------------------------------------------------- words


def _word(word: str, draw: Draw) -> str:
    """A distinctive word of a place: a real place, given name or surname like it (a
    known place first, so "Calvert" agrees alone and in "Calvert Hospital")."""
    for poss in ("'s", "\u2019s"):
        if word.casefold().endswith(poss) and len(word) > len(poss) + 1:
            return _word(word[: -len(poss)], draw) + word[-len(poss) :]
    key = fast_place_key(word)
    if _is_acronym(word):
        return _acronym(word, draw)
    if len(word) == 1 and word.isalpha():
        new = draw.pick("PLACE/letter", word.casefold(), _letter)
        return new.upper() if word.isupper() else new
    kind = _kind(word)
    if kind in ("religious", "qualifier", "direction"):
        return match_case(draw.pick(f"PLACE/{kind}", key, _vocab_maker(kind)), word)
    us = us_best(key)
    if us is not None:
        return match_case(_city(key, us[1], us[0], draw), word)
    if name_role(word) == "first":
        return first_name_surrogate(word, draw)
    if surname_people(word):
        return surname_surrogate(word, draw)
    return match_case(_city(key, None, None, draw), word)


def _saint(word: str, draw: Draw) -> str:
    """The saint of "St. Mary's": a saint real hospitals are named for, possessive kept."""
    suffix = ""
    for poss in ("'s", "\u2019s", "s"):
        if word.casefold().endswith(poss) and len(word) > len(poss) + 1:
            stem = word[: -len(poss)]
            if poss != "s" or given(stem) is not None:
                word, suffix = stem, word[-len(poss) :]
                break
    saint = draw.pick("PLACE/saint", lexicons.name_key(word), _saint_name)
    return match_case(saint, word) + suffix


@cache
def _saints() -> tuple[list[str], WeightedDraw]:
    """Saints of CMS hospital names ("St. Luke's" -> "Luke"), weighted by hospitals."""
    counts: dict[str, int] = {}
    forms = lexicons.hospital_forms()
    for key in forms:
        for form in forms[key]:
            words = form.form.replace("\u2019", "'").split()
            if form.kind == "saint" and len(words) == 2 and words[0] in ("St.", "Saint"):
                name = _saint_stem(words[1])
                record = lexicons.first_name(name) if name.istitle() else None
                if record is not None and record.people >= _COMMON_NAME:
                    counts[name] = counts.get(name, 0) + 1
    names = sorted(counts)
    return names, WeightedDraw(range(len(names)), [counts[n] for n in names])


def _saint_stem(word: str) -> str:
    """ "Luke's" -> "Luke"; "Agne's" (an apostrophe restored by rule) -> "Agnes"."""
    stem = word.removesuffix("'s")
    if stem == word:
        return word
    one, other = lexicons.first_name(stem), lexicons.first_name(stem + "s")
    if other is not None and (one is None or other.people > one.people):
        return stem + "s"
    return stem if one is not None else ""


def _saint_name(rng: Random) -> str:
    names, weights = _saints()
    return names[weights.draw(rng)]


def _is_acronym(word: str) -> bool:
    """A word of 2-6 letters that is no known place or name: upper-case ("GH", "UCSF"),
    or of 2-3 letters in any case ("gh" is "GH" written fast)."""
    if not (word.isalpha() and 2 <= len(word) <= 6):
        return False
    if not word.isupper() and (len(word) > 3 or not (word.islower() or word.isupper())):
        return False
    key = word.casefold()
    if us_best(key) is not None or lexicons.is_ambiguous(key):
        return False
    if len(word) > 3 and surname_people(word):
        return False
    if len(word) <= 3 and not word.isupper() and (given(word) or surname_people(word)):
        return False
    return len(word) <= 4 or sum(c in "AEIOU" for c in word) <= 1


def _acronym(word: str, draw: Draw) -> str:
    """A real hospital acronym of the same length: no common word, no medical abbreviation."""
    n = len(word)

    def make(rng: Random) -> str:
        pool = _acronyms(n)
        if not pool:
            return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))
        return pool[int(rng.random() * len(pool))]

    new = draw.pick(f"PLACE/acronym/{n}", word.casefold(), make)
    return new if word.isupper() else match_case(new, word)


@cache
def _acronyms(n: int) -> tuple[str, ...]:
    forms = lexicons.hospital_forms()
    out = set()
    for key in forms:
        for form in forms[key]:
            text = form.form
            if (
                form.kind in ("acronym", "acronym_in_name")
                and len(text) == n
                and text.isalpha()
                and text.isupper()
                and text.casefold() not in MEDICAL_ABBREVIATIONS
                and not lexicons.is_ambiguous(text)
                and lexicons.first_name(text) is None
                and lexicons.surname(text) is None
                and text.casefold() not in lexicons.us_places()
                and lexicons.us_state(text) is None
            ):
                out.add(text)
    return tuple(sorted(out))


# ---------------------------------------------------------------- hospitals and units


def _kind(word: str) -> str | None:
    """Kind of a generic word of hospital names (institution, qualifier, ...), or None."""
    low = word.casefold().replace("\u2019", "'")
    if low in _SAINTS or low in _MOUNTS:
        return "religious" if low in _SAINTS else "direction"
    return lexicons.hospital_word_kinds().get(low)


def _is_distinctive(word: str, words: list[re.Match[str]], i: int) -> bool:
    if word.isdigit():
        return False
    low = word.casefold()
    if low in UNIT_WORDS:
        return False
    kind = _kind(word)
    if kind is None:
        return True
    if low in _SAINTS or low in _MOUNTS:
        return i == len(words) - 1  # "St." followed by nothing is no title
    return False


def _unit_or_generic(text: str, words: list[re.Match[str]], draw: Draw) -> str:
    """A span of generic words only ("MICU", "Memorial", "7 North"): numbers get other
    numbers; else the qualifiers change; else the whole becomes a plausible unit name."""
    if any(m.group().isdigit() for m in words):
        out, pos = [], 0
        for m in words:
            out.append(text[pos : m.start()])
            pos = m.end()
            w = m.group()
            out.append(_number(w, draw) if w.isdigit() else w)
        out.append(text[pos:])
        return "".join(out)
    changed, out, pos = False, [], 0
    for m in words:
        out.append(text[pos : m.start()])
        pos = m.end()
        w = m.group()
        kind = _kind(w)
        if not changed and kind in ("religious", "qualifier") and w.casefold() not in _SAINTS:
            out.append(match_case(draw.pick(f"PLACE/{kind}", w.casefold(), _vocab_maker(kind)), w))
            changed = True
        else:
            out.append(w)
    out.append(text[pos:])
    if changed:
        return "".join(out)
    core = text.strip()
    make = _unit_acronym if core.isupper() and " " not in core else _unit_name
    new = draw.pick("PLACE/unit", " ".join(core.casefold().split()), make)
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return lead + (new if core.isupper() or new.isupper() else match_case(new, core)) + trail


_UNIT_ACRONYMS = tuple(n for n in UNIT_NAMES if n.isupper() and " " not in n)
_UNIT_WORDED = tuple(n for n in UNIT_NAMES if n not in _UNIT_ACRONYMS)


def _unit_name(rng: Random) -> str:
    return _UNIT_WORDED[int(rng.random() * len(_UNIT_WORDED))]


def _unit_acronym(rng: Random) -> str:
    return _UNIT_ACRONYMS[int(rng.random() * len(_UNIT_ACRONYMS))]


@cache
def _vocabulary(kind: str) -> tuple[list[str], WeightedDraw]:
    """Generic hospital words of ``kind``, weighted by how many hospital names hold them."""
    table = lexicons.hospital_words()
    words = sorted(
        w
        for w in table
        if table[w].kind == kind and w.isalpha() and len(w) > 2 and w not in _PLACE_QUALIFIERS
    )
    return words, WeightedDraw(range(len(words)), [table[w].hospitals for w in words])


def _vocab_maker(kind: str) -> Callable[[Random], str]:
    def make(rng: Random) -> str:
        words, weights = _vocabulary(kind)
        return words[weights.draw(rng)].capitalize()

    return make


def _letter(rng: Random) -> str:
    return rng.choice(string.ascii_lowercase)


_PLACE_QUALIFIERS = frozenset({"county", "city", "state", "district", "area", "municipal"})


def _looks_like_hospital(text: str) -> bool:
    """Holds a word that names a kind of facility ("Hospital", "Rehab", "Memorial")."""
    kinds = lexicons.hospital_word_kinds()
    words = [m.group().casefold() for m in TOKEN_RE.finditer(text)]
    return len(words) > 1 and any(
        kinds.get(w) == "institution"
        or (kinds.get(w) == "qualifier" and w not in _PLACE_QUALIFIERS)
        for w in words
    )


def _looks_like_address(text: str) -> bool:
    words = [m.group() for m in TOKEN_RE.finditer(text)]
    return (
        len(words) >= 3
        and words[0].isdigit()
        and any(w.casefold() in STREET_WORDS for w in words[1:])
    )


# ---------------------------------------------------------------- addresses


def _street(part: str, draw: Draw) -> str:
    out, pos = [], 0
    for m in TOKEN_RE.finditer(part):
        out.append(part[pos : m.start()])
        pos = m.end()
        w = m.group()
        low = w.casefold()
        if w.isdigit():
            out.append(_number(w, draw))
        elif low in STREET_WORDS or low in DIRECTIONS or (len(w) == 1 and w.isupper()):
            out.append(w)
        else:
            out.append(match_case(draw.pick("ADDRESS/street", low, _street_name), w))
    out.append(part[pos:])
    return "".join(out)


def _street_name(rng: Random) -> str:
    if rng.random() < 0.3:
        names = sorted(STREET_NAMES)
        return names[int(rng.random() * len(names))].capitalize()
    return lexicons.sample_surname(rng).capitalize()


def _number(digits: str, draw: Draw) -> str:
    n = len(digits)

    def make(rng: Random) -> str:
        first = str(rng.randint(1, 9) if n > 1 else rng.randint(0, 9))  # no leading zero
        return first + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))

    return draw.pick(f"PLACE/number/{n}", digits, make)


def _state_and_zip(part: str) -> tuple[str, str] | None:
    """("MD", "21201") of a part "MD 21201", "Maryland", ... ; None if it names no state."""
    core = part.strip()
    m = _ZIP_RE.search(core)
    name = core[: m.start()].strip() if m else core
    state = state_code(name) if name else None
    return (state, m.group() if m else "") if state is not None else None


@cache
def _zips_by_state() -> dict[str, tuple[str, ...]]:
    table = lexicons.zip_codes()
    by: dict[str, list[str]] = {}
    for z in table:
        rec = table[z]
        if rec.active and rec.type == "STANDARD":
            by.setdefault(rec.state, []).append(z)
            by.setdefault("", []).append(z)
    return {k: tuple(sorted(v)) for k, v in by.items()}


def _zip_in(rng: Random, state: str) -> str:
    pool = _zips_by_state().get(state) or _zips_by_state()[""]
    return pool[int(rng.random() * len(pool))]


def _zip_part(part: str, record: lexicons.ZipCode, draw: Draw) -> str:
    """ "MD 21201" -> "MD <the record's ZIP>" (the state as written)."""
    m = _ZIP_RE.search(part)
    if m is None:
        return part
    new = record.zip
    if "-" in m.group():
        new += "-" + _number(m.group()[6:], draw)
    return part[: m.start()] + new + part[m.end() :]


__all__ = [
    "GENERIC_WORDS",
    "TITLE_SPELLINGS",
    "hospital_surrogate",
    "place_surrogate",
    "street_address_surrogate",
]
