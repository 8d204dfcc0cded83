"""MRN, ACCOUNT_NUMBER, HEALTH_PLAN_ID and ID_NUMBER: identifiers known by their label.

A medical record number is just a number; only its label ("MRN:", "med rec #", "Unit
No") says so.  A de-identifier does not validate: whatever follows an identifier label
and holds a digit is the identifier, with or without letters, hyphens or a "#" of its
own ("MRN: #AB-123456", "ins. #789-1234-567", "policy ZY-678912", "ref code 7XK2P9").
Only all-digit values must have five digits or more (after "ID:" a four-digit number is
a time or a dose as often as not), and a number with a unit or ordinal glued on ("2nd",
"500mg") is no identifier.  Labels that are ordinary words ("account", "case", "ID")
need a number word or colon after them, so "account 1500 cc" or "ID following" never
fire; plan words ("policy", "plan", "subscriber") without one take only values shaped
like a card number (letters and digits, or a long digit run).

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

MIN_ALL_DIGIT_LENGTH = 5  # a bare four-digit value after "ID:" is a time or a dose
MIN_MIXED_LENGTH = 4  # letters and digits: "A12" is a room or a grid cell, "AB12" a code
# A number with a unit, ordinal or clock suffix glued on is a quantity, not an identifier.
_QUANTITY = regex.compile(
    r"(?i)[0-9]+(?:st|nd|rd|th|mg|mcg|ml|cc|kg|lbs?|am|pm|hrs?|min|mm|cm|wks?|yo|x|h|d|s)"
)
# A word with a small number ("vanco-15", "2-view", "lasix40") is an order or a level.
# (Upper-case letters glued to a digit are a code: "BRZXY4".)
_WORD_AND_NUMBER = regex.compile(
    r"[a-z]{3,}-?[0-9]{1,2}|[A-Za-z]{3,}-[0-9]{1,2}|[0-9]{1,2}-?[a-z]{3,}|[0-9]{1,2}-[A-Za-z]{3,}"
)
# Without a number word after a plan word, the value must look printed on a card.
MIN_BARE_PLAN_DIGITS = 5

_MRN_LABELS = (
    r"mrn|mr\s?\#|mr\s?(?:no|num|number)\b"
    r"|med(?:ical)?\.?\s{1,3}rec(?:ord)?s?\.?"
    r"|(?:unit|hospital|chart|record)\s{0,2}(?:\#|no\b\.?|num(?:ber)?\b)"
    r"|(?:patient|pt)\.?\s{1,3}(?:id|identifier)\b"
)
_ACCOUNT_STRONG = (
    r"acct|a/c\s?\#|csn|har\s?\#"
    r"|(?:account|visit|encounter)\s{0,2}(?:\#|no\b\.?|num(?:ber)?\b|id\b)"
    r"|billing\s{1,3}account"
)
# Not "visit": "family visit: 1400" is a time.
_ACCOUNT_WEAK = r"account|billing|invoice|financial|fin|encounter"
_PLAN_STRONG = (
    r"mbi|hicn|medicare\s{1,3}(?:beneficiary\s{1,3})?(?:id|number|no\b\.?|\#)"
    r"|medicaid\s{1,3}(?:id|number|no\b\.?|\#)|health\s{0,2}plan\s{1,3}(?:id|number|no\b\.?|\#)"
    r"|(?:member|subscriber|beneficiary|insurance|insured|policy|group|plan)"
    r"\s{0,2}(?:id|\#|no\b\.?|num(?:ber)?\b)"
)
_PLAN_WEAK = r"member|subscriber|policy|insurance|ins\.?|medicare|medicaid|masshealth"
# "policy ZY-678912", "plan 551-0481-213": a plan word right before a card-shaped value.
_PLAN_BARE = r"member|subscriber|policy|plan|group|insurance"
# "Insurance: Medicare, ID# 5HR8JW8VC44": a generic ID label after a payer word.
_PLAN_CONTEXT_ID = (
    r"(?:insurance|insurer|payer|payor|medicare|medicaid|masshealth|health\s?plan)\b"
    r"[^\n]{0,40}?\b(?:id|member|policy)"
)
_ID_WEAK = (
    r"id|identification|identifier|case|reference|ref|report|acc|accession|specimen|study"
    r"|badge|employee|passport|confirmation|conf|requisition|tracking|claim|ticket|auth"
    r"|authori[sz]ation|order|voucher"
)
# "ref code 7XK2P9", "confirmation code: QX7-44821": "code" makes these labels strong.
_ID_CODE = (
    r"(?:ref|reference|confirmation|conf|auth|authori[sz]ation|tracking|claim|case|ticket"
    r"|access|booking)\s{1,3}code"
)

# "envelope #4463132": six or more digits after "#" are no catheter size or problem number.
HASH_NUMBER = r"(?<![\w#])\#[ \t]?(?P<phi>[0-9]{2,12}(?:-[0-9]{2,12})?)(?![\w-]|\.[0-9])"
MIN_HASH_DIGITS = 6
# "policy #rg17", "order #A1234": a short letter prefix and digits after "#" is a code.
# (Catheter sizes "#18" and gauges "20g" do not start with a letter.)
HASH_CODE = r"(?<![\w#])\#[ \t]?(?P<phi>[A-Za-z]{1,4}[0-9]{2,10})(?![\w-])"
_LOCAL_PHONE = regex.compile(r"[0-9]{3}-[0-9]{4}")  # "# 555-1234" belongs to the phone recognizer


def id_value_ok(value: str) -> bool:
    """Whether a labelled value is an identifier: it holds a digit, is long enough, and
    is no quantity ("2nd", "500mg") or word with a small number ("vanco-15")."""
    digits = digit_count(value)
    if digits == 0:
        return False
    if digits == len(value) - value.count("-"):
        return digits >= MIN_ALL_DIGIT_LENGTH
    if len(value) < MIN_MIXED_LENGTH or _WORD_AND_NUMBER.fullmatch(value):
        return False
    return _QUANTITY.fullmatch(value) is None


def card_shaped(value: str) -> bool:
    """A value as printed on an insurance card: letters and digits ("ZY-678912",
    "W051545524") or a long digit run ("551-0481-213")."""
    return id_value_ok(value) and digit_count(value) >= MIN_BARE_PLAN_DIGITS


class _LabelledIdRecognizer(StructuredRecognizer):
    def is_valid(self, value: str) -> bool:
        return id_value_ok(value)


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


_BARE_PLAN = labelled(_PLAN_BARE)


class HealthPlanIdRecognizer(_LabelledIdRecognizer):
    """Health plan member / subscriber / policy / Medicare numbers after their label."""

    ENTITY = entities.HEALTH_PLAN_ID.name
    NAME = "deid.medical_ids.health_plan"
    PATTERNS = (
        ("health_plan_labelled", labelled(_PLAN_STRONG), 0.9),
        ("health_plan_marked", labelled(_PLAN_WEAK, marker_required=True), 0.85),
        ("health_plan_payer_id", labelled(_PLAN_CONTEXT_ID, marker_required=True), 0.8),
        ("health_plan_bare", _BARE_PLAN, 0.8),
    )

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        if match.re.pattern == _BARE_PLAN and not card_shaped(text[start:end]):
            return None
        return super().refine(text, match, start, end, score)


class IdNumberRecognizer(_LabelledIdRecognizer):
    """Any other identifier after a generic label ("ID #", "case no.", "accession #"), and
    long numbers after a bare "#" ("envelope #4463132")."""

    ENTITY = entities.ID_NUMBER.name
    NAME = "deid.medical_ids.id_number"
    PATTERNS = (
        ("id_marked", labelled(_ID_WEAK, marker_required=True), 0.7),
        ("id_code", labelled(_ID_CODE), 0.75),
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
