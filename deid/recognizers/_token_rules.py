"""Base class for recognizers that apply context rules over spaCy tokens."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.tokens import Doc

from deid.wordclass import CaseMode, case_mode


class TokenRuleRecognizer(EntityRecognizer):
    """A recognizer whose rules look at tokens of the note's spaCy ``Doc``.

    Subclasses implement ``find(doc, mode)`` returning ``(first_token, last_token,
    entity, score)`` tuples (inclusive token indices).
    """

    ENTITIES: tuple[str, ...] = ()
    NAME = ""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=list(self.ENTITIES), name=self.NAME, supported_language="en"
        )

    def load(self) -> None:
        return None

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if nlp_artifacts is None or nlp_artifacts.tokens is None:
            return []
        doc: Doc = nlp_artifacts.tokens
        results = []
        for first, last, entity, score in self.find(doc, case_mode(doc)):
            if entity not in entities:
                continue
            start, end = doc[first].idx, doc[last].idx + len(doc[last])
            results.append(
                RecognizerResult(
                    entity,
                    start,
                    end,
                    score,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return results


def next_word(
    doc: Doc, i: int, skip: frozenset[str] = frozenset({".", ",", ":", "-", "("})
) -> int | None:
    """Index of the first token after ``i`` that is not skippable punctuation or space."""
    j = i + 1
    while j < len(doc) and (doc[j].is_space or doc[j].text in skip):
        j += 1
    return j if j < len(doc) else None


def prev_word(doc: Doc, i: int, skip: frozenset[str] = frozenset({",", "."})) -> int | None:
    """Index of the first token before ``i`` that is not skippable punctuation or space."""
    j = i - 1
    while j >= 0 and (doc[j].is_space or doc[j].text in skip):
        j -= 1
    return j if j >= 0 else None


def same_line(doc: Doc, i: int, j: int) -> bool:
    """No newline between tokens ``i`` and ``j`` (i < j)."""
    return "\n" not in doc.text[doc[i].idx : doc[j].idx]


def chunk_key(doc: Doc, i: int) -> str:
    """The whitespace-delimited chunk starting at token ``i``, lower-cased, dots dropped.

    ``R.N.`` is three tokens after our tokenizer splits glued words; as a chunk it is ``rn``.
    """
    start = doc[i].idx
    end = start
    text = doc.text
    while end < len(text) and not text[end].isspace() and text[end] not in ",;)":
        end += 1
    return text[start:end].replace(".", "").lower()
