"""Places: US places with population, state and county; counties; states; countries;
foreign cities; ZIP codes. Keys are ``place_key(name)`` ("St. Louis" -> "saint louis")."""

from __future__ import annotations

import bisect
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from random import Random
from typing import NamedTuple

from deid.lexicons._keys import place_key
from deid.lexicons._tables import MultiRecords, Records, WeightedDraw, read_rows


class USPlace(NamedTuple):
    """A US place: a GeoNames place (with population) or a name from the ZIP records."""

    name: str  # as written by its source ("White Marsh", "Deerfield Bch")
    state: str  # two-letter code
    county: str  # "Baltimore County"; "" when not derivable
    population: int | None  # GeoNames places only
    source: str  # geonames | zip_city | zip_alias | zip_local


class County(NamedTuple):
    """A US county or equivalent (parish, borough, census area, independent city)."""

    name: str  # "Baltimore County"
    base: str  # key of the name without its kind: "baltimore"
    state: str
    fips: str


class State(NamedTuple):
    """A US state or DC."""

    code: str  # "MD"
    name: str  # "Maryland"
    fips: str


class Country(NamedTuple):
    """A country (GeoNames)."""

    iso: str
    name: str
    population: int


class ForeignCity(NamedTuple):
    """A non-US place of at least 15,000 people (GeoNames)."""

    name: str
    country: str  # ISO code
    population: int


class ZipCode(NamedTuple):
    """A US ZIP code with its USPS city, state and county."""

    zip: str
    type: str  # STANDARD | PO BOX | UNIQUE | MILITARY
    city: str
    state: str
    county: str
    active: bool


@dataclass(frozen=True)
class _PlaceColumns:
    keys: list[str]
    names: list[str]
    states: list[str]
    counties: list[str]
    populations: array  # 0 = unknown
    sources: list[str]


@cache
def _us_place_columns() -> _PlaceColumns:
    cols = _PlaceColumns([], [], [], [], array("q"), [])
    for key, name, state, county, population, source in read_rows("us_places.tsv.gz"):
        cols.keys.append(key)
        cols.names.append(name)
        cols.states.append(sys.intern(state))
        cols.counties.append(sys.intern(county))
        cols.populations.append(int(population) if population else 0)
        cols.sources.append(sys.intern(source))
    return cols


@cache
def us_places() -> MultiRecords[USPlace]:
    """US places by key, each key to all places of that name (in every state).

    "white marsh" -> (USPlace("White Marsh", "MD", "Baltimore County", 9513, "geonames"),
    USPlace("White Marsh", "VA", ...)). 61,612 rows, from GeoNames (21,783 places of 500+
    people) and the USPS names of the ZIP records.
    """
    c = _us_place_columns()

    def make(i: int) -> USPlace:
        return USPlace(
            c.names[i], c.states[i], c.counties[i], c.populations[i] or None, c.sources[i]
        )

    return MultiRecords(c.keys, make)


@cache
def us_counties() -> MultiRecords[County]:
    """US counties by the key of their full name ("baltimore county") AND of their base
    ("baltimore"), each to all counties so named."""
    rows = [
        (key, County(name, base, state, fips))
        for key, name, base, state, fips in read_rows("us_counties.tsv.gz")
    ]
    entries = sorted(
        [(key, county) for key, county in rows] + [(county.base, county) for _, county in rows],
        key=lambda kc: (kc[0], kc[1].state, kc[1].fips),
    )
    records = [county for _, county in entries]
    return MultiRecords([key for key, _ in entries], records.__getitem__)


@cache
def us_states() -> Records[State]:
    """The 50 US states and DC by the key of their name ("maryland")."""
    states = [State(code, name, fips) for code, name, fips in read_rows("us_states.tsv")]
    return Records({place_key(s.name): i for i, s in enumerate(states)}, states.__getitem__)


def us_state(text: str) -> State | None:
    """The state ``text`` names or abbreviates ("Maryland", "MD", "md"), or None."""
    found = us_states().get(place_key(text))
    if found is None and len(text) == 2:
        found = next((s for s in us_states().values() if s.code == text.upper()), None)
    return found


@cache
def countries() -> Records[Country]:
    """Countries by the key of their name ("united kingdom")."""
    rows = [Country(iso, name, int(pop)) for iso, name, pop in read_rows("countries.tsv")]
    return Records({place_key(c.name): i for i, c in enumerate(rows)}, rows.__getitem__)


@dataclass(frozen=True)
class _ForeignColumns:
    keys: list[str]
    names: list[str]
    countries: list[str]
    populations: array


@cache
def _foreign_columns() -> _ForeignColumns:
    cols = _ForeignColumns([], [], [], array("q"))
    for key, name, country, population in read_rows("foreign_cities.tsv.gz"):
        cols.keys.append(key)
        cols.names.append(name)
        cols.countries.append(sys.intern(country))
        cols.populations.append(int(population))
    return cols


