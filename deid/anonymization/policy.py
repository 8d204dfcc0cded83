"""De-identification policies: which detected values are identifiers, and which operator
replaces each entity.

``safe_harbor`` (default) follows 45 CFR 164.514(b)(2)(i):

* ages over 89 become ``90+`` ("92 yo" -> "90+ yo"); ages up to 89 are kept -- they
  are not identifiers;
* a year on its own ("1992", "'92", "1980s") is kept: the rule allows years
  (``keep_bare_years: false`` in the config shifts them instead);
* ZIP codes keep their first three digits and every later digit becomes 0
  ("02114" -> "02100", "02114-1234" -> "02100-0000"), except the three-digit prefixes
  the rule's guidance lists as covering 20,000 people or fewer, which become all
  zeros ("03601" -> "00000");
* every other detected value is an identifier and is replaced by the entity's mode.

``strict`` additionally redacts every date element and every age (Safe Harbor's
category C): DATE and AGE spans in surrogate mode are replaced by their tag (``[DATE]``,
``[AGE]``) -- nothing of a date survives, not even a year or a shifted date.  ZIP codes
follow the same ZIP3 rule.

The renderings themselves (``90+``, ZIP3) are the entities' own
(``deid.entities``, ``deid.anonymization.surrogates.ages`` and ``.zip_codes``).
"""

from __future__ import annotations

import re

from deid.anonymization.surrogates.ages import MAX_AGE_KEPT, parse_age
from deid.anonymization.surrogates.dates import parse_date
from deid.config import Mode, Policy
from deid.entities import AGE, DATE, ENTITIES, DateKind, SafeHarbor

_YEAR_ONLY_RE = re.compile(r"\s*'?\d{2}(?:\d{2})?(?:'?s)?'?\s*", re.IGNORECASE)


def is_identifier(
    entity_type: str, value: str, policy: Policy, kind: str = "", keep_years: bool = True
) -> bool:
    """Whether a detected value must be replaced under ``policy``.

    Under ``safe_harbor``, ages of 89 or less and (unless ``keep_years`` is False) bare
    years are not identifiers: a DATE is a bare year when its recognizer says so
    (``kind`` is ``DateKind.YEAR``: "MI 04") or when it parses as one ("1992", "'92",
    "1980s").  An age that cannot be read counts as an identifier (the safe side).
    """
    if policy == "strict":
        return True
    if entity_type == AGE.name:
        age = parse_age(value)
        return age is None or age > MAX_AGE_KEPT
    if entity_type == DATE.name and keep_years:
        if kind == DateKind.YEAR and _YEAR_ONLY_RE.fullmatch(value):
            return False
        parsed = parse_date(value)
        return parsed is None or parsed.kind != "year"
    return True


def operator_name_for(entity_type: str, mode: Mode, policy: Policy) -> str:
    """Name of the operator that replaces ``entity_type`` in ``mode`` under ``policy``.

    ``tag`` and ``mask`` modes apply themselves; ``surrogate`` mode applies the entity's
    own operator (``EntityType.operator``), except that ``strict`` tags dates and ages.
    """
    if mode != "surrogate":
        return mode
    entity = ENTITIES.get(entity_type)
    if entity is None:
        return "surrogate"  # the operator rejects the unknown type (InvalidParamError)
    if policy == "strict" and entity.safe_harbor is SafeHarbor.DATES:
        return "tag"
    return entity.operator
