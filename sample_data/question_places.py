"""Hospitals and towns as people name them in short questions, from the vendored lexicons.

People asking a health assistant name real institutions the way they speak of them:
"Mt. Sinai", "UCSF", "Cedars-Sinai", "Johns Hopkins", "St. Luke's", and towns in "our
Springfield office", "I live in Quincy".  The names come from ``deid.lexicons`` (the CMS
hospital list with its rule-derived short forms; GeoNames places), never from annotated
notes.  The vendored short forms are derived by rule for recall, so some are forms nobody
writes ("VEK", "Center"); :func:`hospital_forms` keeps those a person would type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from random import Random

from deid import lexicons

# Acronyms inside CMS names that are legal or administrative, not what a patient says.
_NOT_SAID = frozenset(
    {"DBA", "LLC", "CAH", "DEPT", "SYSTE", "SYSTM", "SRVS", "LTCU", "HSP", "HRT", "EAU", "INC"}
)
_FORM_CHARS = re.compile(r"[A-Za-z][A-Za-z .'&-]*[A-Za-z's.]")
_TITLE = re.compile(r"^(St|Ste|Mt|Saint|Mount)\.? ")
_UNIVERSITY_OF_CALIFORNIA = re.compile(r"^University of California (\w+)")
_POSSESSIVE = re.compile(r"\b([A-Z][a-z]+)'s\b")
# A form cut before its last word ("Mt. San" of "Mt. San Rafael") is no name.
_DANGLING = frozenset(
    {"san", "santa", "st", "saint", "mt", "mount", "el", "la", "le", "de", "del", "des", "of"}
)

# How often each kind of short form is drawn: the kinds the issue found missed are all
# common in questions ("Mt. X", "UCxx", "X-Sinai", "Johns X", "St. X's").
FORM_KINDS: tuple[tuple[str, float], ...] = (
    ("base", 0.30),  # "Johns Hopkins", "Mary Greeley", "Sutter"
    ("mount", 0.12),  # "Mt. Sinai", "Mount Auburn"
    ("saint", 0.16),  # "St. Luke's", "Saint Joseph"
    ("acronym_in_name", 0.18),  # "UCSF", "UPMC", "NYU", "UC Davis"
    ("hyphenated", 0.14),  # "Cedars-Sinai", "Sinai-Grace"
    ("acronym", 0.10),  # "JHH", "BCH": initials of the name
)


@dataclass(frozen=True)
class HospitalForms:
    """Full display names and short forms, by kind (see ``FORM_KINDS``)."""

    full: tuple[str, ...]
    by_kind: dict[str, tuple[str, ...]]

    def short(self, rng: Random) -> str:
        kinds, weights = zip(*FORM_KINDS, strict=True)
        kind = rng.choices(kinds, weights=weights)[0]
        return _pick(rng, self.by_kind[kind])

    def full_name(self, rng: Random) -> str:
        return _pick(rng, self.full)


def _pick(rng: Random, options: Sequence[str]) -> str:
    return options[int(len(options) * rng.random())]


def _repair_possessive(form: str) -> str:
    """Undo a possessive the rules read into a name that ends in s: "St. Thoma's" ->
    "St. Thomas", "Fort Collin's" -> "Fort Collins" (but "St. Luke's" stays)."""

    def holders(key: str) -> int:
        first, last = lexicons.first_name(key), lexicons.surname(key)
        return max(first.people if first else 0, last.people if last else 0)

    def fix(m: re.Match[str]) -> str:
        stem = m.group(1)
        return stem + "s" if holders(stem + "s") > holders(stem) else m.group(0)

    return _POSSESSIVE.sub(fix, form)


def _generic(word: str) -> bool:
    return word.lower().strip(".'") in lexicons.hospital_word_kinds()


def _odd_word(word: str) -> bool:
    """A short word in title case that is no name or place: a lower-cased acronym ("Unm")."""
    if not (2 <= len(word) <= 3 and word.isalpha() and word.istitle()) or _TITLE.match(word + " "):
        return False
    key = word.lower()
    return not (
        key in lexicons.surnames() or key in lexicons.first_names() or key in lexicons.us_places()
    )


def _truncated(name: str) -> bool:
    """CMS cuts long names mid-word ("... Behavioral Health Hospita", "... SYSTE")."""
    last = name.split()[-1].lower()
    kinds = lexicons.hospital_word_kinds()
    return last not in kinds and any(w.startswith(last) for w in kinds)


def _speakable(form: str, kind: str) -> bool:
    """A form a person would type: letters, not only generic words, not a bare state."""
    if not _FORM_CHARS.fullmatch(form) or lexicons.us_state(form) is not None:
        return False
    if _truncated(form):
        return False
    if kind in ("acronym", "acronym_in_name"):
        # Initials people use end like the name they stand for ("MGH", "BIDMC").
        said = kind == "acronym_in_name" or form.endswith(("H", "MC", "HC", "HS"))
        return said and form.isupper() and 3 <= len(form) <= 5 and form not in _NOT_SAID
    words = form.replace("-", " ").split()
    if len(words) > 4 or words[-1].lower().rstrip(".") in _DANGLING or any(map(_odd_word, words)):
        return False
    distinctive = [w for w in words if not _generic(w) and not _TITLE.match(w + " ")]
    return bool(distinctive) and all(len(w) >= 2 for w in distinctive)


def _kind(form: str, derived_as: str) -> str | None:
    if derived_as in ("acronym", "acronym_in_name"):
        return derived_as
    if form.startswith(("Mt", "Mount ")):
        return "mount"
    if derived_as in ("saint", "spelling") or _TITLE.match(form):
        return "saint"
    if "-" in form:
        return "hyphenated"
    return "base" if derived_as == "base" else None


@lru_cache(maxsize=1)
def hospital_forms() -> HospitalForms:
    """The forms questions draw from (built once per process)."""
    by_kind: dict[str, set[str]] = {kind: set() for kind, _ in FORM_KINDS}
    for display in (h.display for h in lexicons.hospitals()):
        m = _UNIVERSITY_OF_CALIFORNIA.match(display)
        if m:
            by_kind["acronym_in_name"].add(f"UC {m.group(1)}")
    vendored = lexicons.hospital_forms()
    for key in vendored:
        for f in vendored[key]:
            form = _repair_possessive(f.form)
            kind = _kind(form, f.kind)
            if kind is not None and _speakable(form, kind):
                by_kind[kind].add(form)
    full = {
        _repair_possessive(h.display)
        for h in lexicons.hospitals()
        if _FORM_CHARS.fullmatch(h.display)
        and not _truncated(h.display)
        and not any(map(_odd_word, h.display.split()))
    }
    return HospitalForms(tuple(sorted(full)), {k: tuple(sorted(v)) for k, v in by_kind.items()})


# GeoNames also lists airports, bases and the like as places: nobody lives there.
_NOT_A_TOWN = re.compile(r"\b(?:Airport|Air Force|Base|Station|Reservation|Census|Mall)\b")


def us_town(rng: Random) -> str:
    """A real US place: half drawn by population (cities), half near 8,000 people (towns)."""
    near = None if rng.random() < 0.5 else 8000
    name = lexicons.sample_us_city(rng, population_near=near).name
    while _NOT_A_TOWN.search(name):
        name = lexicons.sample_us_city(rng, population_near=near).name
    return name
