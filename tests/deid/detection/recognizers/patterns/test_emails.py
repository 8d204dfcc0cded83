"""EMAIL_ADDRESS recognizer: real TLDs, exact offsets, no shouted "PT@HOME.NO"."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.emails import RECOGNIZERS
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "EMAIL_ADDRESS"


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("email jsaunders@gmail.com today", "jsaunders@gmail.com"),
        ("Contact john.smith@mgh.harvard.edu.", "john.smith@mgh.harvard.edu"),
        ("(aimep@rothshirehospital.org)", "aimep@rothshirehospital.org"),
        ("mailto:o'brien+notes@nhs.net", "o'brien+notes@nhs.net"),
        ("EMAIL: JSMITH@PARTNERS.ORG", "JSMITH@PARTNERS.ORG"),
        ("reach me at r.lee@clinic.co.uk, thanks", "r.lee@clinic.co.uk"),
    ],
)
def test_finds_email_with_exact_offsets(detector, text, value):
    assert detect(detector, text) == [expected_span(text, value, ENTITY)]


@pytest.mark.parametrize(
    "text",
    [
        "PT@HOME.NO COMPLAINTS",  # shouted note: two-letter "TLD" in capitals
        "DOPAMINE@8mcg/k/min, HEPARIN@800U",
        "seen @ 1230 by team",
        "user@localhost",
        "file@report.pdfx",  # not a TLD
        "a@b",
    ],
)
def test_rejects_non_emails(detector, text):
    assert detect(detector, text) == []


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_email_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_no_false_positive_on_dev_notes():
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
