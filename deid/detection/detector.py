"""Detector: text in, PHI spans out.  The one entry point for detection."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, TypeVar

from presidio_analyzer import RecognizerResult

from deid.config import DetectionConfig
from deid.detection._speedups.heap import release_free_heap
from deid.detection._speedups.vocab_index import compact_vocab_indexes
from deid.detection.analyzer import build_analyzer, build_pipeline
from deid.detection.consistency import propagate, propagate_in_text, seed_words
from deid.spans import KIND_KEY, Span, merge_overlapping

if TYPE_CHECKING:
    from spacy.language import Language

SEGMENT_CHARS = 100_000
"""Longer texts are detected in segments of at most this many characters.

spaCy refuses texts over ``nlp.max_length`` (1,000,000) and its memory grows with the
length of a Doc (~170 MB for 1,000,000 characters); per-kilobyte CPU is flat from about
10,000 characters on, so segments cost nothing in speed and bound memory per Doc."""
SEGMENT_OVERLAP = 1_000
"""Characters of context each segment takes beyond its cut points, on both sides.

Every span that crosses a cut is seen whole by both neighbours, with at least this much
context around it: far more than any entity or recognizer context window needs."""
_NEWLINE_SEARCH = 10_000  # cut at the last line break this close before the target...
_SPACE_SEARCH = 1_000  # ...else at the last whitespace this close; else at the target
_BATCH_CHARS = 1_000_000  # at most this much text in one spaCy batch (Docs are large)
_MEMORY_ZONE_NOTES = 2048
_MEMORY_ZONE_CHARS = 4_000_000
_LAST_SPACE = re.compile(r"\s")


class Detector:
    """Finds PHI in clinical notes with Presidio and deidflow's recognizers.

    Texts longer than ``segment_chars`` (default ``SEGMENT_CHARS``) are detected in
    overlapping segments cut at line breaks or whitespace; the spans come back in the
    note's offsets as if it had been one text.  Within-note propagation still covers the
    whole note.  What differs from one long Doc: the case style (all capitals, lower
    case, mixed) that some recognizers adapt to is judged per segment, and an entity
    longer than ``segment_overlap`` that crosses a cut may be reported in pieces.

    >>> det = Detector()
    >>> det.detect("Seen by Dr. Healey on 7/22.")  # doctest: +SKIP
    [Span(start=12, end=18, entity_type='PERSON', ...), Span(start=22, end=26, entity_type='DATE', ...)]
    """

    def __init__(self, config: DetectionConfig | None = None) -> None:
        self.config = config or DetectionConfig()
        self._nlp = build_pipeline(self.config)
        self.analyzer = build_analyzer(self.config, self._nlp)
        self._allow = {w.lower() for w in self.config.allow_list}
        self.segment_chars = SEGMENT_CHARS
        self.segment_overlap = SEGMENT_OVERLAP

    def detect(self, text: str) -> list[Span]:
        """Spans of PHI in ``text``, non-overlapping, sorted by offset."""
        return next(self.detect_batch([text]))

    @property
    def nlp(self) -> Language:
        """The spaCy pipeline detection runs (for inspection; do not add components)."""
        return self._nlp

    def detect_batch(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[list[Span]]:
        """Spans for each text, in input order; streams (holds one batch at a time)."""
        segments = self._segments(texts)
        for zone in _chunks(segments, _MEMORY_ZONE_NOTES, _MEMORY_ZONE_CHARS):
            # Strings spaCy interns for these notes are freed afterwards: memory stays flat
            # however many notes stream through, and no note text lingers in the vocabulary.
            # (Zones span many batches: re-creating lexemes for every batch is slow.)
            with self._nlp.memory_zone():
                for chunk in _chunks(zone, batch_size, _BATCH_CHARS):
                    for seg, spans in zip(
                        chunk, self._detect_chunk(chunk, batch_size), strict=True
                    ):
                        if seg.note.collect(spans):
                            yield self._finish(seg.note)
            learn = getattr(self._nlp.tokenizer, "learn", None)
            if learn is not None:
                learn()  # cache the zone's frequent chunks (deid.detection.nlp.CachingTokenizer)
            # spaCy's string and lexeme tables would grow with every word (deid.detection._speedups.vocab_index)
            compact_vocab_indexes(self._nlp.vocab)
            release_free_heap()  # RSS stays flat over millions of notes (deid.detection._speedups.heap)

    # -- segments ----------------------------------------------------------------------
    def _segments(self, texts: Iterable[str]) -> Iterator[_Segment]:
        # Never above spaCy's own limit, whatever a caller set.
        limit = min(self.segment_chars, self._nlp.max_length)
        overlap = self.segment_overlap
        for text in texts:
            note = _Note(text)
            if len(text) <= limit:
                note.pending = 1
                yield _Segment(note, text, 0, 0, len(text), whole=True)
                continue
            cuts = segment_cuts(text, limit, overlap)
            note.pending = len(cuts) - 1
            for own_start, own_end in pairwise(cuts):
                start, end = max(0, own_start - overlap), min(len(text), own_end + overlap)
                yield _Segment(note, text[start:end], start, own_start, own_end)

    def _detect_chunk(self, chunk: list[_Segment], batch_size: int) -> Iterator[list[Span]]:
        engine = self.analyzer.nlp_engine
        texts = [seg.text for seg in chunk]
        batch = engine.process_batch(texts, language="en", batch_size=batch_size)
        for seg, (text, artifacts) in zip(chunk, batch, strict=True):
            results = self.analyzer.analyze(
                text,
                language="en",
                entities=list(self.config.entities),
                nlp_artifacts=artifacts,
                score_threshold=self.config.score_threshold,
            )
            spans = self._to_spans(text, results)
            if seg.whole:
                if self.config.propagate_within_note:
                    extra = self._allowed(text, propagate(artifacts.tokens, spans))
                    spans = merge_overlapping(spans + extra)
                yield spans
                continue
            # Keep what touches this segment's own stretch: a span crossing a cut is found
            # by both neighbours (merged later); what lies wholly in the overlap belongs to
            # the neighbour, which sees it with full context.
            lo, hi = seg.own_start - seg.start, seg.own_end - seg.start
            owned = [s for s in spans if s.start < hi and s.end > lo]
            if self.config.propagate_within_note:
                for word, entity in seed_words(artifacts.tokens, owned).items():
                    seg.note.seeds.setdefault(word, entity)
            yield [_shifted(s, seg.start) for s in owned]

    def _finish(self, note: _Note) -> list[Span]:
        """A note's spans once all its segments are in (whole notes: as they came)."""
        if len(note.parts) == 1:
            return note.parts[0]
        spans = [s for part in note.parts for s in part]
        if note.seeds:
            spans += self._allowed(note.text, propagate_in_text(note.text, note.seeds))
        return merge_overlapping(spans)

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
            meta = r.recognition_metadata or {}
            name = str(meta.get(RecognizerResult.RECOGNIZER_NAME_KEY, ""))
            kind = str(meta.get(KIND_KEY, ""))
            spans.append(Span(r.start, r.end, r.entity_type, float(r.score), name, kind))
        return merge_overlapping(spans)


