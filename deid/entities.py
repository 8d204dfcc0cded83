"""The entity taxonomy: every PHI type deidflow knows, defined once.

Each entity maps to exactly one of the 18 HIPAA Safe Harbor identifier categories
(45 CFR 164.514(b)(2)(i)).  Recognizers emit these names as Presidio entity labels,
operators are chosen per entity, and reports group counts by them.  Nothing else in
the code base may invent an entity label.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True)
class EntityType:
    """One PHI entity label.

    ``name`` is the label used everywhere (Presidio entity, span label, tag text);
    ``tag`` is what the ``tag`` operator writes, e.g. ``[NAME]``.
    """

    name: str
    safe_harbor: SafeHarbor
    tag: str
    description: str


_ALL: tuple[EntityType, ...] = (
    EntityType(
        "PERSON",
        SafeHarbor.NAMES,
        "NAME",
        "Patient, relative, clinician or other person name, incl. initials",
    ),
    EntityType(
        "HOSPITAL",
        SafeHarbor.GEOGRAPHIC,
        "HOSPITAL",
        "Hospital, clinic, care facility, ward or unit name",
    ),
    EntityType(
        "LOCATION",
        SafeHarbor.GEOGRAPHIC,
        "LOCATION",
        "City, town, county, state, country or other named place",
    ),
    EntityType("STREET_ADDRESS", SafeHarbor.GEOGRAPHIC, "ADDRESS", "Street address"),
    EntityType("ZIP_CODE", SafeHarbor.GEOGRAPHIC, "ZIP", "US ZIP code (5 or 9 digit)"),
    EntityType(
        "DATE", SafeHarbor.DATES, "DATE", "Calendar date or date element more specific than a year"
    ),
    EntityType("AGE", SafeHarbor.DATES, "AGE", "Age over 89"),
    EntityType(
        "PHONE_NUMBER", SafeHarbor.TELEPHONE, "PHONE", "Telephone, pager or extension number"
    ),
    EntityType("FAX_NUMBER", SafeHarbor.FAX, "FAX", "Fax number"),
    EntityType("EMAIL_ADDRESS", SafeHarbor.EMAIL, "EMAIL", "Email address"),
    EntityType("US_SSN", SafeHarbor.SSN, "SSN", "US social security number"),
    EntityType("MRN", SafeHarbor.MEDICAL_RECORD, "MRN", "Medical record number"),
    EntityType(
        "HEALTH_PLAN_ID",
        SafeHarbor.HEALTH_PLAN,
        "HEALTH_PLAN_ID",
        "Health plan beneficiary / member / policy number",
    ),
    EntityType("ACCOUNT_NUMBER", SafeHarbor.ACCOUNT, "ACCOUNT", "Account or billing number"),
    EntityType(
        "LICENSE_NUMBER",
        SafeHarbor.CERTIFICATE_LICENSE,
        "LICENSE",
        "Certificate, licence or DEA number",
    ),
    EntityType(
        "VEHICLE_ID",
        SafeHarbor.VEHICLE,
        "VEHICLE_ID",
        "Vehicle identification number or licence plate",
    ),
    EntityType("DEVICE_ID", SafeHarbor.DEVICE, "DEVICE_ID", "Device identifier or serial number"),
    EntityType("URL", SafeHarbor.URL, "URL", "Web address"),
    EntityType("IP_ADDRESS", SafeHarbor.IP_ADDRESS, "IP", "IPv4 or IPv6 address"),
    EntityType("ID_NUMBER", SafeHarbor.OTHER_ID, "ID", "Any other identifying number or code"),
)

ENTITIES: dict[str, EntityType] = {e.name: e for e in _ALL}
"""All entity types by label, in a stable order."""

ENTITY_NAMES: tuple[str, ...] = tuple(ENTITIES)


def entity(name: str) -> EntityType:
    """Look up an entity type by label; raises ``KeyError`` with the known labels."""
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity type {name!r}; known: {', '.join(ENTITY_NAMES)}") from None
