"""STREET_ADDRESS: number + street + suffix (+ unit), PO boxes; "Dr." the title is no street."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.addresses import RECOGNIZERS
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "STREET_ADDRESS"


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("972 School St, Rothshire", "972 School St"),
        ("at 12 Beacon Street, Apt 4B.", "12 Beacon Street, Apt 4B"),
        ("48 N. Main Ave Suite 200", "48 N. Main Ave Suite 200"),
        ("1777 Kramer Court\nJohnsonfurt, NE 80119", "1777 Kramer Court"),
        ("48396 Jeremiah Locks Apt. 027\nStephensbury", "48396 Jeremiah Locks Apt. 027"),
        ("4978 Chapman Bypass, Sanchezfurt, MT 87630", "4978 Chapman Bypass"),
        ("123 Oak Dr. Boston, MA", "123 Oak Dr."),  # "Dr." then a city: a street
        ("home is 55 Elm Drive; wife there", "55 Elm Drive"),
        ("12 MAIN STREET", "12 MAIN STREET"),
        ("120 W 42nd St #5", "120 W 42nd St #5"),
        ("lives alone at 8829 damon roads in timhaven", "8829 damon roads"),
        ("LIVES ALONE AT 7392 MYERS RIDGE, APT 33C IN AUDREYLAND", "7392 MYERS RIDGE, APT 33C"),
        ("She lives at 3835 Route 9, West Margaret", "3835 Route 9"),
        ("lives at 197 Broadway in Bethesda", "197 Broadway"),
        ("P.O. Box 1234", "P.O. Box 1234"),
        ("PO BOX 77, Calvert", "PO BOX 77"),
    ],
)
def test_finds_address_with_exact_offsets(detector, text, value):
    assert detect(detector, text) == [expected_span(text, value, ENTITY)]


@pytest.mark.parametrize(
    "text",
    [
        "gave 2 Percocet Dr Smith aware",  # "Dr" the title
        "Given 1 Ativan Dr. Jones notified",
        "transferred to 5 West St. Elizabeth's",  # "St." the saint
        "2 HEAD CT NEG; 3 VESSEL CT",  # CT scan, not Court
        "GU: 3 WAY FOLEY IN PLACE",
        "moved to 4 Station B",  # rare suffix without address evidence
        "on 2 Liters Nasal Cannula",
        "lives with wife, 2 kids",
        "po meds, po box lunch",  # "po" = by mouth
    ],
)
def test_rejects_non_addresses(detector, text):
    assert detect(detector, text) == []


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_address_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_dev_notes_detections_are_all_gold_phi():
    # The dev notes hold one street address ("<n> <Name> St."), gold-annotated PHI.
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
