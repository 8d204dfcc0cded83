"""Shared by the context-rule tests: a Detector with only the context rules, and what it finds."""

from __future__ import annotations

from deid.config import DetectionConfig
from deid.detection.detector import Detector


def context_detector(*, propagate: bool) -> Detector:
    """Names, hospitals and places with the tagger off, so each rule is tested on its own
    merit; ``propagate`` turns on the second pass within a note."""
    return Detector(
        DetectionConfig(
            entities=("PERSON", "HOSPITAL", "LOCATION"),
            use_tagger=False,
            propagate_within_note=propagate,
        )
    )


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    """``(text, entity type)`` of every span ``detector`` finds in ``text``."""
    return [(text[s.start : s.end], s.entity_type) for s in detector.detect(text)]
