"""Per-entity surrogate generators: keyed, consistent, Faker-made, shaped like the original.

``surrogate_for(entity_type, text, draw)`` is the one entry point; ``draw`` (from
``SurrogateSource.for_patient``) ties every random choice to the secret key, the
patient and the normalized original value.
"""

from __future__ import annotations

from collections.abc import Callable

from deid.anonymization.surrogates.dates import parse_date, surrogate_date_text
from deid.anonymization.surrogates.names import person_surrogate
from deid.anonymization.surrogates.numbers import (
    email_surrogate,
    ip_surrogate,
    phone_surrogate,
    shaped_surrogate,
    ssn_surrogate,
    url_surrogate,
)
from deid.anonymization.surrogates.places import place_surrogate, street_address_surrogate
from deid.anonymization.surrogates.source import Draw, SurrogateSource

Generator = Callable[[str, Draw], str]

GENERATORS: dict[str, Generator] = {
    "PERSON": person_surrogate,
    "HOSPITAL": place_surrogate,
    "LOCATION": place_surrogate,
    "STREET_ADDRESS": street_address_surrogate,
    "DATE": lambda text, draw: surrogate_date_text(text, parse_date(text), draw),
    "PHONE_NUMBER": lambda text, draw: phone_surrogate(text, draw, "PHONE_NUMBER"),
    "FAX_NUMBER": lambda text, draw: phone_surrogate(text, draw, "FAX_NUMBER"),
    "EMAIL_ADDRESS": email_surrogate,
    "US_SSN": ssn_surrogate,
    "URL": url_surrogate,
    "IP_ADDRESS": ip_surrogate,
}
"""Entity types with a dedicated generator; all others (IDs, ZIP, AGE) keep their shape."""


def surrogate_for(entity_type: str, text: str, draw: Draw) -> str:
    """A surrogate for ``text`` of ``entity_type``; differs from it if it has letters or digits."""
    generator = GENERATORS.get(entity_type)
    out = generator(text, draw) if generator else shaped_surrogate(text, draw, entity_type)
    if out.casefold() == text.casefold():
        # e.g. a PERSON span holding only a title: fall back to a shaped surrogate.
        out = shaped_surrogate(text, draw, f"{entity_type}/shaped")
    return out


__all__ = ["GENERATORS", "Draw", "SurrogateSource", "surrogate_for"]
