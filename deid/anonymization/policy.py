"""De-identification policies: which detected values are identifiers, and Safe Harbor renderings.

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

``strict`` additionally redacts every date element and every age: DATE and AGE spans
in surrogate mode are replaced by their tag (``[DATE]``, ``[AGE]``) -- nothing of a
date survives, not even a year or a shifted date.  ZIP codes follow the same ZIP3 rule.
"""

from __future__ import annotations

import re

from deid.anonymization.surrogates.dates import parse_date
from deid.config import Mode, Policy
from deid.detection.recognizers.patterns.dates import YEAR_RECOGNIZER_NAME

MAX_AGE_KEPT = 89
AGE_OVER_89 = "90+"

# Three-digit ZIP prefixes with 20,000 or fewer people (2000 Census), per HHS
# guidance on the Safe Harbor method.
RESTRICTED_ZIP3 = frozenset(
    ("036", "059", "063", "102", "203", "556", "692", "790", "821")
    + ("823", "830", "831", "878", "879", "884", "890", "893")
)

_NUMBER_RE = re.compile(r"\d+")
_AGE_NUMBER_RE = re.compile(r"\d+(?:'?s\b)?")  # "92", "90s", "90's"
_YEAR_ONLY_RE = re.compile(r"\s*'?\d{2}(?:\d{2})?(?:'?s)?'?\s*", re.IGNORECASE)
_UNITS_TEXT = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS_TEXT = "twenty thirty forty fifty sixty seventy eighty ninety"
_NUMBER_WORDS = {
    **{w: i for i, w in enumerate(_UNITS_TEXT.split())},
    **{w: 10 * i for i, w in enumerate(_TENS_TEXT.split(), start=2)},
}
_WORD_RE = re.compile(r"[a-z]+")
_SPELLED_AGE_RE = re.compile(
    r"(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r"|hundred)"
    r"(?:[\s-]+(?:and[\s-]+)?(?:"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r"|hundred))*",
    re.IGNORECASE,
)


def is_identifier(
    entity_type: str, value: str, policy: Policy, recognizer: str = "", keep_years: bool = True
) -> bool:
    """Whether a detected value must be replaced under ``policy``.

    Under ``safe_harbor``, ages of 89 or less and (unless ``keep_years`` is False) bare
    years are not identifiers: a DATE is a bare year when the year recognizer found it
    ("MI 04") or when it parses as one ("1992", "'92", "1980s").  An age that cannot be
    read counts as an identifier (the safe side).
    """
    if policy == "strict":
        return True
    if entity_type == "AGE":
        age = parse_age(value)
        return age is None or age > MAX_AGE_KEPT
    if entity_type == "DATE" and keep_years:
        if recognizer == YEAR_RECOGNIZER_NAME and _YEAR_ONLY_RE.fullmatch(value):
            return False
        parsed = parse_date(value)
        return parsed is None or parsed.kind != "year"
    return True


def operator_name_for(entity_type: str, mode: Mode, policy: Policy) -> str:
    """Name of the operator that replaces ``entity_type`` in ``mode`` under ``policy``."""
    if mode != "surrogate":
        return mode
    if entity_type in ("DATE", "AGE") and policy == "strict":
        return "tag"
    if entity_type == "DATE":
        return "date_shift"
    if entity_type in ("AGE", "ZIP_CODE"):
        return "generalize"
    return "surrogate"


def parse_age(value: str) -> int | None:
    """The age a span states: its first number, or a spelled-out one ("ninety-two")."""
    m = _NUMBER_RE.search(value)
    if m:
        return int(m.group())
    m = _SPELLED_AGE_RE.search(value)
    return _words_to_int(m.group()) if m else None


def generalize_age(value: str) -> str:
    """Safe Harbor rendering of an age over 89: its number becomes ``90+``."""
    m = _AGE_NUMBER_RE.search(value) or _SPELLED_AGE_RE.search(value)
    if m is None:
        return AGE_OVER_89
    return value[: m.start()] + AGE_OVER_89 + value[m.end() :]


def generalize_zip(value: str) -> str:
    """Safe Harbor ZIP3: keep the first three digits unless restricted, zero the rest."""
    digits = [c for c in value if c.isdigit()]
    prefix = "".join(digits[:3])
    keep = 3 if len(digits) >= 3 and prefix not in RESTRICTED_ZIP3 else 0
    out = []
    seen = 0
    for c in value:
        if c.isdigit():
            out.append(c if seen < keep else "0")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


def _words_to_int(text: str) -> int:
    total = 0
    for word in _WORD_RE.findall(text.casefold()):
        if word == "hundred":
            total = max(total, 1) * 100
        else:
            total += _NUMBER_WORDS.get(word, 0)
    return total
