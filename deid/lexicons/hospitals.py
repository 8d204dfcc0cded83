"""US hospitals (CMS), their short forms and the generic words of hospital names."""

from __future__ import annotations

from functools import cache
from random import Random
from typing import NamedTuple

from deid.lexicons._keys import place_key
from deid.lexicons._tables import MultiRecords, Records, read_rows


class Hospital(NamedTuple):
    """A CMS hospital with its name taken apart (see ``hospital_names``)."""

    id: int  # 1-based row in hospitals.tsv.gz
    name: str  # as CMS writes it: "ST LUKES MAGIC VALLEY MEDICAL CENTER"
    display: str  # title case, "St." spelling: "St. Luke's Magic Valley Medical Center"
    city: str
    state: str
    zip: str
    county: str
    type: str  # "Acute Care Hospitals", "Critical Access Hospitals", "Psychiatric", ...
    template: str  # "Saint {X} Medical Center"
    pattern: str  # saint_x, x_memorial, university_of_x, x_general, ...
    qualifier: str  # campus or town after " - " ("" if none)


class HospitalForm(NamedTuple):
    """A short form of a hospital's name."""

    hospital_id: int
    kind: str  # base | saint | spelling | acronym | acronym_in_name | hyphen_part
    form: str  # "Johns Hopkins", "St. Luke's", "GBMC"


class HospitalWord(NamedTuple):
    """A generic word of hospital names and how many CMS names hold it."""

    kind: str  # institution | qualifier | religious | direction | connector
    hospitals: int


@cache
def hospitals() -> tuple[Hospital, ...]:
    """The 5,381 CMS hospitals; ``hospitals()[h.id - 1] is h``."""
    return tuple(
        Hospital(int(r[0]), *r[1:])
        for r in read_rows("hospitals.tsv.gz")  # type: ignore[arg-type]
    )


@cache
def hospitals_by_name() -> MultiRecords[Hospital]:
    """Hospitals by the key of their display name and of every short form's text."""
    entries = [(place_key(h.display), h) for h in hospitals()]
    entries += [(place_key(f.form), hospitals()[f.hospital_id - 1]) for f in _forms()]
    entries = sorted(set(entries), key=lambda e: (e[0], e[1].id))
    records = [h for _, h in entries]
    return MultiRecords([k for k, _ in entries], records.__getitem__)


@cache
def _forms() -> tuple[HospitalForm, ...]:
    return tuple(
        HospitalForm(int(i), kind, form) for i, kind, form in read_rows("hospital_forms.tsv.gz")
    )


@cache
def hospital_forms() -> MultiRecords[HospitalForm]:
    """Short forms by key ("gbmc", "saint luke's", "johns hopkins"), each to all forms
    (of all hospitals) with that key. St./Saint spellings share a key (``place_key``)."""
    keyed = sorted(((place_key(f.form), f) for f in _forms()), key=lambda kf: (kf[0], kf[1]))
    forms = [f for _, f in keyed]
    return MultiRecords([k for k, _ in keyed], forms.__getitem__)


def forms_of(hospital: Hospital) -> tuple[HospitalForm, ...]:
    """The short forms derived for ``hospital``."""
    return tuple(f for f in _forms() if f.hospital_id == hospital.id)


@cache
def hospital_words() -> Records[HospitalWord]:
    """Generic words of hospital names by lower-case word ("memorial" -> qualifier, 489)."""
    rows = [(w, HospitalWord(kind, int(n))) for w, kind, n in read_rows("hospital_words.tsv")]
    return Records({w: i for i, (w, _) in enumerate(rows)}, lambda i: rows[i][1])


@cache
def hospital_word_kinds() -> dict[str, str]:
    """Generic words of hospital names -> kind (the vocabulary ``analyse_hospital_name``
    uses). Do not mutate."""
    return {w: hospital_words()[w].kind for w in hospital_words()}


def sample_hospital(rng: Random, *, state: str | None = None) -> Hospital:
    """A CMS hospital, uniformly, optionally in ``state`` (code)."""
    pool = hospitals() if state is None else _in_state(state.upper())
    if not pool:
        raise ValueError(f"no hospital in state {state!r}")
    return pool[int(rng.random() * len(pool))]


@cache
def _in_state(state: str) -> tuple[Hospital, ...]:
    return tuple(h for h in hospitals() if h.state == state)
