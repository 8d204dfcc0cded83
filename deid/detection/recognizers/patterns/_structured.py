"""Shared machinery for the structured-identifier recognizers (SSN, MRN, ZIP, VIN, ...).

Presidio's ``PatternRecognizer`` reports the whole regex match and lets a validator see
only the matched text.  Structured identifiers need more:

* a label that must precede the value ("MRN: 00123456") but is not itself PHI, so a
  pattern may name the group to report ``phi``;
* speed: a pattern that starts at a rare character ("@", ":", ".com") and matches what
  comes before it in a lookbehind is many times faster than one that tries every
  position; its reported span starts at group ``lead`` (captured in the lookbehind);
* speed on notes without the label: a pattern that starts with label words is skipped
  on notes that lack them (``_word_filter``, derived from the regex itself);
* checks that look around the value (the state before a ZIP code, a "Dr." that is a
  title), so every candidate goes through :meth:`StructuredRecognizer.refine` with the
  whole text and match.

Presidio's context enhancer is deliberately not used (recognizers set no ``context``):
it matches context words as *substrings* of the five preceding tokens ("ip" in "tip",
"id" in "fluid"), far too loose for nursing notes.  Labels are part of the patterns
instead, so context is exact and adjacent.

Every pattern here must run in linear time: a repeated group may not split the same text
in more than one way (labels end at a dot, words at a space), other repetition is
bounded, and a lookbehind stops a scan from restarting inside a run it has rejected.
"""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.tokens import Doc

from deid.detection._speedups.word_filter import WordFilter, doc_letter_runs, letter_runs

PHI_GROUP = "phi"
LEAD_GROUP = "lead"

# A label's number word: "MRN #", "Account No.", "member ID", "Policy Number".
_MARKER = r"(?:\#|nos?\b\.?|num(?:ber)?s?\b\.?|nbr\b\.?|id\b)"

# A "#" may still open the value after the colon: "MRN: #AB-123456", "ins. #789-...".
_HASH_BEFORE_VALUE = r"(?:\#[ \t]{0,2})?"

LABEL_SEPARATOR = (
    rf"(?i:[ \t]{{0,3}}{_MARKER}?[ \t]{{0,3}}[:=\#.-]?[ \t]{{0,3}}(?:(?:is|was|of)[ \t]{{1,3}})?"
    rf"{_HASH_BEFORE_VALUE})"
)
"""What may sit between a strong label and its value: ``MRN 1``, ``MRN: 1``, ``SSN is 1``,
``MRN: #1``."""

MARKED_SEPARATOR = (
    rf"(?i:[ \t]{{0,3}}(?:{_MARKER}[ \t]{{0,3}}[:=\#.-]?|[:=\#])[ \t]{{0,3}}"
    rf"(?:(?:is|was)[ \t]{{1,3}})?{_HASH_BEFORE_VALUE})"
)
"""The same, but a number word or colon is required: for labels that are ordinary words
("account", "case", "ID") and would otherwise catch "account 1500 cc"."""

ID_VALUE = r"[A-Za-z0-9][A-Za-z0-9-]{2,24}(?<=[A-Za-z0-9])(?![\w-])"
"""An alphanumeric identifier of 3-25 characters, hyphens inside only."""


def labelled(label: str, value: str = ID_VALUE, *, marker_required: bool = False) -> str:
    """Regex for ``label`` + separator + value, with the value as the reported group.

    ``label`` is matched case-insensitively; it must start at a word boundary and may
    not run on into letters ("MRN1234" is fine, "MRNs" is not the label) unless it ends
    in "#" ("chart #FQ-123456").
    """
    sep = MARKED_SEPARATOR if marker_required else LABEL_SEPARATOR
    return rf"\b(?i:{label})(?:(?<=\#)|(?![A-Za-z])){sep}(?P<{PHI_GROUP}>{value})"


def digit_count(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def has_letter_and_digit(value: str) -> bool:
    return any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value)


def luhn_valid(digits: str) -> bool:
    """Luhn mod-10 check over a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class StructuredRecognizer(PatternRecognizer):
    """A ``PatternRecognizer`` that reports group ``phi`` and lets code refine each hit.

    Subclasses set ``ENTITY``, ``NAME`` and ``PATTERNS`` (``(name, regex, score)``
    triples) and may override :meth:`refine`.  A match is reported from the start of
    group ``lead`` (if it took part) or ``phi`` to the end of ``phi`` or of the match.
    Patterns are compiled case-sensitively (``FLAGS``); case-insensitive parts say so
    with ``(?i:...)``.
    """

    ENTITY: ClassVar[str]
    NAME: ClassVar[str]
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]]
    FLAGS: ClassVar[int] = 0  # explicit: case-sensitive, no DOTALL/MULTILINE needed

    def __init__(self) -> None:
        patterns = [Pattern(name, rx, score) for name, rx, score in self.PATTERNS]
        super().__init__(
            supported_entity=self.ENTITY,
            name=self.NAME,
            patterns=patterns,
            context=[],  # no Presidio context enhancement: labels live in the patterns
            global_regex_flags=self.FLAGS,
        )
        # Each pattern with the words its matches hold (None: run it on every note).
        self._compiled = [
            (p, regex.compile(p.regex, self.FLAGS), WordFilter.for_pattern(p.regex, self.FLAGS))
            for p in patterns
        ]

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        """Final say on one candidate: adjusted ``(start, end, score)``, or ``None`` to drop.

        ``start``/``end`` are the ``phi`` group's offsets (the whole match without one).
        The default keeps the candidate if :meth:`is_valid` accepts its text.
        """
        return (start, end, score) if self.is_valid(text[start:end]) else None

    def is_valid(self, value: str) -> bool:
        """Checksum / format check on the candidate's text; default accepts everything."""
        return True

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Run every pattern over ``text`` and return the refined candidates."""
        results: list[RecognizerResult] = []
        doc = nlp_artifacts.tokens if nlp_artifacts is not None else None
        runs = doc_letter_runs(doc) if isinstance(doc, Doc) else letter_runs(text)
        for pattern, compiled, word_filter in self._compiled:
            if word_filter is not None and not word_filter.may_match(runs):
                continue  # the words every match holds are not in the note
            grouped = PHI_GROUP in compiled.groupindex
            led = LEAD_GROUP in compiled.groupindex
            for match in compiled.finditer(text):
                start, end = match.span(PHI_GROUP) if grouped else match.span()
                if led and match.start(LEAD_GROUP) >= 0:
                    start = match.start(LEAD_GROUP)
                if start < 0 or end <= start:
                    continue
                refined = self.refine(text, match, start, end, pattern.score)
                if refined is None:
                    continue
                r_start, r_end, r_score = refined
                if r_end <= r_start or r_score <= 0:
                    continue
                results.append(self._result(pattern, r_start, r_end, r_score))
        if len(results) < 2:  # nothing to de-duplicate (scores are > 0 already)
            return results
        return EntityRecognizer.remove_duplicates(results)

    def _result(self, pattern: Pattern, start: int, end: int, score: float) -> RecognizerResult:
        explanation = AnalysisExplanation(
            recognizer=self.NAME,
            original_score=pattern.score,
            pattern_name=pattern.name,
            pattern=pattern.regex,
            textual_explanation=f"Detected by `{self.NAME}` using pattern `{pattern.name}`",
        )
        explanation.score = score
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.NAME,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
