"""LICENSE_NUMBER: DEA check digit, NPI after a label, licence / certificate numbers."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.licenses import (
    RECOGNIZERS,
    dea_check_digit_valid,
    npi_valid,
)
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "LICENSE_NUMBER"


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("prescriber AB1234563 signed", "AB1234563"),  # valid DEA check digit, no label
        ("DEA BP5229871 signed", "BP5229871"),
        ("dea# fj1234563", "fj1234563"),
        ("NPI 1234567893", "1234567893"),  # Luhn-valid NPI
        ("NPI: 2939588455", "2939588455"),  # fails Luhn, still an NPI after its label
        ("license # MD12345", "MD12345"),
        ("RN license 2234567", "2234567"),
        ("Lic. 136994 on file", "136994"),
        ("driver's license Q9433144", "Q9433144"),
        ("board certification no. BC-55512", "BC-55512"),
    ],
)
def test_finds_license_with_exact_offsets(detector, text, value):
    assert detect(detector, text) == [expected_span(text, value, ENTITY)]


@pytest.mark.parametrize(
    "text",
    [
        "prescriber AB1234567 signed",  # DEA shape, wrong check digit
        "DEA AB1234567",  # wrong check digit even with the label
        "IB1234563 and ZB1234563",  # I and Z are no DEA registrant types
        "XAB1234563 and AB12345634",  # runs on into other characters
        "call 1234567893",  # ten digits without an NPI label
        "license plate 7ABC123",  # a plate, not a licence
        "lic 12345",  # bare abbreviation without number word or colon
        "certification pending, permit 2 visitors",
    ],
)
def test_rejects_invalid_or_unlabelled(detector, text):
    assert detect(detector, text) == []


def test_check_digits():
    assert dea_check_digit_valid("AB1234563")
    assert not dea_check_digit_valid("AB1234564")
    assert npi_valid("1234567893")
    assert not npi_valid("1234567890")


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_license_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_no_false_positive_on_dev_notes():
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
