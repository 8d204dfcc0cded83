"""Detector: text in, PHI spans out.  The one entry point for detection."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from presidio_analyzer import RecognizerResult

from deid.config import DetectionConfig
from deid.consistency import propagate
from deid.registry import build_analyzer
from deid.spans import Span, merge_overlapping


class Detector:
    """Finds PHI in clinical notes with Presidio and deidflow's recognizers.

    >>> det = Detector()
    >>> det.detect("Seen by Dr. Healey on 7/22.")  # doctest: +SKIP
    [Span(start=12, end=18, entity_type='PERSON', ...), Span(start=22, end=26, entity_type='DATE', ...)]
    """

    def __init__(self, config: DetectionConfig | None = None) -> None:
        self.config = config or DetectionConfig()
        self.analyzer = build_analyzer(self.config)
        self._nlp = self.analyzer.nlp_engine.get_nlp("en")
        self._allow = {w.lower() for w in self.config.allow_list}

    def detect(self, text: str) -> list[Span]:
        """Spans of PHI in ``text``, non-overlapping, sorted by offset."""
        return next(self.detect_batch([text]))

    def detect_batch(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[list[Span]]:
        """Spans for each text, in input order; streams (holds one batch at a time)."""
        for zone in _chunks(texts, _MEMORY_ZONE_NOTES):
            # Strings spaCy interns for these notes are freed afterwards: memory stays flat
            # however many notes stream through, and no note text lingers in the vocabulary.
            # (Zones span many batches: re-creating lexemes for every batch is slow.)
            with self._nlp.memory_zone():
                for chunk in _chunks(zone, batch_size):
                    yield from self._detect_chunk(chunk, batch_size)

    def _detect_chunk(self, chunk: list[str], batch_size: int) -> Iterator[list[Span]]:
        engine = self.analyzer.nlp_engine
        for text, artifacts in engine.process_batch(chunk, language="en", batch_size=batch_size):
            results = self.analyzer.analyze(
                text,
                language="en",
                entities=list(self.config.entities),
                nlp_artifacts=artifacts,
                score_threshold=self.config.score_threshold,
            )
            spans = self._to_spans(text, results)
            if self.config.propagate_within_note:
                extra = self._allowed(text, propagate(artifacts.tokens, spans))
                spans = merge_overlapping(spans + extra)
            yield spans

    def _allowed(self, text: str, spans: list[Span]) -> list[Span]:
        if not self._allow:
            return spans
        return [s for s in spans if text[s.start : s.end].lower() not in self._allow]

    def _to_spans(self, text: str, results: list[RecognizerResult]) -> list[Span]:
        spans = []
        for r in results:
            if r.end <= r.start:
                continue
            if self._allow and text[r.start : r.end].lower() in self._allow:
                continue
            name = ""
            if r.recognition_metadata:
                name = str(r.recognition_metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY, ""))
            spans.append(Span(r.start, r.end, r.entity_type, float(r.score), name))
        return merge_overlapping(spans)


_MEMORY_ZONE_NOTES = 2048


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
