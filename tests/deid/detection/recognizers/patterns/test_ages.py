"""AgeOver89Recognizer: ages of 90+ are PHI, younger ages and vital signs are not."""

from __future__ import annotations

import pytest

from deid.config import DetectionConfig
from deid.detection.detector import Detector
from deid.detection.recognizers.patterns.ages import AgeOver89Recognizer
from deid.spans import KIND_KEY
from tests.timing import assert_costs_like_benign


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(DetectionConfig(entities=("AGE",), use_tagger=False))


AGES = [
    ("Please see flowsheet \n \n98 yo gentleman admitted via EW", "98"),
    ("98yo F with CHF", "98"),
    ("pt is a 93 y/o woman", "93"),
    ("93 y.o. male s/p fall", "93"),
    ("a 95-year-old man", "95"),
    ("a 95 year old man", "95"),
    ("101 yrs old, lives alone", "101"),
    ("AGE 91, FULL CODE", "91"),
    ("aged 97 and independent", "97"),
    ("age: 92", "92"),
    ("independent until her early 90s", "90s"),
    ("in his 90's, lives with son", "90's"),
    ("a 92 woman from home", "92"),
    ("see flowsheet \n \n98 s/p left hip fx", "98"),
    ("ninety-two year old female", "ninety-two"),
    ("she is in her nineties", "nineties"),
    # a person's age with a verb, age and sex in brackets or after a comma
    ("my grandmother is 93 and lives alone", "93"),
    ("my father is now 100, still drives", "100"),
    ("she turned 96 last month", "96"),
    ("I'm 91 and healthy", "91"),
    ("my aunt is ninety-four", "ninety-four"),
    ("My mother (92F) was admitted", "92"),
    ("Mr. Lane (97 M) fell", "97"),
    ("Ada Pike, 95F, seen today", "95"),
    ("pt 94M s/p fall", "94"),
]


@pytest.mark.parametrize(("text", "age"), AGES)
def test_detector_finds_age_over_89(detector: Detector, text: str, age: str) -> None:
    spans = detector.detect(text)
    start = text.index(age)
    assert [(s.start, s.end, s.entity_type) for s in spans] == [(start, start + len(age), "AGE")]
    assert spans[0].recognizer == "deid.ages"


NOT_AGES = [
    "89 yo man s/p MVA",  # 89 and under are not PHI
    "45 y/o woman",
    "age 62",
    "HR 98 sinus, sats 92%",
    "temp 98.6, bp 92/50",
    "FS 98 s/p D50",  # s/p after a number only opens a line for an age
    "sats in the 90s on 2L",
    "HR in 90's overnight",
    "core temp 95 F this am",  # a single M/F letter counts only opening a line
    "vanco 1000 mg, NS at 125 ml/hr",
    "ninety minutes of CPR",
    "pt is 95% on RA",  # a saturation
    "pt is 98 on 2L NC",
    "glucose is 102, HR is 95",  # not a person's age
    "BP is 100/60",
    "T 99F this am, Tmax 99 F",  # Fahrenheit
    "HR 95 M",
    "she is 95.5 kg",
]


@pytest.mark.parametrize("text", NOT_AGES)
def test_not_an_age_over_89(detector: Detector, text: str) -> None:
    assert detector.detect(text) == []


def test_kind_metadata_and_entity_filter() -> None:
    rec = AgeOver89Recognizer()
    results = rec.analyze("92 yo, in her 90s", ["AGE"])
    assert [r.recognition_metadata[KIND_KEY] for r in results] == ["years", "decade"]
    assert rec.analyze("92 yo", ["DATE"]) == []


@pytest.mark.parametrize(
    "text",
    [
        "9" * 100_000,
        "92 yo " * 16_000,
        "age " * 25_000,
        "in her 90" * 10_000,
        "ninety " * 14_000,
        "she is " * 14_000,
        "she is now 95 " * 7_000,
        "(95f) " * 16_000,
        "is ninety" * 11_000,
    ],
)
def test_linear_time_on_adversarial_input(text: str) -> None:
    recognizer = AgeOver89Recognizer()
    assert_costs_like_benign(lambda t: recognizer.analyze(t, ["AGE"]), text)
