"""Lexicon facts the name and place surrogates ask for on every span, looked up once.

Flat maps built on first use from the vendored lexicons (no note text is ever stored):
a word's given-name frequency and sex, its surname frequency, and the biggest US and
foreign place of a name.  The lexicons' own maps build a record per lookup and a tuple
of every namesake per place lookup, several times per span without these.
"""

from __future__ import annotations

from functools import cache

from deid import lexicons
from deid.lexicons import name_key, place_key
from deid.lexicons.names import surname_people as surname_count

__all__ = [
    "given",
    "name_key",
    "place_key",
    "state_code",
    "surname_people",
    "us_best",
    "foreign_best",
]


def fast_name_key(word: str) -> str:
    """``name_key`` with a fast path for plain ASCII letters (most words of notes)."""
    return word.lower() if word.isascii() and word.isalpha() else name_key(word)


_ABBREVIATED = frozenset({"st", "ste", "mt", "ft"})


def fast_place_key(text: str) -> str:
    """``place_key`` with a fast path for plain ASCII words without abbreviations."""
    if text.isascii() and text.replace(" ", "").isalpha():
        words = text.lower().split()
        if not _ABBREVIATED.intersection(words):
            return " ".join(words)
    return place_key(text)


def given(word: str) -> tuple[int, str | None] | None:
    """(people holding it, clear sex "F"/"M" or None) of a given name, or None."""
    return _given().get(fast_name_key(word))


def surname_people(word: str) -> int:
    """People holding ``word`` as a surname (0 if it is none)."""
    return surname_count(fast_name_key(word))


@cache
def _given() -> dict[str, tuple[int, str | None]]:
    table = lexicons.first_names()
    out: dict[str, tuple[int, str | None]] = {}
    for key in table:
        record = table[key]
        out[key] = (record.people, record.sex)
    return out


def us_best(key: str, state: str | None = None) -> tuple[int, str] | None:
    """(population or 0, state) of the biggest US place of that place key (in ``state``
    when it has one there), or None."""
    if state is not None and key in _us_states_of():
        for pop, st in _us_states_of()[key]:
            if st == state:
                return pop, st
    return _us_biggest().get(key)


def foreign_best(key: str) -> tuple[int, str] | None:
    """(population, country) of the biggest foreign place of that key, or None."""
    return _foreign_biggest().get(key)


def state_code(text: str) -> str | None:
    """The code of the US state ``text`` names or abbreviates ("Maryland", "MD"), or None."""
    return _states().get(fast_place_key(text)) or (
        _states().get(text.strip().lower()) if len(text.strip()) == 2 else None
    )


@cache
def _us_biggest() -> dict[str, tuple[int, str]]:
    table = lexicons.us_places()
    best: dict[str, tuple[int, str]] = {}
    for key in table:
        place = max(table[key], key=lambda p: p.population or 0)
        best[key] = (place.population or 0, place.state)
    return best


@cache
def _us_states_of() -> dict[str, tuple[tuple[int, str], ...]]:
    """Place keys held by places in several states -> (population, state) per state."""
    table = lexicons.us_places()
    out: dict[str, tuple[tuple[int, str], ...]] = {}
    for key in table:
        places = table[key]
        if len(places) > 1:
            by_state: dict[str, int] = {}
            for p in places:
                by_state[p.state] = max(by_state.get(p.state, 0), p.population or 0)
            out[key] = tuple((pop, st) for st, pop in sorted(by_state.items()))
    return out


@cache
def _foreign_biggest() -> dict[str, tuple[int, str]]:
    table = lexicons.foreign_cities()
    best: dict[str, tuple[int, str]] = {}
    for key in table:
        city = max(table[key], key=lambda c: c.population)
        best[key] = (city.population, city.country)
    return best


@cache
def _states() -> dict[str, str]:
    out = {}
    for key, state in lexicons.us_states().items():
        out[key] = state.code
        out[state.code.lower()] = state.code
    return out
