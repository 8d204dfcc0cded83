"""DEVICE_ID: device identifiers and serial numbers.

* Serial numbers after a label: "serial #", "S/N", "IMEI", "device ID", "pacemaker
  serial", "ICD S/N" ... — 3-25 alphanumerics with at least two digits; after a bare
  "SN" (also "student nurse") at least four, five if it is all digits.
* Unique Device Identifiers: GS1 form "(01)<14 digits>(17)...(21)..." on its own; any
  form after a "UDI" label.
* MAC addresses: six hex pairs joined by ":" (or by "-" when a hex letter shows it is
  not a list of numbers).
"""

from __future__ import annotations

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import (
    ID_VALUE,
    StructuredRecognizer,
    digit_count,
    labelled,
)

MIN_SERIAL_DIGITS = 2

_DEVICE_WORDS = (
    r"pacemaker|ppm|icd|aicd|defibrillator|lvad|vad|pump|generator|stimulator|implant"
    r"|device|equipment|asset|monitor|lead"
)
_SERIAL_LABELS = (
    r"serial|s/n|imei|meid"
    rf"|(?:{_DEVICE_WORDS})\s{{1,3}}(?:serial|s/n|sn|id|identifier|tag)"
)
LABELLED_SERIAL = labelled(_SERIAL_LABELS)
# "SN" is also "student nurse": the value needs more digits (below).
SHORT_SN = r"\b(?i:sn)[ \t]{0,2}[:\#]?[ \t]{0,3}(?P<phi>" + ID_VALUE + ")"
MIN_SN_DIGITS = 4
LABELLED_UDI = labelled(
    r"udi|unique\s{1,3}device\s{1,3}identifier",
    r"[A-Za-z0-9(+][A-Za-z0-9()+/$%.-]{5,80}(?<=[A-Za-z0-9)])(?![\w-])",
)
GS1_UDI = r"(?<![\w)])\(01\)[0-9]{14}(?:\([0-9]{2,4}\)[A-Za-z0-9-]{1,20})*(?![\w-])"
# Anchored at the first separator, with the first pair in a lookbehind (fast).
MAC_ADDRESS = (
    r"(?P<sep>[:-])(?<=(?<![\w:-])(?P<lead>[0-9A-Fa-f]{2})[:-])"
    r"[0-9A-Fa-f]{2}(?:(?P=sep)[0-9A-Fa-f]{2}){4}(?![\w:-])"
)


class DeviceIdRecognizer(StructuredRecognizer):
    """Serial numbers and UDIs after their label, GS1 UDIs and MAC addresses."""

    ENTITY = entities.DEVICE_ID.name
    NAME = "deid.devices"
    PATTERNS = (
        ("serial_labelled", LABELLED_SERIAL, 0.85),
        ("serial_sn", SHORT_SN, 0.8),
        ("udi_labelled", LABELLED_UDI, 0.9),
        ("udi_gs1", GS1_UDI, 0.9),
        ("mac_address", MAC_ADDRESS, 0.85),
    )

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        value = text[start:end]
        if "sep" in match.re.groupindex:
            if match.group("sep") == "-" and not any(ch.isalpha() for ch in value):
                return None
            return start, end, score
        digits = digit_count(value)
        if match.re.pattern == SHORT_SN:
            # "SN 1200" is a student nurse at noon more often than a serial number.
            needed = MIN_SN_DIGITS + 1 if digits == len(value) else MIN_SN_DIGITS
        else:
            needed = MIN_SERIAL_DIGITS
        if digits < needed:
            return None
        return start, end, score


RECOGNIZERS = [DeviceIdRecognizer]
