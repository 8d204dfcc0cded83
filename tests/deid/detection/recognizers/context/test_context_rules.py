"""Context rules for names and places: hits and near-misses, through the real Detector
with the tagger off (so each rule is tested on its own merit)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deid.detection.detector import Detector
from deid.detection.recognizers.context import facilities
from tests.deid.detection.recognizers.context.context_helpers import found
from tests.timing import assert_costs_like_benign


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Mesite aware of labs.", [("Mesite", "PERSON")]),
        ("seen by dr healey today", [("healey", "PERSON")]),
        ("per dr.reid -see note", [("reid", "PERSON")]),
        ("PRONOUNCED BY DR. L. RUUSKA . FAMILY", [("L. RUUSKA", "PERSON")]),
        ("DRS JOSEPH AND ROBBINS in", [("JOSEPH AND ROBBINS", "PERSON")]),
        ("MR. EDWIN PRZYBYLO is 83", [("EDWIN PRZYBYLO", "PERSON")]),
        ("Mary Hulse, R.N.\n", [("Mary Hulse", "PERSON")]),
        ("DAN A. FORMAN-LYONS, RRT", [("DAN A. FORMAN-LYONS", "PERSON")]),
        ("W. MAROTTA AWARE of rhythm", [("W. MAROTTA", "PERSON")]),
        ("spoke with Dr. Foley today", [("Foley", "PERSON")]),
    ],
)
def test_titled_and_credentialed_names(detector: Detector, text: str, expected: list) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "trace MR, mild MS, PA pressures 40/20",  # clinical abbreviations, not titles
        "MS CHANGES overnight",
        "Pain service RN aware",
        "MD AWARE. HO AWARE.",
        "called md about k",
        "Foley catheter draining clear yellow urine",
    ],
)
def test_titles_without_names_do_not_fire(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pt's wife Mary called", [("Mary", "PERSON")]),
        ("son bill called twice", [("bill", "PERSON")]),
        ("DAUGHTER LISA ROSSETTI took belongings", [("LISA ROSSETTI", "PERSON")]),
        ("Nephew, Neil Meitz visited", [("Neil Meitz", "PERSON")]),
    ],
)
def test_relatives(detector: Detector, text: str, expected: list) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text", ["husband visited today", "son called twice", "daughter at bedside", "son in law here"]
)
def test_relations_without_names(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TRANSFER FROM CALVERT HOSPITAL FOR", [("CALVERT", "HOSPITAL")]),
        ("taken to kernan hosp. she", [("kernan", "HOSPITAL")]),
        ("to go to St. Mary on Tuesday", [("St. Mary", "HOSPITAL")]),
        ("insulin per U Maryland scale", [("U Maryland", "HOSPITAL")]),
        ("plan: transfer to quartermain2 today", [("quartermain2", "HOSPITAL")]),
    ],
)
def test_facilities(detector: Detector, text: str, expected: list) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "OUTSIDE HOSPITAL",
        "AGGRESSIVE MEDICAL MANAGEMENT",
        "ST elevation in V2-V4",
        "no acute distress",
    ],
)
def test_facility_words_alone(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lives in catonsville, husband", [("catonsville", "LOCATION")]),
        ("Sister called from Seattle", [("Seattle", "LOCATION")]),
        ("was vacationing in Daytona Beach when", [("Daytona Beach", "LOCATION")]),
    ],
)
def test_places(detector: Detector, text: str, expected: list) -> None:
    assert found(detector, text) == expected


def test_places_near_misses(detector: Detector) -> None:
    assert found(detector, "in bed, in place, in pain, from home, lives in a house") == []


def test_rules_are_linear_on_adversarial_input(detector: Detector) -> None:
    texts = [
        "Dr. " * 20_000,
        "Smith Jones Brown " * 6_000,
        "son son son " * 8_000,
        "hospital " * 10_000,
        "lives in " * 10_000,
    ]
    for text in texts:
        assert_costs_like_benign(detector.detect, text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abcdeQ_é19 0\n-", max_size=30))
def test_the_ward_scan_finds_what_its_readable_form_finds(text: str) -> None:
    """The ward scan starts at the floor number; its words are those of the plain form."""
    readable = re.compile(r"\b[A-Za-z]{4,} ?[1-9][0-9]{0,2}\b")
    assert [m.start("word") for m in facilities._WARD_RE.finditer(text)] == [
        m.start() for m in readable.finditer(text)
    ]
