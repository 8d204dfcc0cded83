"""Site-specific lists: a hospital's staff directory and local place names.

Configured per site (``detection.site_person_names`` / ``site_place_names``: text files,
one entry per line), never shipped.  Matching is Aho-Corasick over the lower-cased note,
linear in the note's length whatever the list's size, on whole-word boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import ahocorasick
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

SCORE = 0.9


class SiteListRecognizer(EntityRecognizer):
    """Whole-word, case-insensitive matches of a site's own list of names or places."""

    name: str  # set by Presidio's EntityRecognizer.__init__

    def __init__(self, entries: Iterable[str], entity: str, name: str) -> None:
        super().__init__(supported_entities=[entity], name=name, supported_language="en")
        self._automaton = ahocorasick.Automaton()
        count = 0
        for entry in entries:
            key = " ".join(entry.split()).lower()
            if len(key) >= 2:
                self._automaton.add_word(key, len(key))
                count += 1
        self.size = count
        if count:
            self._automaton.make_automaton()

    @classmethod
    def from_file(cls, path: Path, entity: str, name: str) -> SiteListRecognizer:
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls(
            (line for line in lines if line.strip() and not line.startswith("#")), entity, name
        )

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if not self.size or self.supported_entities[0] not in entities:
            return []
        lowered = text.lower()
        if len(lowered) != len(text):  # rare Unicode case changes length: keep offsets exact
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        results = []
        for end, length in self._automaton.iter(lowered):
            start = end - length + 1
            if _boundary(lowered, start - 1) and _boundary(lowered, end + 1):
                results.append(
                    RecognizerResult(
                        self.supported_entities[0],
                        start,
                        end + 1,
                        SCORE,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
        return results


def _boundary(text: str, i: int) -> bool:
    return i < 0 or i >= len(text) or not text[i].isalnum()


# Built from config by deid.detection.analyzer (they need the site's files), not discovered.
RECOGNIZERS: list[type[EntityRecognizer]] = []
