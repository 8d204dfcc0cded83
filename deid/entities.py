"""The entity taxonomy: every PHI type deidflow knows, defined once, with what is done to it.

Each entity maps to exactly one of the 18 HIPAA Safe Harbor identifier categories
(45 CFR 164.514(b)(2)(i)) and owns how it is replaced: the tag the ``tag`` operator
writes, the operator ``surrogate`` mode applies to it (a keyed surrogate, a date shift
or Safe Harbor's generalization) and the generator of its surrogate -- as scrubadub's
``Filth`` classes own their ``type`` and ``generate(faker)``.  Recognizers emit these
names as Presidio entity labels, reports group counts by them, and nothing else in the
code base may invent an entity label or keep a table keyed by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from deid.anonymization.surrogates.ages import generalize_age
from deid.anonymization.surrogates.dates import date_surrogate
from deid.anonymization.surrogates.names import person_surrogate
from deid.anonymization.surrogates.numbers import (
    email_surrogate,
    fax_surrogate,
    ip_surrogate,
    phone_surrogate,
    shaped_surrogate,
    ssn_surrogate,
    url_surrogate,
)
from deid.anonymization.surrogates.places import (
    hospital_surrogate,
    place_surrogate,
    street_address_surrogate,
)
from deid.anonymization.surrogates.source import Draw
from deid.anonymization.surrogates.zip_codes import generalize_zip


class SafeHarbor(StrEnum):
    """The 18 Safe Harbor identifier categories, in the order the rule lists them."""

    NAMES = "A. Names"
    GEOGRAPHIC = "B. Geographic subdivisions smaller than a state"
    DATES = "C. Dates (except year) and ages over 89"
    TELEPHONE = "D. Telephone numbers"
    FAX = "E. Fax numbers"
    EMAIL = "F. Email addresses"
    SSN = "G. Social security numbers"
    MEDICAL_RECORD = "H. Medical record numbers"
    HEALTH_PLAN = "I. Health plan beneficiary numbers"
    ACCOUNT = "J. Account numbers"
    CERTIFICATE_LICENSE = "K. Certificate/license numbers"
    VEHICLE = "L. Vehicle identifiers and serial numbers, including license plates"
    DEVICE = "M. Device identifiers and serial numbers"
    URL = "N. Web URLs"
    IP_ADDRESS = "O. IP addresses"
    BIOMETRIC = "P. Biometric identifiers"
    PHOTO = "Q. Full-face photographs and comparable images"
    OTHER_ID = "R. Any other unique identifying number, characteristic, or code"


class DateKind(StrEnum):
    """What a DATE span holds: its recognizer reports it as the span's ``kind``."""

    FULL = "full"  # day, month and year
    MONTH_DAY = "month_day"
    MONTH_YEAR = "month_year"
    DAY = "day"  # an ordinal day: "the 3rd"
    MONTH = "month"  # a month name alone
    HOLIDAY = "holiday"  # a named day
    YEAR = "year"  # a year standing alone: Safe Harbor lets it stay


SurrogateMode = Literal["surrogate", "date_shift", "generalize"]
"""What ``surrogate`` mode does to an entity (the name of the operator it applies)."""

Generator = Callable[[str, Draw], str]
"""A surrogate generator: the original text and a keyed draw in, the surrogate out."""


@dataclass(frozen=True)
class EntityType:
    """One PHI entity label, its Safe Harbor category, and how it is replaced.

    ``name`` is the label used everywhere (Presidio entity, span label, config key);
    ``tag`` is what the ``tag`` operator writes, e.g. ``[NAME]``.
    """

    name: str
    safe_harbor: SafeHarbor
    tag: str
    description: str
    operator: SurrogateMode = "surrogate"
    """The operator ``surrogate`` mode applies: a keyed ``surrogate`` (most types),
    ``date_shift`` (dates keep their intervals) or ``generalize`` (Safe Harbor's ``90+``
    ages and ZIP3)."""
    generator: Generator | None = field(default=None, repr=False)
    """The realistic surrogate of a name, place, date, phone, ...; ``None``: a value of
    the same shape (IDs: digit for digit, letter for letter)."""
    generalization: Callable[[str], str] | None = field(default=None, repr=False)
    """Safe Harbor's coarser rendering, for entities whose ``operator`` is ``generalize``."""

    def surrogate(self, text: str, draw: Draw) -> str:
        """A surrogate for ``text``; differs from it if it has letters or digits."""
        if self.generator is not None:
            out = self.generator(text, draw)
        else:
            out = shaped_surrogate(text, draw, self.name)
        if out.casefold() == text.casefold():
            # e.g. a PERSON span holding only a title: fall back to a shaped surrogate.
            out = shaped_surrogate(text, draw, f"{self.name}/shaped")
        return out

    def generalize(self, text: str) -> str:
        """Safe Harbor's rendering of ``text`` (``ValueError`` if this type has none)."""
        if self.generalization is None:
            raise ValueError(f"{self.name} has no Safe Harbor generalization")
        return self.generalization(text)


