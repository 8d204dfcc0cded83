"""The many ways notes mention a person, date, phone or place, as gold-labelled pieces.

Titles and credentials ("Dr.", "RN", "pager") stay outside the span; only the
identifying part is PHI, matching how the evaluation counts full-cover recall.
"""

from __future__ import annotations

import datetime as dt
from random import Random

from sample_data import identifiers as ids
from sample_data.builder import Phi, Piece
from sample_data.identity import Clinician, Facility, Patient, Relative

PERSON = "PERSON"


def casual(rng: Random, text: str, p: float = 0.15) -> str:
    """Sometimes lower-case a name, as hurried notes do ("seen by healey")."""
    return text.lower() if rng.random() < p else text


def initials(first: str, last: str, rng: Random) -> str:
    style = rng.random()
    if style < 0.5:
        return f"{first[0]}{last[0]}".upper()
    if style < 0.8:
        return f"{first[0]}.{last[0]}.".upper()
    return f"{first[0]}{last[0]}".lower()


# --- people ----------------------------------------------------------------------------


def patient_name(rng: Random, pt: Patient) -> Piece:
    """The patient as referred to in running text."""
    style = rng.random()
    if style < 0.3:
        return [f"{pt.title} ", Phi(pt.last, PERSON)]
    if style < 0.55:
        return Phi(f"{pt.first} {pt.last}", PERSON)
    if style < 0.7:
        return Phi(f"{pt.first} {pt.middle}. {pt.last}", PERSON)
    if style < 0.85:
        return Phi(pt.first, PERSON)
    return [f"{pt.title.lower().rstrip('.')} ", Phi(casual(rng, pt.last, 0.5), PERSON)]


def patient_header_name(rng: Random, pt: Patient) -> Phi:
    """The patient as printed in a header or label."""
    style = rng.random()
    if style < 0.45:
        return Phi(f"{pt.last}, {pt.first}", PERSON)
    if style < 0.7:
        return Phi(f"{pt.last.upper()}, {pt.first.upper()} {pt.middle}", PERSON)
    return Phi(f"{pt.first} {pt.middle}. {pt.last}", PERSON)


def doctor(rng: Random, c: Clinician) -> Piece:
    """A physician in running text: "Dr. Healey", "dr healey", "John Healey, MD"."""
    style = rng.random()
    if style < 0.35:
        return ["Dr. ", Phi(casual(rng, c.last, 0.08), PERSON)]
    if style < 0.5:
        return ["Dr ", Phi(c.last, PERSON)]
    if style < 0.62:
        return ["dr. ", Phi(c.last.lower(), PERSON)]
    if style < 0.75:
        return ["Dr. ", Phi(f"{c.first} {c.last}", PERSON)]
    if style < 0.88:
        return [Phi(f"{c.first} {c.last}", PERSON), ", MD"]
    return [Phi(f"{c.first[0]}. {c.last}", PERSON), " MD"]


def bare_last(rng: Random, c: Clinician) -> Phi:
    """Just the surname, as in "seen by healey" or "healey aware"."""
    return Phi(casual(rng, c.last, 0.4), PERSON)


def staff_signature(rng: Random, c: Clinician) -> Piece:
    """A signature line for nurses, therapists and others: "Carole Hayes, RN"."""
    style = rng.random()
    if style < 0.4:
        return [Phi(f"{c.first} {c.last}", PERSON), f", {c.role}"]
    if style < 0.6:
        return [Phi(f"{c.first[0]}. {c.last}", PERSON), f" {c.role}"]
    if style < 0.75:
        return [Phi(f"{c.first} {c.last}", PERSON), f" {c.role}"]
    if style < 0.88:
        return ["-- ", Phi(initials(c.first, c.last, rng), PERSON), f", {c.role}"]
    return [Phi(c.first, PERSON), f" {c.role}"]


def clinician_any(rng: Random, c: Clinician) -> Piece:
    return doctor(rng, c) if c.role == "MD" else staff_signature(rng, c)


def relative_ref(rng: Random, r: Relative, pt: Patient, formal: bool = False) -> Piece:
    """ "pt's wife Mary", "dtr Grace", "son John Smith" ("her daughter Grace" if formal)."""
    relation = r.relation
    short = {"daughter": "dtr", "husband": "hus", "brother": "bro", "sister": "sis"}
    if relation in short and not formal and rng.random() < 0.3:
        relation = short[relation]
    who = Phi(f"{r.first} {r.last}", PERSON) if rng.random() < 0.35 else Phi(r.first, PERSON)
    if formal:
        return [f"{pt.possessive} {relation} ", who]
    style = rng.random()
    if style < 0.35:
        return [f"pt's {relation} ", who]
    if style < 0.55:
        return [f"{pt.possessive} {relation} ", who]
    if style < 0.8:
        return [f"{relation} ", who]
    return [who, f" ({r.relation})"]


