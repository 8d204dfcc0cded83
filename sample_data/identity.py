"""Synthetic people and places: hospitals with staff, and patients with everything that
identifies them.  A patient is built once and reused by all of that patient's notes, so
names, numbers and relatives stay consistent across notes (the anonymizer relies on it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from random import Random

from sample_data import identifiers as ids
from sample_data.clinical import History, make_history
from sample_data.pools import Place, pools

# Fixed window for admissions: never "today", so output does not drift with the calendar.
ADMIT_FIRST = dt.date(2012, 1, 1)
ADMIT_LAST = dt.date(2023, 12, 31)

_SAINTS = (
    "Elizabeth", "Vincent", "Joseph", "Luke", "Mary", "Anne", "Francis", "Jude", "Catherine",
    "Agnes", "Margaret", "Patrick", "John", "Michael", "Clare", "Anthony", "Raphael",
)  # fmt: skip


@dataclass(frozen=True)
class Facility:
    """A hospital, clinic, rehab centre or nursing home."""

    name: str  # "Lakewood General Hospital"
    abbr: str  # "LGH" ("" when nobody would abbreviate it)
    short: str  # "Lakewood General" / "St. Luke's" (how staff say it)
    domain: str  # "lakewoodgh.org"
    place: Place
    wards: tuple[str, ...]  # named wards and buildings ("Blake 7", "Farr Pavilion")
    phone: str  # ten digits
    fax: str  # ten digits


@dataclass(frozen=True)
class Clinician:
    first: str
    last: str
    role: str  # MD, RN, NP, PA, RRT, LICSW
    pager: str
    extension: str
    email: str
    dea: str  # "" for roles that do not prescribe
    license: str
    npi: str


@dataclass(frozen=True)
class Staff:
    attendings: tuple[Clinician, ...]
    residents: tuple[Clinician, ...]
    nurses: tuple[Clinician, ...]
    midlevels: tuple[Clinician, ...]
    therapists: tuple[Clinician, ...]
    radiologists: tuple[Clinician, ...]
    emergency: tuple[Clinician, ...]
    social_work: tuple[Clinician, ...]


@dataclass(frozen=True)
class Site:
    """The hospitals patients are admitted to, each with its own staff."""

    hospitals: tuple[Facility, ...]
    staff: tuple[Staff, ...]  # staff[i] works at hospitals[i]


@dataclass(frozen=True)
class Relative:
    relation: str  # "wife", "son", ...
    first: str
    last: str
    phone: str  # ten digits
    age: int | None  # only mentioned when notable


@dataclass(frozen=True)
class Vehicle:
    description: str  # "2014 Honda Civic" (not PHI)
    vin: str
    plate: str
    plate_state: str


@dataclass(frozen=True)
class Device:
    kind: str  # "pacemaker" (not PHI)
    model: str  # "Medtronic Azure XT DR" (not PHI)
    serial: str
    implanted: bool  # shows on imaging
    care: str  # what the team does with it during the stay


@dataclass(frozen=True)
class Patient:
    """One synthetic patient and every identifier their notes may mention."""

    patient_id: str
    sex: str  # "F" / "M"
    first: str
    middle: str
    last: str
    age: int
    dob: dt.date
    admit_date: dt.date
    stay_days: int
    mrn: str
    ssn: str
    account: str
    plan_name: str
    plan_kind: str
    member_id: str
    street: str
    place: Place
    home_phone: str
    cell_phone: str
    email: str
    drivers_license: str
    relatives: tuple[Relative, ...]
    hospital: Facility
    ward: str
    attending: Clinician
    resident: Clinician
    nurses: tuple[Clinician, ...]
    midlevel: Clinician
    therapist: Clinician
    radiologist: Clinician
    ed_physician: Clinician
    social_worker: Clinician
    consultants: tuple[Clinician, ...]
    pcp: Clinician
    pcp_practice: Facility
    referring: Facility
    discharge_to: Facility
    vehicle: Vehicle
    device: Device | None
    portal_url: str
    ip_address: str
    history: History

    @property
    def title(self) -> str:
        if self.sex == "M":
            return "Mr."
        return "Mrs." if any(r.relation == "husband" for r in self.relatives) else "Ms."

    @property
    def pronoun(self) -> str:
        return "she" if self.sex == "F" else "he"

    @property
    def possessive(self) -> str:
        return "her" if self.sex == "F" else "his"

    @property
    def discharge_date(self) -> dt.date:
        return self.admit_date + dt.timedelta(days=self.stay_days)


# --- facilities ------------------------------------------------------------------------


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w[:1].isalpha() and w[0].isupper())


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def make_facility(
    rng: Random, kind: str = "hospital", state: str | None = None, with_wards: bool = True
) -> Facility:
    """A facility name built from a pattern (hospital, rehab, nursing home, clinic).

    ``state`` keeps it near the patient (most referrals are local).
    """
    p = pools()
    place = rng.choice(p.places_by_state[state] if state else p.places)
    city, last = place.city, rng.choice(p.last)
    if kind == "hospital":
        style = rng.randrange(8)
        if style == 0:
            name, short = f"{city} General Hospital", f"{city} General"
        elif style == 1:
            saint = rng.choice(_SAINTS)
            name, short = f"St. {saint}'s Hospital", f"St. {saint}'s"
        elif style == 2:
            name, short = f"{last} Memorial Hospital", f"{last} Memorial"
        elif style == 3:
            name, short = f"{city} Regional Medical Center", f"{city} Regional"
        elif style == 4:
            name, short = f"{last} Medical Center", last
        elif style == 5:
            name, short = f"{city} Community Hospital", f"{city} Community"
        elif style == 6:
            name = f"University of {place.state_name} Medical Center"
            short = f"University of {place.state_name}"
        else:
            other = rng.choice(p.last)
            name, short = f"{last}-{other} Hospital", f"{last}-{other}"
        abbr = _initials(name.replace("-", " ").replace("St.", "Saint").split())
        if style == 6:
            abbr = "U" + place.state[0] + "MC"
    elif kind == "rehab":
        style = rng.randrange(4)
        name = (
            f"{last} Rehabilitation Hospital",
            f"{city} Nursing and Rehabilitation Center",
            f"{last} House",
            f"{last} Manor",
        )[style]
        short, abbr = name, ""
    else:  # clinic / practice
        style = rng.randrange(4)
        name = (
            f"{city} Family Health Center",
            f"{last} Street Health Center",
            f"{city} Internal Medicine Associates",
            f"{city} Community Health Center",
        )[style]
        short, abbr = name, ""
    base = rng.choice((_slug(short), abbr.lower())) if abbr else _slug(name.split()[0])
    domain = base + rng.choice(("health.org", "hospital.org", "med.org", ".org"))
    wards = tuple(_ward(rng) for _ in range(6)) if kind == "hospital" and with_wards else ()
    phone, fax = ids.phone_digits(rng, place.state), ids.phone_digits(rng, place.state)
    return Facility(name, abbr, short, domain, place, wards, phone, fax)


def _ward(rng: Random) -> str:
    last = rng.choice(pools().last)
    style = rng.randrange(4)
    if style <= 1:
        return f"{last} {rng.randint(2, 12)}"
    if style == 2:
        return f"{last} {rng.randint(2, 9)}{rng.choice('EW')}"
    return f"{last} {rng.choice(('Pavilion', 'Building', 'Tower'))}"


# --- people ----------------------------------------------------------------------------


def _first(rng: Random, sex: str) -> str:
    p = pools()
    return rng.choice(p.female_first if sex == "F" else p.male_first)


def make_clinician(rng: Random, role: str, domain: str) -> Clinician:
    sex = rng.choice("FM")
    first, last = _first(rng, sex), rng.choice(pools().last)
    handle = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", f"{last}.{first[0]}", f"{first}{last[0]}")
    )
    email = f"{_slug_name(handle)}@{domain}"
    prescriber = role in ("MD", "NP", "PA")
    return Clinician(
        first=first,
        last=last,
        role=role,
        pager=ids.pager(rng),
        extension=ids.extension(rng),
        email=email,
        dea=ids.dea_number(rng, last) if prescriber else "",
        license=ids.state_license(rng, role),
        npi=ids.npi(rng),
    )


def _slug_name(handle: str) -> str:
    return "".join(c for c in handle.lower() if c.isalnum() or c == ".")


def _staff(rng: Random, domain: str) -> Staff:
    def team(role: str, n: int) -> tuple[Clinician, ...]:
        return tuple(make_clinician(rng, role, domain) for _ in range(n))

    return Staff(
        attendings=team("MD", 14),
        residents=team("MD", 10),
        nurses=team("RN", 18),
        midlevels=tuple(make_clinician(rng, rng.choice(("NP", "PA")), domain) for _ in range(5)),
        therapists=team("RRT", 5),
        radiologists=team("MD", 5),
        emergency=team("MD", 6),
        social_work=team("LICSW", 4),
    )


@lru_cache(maxsize=8)
def make_site(seed: int, n_hospitals: int = 8) -> Site:
    """The hospitals (and their staff) for a seed; shared by all of that seed's patients."""
    rng = Random(f"site:{seed}")
    hospitals = tuple(make_facility(rng, "hospital") for _ in range(n_hospitals))
    return Site(hospitals, tuple(_staff(rng, h.domain) for h in hospitals))


