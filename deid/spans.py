"""The span: the only thing detection hands on.

A span carries offsets into the original text, never the text itself, so it can be
logged, written to reports and passed across process boundaries without carrying PHI.
"""

from __future__ import annotations

from dataclasses import dataclass

KIND_KEY = "kind"
"""The ``recognition_metadata`` key under which a recognizer reports a result's kind."""


@dataclass(frozen=True, order=True)
class Span:
    """A detected PHI span: ``text[start:end]`` (end exclusive) is of ``entity_type``.

    ``recognizer`` names who found it (for reports and debugging: nothing decides on
    it); ``kind`` is what its recognizer says it holds within its type, e.g.
    ``DateKind.YEAR`` for a year standing alone, which Safe Harbor lets stay ("" when
    the recognizer does not say).
    """

    start: int
    end: int
    entity_type: str
    score: float = 1.0
    recognizer: str = ""
    kind: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span offsets start={self.start} end={self.end}")

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (offsets, label, score, recognizer, kind; no text)."""
        return {
            "start": self.start,
            "end": self.end,
            "label": self.entity_type,
            "score": round(self.score, 4),
            "recognizer": self.recognizer,
            "kind": self.kind,
        }


def merge_overlapping(spans: list[Span]) -> list[Span]:
    """Resolve overlaps so that every character is covered by at most one span.

    Overlapping spans are merged into one covering span labelled with the
    highest-scoring member's type (recognizer and kind too): for de-identification, covering more characters
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
                cur.start,
                max(cur.end, sp.end),
                best.entity_type,
                best.score,
                best.recognizer,
                best.kind,
            )
        else:
            out.append(cur)
            cur = sp
    out.append(cur)
    return out
