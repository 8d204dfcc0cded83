"""Detection metrics against gold-annotated notes.

Metrics are label-agnostic: de-identification is binary, so any predicted span counts
wherever it lands, whatever its label.  The headline number is *full-cover recall*:
the share of gold spans whose every alphanumeric character is covered by predictions,
because a half-redacted name still leaks.

Everything here except :func:`misses_with_context` works on offsets and IDs only, so
reports built from it carry no note text.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from deid.evaluation.corpora import Note
from deid.spans import Span

# Linear-time: a single character class under one quantifier.
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class MissedSpan:
    """A gold span not fully covered by predictions (IDs and offsets, no text)."""

    patient_id: str
    note_id: str
    start: int
    end: int
    category: str
    overlapped: bool
    """True if some prediction covers part of it (a partial redaction)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "patient_id": self.patient_id,
            "note_id": self.note_id,
            "start": self.start,
            "end": self.end,
            "category": self.category,
            "overlapped": self.overlapped,
        }


@dataclass(frozen=True)
class CategoryScore:
    """Gold-span counts for one gold category."""

    gold: int
    full_cover: int
    any_overlap: int

    @property
    def full_cover_recall(self) -> float | None:
        return _ratio(self.full_cover, self.gold)

    @property
    def full_cover_ci(self) -> tuple[float, float]:
        return wilson_interval(self.full_cover, self.gold)

    def to_dict(self) -> dict[str, object]:
        return {
            "gold": self.gold,
            "full_cover": self.full_cover,
            "any_overlap": self.any_overlap,
            "full_cover_recall": _round(self.full_cover_recall),
            "full_cover_ci95": [_round(x) for x in self.full_cover_ci],
        }


@dataclass(frozen=True)
class EvaluationReport:
    """Counts from one evaluation; rates are derived properties (``None`` if undefined)."""

    notes: int
    gold_spans: int
    predicted_spans: int
    full_cover: int
    any_overlap: int
    token_tp: int
    token_fp: int
    token_fn: int
    per_category: dict[str, CategoryScore] = field(default_factory=dict)
    misses: tuple[MissedSpan, ...] = ()

    @property
    def full_cover_recall(self) -> float | None:
        return _ratio(self.full_cover, self.gold_spans)

    @property
    def full_cover_ci(self) -> tuple[float, float]:
        """Wilson 95 % interval for full-cover recall."""
        return wilson_interval(self.full_cover, self.gold_spans)

    @property
    def any_overlap_recall(self) -> float | None:
        return _ratio(self.any_overlap, self.gold_spans)

    @property
    def token_precision(self) -> float | None:
        return _ratio(self.token_tp, self.token_tp + self.token_fp)

    @property
    def token_recall(self) -> float | None:
        return _ratio(self.token_tp, self.token_tp + self.token_fn)

    @property
    def token_f1(self) -> float | None:
        return f_beta(self.token_precision, self.token_recall, 1.0)

    @property
    def token_f2(self) -> float | None:
        """F2 weighs recall four times as much as precision: leaks cost more than over-redaction."""
        return f_beta(self.token_precision, self.token_recall, 2.0)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: counts, rates, IDs and offsets; no note text."""
        return {
            "counts": {
                "notes": self.notes,
                "gold_spans": self.gold_spans,
                "predicted_spans": self.predicted_spans,
                "full_cover": self.full_cover,
                "any_overlap": self.any_overlap,
                "token_tp": self.token_tp,
                "token_fp": self.token_fp,
                "token_fn": self.token_fn,
            },
            "full_cover_recall": _round(self.full_cover_recall),
            "full_cover_recall_ci95": [_round(x) for x in self.full_cover_ci],
            "any_overlap_recall": _round(self.any_overlap_recall),
            "token_precision": _round(self.token_precision),
            "token_recall": _round(self.token_recall),
            "token_f1": _round(self.token_f1),
            "token_f2": _round(self.token_f2),
            "per_category": {k: v.to_dict() for k, v in self.per_category.items()},
            "misses": [m.to_dict() for m in self.misses],
        }

    def format_text(self) -> str:
        """A readable, aligned summary for the terminal (no note text)."""
        lo, hi = self.full_cover_ci
        tp, fp, fn = self.token_tp, self.token_fp, self.token_fn
        rows = [
            ("Notes", str(self.notes), ""),
            ("Gold spans", str(self.gold_spans), ""),
            ("Predicted spans", str(self.predicted_spans), ""),
            (
                "Full-cover recall",
                _fmt(self.full_cover_recall),
                f"{self.full_cover}/{self.gold_spans}  95% CI [{lo:.3f}, {hi:.3f}]",
            ),
            (
                "Any-overlap recall",
                _fmt(self.any_overlap_recall),
                f"{self.any_overlap}/{self.gold_spans}",
            ),
            ("Token precision", _fmt(self.token_precision), f"tp {tp}, fp {fp}"),
            ("Token recall", _fmt(self.token_recall), f"tp {tp}, fn {fn}"),
            ("Token F1", _fmt(self.token_f1), ""),
            ("Token F2", _fmt(self.token_f2), ""),
        ]
        lines = [f"{name:<20} {value:>6}  {detail}".rstrip() for name, value, detail in rows]
        if self.per_category:
            width = max(len("Category"), *(len(c) for c in self.per_category))
            lines += ["", f"{'Category':<{width}}  {'Gold':>5}  {'Covered':>7}  {'Recall':>6}"]
            ordered = sorted(self.per_category.items(), key=lambda kv: (-kv[1].gold, kv[0]))
            for name, score in ordered:
                lines.append(
                    f"{name:<{width}}  {score.gold:>5}  {score.full_cover:>7}  "
                    f"{_fmt(score.full_cover_recall):>6}"
                )
        partial = sum(m.overlapped for m in self.misses)
        lines += ["", f"Missed gold spans: {len(self.misses)} ({partial} partly covered)"]
        return "\n".join(lines)


def evaluate(notes: Sequence[Note], predictions: Sequence[Sequence[Span]]) -> EvaluationReport:
    """Score ``predictions`` (one span list per note, same order) against the notes' gold.

    Raises ``ValueError`` if the sequences differ in length or a prediction lies
    outside its note.
    """
    if len(notes) != len(predictions):
        raise ValueError(f"{len(notes)} notes but {len(predictions)} prediction lists")
    gold_total = pred_total = full_total = overlap_total = 0
    tp = fp = fn = 0
    per_cat: dict[str, list[int]] = {}
    misses: list[MissedSpan] = []
    for note, preds in zip(notes, predictions, strict=True):
        _check_predictions(note, preds)
        gold_total += len(note.gold)
        pred_total += len(preds)
        starts, ends = _merge((p.start, p.end) for p in preds)
        for g in note.gold:
            covered, overlapped = _coverage(note.text, g.start, g.end, starts, ends)
            counts = per_cat.setdefault(g.entity_type, [0, 0, 0])
            counts[0] += 1
            counts[1] += covered
            counts[2] += overlapped
            full_total += covered
            overlap_total += overlapped
            if not covered:
                misses.append(
                    MissedSpan(
                        note.patient_id, note.note_id, g.start, g.end, g.entity_type, overlapped
                    )
                )
        note_tp, note_fp, note_fn = _token_counts(
            note.text, _merge((g.start, g.end) for g in note.gold), (starts, ends)
        )
        tp, fp, fn = tp + note_tp, fp + note_fp, fn + note_fn
    return EvaluationReport(
        notes=len(notes),
        gold_spans=gold_total,
        predicted_spans=pred_total,
        full_cover=full_total,
        any_overlap=overlap_total,
        token_tp=tp,
        token_fp=fp,
        token_fn=fn,
        per_category={k: CategoryScore(*v) for k, v in sorted(per_cat.items())},
        misses=tuple(misses),
    )


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (``(0.0, 1.0)`` when ``n == 0``).

    >>> tuple(round(x, 3) for x in wilson_interval(8, 10))
    (0.49, 0.943)
    """
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes} n={n}")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def f_beta(precision: float | None, recall: float | None, beta: float) -> float | None:
    """F-beta score; ``None`` only if both inputs are undefined.

    One undefined side (no predictions, or no gold) means the other side is 0, so the
    score is 0.0 then, as it is when both are zero.
    """
    if precision is None and recall is None:
        return None
    precision, recall = precision or 0.0, recall or 0.0
    b2 = beta * beta
    denom = b2 * precision + recall
    return 0.0 if denom == 0 else (1 + b2) * precision * recall / denom


def misses_with_context(
    notes: Sequence[Note], predictions: Sequence[Sequence[Span]], width: int = 40
) -> Iterator[str]:
    """One line per missed gold span, WITH NOTE TEXT around it.

    Developer tool for working on the detector against annotated (surrogate or
    otherwise approved) corpora only.  It prints PHI-bearing text by design, so the
    pipeline, reports and logs must never call it; the CLI uses it only when the user
    explicitly asks (``--show-misses``).

    The gold span is shown between ``⟨`` and ``⟩``; inside it, the parts a prediction
    did cover are wrapped in ``[`` ``]``.  Newlines and tabs are shown as spaces.
    """
    if len(notes) != len(predictions):
        raise ValueError(f"{len(notes)} notes but {len(predictions)} prediction lists")
    for note, preds in zip(notes, predictions, strict=True):
        starts, ends = _merge((p.start, p.end) for p in preds)
        for g in note.gold:
            covered, overlapped = _coverage(note.text, g.start, g.end, starts, ends)
            if covered:
                continue
            text = note.text
            left = text[max(0, g.start - width) : g.start]
            right = text[g.end : g.end + width]
            inner = _mark_covered(text, g.start, g.end, starts, ends)
            status = "partial" if overlapped else "missed"
            yield _one_line(
                f"{note.patient_id}/{note.note_id} {g.start}-{g.end} {g.entity_type} "
                f"({status}): ...{left}⟨{inner}⟩{right}..."
            )


# --- internals -----------------------------------------------------------------------


def _check_predictions(note: Note, preds: Sequence[Span]) -> None:
    for p in preds:
        if p.end > len(note.text):
            raise ValueError(
                f"prediction {p.start}-{p.end} beyond the end of note "
                f"patient={note.patient_id} note={note.note_id} (length {len(note.text)})"
            )


def _merge(intervals: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted, disjoint (starts, ends) covering the union of the intervals."""
    starts: list[int] = []
    ends: list[int] = []
    for s, e in sorted(intervals):
        if ends and s <= ends[-1]:
            ends[-1] = max(ends[-1], e)
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


def _coverage(
    text: str, start: int, end: int, starts: list[int], ends: list[int]
) -> tuple[bool, bool]:
    """(every alnum char of text[start:end] covered, any char covered) by merged intervals."""
    i = bisect_right(ends, start)  # first interval ending after `start`
    pos = start
    overlapped = False
    fully = True
    while i < len(starts) and starts[i] < end:
        overlapped = True
        if starts[i] > pos and _has_alnum(text, pos, starts[i]):
            fully = False
        pos = max(pos, ends[i])
        i += 1
    if pos < end and _has_alnum(text, pos, end):
        fully = False
    return fully, overlapped


def _has_alnum(text: str, start: int, end: int) -> bool:
    return any(ch.isalnum() for ch in text[start:end])


def _token_counts(
    text: str, gold: tuple[list[int], list[int]], pred: tuple[list[int], list[int]]
) -> tuple[int, int, int]:
    """(tp, fp, fn) over ``\\w+`` tokens; a token is positive if any char is in a span."""
    if not gold[0] and not pred[0]:
        return 0, 0, 0
    tok_starts: list[int] = []
    tok_ends: list[int] = []
    for m in _TOKEN.finditer(text):
        tok_starts.append(m.start())
        tok_ends.append(m.end())
    gold_tokens = _tokens_touching(tok_starts, tok_ends, *gold)
    pred_tokens = _tokens_touching(tok_starts, tok_ends, *pred)
    tp = len(gold_tokens & pred_tokens)
    return tp, len(pred_tokens) - tp, len(gold_tokens) - tp


def _tokens_touching(
    tok_starts: list[int], tok_ends: list[int], starts: list[int], ends: list[int]
) -> set[int]:
    """Indices of tokens sharing at least one character with the intervals."""
    hit: set[int] = set()
    for s, e in zip(starts, ends, strict=True):
        lo = bisect_right(tok_ends, s)  # first token ending after s
        hi = bisect_left(tok_starts, e)  # first token starting at or after e
        hit.update(range(lo, hi))
    return hit


def _mark_covered(text: str, start: int, end: int, starts: list[int], ends: list[int]) -> str:
    parts = []
    pos = start
    i = bisect_right(ends, start)
    while i < len(starts) and starts[i] < end:
        s, e = max(starts[i], start), min(ends[i], end)
        parts.append(text[pos:s])
        parts.append(f"[{text[s:e]}]")
        pos = e
        i += 1
    parts.append(text[pos:end])
    return "".join(parts)


def _one_line(s: str) -> str:
    return s.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"