_RELATIONS_SPOUSE = {"F": "husband", "M": "wife"}
_OTHER_RELATIONS = (
    "daughter", "son", "sister", "brother", "niece", "nephew", "granddaughter", "grandson",
    "friend", "daughter-in-law", "son-in-law", "mother",
)  # fmt: skip
_PLANS = (
    ("Medicare", "medicare"), ("MassHealth", "medicaid"), ("Blue Cross Blue Shield", "commercial"),
    ("Harvard Pilgrim", "commercial"), ("Tufts Health Plan", "commercial"), ("Aetna", "commercial"),
    ("UnitedHealthcare", "commercial"), ("Medicaid", "medicaid"), ("Cigna", "commercial"),
)  # fmt: skip
_CARS = (
    "Honda Civic", "Toyota Camry", "Ford F-150", "Subaru Outback", "Chevrolet Malibu",
    "Nissan Altima", "Jeep Cherokee", "Hyundai Elantra", "Toyota Corolla", "Honda CR-V",
)  # fmt: skip
# (kind, model, implanted, what happens to it in hospital) -- none of it is PHI but the serial.
_DEVICES = (
    ("pacemaker", "Medtronic Azure XT DR", True, "interrogated by EP, functioning normally"),
    ("pacemaker", "Boston Scientific Accolade", True, "interrogated by EP, no events"),
    ("ICD", "St. Jude Ellipse VR", True, "interrogated, no shocks delivered"),
    ("ICD", "Medtronic Evera MRI", True, "tachy therapies off for procedure, then restored"),
    ("insulin pump", "Tandem t:slim X2", False, "basal rate continued per endocrine"),
    ("insulin pump", "Medtronic MiniMed 770G", False, "suspended, on insulin gtt"),
    ("LVAD", "HeartMate 3", True, "speed 5400 rpm, flows stable"),
    ("CPAP machine", "ResMed AirSense 10", False, "home settings 10 cm H2O continued qhs"),
    ("spinal cord stimulator", "Nevro Senza", True, "turned off for the procedure"),
    ("cochlear implant", "Cochlear Nucleus 7", True, "processor removed for imaging"),
)


