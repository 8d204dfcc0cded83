"""ZIP_CODE: after "City, ST", after a matching state, after a label; never lab values."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.zip_codes import RECOGNIZERS, zip_in_state
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "ZIP_CODE"


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Boston, MA 02114", "02114"),
        ("lives in Boston, MA 02114-1234.", "02114-1234"),
        ("Johnsonfurt, NE 80119", "80119"),  # city given: the ZIP need not match the state
        ("Lake Isabel, WI 53051\n", "53051"),
        ("MA 02114", "02114"),
        ("Massachusetts 02114", "02114"),
        ("NEW YORK 10027", "10027"),
        ("Calvert, MD, 20678", "20678"),
        ("zip 90210", "90210"),
        ("Zip code: 02114-1234", "02114-1234"),
        ("FPO AA 34035", "34035"),
        # a town right before a real ZIP: capitalised US place, or the ZIP's own town
        ("I live at 12 Oak St, Springfield 01103.", "01103"),
        ("lives in lee 01238 with wife", "01238"),
        ("Great Barrington, 01230", "01230"),
        ("i live at 77 pine st, apt 2b, nowhereville 54321 (cell)", "54321"),
    ],
)
def test_finds_zip_with_exact_offsets(detector, text, value):
    assert detect(detector, text) == [expected_span(text, value, ENTITY)]


@pytest.mark.parametrize(
    "text",
    [
        "CA 01234",  # not a California ZIP, no city
        "IN 12345 units",  # shouted "in": 123 is no Indiana prefix
        "PLT 150000, WBC 12500, vol 10000",
        "OR 55555",  # Oregon ZIPs start 970-979
        "02114",  # five digits alone
        "Boston, MA 0211",  # four digits
        "Boston, MA 021145",  # six digits
        "zip 00000",
        "MA 02114.5 mL",  # a decimal, not a ZIP
        "Given 10001 units of heparin",  # a town name before a quantity
        "lives in boston 99999",  # not a ZIP code
        "gave 5 of 12345 tabs, dose 20001",  # no town before it
        "springfield 01238",  # lower case: only the ZIP's own town counts
    ],
)
def test_rejects_non_zips(detector, text):
    assert detect(detector, text) == []


def test_zip_prefix_table():
    assert zip_in_state("02114", "MA")
    assert zip_in_state("10027", "NY")
    assert not zip_in_state("10027", "MA")
    assert not zip_in_state("10027", "XX")


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_zip_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_no_false_positive_on_dev_notes():
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
