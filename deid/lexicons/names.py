"""Person names: Census 2010 surnames, Census 2020 first names with sex, rare first names."""

from __future__ import annotations

from array import array
from functools import cache
from random import Random
from typing import Literal, NamedTuple

from deid.lexicons._keys import name_key
from deid.lexicons._tables import Records, WeightedDraw, read_rows

Sex = Literal["F", "M"]
# A first name "has a clear sex" when at least this share of its holders are of one sex.
CLEAR_SEX_SHARE = 0.9


class Surname(NamedTuple):
    """A Census 2010 surname (100+ holders): ``rank`` 1 is the most common."""

    name: str  # lower-case letters ("oconnor")
    rank: int
    people: int  # how many held it in the 2010 Census


class FirstName(NamedTuple):
    """A Census 2020 first name, with how many hold it and which share are women."""

    name: str  # lower-case letters
    rank: int
    people: int  # how many held it in the 2020 Census
    share_female: float  # 0.0 .. 1.0

    @property
    def sex(self) -> Sex | None:
        """The sex ("F"/"M") at least 90 % of its holders share, else None."""
        if self.share_female >= CLEAR_SEX_SHARE:
            return "F"
        if self.share_female <= 1 - CLEAR_SEX_SHARE:
            return "M"
        return None


class _Columns:
    """One names file held as columns (its rows are in rank order)."""

    def __init__(self, names: list[str], ranks: array, counts: array, female: array) -> None:
        self.names, self.ranks, self.counts, self.female = names, ranks, counts, female
        self.index = {n: i for i, n in enumerate(names)}


@cache
def _surname_columns() -> _Columns:
    names, ranks, counts = [], array("i"), array("q")
    for name, rank, count in read_rows("surnames.tsv.gz"):
        names.append(name)
        ranks.append(int(rank))
        counts.append(int(count))
    return _Columns(names, ranks, counts, array("f"))


@cache
def _first_name_columns() -> _Columns:
    names, ranks, counts, female = [], array("i"), array("q"), array("f")
    for name, rank, count, pct_female in read_rows("first_names.tsv.gz"):
        names.append(name)
        ranks.append(int(rank))
        counts.append(int(count))
        female.append(float(pct_female) / 100)
    return _Columns(names, ranks, counts, female)


@cache
def surnames() -> Records[Surname]:
    """Census 2010 surnames by key (``name_key``: lower-case letters): 162,252 of them."""
    c = _surname_columns()
    return Records(c.index, lambda i: Surname(c.names[i], c.ranks[i], c.counts[i]))


@cache
def first_names() -> Records[FirstName]:
    """Census 2020 first names by key (lower-case letters), with sex shares: 53,615."""
    c = _first_name_columns()
    return Records(
        c.index,
        lambda i: FirstName(c.names[i], c.ranks[i], c.counts[i], round(c.female[i], 4)),
    )


@cache
def extra_first_names() -> frozenset[str]:
    """Rare given names (philter-lite's list) that the Census table lacks: 51,417 keys.

    Without sex or frequency, and noisy: check :func:`deid.lexicons.is_ambiguous` too.
    """
    return frozenset(row[0] for row in read_rows("first_names_extra.tsv.gz"))


def surname(word: str) -> Surname | None:
    """The Census surname ``word`` spells (any case, apostrophes ignored), or None."""
    return surnames().get(name_key(word))


def surname_people(key: str) -> int:
    """People holding the surname of ``key`` (a ``name_key``), 0 if none: no record built."""
    c = _surname_columns()
    i = c.index.get(key)
    return 0 if i is None else c.counts[i]


def first_name(word: str) -> FirstName | None:
    """The Census first name ``word`` spells (any case), or None."""
    return first_names().get(name_key(word))


@cache
def _surname_draw() -> WeightedDraw:
    c = _surname_columns()
    return WeightedDraw(range(len(c.names)), c.counts)


@cache
def _first_name_draw(sex: Sex | None, min_share: float) -> WeightedDraw:
    c = _first_name_columns()
    rows, weights = [], []
    for i, female in enumerate(c.female):
        share = 1.0 if sex is None else female if sex == "F" else 1 - female
        if share >= min_share and share > 0:
            rows.append(i)
            weights.append(c.counts[i] * share)
    return WeightedDraw(rows, weights)


def sample_surname(rng: Random) -> str:
    """A surname drawn as often as people hold it (lower-case; the caller sets the case)."""
    return _surname_columns().names[_surname_draw().draw(rng)]


def sample_first_name(
    rng: Random, sex: Sex | None = None, *, min_share: float = CLEAR_SEX_SHARE
) -> str:
    """A first name drawn as often as people of ``sex`` hold it (lower-case).

    With ``sex``, only names at least ``min_share`` of whose holders are of that sex
    are drawn (default 0.9, so the name reads as that sex); ``min_share=0`` draws from
    all names weighted by how many people of that sex hold each.
    """
    return _first_name_columns().names[_first_name_draw(sex, min_share).draw(rng)]
