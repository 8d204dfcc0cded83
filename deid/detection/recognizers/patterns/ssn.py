"""US_SSN: social security numbers.

``123-45-6789`` is taken on its own; ``123 45 6789``, ``123.45.6789`` and ``123456789``
only after a label ("SSN", "SS#", "social security number", "my social is").  A
de-identifier does not validate: a labelled number is redacted whatever its digits
(the advertising range 987-65-4320..4329, area 000/666/9xx, group 00 are still
someone's written SSN, or a typo of one).  Unlabelled dashed numbers that break the
SSA's issuing rules (area 000, 666 or 9xx; group 00; serial 0000) are still reported,
with a lower score: nothing clinical is written 3-2-4.  Presidio's ``UsSsnRecognizer``
is not reused: it rejects such numbers and gives bare nine-digit numbers a score that
its substring context words ("ssid", "social") can lift.
"""

from __future__ import annotations

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import StructuredRecognizer, labelled

_SSN_LABEL = (
    r"ssn|ss\s?\#|ss\s?no|soc(?:ial)?\.?\s{1,3}sec(?:urity)?\.?(?:\s{1,3}(?:card|account))?"
    r"|social"  # "my social is 123456789"
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


SCORE_UNISSUABLE = 0.6  # dashed, unlabelled, against the issuing rules: still reported


class SsnRecognizer(StructuredRecognizer):
    """US social security numbers: dashed form on its own, other forms after a label."""

    ENTITY = entities.US_SSN.name
    NAME = "deid.ssn"
    PATTERNS = (("ssn_dashed", DASHED_SSN, 0.85), ("ssn_labelled", LABELLED_SSN, 0.95))

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        if match.re.pattern == LABELLED_SSN or ssn_is_issuable(text[start:end]):
            return start, end, score
        return start, end, min(score, SCORE_UNISSUABLE)


RECOGNIZERS = [SsnRecognizer]
