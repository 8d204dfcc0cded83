"""US_SSN: social security numbers.

``123-45-6789`` is taken on its own; ``123 45 6789``, ``123.45.6789`` and ``123456789``
only after a label ("SSN", "SS#", "social security number").  Every candidate must
obey the SSA's issuing rules: area not 000, 666 or 900-999; group not 00; serial not
0000.  Presidio's ``UsSsnRecognizer`` is not reused: it also rejects the documentation
example 123-45-6789 and gives bare nine-digit numbers a score that its substring
context words ("ssid", "social") can lift.
"""

from __future__ import annotations

from deid import entities
from deid.detection.recognizers.patterns._structured import StructuredRecognizer, labelled

_SSN_LABEL = (
    r"ssn|ss\s?\#|ss\s?no|soc(?:ial)?\.?\s{1,3}sec(?:urity)?\.?(?:\s{1,3}(?:card|account))?"
)
DASHED_SSN = r"(?<![\w-])(?P<phi>[0-9]{3}-[0-9]{2}-[0-9]{4})(?![\w-]|\.[0-9])"
LABELLED_SSN = labelled(
    _SSN_LABEL, r"[0-9]{3}(?P<sep>[- .]?)[0-9]{2}(?P=sep)[0-9]{4}(?![\w-]|\.[0-9])"
)


def ssn_is_issuable(value: str) -> bool:
    """Whether the nine digits of ``value`` follow the SSA's rules for issued numbers."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


class SsnRecognizer(StructuredRecognizer):
    """US social security numbers: dashed form on its own, other forms after a label."""

    ENTITY = entities.US_SSN.name
    NAME = "deid.ssn"
    PATTERNS = (("ssn_dashed", DASHED_SSN, 0.85), ("ssn_labelled", LABELLED_SSN, 0.95))

    def is_valid(self, value: str) -> bool:
        return ssn_is_issuable(value)


RECOGNIZERS = [SsnRecognizer]