def _possible_relations(age: int) -> tuple[str, ...]:
    """Relatives plausible for the patient's age (no grandchildren at 30, no mother at 90)."""
    out = [r for r in _OTHER_RELATIONS if age >= 55 or not r.startswith("grand")]
    if age < 38:
        out = [r for r in out if r.split("-")[0] not in ("daughter", "son")]
    if age >= 75:
        out.remove("mother")
    return tuple(out)


def _relative(
    rng: Random, relation: str, patient_last: str, patient_age: int, state: str
) -> Relative:
    female = relation in (
        "wife", "daughter", "sister", "niece", "granddaughter", "daughter-in-law", "mother"
    )  # fmt: skip
    if relation == "friend":
        female = rng.random() < 0.5
    same_last = relation in ("wife", "husband", "son", "brother", "grandson") or (
        relation in ("daughter", "sister") and rng.random() < 0.4
    )
    last = patient_last if same_last else rng.choice(pools().last)
    age = None
    if relation == "mother" and patient_age < 75:
        age = patient_age + rng.randint(20, 35)
    # Most relatives live nearby (local area code).
    phone = ids.phone_digits(rng, state if rng.random() < 0.7 else None)
    return Relative(relation, _first(rng, "F" if female else "M"), last, phone, age)


def _years_earlier(day: dt.date, years: int) -> dt.date:
    if day.month == 2 and day.day == 29:
        day = day.replace(day=28)
    return day.replace(year=day.year - years)


def _patient_age(rng: Random) -> int:
    # One patient in six is over 89, so AGE occurs often enough to learn from.
    return rng.randint(90, 104) if rng.random() < 1 / 6 else rng.randint(19, 89)


