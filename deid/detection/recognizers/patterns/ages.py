"""AGE recognizer: ages over 89, the only ages Safe Harbor treats as identifying.

Finds ``92 yo``, ``93 y/o``, ``95-year-old``, ``age 91``, ``in her 90s``, ``ninety-two
year old``, a person's age stated with a verb (``she is 95``, ``my dad is now 91``,
``turned 100``, ``is ninety-two``), age and sex (``(95F)``, ``94 M``, ``Jo Doe, 95F``:
an ``F`` needs a bracket or comma before it; ``T 99F`` is a temperature, ``HR 95 M``
nothing) and, opening a
line, ``98 s/p ...`` / ``98 M``.  Ages of 89 and under are
not PHI and are never reported.  The span covers the number only, not its unit.
Each result has ``recognition_metadata[deid.spans.KIND_KEY]``: ``"years"`` or ``"decade"``
(``in her 90s``).

Speed: the scan looks only for numbers 90-125 and the words "ninet"/"hundred"; the
wording around each is then checked with anchored patterns.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from deid import entities
from deid.detection.recognizers.patterns.dates import lowered
from deid.spans import KIND_KEY

AGE = entities.AGE.name
AGE_RECOGNIZER_NAME = "deid.ages"

SCORE_STATED = 0.85  # "92 yo", "age 91", "92 year old woman"
SCORE_DESCRIBED = 0.75  # "98 s/p" opening a line, "in her 90s", spelled-out ages

_UNIT = r"(?:y/o|y\.o\.?|y-o|yo[mf]?|yrs?\.?|years?|year-old)"

# Numbers 90-125: the only ages reported.  Boundaries are checked in code.
_CANDIDATE = re.compile(r"(?:9\d|1[01]\d|12[0-5])(?!\d|\.\d)")
# After the number: "yo", "-year-old", " yr. old", " woman"
_UNIT_AFTER = re.compile(
    rf"[ \t]{{0,2}}-?[ \t]{{0,2}}{_UNIT}(?:[ \t\-]{{1,3}}old)?(?![a-z])"
    r"|[ \t]{1,3}(?:male|female|man|woman|gentleman|gent|lady)(?![a-z])"
)
# After a number that opens a line: "98 s/p", "98 M", "98 with"
_LINE_OPENING_AFTER = re.compile(r"[ \t]{0,2}(?:s/p|w/|with|m|f)(?![\w/])")
_LINE_OPENING_BEFORE = re.compile(r"(?:\A|\n)[ \t]{0,8}\Z")
# Before the number: "age 91", "aged 91", "age: 91", "age of 91"
_AGE_WORD_BEFORE = re.compile(r"(?<![a-z])age[ds]?[ \t]{0,3}(?:[:=][ \t]{0,3}|of[ \t]{1,3})?\Z")


def _words(text: str) -> frozenset[str]:
    """A word set written as one space-separated string (keeps long lists compact)."""
    return frozenset(text.split())


# Who is that old: "she is 95", "my grandmother is 91", "dad turned 100", "I'm 93".
# Checked on the words before the number (cheap), not by a regex searched backwards.
_PERSON_WORDS = _words(
    "he she pt patient who mom mother dad father grandmother grandfather grandma "
    "grandpa granny husband wife spouse aunt uncle brother sister friend neighbor "
    "neighbour parent grandparent"
)
_STATING_VERBS = _words("is was turned turns turning")
# After a stated age: not a quantity or a score ("she is 95%", "is 98.6", "is 100/60").
_NOT_AN_AGE_AFTER = re.compile(r"[ \t]{0,2}(?:[%/.,]\d|%|/|[a-z])")
_AGE_WORDS_AFTER = re.compile(
    r"[ \t]{1,3}(?:and|now|years?|yrs?|or|so|but|with|who|last|this|next|today|yesterday)"
    r"(?![a-z])"
)
# Age and sex: "(95F)", "94 M", "Jo Doe, 95F".  F also means Fahrenheit: needs "(" or ",".
_SEX_AFTER = re.compile(r"[ \t]?(?P<sex>m|f)(?![\w/'.]|\.\d)")
_VITAL_WORDS = _words(
    "t tc tm tmax temp temperature febrile hr rr bp sbp map sat sats spo2 o2 pulse p "
    "wt weight glucose bs fs cvp rate"
)
# "in her 90s", "in his late 90's"
_DECADE_AFTER = re.compile(r"'?s(?![a-z])")
_PERSON_BEFORE = re.compile(
    r"(?<![a-z])(?:his|her|their|pt's|patient's)[ \t]{1,3}(?:(?:early|mid|late)[ \t\-]{1,3})?\Z"
)
_NINETIES = re.compile(
    r"(?<![a-z])(?:his|her|their|pt's|patient's)[ \t]{1,3}(?:(?:early|mid|late)[ \t\-]{1,3})?"
    r"(?P<age>nineties)(?![a-z])"
)
_UNITS_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_SPELLED_NUMBER = re.compile(
    rf"(?<![a-z])(?P<age>ninety(?:[ \t\-]{{1,2}}{_UNITS_WORDS})?|one[ \t]hundred)(?![a-z])"
)
_SPELLED = re.compile(
    rf"(?P<age>(?:ninety|one[ \t\-]hundred(?:[ \t](?:and[ \t])?(?:{_UNITS_WORDS}|ten))?)"
    rf"(?:[ \t\-]{{1,2}}{_UNITS_WORDS})?)[ \t\-]{{1,3}}{_UNIT}(?![a-z])"
)


def _judge(low: str, start: int, end: int) -> tuple[int, float, str] | None:
    """(end, score, kind) if the number 90-125 at ``low[start:end]`` is an age, else None."""
    if _UNIT_AFTER.match(low, end):
        return end, SCORE_STATED, "years"
    window = max(0, start - 24)
    if _AGE_WORD_BEFORE.search(low, window, start) and not low[end : end + 1].isalpha():
        return end, SCORE_STATED, "years"
    before = low[window:start]
    if _stated_before(before) and _stated_end_ok(low, end):
        return end, SCORE_STATED, "years"
    sex = _SEX_AFTER.match(low, end)
    if sex is not None:
        head = before.rstrip(" \t")
        words = head.split()
        after_vital = bool(words) and words[-1].strip(":=") in _VITAL_WORDS
        if not after_vital and (sex.group("sex") == "m" or head.endswith(("(", ","))):
            return end, SCORE_DESCRIBED, "years"
    if _LINE_OPENING_AFTER.match(low, end) and _LINE_OPENING_BEFORE.search(low, window, start):
        return end, SCORE_DESCRIBED, "years"
    decade = _DECADE_AFTER.match(low, end)
    if decade and low[end - 1] == "0" and _PERSON_BEFORE.search(low, window, start):
        return decade.end(), SCORE_DESCRIBED, "decade"
    return None


def _stated_before(before: str) -> bool:
    """``before`` ends with a person and a verb of age: "my mom is ", "he turned ",
    "she will be ", "I'm now ", "I am "."""
    if not before.endswith((" ", "\t")):
        return False
    words = before.split()[-4:]
    if words and words[-1] in ("now", "almost"):
        words.pop()
    if not words:
        return False
    if words[-1] in ("i'm", "im") or words[-2:] == ["i", "am"]:
        return True
    if words[-2:-1] == ["will"] and words[-1] == "be":
        words = words[:-1]
    elif words[-1] not in _STATING_VERBS:
        return False
    return len(words) >= 2 and words[-2].split("-")[-1] in _PERSON_WORDS


def _stated_end_ok(low: str, end: int) -> bool:
    """After "she is 95": the sentence ends or goes on with a word that is no unit."""
    if end >= len(low) or _AGE_WORDS_AFTER.match(low, end):
        return True
    return _NOT_AN_AGE_AFTER.match(low, end) is None


class AgeOver89Recognizer(EntityRecognizer):
    """Ages of 90 and over, with the unit or wording that makes them ages."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[AGE], name=AGE_RECOGNIZER_NAME, supported_language="en"
        )

    def load(self) -> None:  # patterns are compiled at import
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """AGE results covering the number (or spelled number) only."""
        if entities and AGE not in entities:
            return []
        low = lowered(text)
        results: list[RecognizerResult] = []
        for m in _CANDIDATE.finditer(low):
            start, end = m.span()
            if start and (low[start - 1].isalnum() or low[start - 1] in "._-/"):
                continue
            judged = _judge(low, start, end)
            if judged is not None:
                end, score, kind = judged
                meta = {KIND_KEY: kind}
                results.append(RecognizerResult(AGE, start, end, score, recognition_metadata=meta))
        if "ninet" in low or "hundred" in low:
            for m in _SPELLED_NUMBER.finditer(low):
                if _stated_before(low[max(0, m.start() - 24) : m.start()]):
                    meta = {KIND_KEY: "years"}
                    span = m.span("age")
                    results.append(
                        RecognizerResult(AGE, *span, SCORE_STATED, recognition_metadata=meta)
                    )
            for pattern, kind in ((_SPELLED, "years"), (_NINETIES, "decade")):
                for m in pattern.finditer(low):
                    taken = any(r.start < m.end("age") and m.start("age") < r.end for r in results)
                    if not taken and not (m.start() and low[m.start() - 1].isalpha()):
                        span = m.span("age")
                        meta = {KIND_KEY: kind}
                        results.append(
                            RecognizerResult(AGE, *span, SCORE_DESCRIBED, recognition_metadata=meta)
                        )
        return sorted(results, key=lambda r: r.start)


RECOGNIZERS = [AgeOver89Recognizer]