# --- dates, numbers, places ------------------------------------------------------------

_RUNNING_DATE_STYLES = (
    "m/d", "m/d", "m/d", "m/d/yy", "mm/dd/yyyy", "month d", "month dth", "mon d", "mon dth",
    "m-d-yy", "month d, yyyy", "d-mon-yyyy",
)  # fmt: skip
_HEADER_DATE_STYLES = ("mm/dd/yyyy", "m/d/yyyy", "yyyy-mm-dd", "d-mon-yyyy", "month d, yyyy")


def date(rng: Random, d: dt.date, header: bool = False) -> Piece:
    """A date in running text ("7/22", "July 22nd", "the 3rd") or in a header."""
    if not header and rng.random() < 0.04:
        return ["the ", Phi(ids.ordinal(d.day), "DATE")]
    styles = _HEADER_DATE_STYLES if header else _RUNNING_DATE_STYLES
    return Phi(ids.format_date(d, rng.choice(styles)), "DATE")


def any_date(rng: Random, d: dt.date) -> Phi:
    """A date in any supported style (used where variety matters more than realism)."""
    return Phi(ids.format_date(d, rng.choice(ids.DATE_STYLES)), "DATE")


def phone(rng: Random, number: str) -> Phi:
    return Phi(ids.format_phone(number, rng), "PHONE_NUMBER")


def pager(rng: Random, c: Clinician) -> Piece:
    label = rng.choice(("pager ", "pager #", "beeper ", "p. ", "pgr "))
    return [label, Phi(c.pager, "PHONE_NUMBER")]


def extension(rng: Random, c: Clinician) -> Piece:
    style = rng.random()
    if style < 0.5:
        return Phi(f"x{c.extension}", "PHONE_NUMBER")
    if style < 0.8:
        return ["ext. ", Phi(c.extension, "PHONE_NUMBER")]
    return ["extension ", Phi(c.extension, "PHONE_NUMBER")]


def hospital(rng: Random, f: Facility, allow_abbr: bool = True) -> Phi:
    """A hospital by full name, short name or abbreviation."""
    style = rng.random()
    if allow_abbr and f.abbr and style < 0.3:
        return Phi(f.abbr, "HOSPITAL")
    if style < 0.65:
        return Phi(f.name, "HOSPITAL")
    return Phi(f.short, "HOSPITAL")


def ward(rng: Random, name: str) -> Phi:
    return Phi(name.replace(" ", "").lower() if rng.random() < 0.1 else name, "HOSPITAL")


def city(rng: Random, pt: Patient) -> Phi:
    return Phi(casual(rng, pt.place.city, 0.1), "LOCATION")


def city_state(rng: Random, pt: Patient) -> Piece:
    st = pt.place.state if rng.random() < 0.7 else pt.place.state_name
    return [Phi(pt.place.city, "LOCATION"), ", ", Phi(st, "LOCATION")]


def address_block(pt: Patient, sep: str = ", ") -> Piece:
    """Street, city, state and ZIP as four spans."""
    return [
        Phi(pt.street, "STREET_ADDRESS"),
        sep,
        Phi(pt.place.city, "LOCATION"),
        ", ",
        Phi(pt.place.state, "LOCATION"),
        " ",
        Phi(pt.place.zip_code, "ZIP_CODE"),
    ]


def facility_address(f: Facility, street_number: int, street: str) -> Piece:
    return [
        Phi(f"{street_number} {street}", "STREET_ADDRESS"),
        ", ",
        Phi(f.place.city, "LOCATION"),
        ", ",
        Phi(f.place.state, "LOCATION"),
        " ",
        Phi(f.place.zip_code, "ZIP_CODE"),
    ]


def age(rng: Random, years: int) -> Piece:
    """An age: labelled AGE only when over 89 (younger ages are not PHI under Safe Harbor)."""
    unit = rng.choice((" yo", " y/o", "-year-old", " year old", " yr old", " YO"))
    if years > 89:
        return [Phi(str(years), "AGE"), unit]
    return f"{years}{unit}"
