"""The span: the only thing detection hands on.

A span carries offsets into the original text, never the text itself, so it can be
logged, written to reports and passed across process boundaries without carrying PHI.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A detected PHI span: ``text[start:end]`` (end exclusive) is of ``entity_type``."""

    start: int
    end: int
    entity_type: str
    score: float = 1.0
    recognizer: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span offsets start={self.start} end={self.end}")

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (offsets, label, score, recognizer; no text)."""
        return {
            "start": self.start,
            "end": self.end,
            "label": self.entity_type,
            "score": round(self.score, 4),
            "recognizer": self.recognizer,
        }


def merge_overlapping(spans: list[Span]) -> list[Span]:
    """Resolve overlaps so that every character is covered by at most one span.

    Overlapping spans are merged into one covering span labelled with the
    highest-scoring member's type: for de-identification, covering more characters
    is always safer than choosing the shorter of two conflicting spans.
    """
    if not spans:
        return []
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    cur = ordered[0]
    for sp in ordered[1:]:
        if sp.start < cur.end:
            best = cur if cur.score >= sp.score else sp
            cur = Span(
                cur.start, max(cur.end, sp.end), best.entity_type, best.score, best.recognizer
            )
        else:
            out.append(cur)
            cur = sp
    out.append(cur)
    return out
