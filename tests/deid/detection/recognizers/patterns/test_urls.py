"""URL recognizer: scheme and www. URLs, bare domains with a common TLD or a label."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.urls import RECOGNIZERS
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "URL"


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("See http://www.example.com/path?x=1.", "http://www.example.com/path?x=1"),
        (
            "portal https://mychart.example.org/login#top, then",
            "https://mychart.example.org/login#top",
        ),
        ("(ftp://files.example.net/a.txt)", "ftp://files.example.net/a.txt"),
        ("visit www.mychart.org, thanks", "www.mychart.org"),
        ("WWW.PARTNERS.ORG/PATIENTS.", "WWW.PARTNERS.ORG/PATIENTS"),
        ("log in at mychart.partners.org/login today", "mychart.partners.org/login"),
        ("johnson-craig.biz has it", "johnson-craig.biz"),
        ("website: nhs.uk", "nhs.uk"),
        ("portal example.co.uk.", "example.co.uk"),
        ("URL:http://10.1.2.3:8080/x", "http://10.1.2.3:8080/x"),
        # A label glued into a longer word is no label: the whole domain is the URL.
        ("profile linkedin.com/in/jdoe", "linkedin.com/in/jdoe"),
        ("see visitmychart.co.uk", None),
    ],
)
def test_finds_url_with_exact_offsets(detector, text, value):
    expected = [] if value is None else [expected_span(text, value, ENTITY)]
    assert detect(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "pt.is stable, d/c.in am, f/u.com pending",  # shorthand, not domains
        "MGH.ORG",  # bare domain in capitals without a label
        "example.co.uk",  # country TLD without a label
        "email a.b@example.com",  # the email recognizer's, not a URL
        "report.pdf and notes.txt",
        "b.i.d. and t.i.d. dosing",
    ],
)
def test_rejects_non_urls(detector, text):
    assert detect(detector, text) == []


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_url_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_no_false_positive_on_dev_notes():
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
