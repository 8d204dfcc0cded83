"""MRN, ACCOUNT_NUMBER, HEALTH_PLAN_ID and ID_NUMBER: identifiers known by their label."""

from __future__ import annotations

import pytest

from deid.detection.recognizers.patterns.medical_ids import RECOGNIZERS
from tests.deid.detection.recognizers.patterns.structured_helpers import (
    NURSING_NEAR_MISSES,
    assert_linear_time,
    detect,
    expected_span,
    make_detector,
    non_gold_detections_on_dev_corpus,
)

ENTITIES = ("MRN", "ACCOUNT_NUMBER", "HEALTH_PLAN_ID", "ID_NUMBER")


@pytest.fixture(scope="module")
def detector():
    return make_detector(*ENTITIES)


@pytest.mark.parametrize(
    ("text", "value", "entity"),
    [
        ("MRN: 00123456", "00123456", "MRN"),
        ("med rec # 1234567", "1234567", "MRN"),
        ("Medical Record Number: A1234567.", "A1234567", "MRN"),
        ("MR# 55512345", "55512345", "MRN"),
        ("Unit No: 12345", "12345", "MRN"),
        ("patient ID 9876543", "9876543", "MRN"),
        ("Account # 998877665", "998877665", "ACCOUNT_NUMBER"),
        ("acct 12345678", "12345678", "ACCOUNT_NUMBER"),
        ("FIN: 2658-057214", "2658-057214", "ACCOUNT_NUMBER"),
        ("billing no. 44-55512", "44-55512", "ACCOUNT_NUMBER"),
        ("Member ID: XYZ123456789", "XYZ123456789", "HEALTH_PLAN_ID"),
        ("Policy Number: 55512345", "55512345", "HEALTH_PLAN_ID"),
        ("Medicare ID 1EG4-TE5-MK73", "1EG4-TE5-MK73", "HEALTH_PLAN_ID"),
        ("Insurance: Medicare, ID# 5HR8JW8VC44", "5HR8JW8VC44", "HEALTH_PLAN_ID"),
        ("ID # 1234567", "1234567", "ID_NUMBER"),
        ("Case no. 2019-12345", "2019-12345", "ID_NUMBER"),
        ("ACC: US21-492980", "US21-492980", "ID_NUMBER"),
        ("state police report #13-839969", "13-839969", "ID_NUMBER"),
        ("handed to security, envelope #4463132.", "4463132", "ID_NUMBER"),
        # Whatever follows a label and holds a digit: letters, hyphens, a "#" of its own.
        ("MRN: #QW-554433", "QW-554433", "MRN"),
        ("med rec no. 00554433", "00554433", "MRN"),
        ("record # RT7766554", "RT7766554", "MRN"),
        ("patient ID kt-220011", "kt-220011", "MRN"),
        ("(ins. #456-7788-990, dob 1/2/50)", "456-7788-990", "HEALTH_PLAN_ID"),
        ("ins # PPO-551122", "PPO-551122", "HEALTH_PLAN_ID"),
        ("policy QR-445566 was denied", "QR-445566", "HEALTH_PLAN_ID"),
        ("in network for my plan (plan 330-4411-229)?", "330-4411-229", "HEALTH_PLAN_ID"),
        ("subscriber X887766554", "X887766554", "HEALTH_PLAN_ID"),
        ("group 00446688", "00446688", "HEALTH_PLAN_ID"),
        ("ref code 4HTRW9KP", "4HTRW9KP", "ID_NUMBER"),
        ("confirmation code: ZK3-99812", "ZK3-99812", "ID_NUMBER"),
        ("case number 7QWT2ZX8", "7QWT2ZX8", "ID_NUMBER"),
        ("claim # 2021-556677-03", "2021-556677-03", "ID_NUMBER"),
        ("acct no. 7788990011", "7788990011", "ACCOUNT_NUMBER"),
        ("billing account B776655443", "B776655443", "ACCOUNT_NUMBER"),
        ("pt, 60 m, chart #qk-7766551, seen", "qk-7766551", "MRN"),
        ("given ticket #KWTRZ7.", "KWTRZ7", "ID_NUMBER"),
    ],
)
def test_finds_labelled_id_with_exact_offsets(detector, text, value, entity):
    assert detect(detector, text) == [expected_span(text, value, entity)]


@pytest.mark.parametrize(
    "text",
    [
        "MRN: pending",  # no digits
        "MRN 1234",  # four bare digits: a time or dose more often than an MRN
        "ID: following, vanco level 1400",  # ID = infectious disease
        "ID aware of cx results 12345",  # label without number word or colon
        "account 1500 cc",
        "family visit: 1400",
        "#18 PIV, # 2 problem, #4463",  # short numbers after "#"
        "PHONE # 555-1234",  # a phone, not an ID
        "unit # 2 PRBC",
        "echo: trace MR 12345",  # MR = mitral regurgitation
        "ID: 2nd opinion requested",  # an ordinal
        "plan 2-3 days, policy 2 visits, group 12",  # plan words with counts
        "plan: lasix 40mg, recheck K",  # a dose after "plan"
        "policy reviewed with family",
        "case #500mg",  # a dose, not a code
        "ID: vanc-15 pending, 2-view cxr",  # a drug level, a film
    ],
)
def test_rejects_unlabelled_or_non_ids(detector, text):
    assert detect(detector, text) == []


@pytest.mark.parametrize("text", NURSING_NEAR_MISSES)
def test_no_id_in_nursing_numbers(detector, text):
    assert detect(detector, text) == []


def test_linear_time_on_adversarial_input():
    assert_linear_time(cls() for cls in RECOGNIZERS)


def test_dev_notes_detections_are_all_gold_phi():
    # The dev notes hold one labelled reference number ("ref # ..."), gold-annotated PHI.
    assert non_gold_detections_on_dev_corpus(cls() for cls in RECOGNIZERS) == []


def test_short_codes_after_hash() -> None:
    from deid.config import DetectionConfig
    from deid.detection.detector import Detector

    det = Detector(DetectionConfig(entities=("ID_NUMBER",), use_tagger=False))
    text = "per hospital policy #rg17, order #A1234; #18 foley, 20g IV, problem #3"
    assert [text[s.start : s.end] for s in det.detect(text)] == ["rg17", "A1234"]
