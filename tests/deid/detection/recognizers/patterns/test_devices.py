"""DEVICE_ID: serial numbers after a label, GS1 UDIs, MAC addresses."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.devices import RECOGNIZERS
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "DEVICE_ID"
GS1 = "(01)00643169007222(17)160128(21)BLC200461H"


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("serial # PJN123456 interrogated", "PJN123456"),
        ("pacemaker S/N: ABC12345.", "ABC12345"),
        ("ICD serial number 7Z-22814", "7Z-22814"),
        ("(Medtronic MiniMed 770G, SN 2Q08L4034): ok", "2Q08L4034"),
        ("cpap (resmed airsense 10, sn 5580-0235-40)", "5580-0235-40"),
        ("IMEI 356938035643809", "356938035643809"),
        (f"UDI {GS1} logged", GS1),
        (f"implant label {GS1}", GS1),
        ("MAC 00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E"),
        ("mac 00-1a-2b-3c-4d-5e.", "00-1a-2b-3c-4d-5e"),
    ],
)
def test_finds_device_id_with_exact_offsets(detector, text, value):
    assert detect(detector, text) == [expected_span(text, value, ENTITY)]


@pytest.mark.parametrize(
    "text",
    [
        "serial ABGs, serial lactates 2.1, serial CKs",
        "SN 2 days in unit; sn to assist",  # SN = student nurse
        "SN 1200",  # too few digits for a bare SN
        "pacer DDD 60, ICD shock x1",
        "RR 12-14-16-18-20-22",  # dash-joined numbers, no hex letter
        "12:30:45:10:20:30:40",  # seven groups
    ],
)
def test_rejects_unlabelled_or_non_ids(detector, text):
    assert detect(detector, text) == []


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_device_id_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_no_false_positive_on_dev_notes():
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