def segment_cuts(
    text: str, limit: int = SEGMENT_CHARS, overlap: int = SEGMENT_OVERLAP
) -> list[int]:
    """Cut points ``[0, c1, ..., len(text)]`` splitting ``text`` into segments.

    Each stretch between cuts, widened by ``overlap`` on both sides, is at most ``limit``
    characters.  A cut falls just after the last line break in the final
    ``_NEWLINE_SEARCH`` characters before the furthest allowed point, else just after the
    last whitespace in the final ``_SPACE_SEARCH``, else at that point (text without
    spaces).  Linear in the length of the text.
    """
    core = limit - 2 * overlap
    if core < 1:
        raise ValueError(f"segment limit {limit} leaves no room beside overlap {overlap}")
    cuts = [0]
    n = len(text)
    while n - cuts[-1] > limit - overlap:
        pos = cuts[-1]
        target = pos + core
        cut = text.rfind("\n", max(pos + 1, target - _NEWLINE_SEARCH), target) + 1
        if cut == 0:
            low = max(pos + 1, target - _SPACE_SEARCH)
            tail = text[low:target][::-1]
            m = _LAST_SPACE.search(tail)
            cut = target - m.start() if m else target
        cuts.append(cut)
    cuts.append(n)
    return cuts


@dataclass
class _Note:
    """One input text while its segments are detected."""

    text: str
    pending: int = 0  # segments still to come
    parts: list[list[Span]] = field(default_factory=list)
    seeds: dict[str, str] = field(default_factory=dict)  # propagated words across segments

    def collect(self, spans: list[Span]) -> bool:
        """Add one segment's spans; True once the note is complete."""
        self.parts.append(spans)
        self.pending -= 1
        return self.pending == 0


@dataclass
class _Segment:
    """A stretch of a note handed to spaCy; spans in [own_start, own_end) are its own."""

    note: _Note
    text: str
    start: int  # offset of ``text`` in the note
    own_start: int
    own_end: int
    whole: bool = False  # the segment is the whole note

    def __len__(self) -> int:
        return len(self.text)


def _shifted(span: Span, offset: int) -> Span:
    if not offset:
        return span
    return dataclasses.replace(span, start=span.start + offset, end=span.end + offset)


_T = TypeVar("_T", bound=Sized)


def _chunks(items: Iterable[_T], size: int, max_chars: int) -> Iterator[list[_T]]:
    """Lists of at most ``size`` items, closed early once they hold ``max_chars`` of text."""
    chunk: list[_T] = []
    chars = 0
    for item in items:
        chunk.append(item)
        chars += len(item)
        if len(chunk) == size or chars >= max_chars:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk
