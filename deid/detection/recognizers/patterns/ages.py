"""AGE recognizer: ages over 89, the only ages Safe Harbor treats as identifying.

Finds ``92 yo``, ``93 y/o``, ``95-year-old``, ``age 91``, ``in her 90s``, ``ninety-two
year old`` and, opening a line, ``98 s/p ...`` / ``98 M``.  Ages of 89 and under are
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
    if _LINE_OPENING_AFTER.match(low, end) and _LINE_OPENING_BEFORE.search(low, window, start):
        return end, SCORE_DESCRIBED, "years"
    decade = _DECADE_AFTER.match(low, end)
    if decade and low[end - 1] == "0" and _PERSON_BEFORE.search(low, window, start):
        return decade.end(), SCORE_DESCRIBED, "decade"
    return None


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
            for pattern, kind in ((_SPELLED, "years"), (_NINETIES, "decade")):
                for m in pattern.finditer(low):
                    if not (m.start() and low[m.start() - 1].isalpha()):
                        span = m.span("age")
                        meta = {KIND_KEY: kind}
                        results.append(
                            RecognizerResult(AGE, *span, SCORE_DESCRIBED, recognition_metadata=meta)
                        )
        return sorted(results, key=lambda r: r.start)


RECOGNIZERS = [AgeOver89Recognizer]
