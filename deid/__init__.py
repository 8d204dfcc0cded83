"""deidflow's library: find PHI in clinical notes and replace it.  No Prefect, no GX.

    from deid import DeidConfig, Deidentifier, Detector, evaluate, read_corpus

    detector = Detector()                            # DeidConfig().detection by default
    spans = detector.detect("Seen by Dr. Healey on 7/22.")   # offsets, type, score; no text

    deid = Deidentifier(DeidConfig())                # key from $DEIDFLOW_KEY
    result = deid.deidentify("Seen by Dr. Healey on 7/22.", patient_id="p1")
    result.text                                      # 'Seen by Dr. Morrow on 5/3.'

    notes = list(read_corpus("annotated.jsonl"))     # gold spans: offsets + category
    report = evaluate(notes, [detector.detect(n.text) for n in notes])
    report.full_cover_recall

Rooms: ``detection/`` (text -> spans), ``anonymization/`` (text + spans -> new text),
``evaluation/`` (corpora and metrics); ``config``, ``entities`` (every PHI type, once),
``spans``, ``errors`` and ``safe_logging`` are shared by all three.  Names are imported
on first use, so ``import deid.config`` does not load spaCy.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

# Offline: set before Presidio and tldextract are imported (any deid module comes after
# this package): the email recognizer would fetch the public-suffix list.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

if TYPE_CHECKING:
    from deid.anonymization.deidentifier import Deidentifier, DeidResult
    from deid.anonymization.keys import SecretKey
    from deid.config import DeidConfig
    from deid.detection.detector import Detector
    from deid.evaluation.corpora import Note, read_corpus
    from deid.evaluation.metrics import EvaluationReport, evaluate
    from deid.spans import Span

_EXPORTS = {
    "DeidConfig": "deid.config",
    "Detector": "deid.detection.detector",
    "Deidentifier": "deid.anonymization.deidentifier",
    "DeidResult": "deid.anonymization.deidentifier",
    "SecretKey": "deid.anonymization.keys",
    "Span": "deid.spans",
    "Note": "deid.evaluation.corpora",
    "read_corpus": "deid.evaluation.corpora",
    "evaluate": "deid.evaluation.metrics",
    "EvaluationReport": "deid.evaluation.metrics",
}

__all__ = [
    "DeidConfig",
    "DeidResult",
    "Deidentifier",
    "Detector",
    "EvaluationReport",
    "Note",
    "SecretKey",
    "Span",
    "evaluate",
    "read_corpus",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deid' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
