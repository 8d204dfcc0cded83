"""Shared helpers for the structured-identifier recognizer tests (SSN, MRN, ZIP, ...).

Not a test module: each ``test_<recognizer>.py`` builds its own ``Detector`` restricted to
its entity types (module-scoped fixture), and uses these helpers for the checks every
recognizer must pass: exact offsets, nursing-note near-misses, linear time on
adversarial input, and no detection on the PhysioNet dev notes that is not gold PHI.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from presidio_analyzer import EntityRecognizer

from deid.config import DetectionConfig
from deid.detection.detector import Detector
from tests.paths import DEV_CORPUS
from tests.timing import assert_costs_like_benign

SCORE_THRESHOLD = DetectionConfig().score_threshold

# Numbers nursing notes are full of; none is PHI of any structured type.
NURSING_NEAR_MISSES = (
    "BP 120/80, HR 88, RR 18, SAT 96% ON 3LNP, TEMP 98.6",
    "ABG 7.40/35/64/22, LACTATE 2.1",
    "K 3.9; BUN 54, CR 2.8; INR 7; PT 17.5; PTT 32.3; PLT 150000",
    "ARRIVED IN TRANSFER APPROX. 2130; DOPAMINE @ 8MCG/KG/MIN",
    "HEPARIN @ 800U/HR, NS @ 125cc/hr, lasix 40mg iv x1",
    "#18 PIV L FA, 20g angio R hand, PICC 4 Fr, RIJ TLC, 3L cordis",
    "GU: 3 WAY FOLEY IN PLACE & DRAINING; # 8 TRACH IN PLACE",
    "vent: AC 500 x 14, PEEP 5, FIO2 40%; I/O 2400/1500; wt 72.5 kg",
    "gave 2 Percocet Dr Smith aware; seen by Dr. Healey on 7/22",
    "family visit: 1400; ID: following; account for 1500 cc",
    "software version 3.8.0; pH 7.35; range 1000-2000",
    "Call 617-555-1234 or (617) 555-1234; pager 1234",
    "CA 8.9, MG 2.0, PHOS 3.1, PA 45/20, CVP 12",
)

# 100k-character inputs that make backtracking regexes blow up (digits, dots, "@", "-",
# "/", ":", "#", capitalised words, labels without values, near-formats repeated).
_N = 100_000
ADVERSARIAL_INPUTS = {
    "digits": "1" * _N,
    "digit_dot": "1." * (_N // 2),
    "digit_dash": "1-" * (_N // 2),
    "word_at": "a@" * (_N // 2),
    "dots": "a." * (_N // 2) + "com",
    "slashes": "http://" + "a/" * (_N // 2),
    "hex_colon": "a1:" * (_N // 3),
    "hashes": "#1" * (_N // 2),
    "caps_words": "Aaaa " * (_N // 5),
    "caps_run": "A" * _N,
    "number_words": "12 Main Main Main " * (_N // 18),
    "state_zip": "Boston, MA 12345 " * (_N // 17),
    "town_zip": "Great Barrington 01230 " * (_N // 23),
    "town_words": "Aa Bb Cc Dd " * (_N // 12),
    "street_town_zip": "12 Aa St, Cc Dd 12345 " * (_N // 22),
    "live_at": "live at 1 a, " * (_N // 13),
    "labels_hash": "MRN: #AB-1 ins. # policy ZY- " * (_N // 30),
    "labels": "MRN ID: SSN serial # plate " * (_N // 27),
    "punctuation_mix": "1.@-/:Aa #," * (_N // 11),
}


def make_detector(*entities: str) -> Detector:
    """A Detector that runs only the recognizers of ``entities`` (no tagger)."""
    return Detector(DetectionConfig(entities=entities, use_tagger=False))


def detect(detector: Detector, text: str) -> list[tuple[int, int, str]]:
    """``(start, end, entity_type)`` of every span the detector reports."""
    return [(s.start, s.end, s.entity_type) for s in detector.detect(text)]


def expected_span(text: str, value: str, entity: str) -> tuple[int, int, str]:
    """The span ``value`` occupies in ``text`` (first occurrence)."""
    start = text.index(value)
    return (start, start + len(value), entity)


def assert_linear_time(recognizers: Iterable[EntityRecognizer]) -> None:
    """Every adversarial input costs about what clinical text of its length costs."""
    recognizers = list(recognizers)

    def analyze(text: str) -> None:
        for recognizer in recognizers:
            recognizer.analyze(text, recognizer.supported_entities)

    for text in ADVERSARIAL_INPUTS.values():
        assert_costs_like_benign(analyze, text)


def non_gold_detections_on_dev_corpus(recognizers: Iterable[EntityRecognizer]) -> list[str]:
    """Detections on the PhysioNet dev notes that overlap no gold PHI span.

    Returns note IDs with offsets and types only (never text).  Skips the test when the
    corpus is not on this machine.
    """
    if not DEV_CORPUS.is_dir():
        pytest.skip("PhysioNet dev corpus not available")
    from deid.evaluation.corpora import read_physionet

    recognizers = list(recognizers)
    misses = []
    for note in read_physionet(DEV_CORPUS):
        for recognizer in recognizers:
            for r in recognizer.analyze(note.text, recognizer.supported_entities):
                if r.score < SCORE_THRESHOLD:
                    continue
                if not any(g.start < r.end and r.start < g.end for g in note.gold):
                    misses.append(
                        f"{note.patient_id}/{note.note_id} {r.start}-{r.end} {r.entity_type}"
                    )
    return misses