@cache
def foreign_cities() -> MultiRecords[ForeignCity]:
    """Non-US places of 15,000+ people by key ("rome" -> Rome, IT; Rome, ...): 30,615."""
    c = _foreign_columns()
    return MultiRecords(c.keys, lambda i: ForeignCity(c.names[i], c.countries[i], c.populations[i]))


@cache
def zip_codes() -> Records[ZipCode]:
    """Every US ZIP code ("21162") with its USPS city, state and county: 42,789."""
    rows = [
        ZipCode(z, sys.intern(t), sys.intern(city), sys.intern(st), sys.intern(county), a == "1")
        for z, t, city, st, county, a in read_rows("us_zip_codes.tsv.gz")
    ]
    return Records({z.zip: i for i, z in enumerate(rows)}, rows.__getitem__)


# ---------------------------------------------------------------- samplers


class _BySize:
    """Places with a population, sorted by it, for drawing one of about a given size."""

    def __init__(self, rows: list[int], populations: array) -> None:
        rows = sorted(rows, key=lambda i: (populations[i], i))
        self.rows = rows
        self.sizes = array("q", (populations[i] for i in rows))
        self.draw = WeightedDraw(rows, [float(populations[i]) for i in rows])

    def sample(self, rng: Random, near: int | None, factor: float) -> int:
        if not self.rows:
            raise ValueError("no place matches")
        lo, hi = self.band(near, factor)
        return self.draw.draw(rng, lo, hi)

    def band(self, near: int | None, factor: float) -> tuple[int, int]:
        """Rows ``lo..hi`` a draw near ``near`` picks from (all rows when ``near`` is None)."""
        if near is None:
            return 0, len(self.rows)
        lo, hi = self._band(near, factor)
        while hi - lo < 10 and (lo > 0 or hi < len(self.rows)):
            factor *= 2  # too few places this size (a metropolis): widen the band
            lo, hi = self._band(near, factor)
        return lo, hi

    def _band(self, near: int, factor: float) -> tuple[int, int]:
        lo = bisect.bisect_left(self.sizes, int(near / factor))
        hi = bisect.bisect_right(self.sizes, int(near * factor))
        if lo == hi:  # nothing in range: take the nearest place
            lo, hi = max(0, lo - 1), min(len(self.rows), lo + 1)
        return lo, hi


@cache
def _us_by_size(state: str | None) -> _BySize:
    c = _us_place_columns()
    rows = [
        i
        for i, p in enumerate(c.populations)
        if p > 0 and c.sources[i] == "geonames" and (state is None or c.states[i] == state)
    ]
    return _BySize(rows, c.populations)


@cache
def _foreign_by_size(country: str | None) -> _BySize:
    c = _foreign_columns()
    rows = [i for i, cc in enumerate(c.countries) if country is None or cc == country]
    return _BySize(rows, c.populations)


def sample_us_city(
    rng: Random,
    *,
    population_near: int | None = None,
    state: str | None = None,
    factor: float = 2.0,
) -> USPlace:
    """A real US place (GeoNames, with population), drawn in proportion to its people.

    ``population_near``: only places of population within ``factor`` of it (the band
    widens until it holds 10 places). ``state``: only places in that state (code).
    Deterministic given ``rng``.
    """
    c = _us_place_columns()
    i = _us_by_size(state.upper() if state else None).sample(rng, population_near, factor)
    return USPlace(c.names[i], c.states[i], c.counties[i], c.populations[i], c.sources[i])


def us_city_name_sampler(
    *, population_near: int | None = None, state: str | None = None, factor: float = 2.0
) -> Callable[[Random], str]:
    """``rng -> name`` drawing exactly as ``sample_us_city(rng, ...).name`` does, with the
    size band found once: for callers that redraw until a name fits."""
    by_size = _us_by_size(state.upper() if state else None)
    if not by_size.rows:
        raise ValueError("no place matches")
    lo, hi = by_size.band(population_near, factor)
    names, draw = _us_place_columns().names, by_size.draw
    return lambda rng: names[draw.draw(rng, lo, hi)]


def sample_foreign_city(
    rng: Random,
    *,
    population_near: int | None = None,
    country: str | None = None,
    factor: float = 2.0,
) -> ForeignCity:
    """A real non-US city drawn in proportion to its people (see :func:`sample_us_city`)."""
    c = _foreign_columns()
    i = _foreign_by_size(country.upper() if country else None).sample(rng, population_near, factor)
    return ForeignCity(c.names[i], c.countries[i], c.populations[i])


@cache
def _counties_of(state: str | None) -> tuple[County, ...]:
    rows = (
        County(name, base, st, fips) for _, name, base, st, fips in read_rows("us_counties.tsv.gz")
    )
    return tuple(c for c in rows if state is None or c.state == state)


def sample_us_county(rng: Random, *, state: str | None = None) -> County:
    """A US county, uniformly (the sources give no county populations)."""
    counties = _counties_of(state.upper() if state else None)
    if not counties:
        raise ValueError(f"no county in state {state!r}")
    return counties[int(rng.random() * len(counties))]
