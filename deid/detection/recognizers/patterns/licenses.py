"""LICENSE_NUMBER: DEA registrations, NPIs, and licence / certificate numbers after a label.

* DEA number: registrant-type letter, a letter (or 9), seven digits whose last is the
  DEA check digit — taken on its own, any position; a wrong check digit is never taken.
* NPI: ten digits after "NPI"; valid under the Luhn check with the 80840 prefix they
  score higher (ten-digit numbers without the label are phone numbers far more often).
* State medical / nursing / driver's licence, certificate, permit and board numbers:
  after their label, 3-25 alphanumerics with at least three digits.

Presidio's ``MedicalLicenseRecognizer`` is not reused: its DEA pattern has no word
boundaries (it fires inside longer tokens) and its NPI recognizer trusts substring
context words.
"""

from __future__ import annotations

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import (
    StructuredRecognizer,
    digit_count,
    labelled,
    luhn_valid,
)

# Registrant types A-M and P-X in use by the DEA (no I, N, O, Q, V, W, Y, Z).
DEA_REGEX = r"\b(?<!-)(?P<phi>[ABCDEFGHJKLMPRSTUX][A-Z9][0-9]{7})(?![\w-])"
LABELLED_DEA = labelled(r"dea", r"(?i:[a-z][a-z9])[0-9]{7}(?![\w-])")
NPI_REGEX = labelled(r"npi|national\s{1,3}provider\s{1,3}identifier", r"[0-9]{10}(?![\w-])")

_LICENSE_LABELS = (
    r"(?:(?:state|medical|nursing|physician|professional|driver'?s?|rn|md|lpn|np|pa)\s{1,3})?"
    r"(?:licen[cs]e(?!\s{0,3}plate)|lic\.)"
)
# Abbreviations and words that also occur in running text need a number word or colon.
_LICENSE_MARKED_LABELS = r"lic|(?:board\s{1,3})?certificat(?:e|ion)|cert\.?|permit|registration"
LABELLED_LICENSE = labelled(_LICENSE_LABELS)
MARKED_LICENSE = labelled(_LICENSE_MARKED_LABELS, marker_required=True)

MIN_LICENSE_DIGITS = 3


def dea_check_digit_valid(value: str) -> bool:
    """DEA rule: (d1 + d3 + d5) + 2 * (d2 + d4 + d6) ends in d7."""
    digits = [int(ch) for ch in value[2:]]
    if len(digits) != 7:
        return False
    total = digits[0] + digits[2] + digits[4] + 2 * (digits[1] + digits[3] + digits[5])
    return total % 10 == digits[6]


def npi_valid(value: str) -> bool:
    """NPI rule: Luhn over the ten digits prefixed with the card issuer code 80840."""
    return len(value) == 10 and value.isdigit() and luhn_valid("80840" + value)


class DeaNumberRecognizer(StructuredRecognizer):
    """DEA registration numbers with a valid check digit."""

    ENTITY = entities.LICENSE_NUMBER.name
    NAME = "deid.licenses.dea"
    PATTERNS = (("dea", DEA_REGEX, 0.85), ("dea_labelled", LABELLED_DEA, 0.95))

    def is_valid(self, value: str) -> bool:
        return dea_check_digit_valid(value)


class NpiRecognizer(StructuredRecognizer):
    """National Provider Identifiers after an "NPI" label; a failed Luhn check lowers the
    score (a mistyped NPI still identifies) but keeps it above the default threshold."""

    ENTITY = entities.LICENSE_NUMBER.name
    NAME = "deid.licenses.npi"
    PATTERNS = (("npi_labelled", NPI_REGEX, 0.95),)
    UNCHECKED_SCORE = 0.7

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        return start, end, score if npi_valid(text[start:end]) else self.UNCHECKED_SCORE


class LicenseNumberRecognizer(StructuredRecognizer):
    """Licence, certificate and permit numbers after their label."""

    ENTITY = entities.LICENSE_NUMBER.name
    NAME = "deid.licenses.license"
    PATTERNS = (
        ("license_labelled", LABELLED_LICENSE, 0.85),
        ("license_marked", MARKED_LICENSE, 0.8),
    )

    def is_valid(self, value: str) -> bool:
        return digit_count(value) >= MIN_LICENSE_DIGITS


RECOGNIZERS = [DeaNumberRecognizer, NpiRecognizer, LicenseNumberRecognizer]
