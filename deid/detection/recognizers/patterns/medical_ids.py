"""MRN, ACCOUNT_NUMBER, HEALTH_PLAN_ID and ID_NUMBER: identifiers known by their label.

A medical record number is just a number; only its label ("MRN:", "med rec #", "Unit
No") says so.  Each recognizer here pairs labels with an alphanumeric value of 3-25
characters holding at least four digits, five if it is all digits ("medical record #
1234567", "Member ID: XYZ123456789").  Labels that are ordinary words ("account",
"case", "ID") need a number word or colon after them, so "account 1500 cc" or "ID
following" never fire.

Where labels overlap ("patient ID: 123", "member ID: 123") the specific type scores
higher than the generic ID_NUMBER, so the merged span keeps the specific label.
"""

from __future__ import annotations

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import (
    StructuredRecognizer,
    digit_count,
    labelled,
)

MIN_DIGITS = 4
MIN_ALL_DIGIT_LENGTH = 5  # a bare four-digit value after "ID:" is a time or a dose

_MRN_LABELS = (
    r"mrn|mr\s?\#|mr\s?(?:no|num|number)\b"
    r"|med(?:ical)?\.?\s{1,3}rec(?:ord)?s?\.?"
    r"|(?:unit|hospital|chart|record)\s{0,2}(?:\#|no\b\.?|num(?:ber)?\b)"
    r"|(?:patient|pt)\.?\s{1,3}(?:id|identifier)\b"
)
_ACCOUNT_STRONG = (
    r"acct|a/c\s?\#|csn|har\s?\#"
    r"|(?:account|visit|encounter)\s{0,2}(?:\#|no\b\.?|num(?:ber)?\b|id\b)"
)
# Not "visit": "family visit: 1400" is a time.
_ACCOUNT_WEAK = r"account|billing|invoice|financial|fin|encounter|claim"
_PLAN_STRONG = (
    r"mbi|hicn|medicare\s{1,3}(?:beneficiary\s{1,3})?(?:id|number|no\b\.?|\#)"
    r"|medicaid\s{1,3}(?:id|number|no\b\.?|\#)|health\s{0,2}plan\s{1,3}(?:id|number|no\b\.?|\#)"
    r"|(?:member|subscriber|beneficiary|insurance|insured|policy|group|plan)"
    r"\s{0,2}(?:id|\#|no\b\.?|num(?:ber)?\b)"
)
_PLAN_WEAK = r"member|subscriber|policy|insurance|medicare|medicaid|masshealth"
# "Insurance: Medicare, ID# 5HR8JW8VC44": a generic ID label after a payer word.
_PLAN_CONTEXT_ID = (
    r"(?:insurance|insurer|payer|payor|medicare|medicaid|masshealth|health\s?plan)\b"
    r"[^\n]{0,40}?\b(?:id|member|policy)"
)
_ID_WEAK = (
    r"id|identification|identifier|case|reference|ref|report|acc|accession|specimen|study"
    r"|badge|employee|passport|confirmation|requisition|tracking"
)

# "envelope #4463132": six or more digits after "#" are no catheter size or problem number.
HASH_NUMBER = r"(?<![\w#])\#[ \t]?(?P<phi>[0-9]{2,12}(?:-[0-9]{2,12})?)(?![\w-]|\.[0-9])"
MIN_HASH_DIGITS = 6
# "policy #rg17", "order #A1234": a short letter prefix and digits after "#" is a code.
# (Catheter sizes "#18" and gauges "20g" do not start with a letter.)
HASH_CODE = r"(?<![\w#])\#[ \t]?(?P<phi>[A-Za-z]{1,4}[0-9]{2,10})(?![\w-])"
_LOCAL_PHONE = regex.compile(r"[0-9]{3}-[0-9]{4}")  # "# 555-1234" belongs to the phone recognizer


class _LabelledIdRecognizer(StructuredRecognizer):
    def is_valid(self, value: str) -> bool:
        digits = digit_count(value)
        if digits == len(value):
            return digits >= MIN_ALL_DIGIT_LENGTH
        return digits >= MIN_DIGITS


class MrnRecognizer(_LabelledIdRecognizer):
    """Medical record numbers after an MRN label."""

    ENTITY = entities.MRN.name
    NAME = "deid.medical_ids.mrn"
    PATTERNS = (("mrn_labelled", labelled(_MRN_LABELS), 0.9),)


class AccountNumberRecognizer(_LabelledIdRecognizer):
    """Account, billing, encounter and claim numbers after their label."""

    ENTITY = entities.ACCOUNT_NUMBER.name
    NAME = "deid.medical_ids.account"
    PATTERNS = (
        ("account_labelled", labelled(_ACCOUNT_STRONG), 0.85),
        ("account_marked", labelled(_ACCOUNT_WEAK, marker_required=True), 0.8),
    )


class HealthPlanIdRecognizer(_LabelledIdRecognizer):
    """Health plan member / subscriber / policy / Medicare numbers after their label."""

    ENTITY = entities.HEALTH_PLAN_ID.name
    NAME = "deid.medical_ids.health_plan"
    PATTERNS = (
        ("health_plan_labelled", labelled(_PLAN_STRONG), 0.9),
        ("health_plan_marked", labelled(_PLAN_WEAK, marker_required=True), 0.85),
        ("health_plan_payer_id", labelled(_PLAN_CONTEXT_ID, marker_required=True), 0.8),
    )


class IdNumberRecognizer(_LabelledIdRecognizer):
    """Any other identifier after a generic label ("ID #", "case no.", "accession #"), and
    long numbers after a bare "#" ("envelope #4463132")."""

    ENTITY = entities.ID_NUMBER.name
    NAME = "deid.medical_ids.id_number"
    PATTERNS = (
        ("id_marked", labelled(_ID_WEAK, marker_required=True), 0.7),
        ("id_hash_number", HASH_NUMBER, 0.6),
        ("id_hash_code", HASH_CODE, 0.6),
    )

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        if match.re.pattern == HASH_NUMBER:
            value = text[start:end]
            if digit_count(value) < MIN_HASH_DIGITS or _LOCAL_PHONE.fullmatch(value):
                return None
        if match.re.pattern == HASH_CODE:
            return start, end, score
        return super().refine(text, match, start, end, score)


RECOGNIZERS = [
    MrnRecognizer,
    AccountNumberRecognizer,
    HealthPlanIdRecognizer,
    IdNumberRecognizer,
]
