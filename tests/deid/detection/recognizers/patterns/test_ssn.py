"""US_SSN recognizer: dashed SSNs alone, other forms after a label, SSA validity rules."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.ssn import RECOGNIZERS, ssn_is_issuable
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "US_SSN"


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("SSN 123-45-6789 on file", "123-45-6789"),
        ("pt's number 258-18-5042 per registration", "258-18-5042"),
        ("SSN 123456789", "123456789"),
        ("ssn: 123 45 6789.", "123 45 6789"),
        ("SS# 219.09.9999", "219.09.9999"),
        ("Social Security Number: 078-05-1121", "078-05-1121"),
        ("soc. sec. no. 536-22-8726", "536-22-8726"),
        ("SSN is 536228726", "536228726"),
        ("my social is 713 13 8330", "713 13 8330"),
        # A de-identifier does not validate: numbers the SSA never issues are still PHI.
        ("SSN: 987-65-4321", "987-65-4321"),  # advertising range
        ("SSN 000-12-3456", "000-12-3456"),  # area 000
        ("ss# 666-12-3456", "666-12-3456"),  # area 666
        ("SSN 912 34 5678", "912 34 5678"),  # 9xx (ITIN range), spaced, labelled
        ("social security number 123-00-4567", "123-00-4567"),  # group 00
        ("SSN 123450000", "123450000"),  # serial 0000
        ("pt gave 987-65-4329 at registration", "987-65-4329"),  # dashed, unlabelled
    ],
)
def test_finds_ssn_with_exact_offsets(detector, text, value):
    assert detect(detector, text) == [expected_span(text, value, ENTITY)]


@pytest.mark.parametrize(
    "text",
    [
        "social hx: 1 ppd x 20 yrs, etoh 2-3 drinks/week",  # "social" without a number
        "ref 123456789",  # nine digits without an SSN label
        "vals 123 45 6789",  # spaced form without a label
        "SSN 123-45 6789",  # mixed separators
        "code 1123-45-6789 and 123-45-67890",  # longer digit runs
    ],
)
def test_rejects_invalid_or_unlabelled(detector, text):
    assert detect(detector, text) == []


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_ssn_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_issuing_rules():
    assert ssn_is_issuable("123-45-6789")
    assert not ssn_is_issuable("666-45-6789")
    assert not ssn_is_issuable("12345678")


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_no_false_positive_on_dev_notes():
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
