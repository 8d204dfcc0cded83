"""ClinicalPhoneRecognizer: phone, pager, extension and fax numbers; not volumes, ranges or times."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deid.config import DetectionConfig
from deid.detection.detector import Detector
from deid.detection.recognizers.patterns import phones
from deid.detection.recognizers.patterns.phones import (
    FAX,
    PHONE,
    ClinicalPhoneRecognizer,
)
from deid.spans import KIND_KEY
from tests.timing import assert_costs_like_benign


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(DetectionConfig(entities=(PHONE, FAX), use_tagger=False))


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.entity_type) for s in detector.detect(text)]


PHONES = [
    ("office (617) 555-0199 for results", "(617) 555-0199"),
    ("son 617-555-0199 will call", "617-555-0199"),
    ("Sister in California 415-999-8604. \n", "415-999-8604"),
    ("reach her at 617.555.0199 tonight", "617.555.0199"),
    ("daughter 617 555 0199 aware", "617 555 0199"),
    ("intl +1 617 555 0199 only", "+1 617 555 0199"),
    ("call 1-800-555-0199 for ride", "1-800-555-0199"),
    ("DAUGHTER-KRISSY---301 944-5032 & GRAND DAUGHTER", "301 944-5032"),
    ("pt's son ,dave, (240444-1243) was in ew", "240444-1243"),
    ("son and grandson visited today.(301 273 45166) both", "301 273 45166"),
    ("Lopie cell# 410-322-1419 Home#", "410-322-1419"),
    ("office 617-555-0199 x4521 after 9", "617-555-0199 x4521"),
    ("call 555-0199 with questions", "555-0199"),
    ("WILL F/U IN NEXT 1-2 DAYS AS APPROP. \nPG 33445\n", "33445"),
    ("therapy if discharge delayed. \nPager #54321 \nTime 3:00pm", "54321"),
    ("limited. \nPager: #54321 \nTime Frame: 3:15-3:45pm", "54321"),
    ("F/U 8/20 \nPager # 98765 \nTime: 1:20-1:35pm", "98765"),
    ("Will remain involved as needed. Pager 83554.", "83554"),
    ("he can be reached at beeper number 55037 for consents", "55037"),
    ("if SBP < 90 please page 4-5521", "4-5521"),
    ("questions: ext. 4521", "ext. 4521"),
    ("covering NP x4521", "x4521"),
    ("home phone 6175550199", "6175550199"),
    # blanks beside the separators, area code and seven digits run together, slashes
    ("dtr # 313- 476- 8356 aware", "313- 476- 8356"),
    ("SON 202 2671093 WILL CALL", "202 2671093"),
    ("wife 201/324/1423 in evening", "201/324/1423"),
    # a local number on its own, and an extension after it
    ("Thank you, Ann Lowe, 529-6837", "529-6837"),
    ("son Bo at 476-8356 x1234 evenings", "476-8356 x1234"),
]


@pytest.mark.parametrize(("text", "number"), PHONES)
def test_detector_finds_phone_with_exact_offsets(
    detector: Detector, text: str, number: str
) -> None:
    spans = detector.detect(text)
    start = text.index(number)
    assert [(s.start, s.end, s.entity_type) for s in spans] == [(start, start + len(number), PHONE)]
    assert spans[0].recognizer == "deid.phones"


def test_fax_context_makes_fax_number(detector: Detector) -> None:
    text = "Phone 617-555-0199, fax 617-555-0100. Fax: (617) 555-0111"
    assert found(detector, text) == [
        ("617-555-0199", PHONE),
        ("617-555-0100", FAX),
        ("(617) 555-0111", FAX),
    ]


NOT_PHONES = [
    "SVR 900-1300, CO 4.5",
    "CI 4.6-5.2/2.45-2.77 SVR 954-1183; RECEIVED",
    "Pt voiding 575-1000 cyu. Received",
    "given 2 percocet at 23000, with good relief",  # a typo'd time, no phone word
    "given at 2130 and 0530",
    "call HO at 2130 if SBP < 90",  # a time after "call at"
    "A/C 10 x 700/peep 5, CABG x3, a&ox3",
    "MRN #12345, acct # 55555",
    "ref # 8336652) attempts to reach",
    "ZIP 02115-1234",
    "SSN 123-45-6789",
    "scan 2019-07-22 read",
    "BP 94-113/42-51 HR 100-1112",
    "I/O 1200-1500 cc, u/o 80-100/hr",
    "ABG 7.40/35/64/22/-1 on 40%",
    # local-number look-alikes: ranges, shifts, measurements, quantities
    "u/o 250-1500 over shift, 715-1915 shift",
    "SVR 954-1783 today",
    "gave 325-1650 mg",
    "BP 120/80, 1/2 tab, 2-3x/week, seen 4/2",
    "120/140/1600 panel",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_numbers_are_not_phones(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


def test_unlabelled_short_numbers_stay_under_threshold() -> None:
    results = ClinicalPhoneRecognizer().analyze("sbp 555-1234 range", [PHONE])
    assert [r.score < 0.5 for r in results] == [True]


def test_kind_metadata_and_entity_filter() -> None:
    rec = ClinicalPhoneRecognizer()
    text = "cell 617-555-0199, pager 54321, x4521, 555-0123"
    kinds = [r.recognition_metadata[KIND_KEY] for r in rec.analyze(text, [PHONE, FAX])]
    assert sorted(kinds) == ["extension", "full", "local", "short"]
    assert rec.analyze(text, ["DATE"]) == []
    assert rec.analyze("fax 617-555-0100", [PHONE]) == []  # asked for phones only


@pytest.mark.parametrize(
    "text",
    [
        "1" * 100_000,
        "1-" * 50_000,
        "1 " * 50_000,
        "617-555-0199 " * 7_500,
        "pager # " * 12_000,
        "pager #12345 " * 7_500,
        "x1234 " * 16_000,
        "(617) " * 16_000,
        "#" * 100_000,
        "212- " * 20_000,
        "202 2671093 " * 8_000,
        "201/324/" * 12_000,
        "476-8356 " * 11_000,
    ],
    ids=lambda t: repr(t[:8]),
)
def test_linear_time_on_adversarial_input(text: str) -> None:
    recognizer = ClinicalPhoneRecognizer()
    assert_costs_like_benign(lambda t: recognizer.analyze(t, [PHONE, FAX]), text)


def test_pgr_abbreviation_is_a_pager_word(detector) -> None:  # type: ignore[no-untyped-def]
    text = "d/w Dr. Bowman (pgr 01736). Aurora Davis MD, pgr 0509"
    spans = [
        (text[s.start : s.end], s.entity_type)
        for s in detector.detect(text)
        if s.entity_type == "PHONE_NUMBER"
    ]
    assert spans == [("01736", "PHONE_NUMBER"), ("0509", "PHONE_NUMBER")]


# The scans as first written; the module's are rewritten to open with one digit class.
_READABLE_SCANS = {
    "_SHORT": r"(?:\d-)?\d{4,5}(?![\w\-/%]|[.,:]\d)|\d{7}(?:\d{3})?(?![\w\-/%]|[.,:]\d)",
    "_EXCHANGE_LINE": r"\d{3}(?:[ \t]?[.\-][ \t]?|[ \t])\d{4,5}(?![\w\-]|[./]\d)",
}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789-/.,:% \tax", max_size=40))
def test_the_fast_scans_match_as_their_readable_forms(text: str) -> None:
    for name, readable in _READABLE_SCANS.items():
        fast = getattr(phones, name)
        assert [m.span() for m in fast.finditer(text)] == [
            m.span() for m in re.finditer(readable, text)
        ], name