PERSON = EntityType(
    "PERSON",
    SafeHarbor.NAMES,
    "NAME",
    "Patient, relative, clinician or other person name, incl. initials",
    generator=person_surrogate,
)
HOSPITAL = EntityType(
    "HOSPITAL",
    SafeHarbor.GEOGRAPHIC,
    "HOSPITAL",
    "Hospital, clinic, care facility, ward or unit name",
    generator=hospital_surrogate,
)
LOCATION = EntityType(
    "LOCATION",
    SafeHarbor.GEOGRAPHIC,
    "LOCATION",
    "City, town, county, state, country or other named place",
    generator=place_surrogate,
)
STREET_ADDRESS = EntityType(
    "STREET_ADDRESS",
    SafeHarbor.GEOGRAPHIC,
    "ADDRESS",
    "Street address",
    generator=street_address_surrogate,
)
ZIP_CODE = EntityType(
    "ZIP_CODE",
    SafeHarbor.GEOGRAPHIC,
    "ZIP",
    "US ZIP code (5 or 9 digit)",
    operator="generalize",
    generalization=generalize_zip,
)
DATE = EntityType(
    "DATE",
    SafeHarbor.DATES,
    "DATE",
    "Calendar date or date element more specific than a year",
    operator="date_shift",
    generator=date_surrogate,
)
AGE = EntityType(
    "AGE",
    SafeHarbor.DATES,
    "AGE",
    "Age over 89",
    operator="generalize",
    generalization=generalize_age,
)
PHONE_NUMBER = EntityType(
    "PHONE_NUMBER",
    SafeHarbor.TELEPHONE,
    "PHONE",
    "Telephone, pager or extension number",
    generator=phone_surrogate,
)
FAX_NUMBER = EntityType("FAX_NUMBER", SafeHarbor.FAX, "FAX", "Fax number", generator=fax_surrogate)
EMAIL_ADDRESS = EntityType(
    "EMAIL_ADDRESS", SafeHarbor.EMAIL, "EMAIL", "Email address", generator=email_surrogate
)
US_SSN = EntityType(
    "US_SSN", SafeHarbor.SSN, "SSN", "US social security number", generator=ssn_surrogate
)
MRN = EntityType("MRN", SafeHarbor.MEDICAL_RECORD, "MRN", "Medical record number")
HEALTH_PLAN_ID = EntityType(
    "HEALTH_PLAN_ID",
    SafeHarbor.HEALTH_PLAN,
    "HEALTH_PLAN_ID",
    "Health plan beneficiary / member / policy number",
)
ACCOUNT_NUMBER = EntityType(
    "ACCOUNT_NUMBER", SafeHarbor.ACCOUNT, "ACCOUNT", "Account or billing number"
)
LICENSE_NUMBER = EntityType(
    "LICENSE_NUMBER",
    SafeHarbor.CERTIFICATE_LICENSE,
    "LICENSE",
    "Certificate, licence or DEA number",
)
VEHICLE_ID = EntityType(
    "VEHICLE_ID",
    SafeHarbor.VEHICLE,
    "VEHICLE_ID",
    "Vehicle identification number or licence plate",
)
DEVICE_ID = EntityType(
    "DEVICE_ID", SafeHarbor.DEVICE, "DEVICE_ID", "Device identifier or serial number"
)
URL = EntityType("URL", SafeHarbor.URL, "URL", "Web address", generator=url_surrogate)
IP_ADDRESS = EntityType(
    "IP_ADDRESS", SafeHarbor.IP_ADDRESS, "IP", "IPv4 or IPv6 address", generator=ip_surrogate
)
ID_NUMBER = EntityType(
    "ID_NUMBER", SafeHarbor.OTHER_ID, "ID", "Any other identifying number or code"
)

ENTITIES: dict[str, EntityType] = {
    e.name: e
    for e in (
        PERSON,
        HOSPITAL,
        LOCATION,
        STREET_ADDRESS,
        ZIP_CODE,
        DATE,
        AGE,
        PHONE_NUMBER,
        FAX_NUMBER,
        EMAIL_ADDRESS,
        US_SSN,
        MRN,
        HEALTH_PLAN_ID,
        ACCOUNT_NUMBER,
        LICENSE_NUMBER,
        VEHICLE_ID,
        DEVICE_ID,
        URL,
        IP_ADDRESS,
        ID_NUMBER,
    )
}
"""All entity types by label, in a stable order."""

ENTITY_NAMES: tuple[str, ...] = tuple(ENTITIES)


def entity(name: str) -> EntityType:
    """Look up an entity type by label; raises ``KeyError`` with the known labels."""
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity type {name!r}; known: {', '.join(ENTITY_NAMES)}") from None