def make_patient(seed: int, index: int) -> Patient:
    """Patient ``index`` of ``seed``; depends only on those two numbers."""
    rng = Random(f"patient:{seed}:{index}")
    site = make_site(seed)
    p = pools()
    sex = rng.choice("FM")
    first, last = _first(rng, sex), rng.choice(p.last)
    middle = rng.choice("ABCDEFGHJKLMNPRSTW")
    age = _patient_age(rng)
    span_days = (ADMIT_LAST - ADMIT_FIRST).days
    admit = ADMIT_FIRST + dt.timedelta(days=rng.randrange(span_days))
    # The last birthday falls 1-364 days before admission, so the age at admission is exact.
    birthday = admit - dt.timedelta(days=rng.randint(1, 364))
    dob = _years_earlier(birthday, age)

    h = rng.randrange(len(site.hospitals))
    hospital, staff = site.hospitals[h], site.staff[h]
    attending = rng.choice(staff.attendings)
    others = [c for c in staff.attendings if c is not attending]
    # Most patients live in the state of the hospital that admits them.
    local = rng.random() < 0.85
    place = rng.choice(p.places_by_state[hospital.place.state] if local else p.places)

    relations = []
    if age > 25 and rng.random() < 0.6:
        relations.append(_RELATIONS_SPOUSE[sex])
    relations += rng.sample(_possible_relations(age), k=rng.randint(1, 3))
    relatives = tuple(_relative(rng, r, last, age, place.state) for r in relations)

    plan_name, plan_kind = ("Medicare", "medicare") if age >= 65 else rng.choice(_PLANS)
    handle = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}"))
    pcp_practice = make_facility(rng, "clinic", place.state)
    plate_state = place.state if rng.random() < 0.8 else rng.choice(("MA", "NH", "RI", "NY"))
    device = None
    if rng.random() < 0.5:
        kind, model, implanted, care = rng.choice(_DEVICES)
        device = Device(kind, model, ids.device_serial(rng), implanted, care)
    patient_num = f"{index + 1:06d}"
    return Patient(
        patient_id=f"P{seed % 1000:03d}{patient_num}",
        sex=sex,
        first=first,
        middle=middle,
        last=last,
        age=age,
        dob=dob,
        admit_date=admit,
        stay_days=rng.randint(3, 14),
        mrn=ids.mrn(rng),
        ssn=ids.ssn(rng),
        account=ids.account_number(rng),
        plan_name=plan_name,
        plan_kind=plan_kind,
        member_id=ids.health_plan_id(rng, plan_kind),
        street=f"{rng.randint(1, 9999)} {rng.choice(p.street_names)}"
        + (f", Apt {rng.randint(1, 40)}{rng.choice('ABCD')}" if rng.random() < 0.25 else ""),
        place=place,
        home_phone=ids.phone_digits(rng, place.state),
        cell_phone=ids.phone_digits(rng, place.state if rng.random() < 0.6 else None),
        email=f"{_slug_name(handle)}@{rng.choice(p.email_domains)}",
        drivers_license=ids.drivers_license(rng),
        relatives=relatives,
        hospital=hospital,
        ward=rng.choice(hospital.wards),
        attending=attending,
        resident=rng.choice(staff.residents),
        nurses=tuple(rng.sample(staff.nurses, k=4)),
        midlevel=rng.choice(staff.midlevels),
        therapist=rng.choice(staff.therapists),
        radiologist=rng.choice(staff.radiologists),
        ed_physician=rng.choice(staff.emergency),
        social_worker=rng.choice(staff.social_work),
        consultants=tuple(rng.sample(others, k=2)),
        pcp=make_clinician(rng, "MD", pcp_practice.domain),
        pcp_practice=pcp_practice,
        referring=make_facility(rng, "hospital", place.state, with_wards=False),
        discharge_to=make_facility(rng, "rehab", place.state),
        vehicle=Vehicle(
            f"{rng.randint(2004, 2022)} {rng.choice(_CARS)}",
            ids.vin(rng),
            ids.license_plate(rng),
            plate_state,
        ),
        device=device,
        portal_url=f"https://mychart.{hospital.domain}/p/{_slug(first)}{ids.digits(rng, 4)}",
        ip_address=ids.ipv4(rng) if rng.random() < 0.7 else ids.ipv6(rng),
        history=make_history(rng, admit.year, age),
    )
