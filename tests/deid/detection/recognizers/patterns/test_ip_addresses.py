"""IP_ADDRESS recognizer: IPv4 with octet checks, IPv6, no blood gases or versions."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.ip_addresses import RECOGNIZERS
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITY = "IP_ADDRESS"


@pytest.fixture(scope="module")
def detector():
    return make_detector(ENTITY)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("login from 10.0.0.1 at 0300", "10.0.0.1"),
        ("subnet 192.168.1.254/24.", "192.168.1.254/24"),
        ("145.11.143.80", "145.11.143.80"),
        ("IP 7.45.34.7", "7.45.34.7"),  # blood-gas shaped, but labelled
        ("host fe80::1ff:fe23:4567:890a ok", "fe80::1ff:fe23:4567:890a"),
        ("addr 2001:db8::1", "2001:db8::1"),
        ("9755:d4c1:3a90:2931:cd44:7e36:b8b6:d8fe", "9755:d4c1:3a90:2931:cd44:7e36:b8b6:d8fe"),
        ("mapped ::ffff:192.0.2.1 here", "::ffff:192.0.2.1"),
    ],
)
def test_finds_ip_with_exact_offsets(detector, text, value):
    assert detect(detector, text) == [expected_span(text, value, ENTITY)]


@pytest.mark.parametrize(
    "text",
    [
        "ABG 7.45.34.7 on 40%",  # pH.pCO2.pO2.HCO3 written with dots
        "10.0.0.256 and 300.1.1.1",  # octets over 255
        "01.02.03.04",  # leading zeros
        "version 1.2.3.4, v2.0.0.1",
        "1.2.3.4.5",  # five parts
        "3.8.0 and 12.5.2",
        "12:30:45 and 10:30",  # times
        "add:: and ::1 and a::b",  # too short without a label
    ],
)
def test_rejects_non_ips(detector, text):
    assert detect(detector, text) == []


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_ip_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_no_false_positive_on_dev_notes():
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []
