"""Residual-risk estimate: how many identifiers this run probably left in its output.

Given the detector's full-cover recall ``r`` on an annotated sample (with a Wilson 95 %
interval) and the run's density ``d`` of detected PHI spans per note::

    identifiers present per note  ≈ d / r          (the detector finds a share r of them)
    leaked identifiers per note   ≈ d / r × (1 − r)
    per 10,000 notes              = 10,000 × d / r × (1 − r)

The interval takes the ends of the recall interval: the lower recall bound gives the
upper bound on leaks, the upper recall bound the lower one.  The function is decreasing
in ``r``, so this maps the recall interval onto the leak interval exactly.

Only counts leave this module: the sample's notes are read to run the detector on them,
and the report gets gold/covered counts per category, never text, IDs or offsets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deid.evaluation.metrics import EvaluationReport

if TYPE_CHECKING:
    from deid.detection.detector import Detector

PER_NOTES = 10_000
CONFIDENCE = 0.95
RECALL_METHOD = "Wilson score interval, 95 %"

FORMULA = (
    "expected leaked identifiers per 10,000 notes = 10,000 × (d / r) × (1 − r), "
    "where d = PHI spans detected and replaced per note in this run and r = full-cover recall "
    "on the annotated sample; the interval uses the ends of the recall interval "
    "(lower recall gives the upper bound)."
)

ASSUMPTIONS = (
    "The annotated sample is representative of this run's notes (same sources, note types "
    "and writing habits); if it is not, the estimate does not apply.",
    "Every detected span is a real identifier (precision 1). False positives inflate d, so "
    "with precision below 1 the estimate is conservative (too high).",
    "One detected span corresponds to one annotated identifier (same span granularity).",
    "An identifier counts as leaked unless every letter and digit of it was replaced "
    "(full-cover recall): a half-redacted name still leaks.",
    "The interval reflects the sampling uncertainty of recall only; d is measured on the "
    "whole run.",
)

HOW_TO_PROVIDE = (
    "Annotate a random sample of your own notes (a few hundred identifiers at least), as "
    "annotated JSONL (one object per note: note_id, patient_id, text, spans: "
    "[{start, end, label}]) or as a PhysioNet folder (id.text + id-phi.phrase). Then run "
    "`deidflow report RUN_DIR --gold SAMPLE`, or set `report.gold_sample: SAMPLE` in the "
    "pipeline config so every run estimates it. Check the sample first with "
    "`deidflow evaluate SAMPLE`."
)


def leaks_per_notes(density: float, recall: float, notes: int = PER_NOTES) -> float | None:
    """Expected leaked identifiers in ``notes`` notes: ``notes × density / recall × (1 − recall)``.

    ``None`` when recall is 0 (nothing found: the number of identifiers present cannot be
    inferred from the detections).

    >>> round(leaks_per_notes(2.0, 0.9), 1)
    2222.2
    """
    if density < 0 or not 0 <= recall <= 1:
        raise ValueError(f"need density >= 0 and 0 <= recall <= 1, got {density}, {recall}")
    if recall == 0:
        return None
    return notes * density / recall * (1 - recall)


@dataclass(frozen=True)
class SampleInfo:
    """Which annotated sample the estimate came from: its name and checksum, no content."""

    name: str
    sha256: str

    @classmethod
    def from_path(cls, path: Path) -> SampleInfo:
        return cls(path.name, _sample_digest(path))


def estimate_risk(
    evaluation: EvaluationReport,
    *,
    phi_per_note: float | None,
    notes_in_run: int,
    sample: SampleInfo,
    detector_config_hash: str,
) -> dict[str, Any]:
    """The report's ``risk`` section (``status: estimated``) from a sample evaluation."""
    recall = evaluation.full_cover_recall
    lo, hi = evaluation.full_cover_ci
    leaks: dict[str, Any] = {"estimate": None, "ci95": [None, None]}
    run_leaks: dict[str, Any] = {"estimate": None, "ci95": [None, None]}
    if recall is not None and phi_per_note is not None:
        point = leaks_per_notes(phi_per_note, recall)
        upper = leaks_per_notes(phi_per_note, lo)
        lower = leaks_per_notes(phi_per_note, hi)
        leaks = {"estimate": _r(point), "ci95": [_r(lower), _r(upper)]}
        scale = notes_in_run / PER_NOTES
        run_leaks = {
            "estimate": _r(None if point is None else point * scale),
            "ci95": [_r(None if x is None else x * scale) for x in (lower, upper)],
        }
    return {
        "status": "estimated",
        "sample": {
            "name": sample.name,
            "sha256": sample.sha256,
            "notes": evaluation.notes,
            "gold_spans": evaluation.gold_spans,
            "predicted_spans": evaluation.predicted_spans,
        },
        "detector_config_hash": detector_config_hash,
        "recall": {
            "full_cover": evaluation.full_cover,
            "gold": evaluation.gold_spans,
            "estimate": _r(recall),
            "ci95": [_r(lo), _r(hi)],
            "method": RECALL_METHOD,
        },
        "per_type": [
            {
                "type": name,
                "gold": score.gold,
                "full_cover": score.full_cover,
                "recall": _r(score.full_cover_recall),
                "ci95": [_r(x) for x in score.full_cover_ci],
            }
            for name, score in sorted(
                evaluation.per_category.items(), key=lambda kv: (-kv[1].gold, kv[0])
            )
        ],
        "phi_per_note": _r(phi_per_note),
        "per_notes": PER_NOTES,
        "expected_leaks_per_10k_notes": leaks,
        "expected_leaks_in_run": {"notes": notes_in_run, **run_leaks},
        "formula": FORMULA,
        "assumptions": list(ASSUMPTIONS),
    }


def no_sample(phi_per_note: float | None) -> dict[str, Any]:
    """The ``risk`` section when no annotated sample was given: say so, and how to give one."""
    return {
        "status": "no_sample",
        "message": "No annotated sample was given, so the residual risk of this run is "
        "not estimated.",
        "how_to": HOW_TO_PROVIDE,
        "phi_per_note": _r(phi_per_note),
        "formula": FORMULA,
        "assumptions": list(ASSUMPTIONS),
    }


def evaluate_sample(path: Path, detector: Detector) -> EvaluationReport:
    """Run ``detector`` over an annotated sample (JSONL or PhysioNet) and score it."""
    from deid.evaluation.corpora import read_corpus
    from deid.evaluation.metrics import evaluate

    notes = list(read_corpus(path))
    if not notes:
        raise ValueError(f"annotated sample {path} holds no notes")
    predictions = list(detector.detect_batch(n.text for n in notes))
    return evaluate(notes, predictions)


def _sample_digest(path: Path) -> str:
    """SHA-256 over the sample's file(s): pins which sample the estimate came from."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)
