"""VEHICLE_ID: vehicle identification numbers and licence plates.

* VIN: 17 characters from the VIN alphabet (no I, O, Q) with letters and digits.  On
  its own it must carry a valid North-American check digit (position 9); after a "VIN"
  label any such 17-character code is taken (VINs from elsewhere have no check digit).
* Licence plate: only after a label ("license plate", "plate #", "tag number", "WI
  plate"): one or two upper-case alphanumeric chunks, 2-8 characters with at least one
  digit.  After the bare word "plate" (also orthopaedic hardware) the value must mix
  letters and digits in 5-8 characters.
"""

from __future__ import annotations

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import (
    LABEL_SEPARATOR,
    PHI_GROUP,
    StructuredRecognizer,
    has_letter_and_digit,
    labelled,
)
from deid.detection.recognizers.patterns.zip_codes import ZIP_PREFIXES

_VIN_CHARS = "A-HJ-NPR-Z0-9"
VIN_REGEX = rf"\b(?<!-)(?P<{PHI_GROUP}>[{_VIN_CHARS}]{{17}})(?![\w-])"
LABELLED_VIN = labelled(r"vin|vehicle\s{1,3}identification", rf"[{_VIN_CHARS}]{{17}}(?![\w-])")

_PLATE_LABELS = (
    r"(?:licen[cs]e|registration)\s{1,3}plates?|plate\s{0,2}(?:\#|no\b\.?|num(?:ber)?\b)"
    r"|tag\s{0,2}(?:\#|no\b\.?|num(?:ber)?\b)|(?:licen[cs]e\s{1,3})?plate\s{1,3}reads"
)
_PLATE_VALUE = r"[A-Z0-9]{1,8}(?:[ -](?P<second>[A-Z0-9]{1,5}))?(?![\w-])"
LABELLED_PLATE = labelled(_PLATE_LABELS, _PLATE_VALUE)
# "WI plate 8MUV933": a state abbreviation makes the bare word "plate" a label.
STATE_PLATE = (
    rf"\b(?:{'|'.join(sorted(ZIP_PREFIXES))})[ \t]{{1,2}}(?i:plates?|tags?)(?![A-Za-z])"
    rf"{LABEL_SEPARATOR}(?P<{PHI_GROUP}>{_PLATE_VALUE})"
)
# "(plate 5IEI133)": the bare word is also orthopaedic hardware, so the value must look
# like a plate — 5-8 characters mixing letters and digits (checked in refine).
BARE_PLATE = labelled(r"plates?", _PLATE_VALUE)
MIN_PLATE_CHARS = 2
MIN_BARE_PLATE_CHARS = 5
MAX_PLATE_CHARS = 8

_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit_valid(vin: str) -> bool:
    """ISO 3779 / 49 CFR 565 check digit: weighted sum mod 11 at position 9 (10 -> X)."""
    vin = vin.upper()
    if len(vin) != 17 or any(ch not in _TRANSLITERATION for ch in vin):
        return False
    remainder = sum(_TRANSLITERATION[ch] * w for ch, w in zip(vin, _WEIGHTS, strict=True)) % 11
    return vin[8] == ("X" if remainder == 10 else str(remainder))


class VinRecognizer(StructuredRecognizer):
    """Vehicle identification numbers: check digit on their own, any after a label."""

    ENTITY = entities.VEHICLE_ID.name
    NAME = "deid.vehicles.vin"
    PATTERNS = (("vin_check_digit", VIN_REGEX, 0.9), ("vin_labelled", LABELLED_VIN, 0.9))

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        value = text[start:end]
        if not has_letter_and_digit(value):
            return None
        if match.re.pattern != LABELLED_VIN and not vin_check_digit_valid(value):
            return None
        return start, end, score


class LicensePlateRecognizer(StructuredRecognizer):
    """Licence plates after a plate label."""

    ENTITY = entities.VEHICLE_ID.name
    NAME = "deid.vehicles.plate"
    PATTERNS = (
        ("plate_labelled", LABELLED_PLATE, 0.85),
        ("plate_state", STATE_PLATE, 0.85),
        ("plate_bare", BARE_PLATE, 0.75),
    )

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        second_start = match.start("second")
        # "PLATE # 7ABC123 WAS": a digitless second chunk is the next word, not the plate.
        if (
            second_start >= 0
            and not any(ch.isdigit() for ch in match.group("second"))
            and any(ch.isdigit() for ch in text[start:second_start])
        ):
            end = second_start - 1
        value = text[start:end]
        chars = sum(ch.isalnum() for ch in value)
        if not MIN_PLATE_CHARS <= chars <= MAX_PLATE_CHARS or not any(ch.isdigit() for ch in value):
            return None
        if match.re.pattern == BARE_PLATE and (
            chars < MIN_BARE_PLATE_CHARS or not has_letter_and_digit(value)
        ):
            return None
        return start, end, score


RECOGNIZERS = [VinRecognizer, LicensePlateRecognizer]
