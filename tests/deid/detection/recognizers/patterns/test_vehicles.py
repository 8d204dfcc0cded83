"""VEHICLE_ID: VINs with a check digit (any after a label), licence plates after a label."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.vehicles import RECOGNIZERS, vin_check_digit_valid
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "VEHICLE_ID"
VALID_VIN = "1HGCM82633A004352"
INVALID_VIN = "1HGCM82643A004352"  # check digit (position 9) altered


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (f"car {VALID_VIN} towed", VALID_VIN),
        (f"VIN: {INVALID_VIN}", INVALID_VIN),  # labelled: non-US VINs carry no check digit
        ("VIN JN1RF76N1NT502106)", "JN1RF76N1NT502106"),
        ("license plate 7ABC123 was", "7ABC123"),
        ("LICENSE PLATE 7ABC123 WAS NOTED", "7ABC123"),
        ("plate # XAQ 377.", "XAQ 377"),
        ("(WI plate 8MUV933, VIN", "8MUV933"),
        ("2012 Nissan Altima (plate XUA-748) in", "XUA-748"),
        ("tag number 0C 1222X", "0C 1222X"),
    ],
)
def test_finds_vehicle_id_with_exact_offsets(detector, text, value):
    assert detect(detector, text) == [expected_span(text, value, ENTITY)]


@pytest.mark.parametrize(
    "text",
    [
        f"car {INVALID_VIN} towed",  # wrong check digit, no label
        "12345678901234567",  # seventeen digits, no letters
        f"X{VALID_VIN} and {VALID_VIN}9",  # runs on into other characters
        "ORIF with plate 3.5 mm and screws",
        "plate and screws, plate 12",  # bare "plate": value must mix letters and digits
        "license plate unknown",
    ],
)
def test_rejects_invalid_or_unlabelled(detector, text):
    assert detect(detector, text) == []


def test_vin_check_digit():
    assert vin_check_digit_valid(VALID_VIN)
    assert vin_check_digit_valid(VALID_VIN.lower())
    assert not vin_check_digit_valid(INVALID_VIN)
    assert not vin_check_digit_valid("1HGCM82633A00435")


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_vehicle_id_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_no_false_positive_on_dev_notes():
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
