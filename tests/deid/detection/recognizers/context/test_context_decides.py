"""Issue 19: context decides, not the allow-list.  Each rule family with invented examples
(never copied from annotated notes) and the near-misses it must leave alone: medical
eponyms, common words outside a PHI context.  Through the real Detector, tagger off."""

from __future__ import annotations

import pytest

from deid.detection import lexicon
from deid.detection.detector import Detector
from deid.detection.wordclass import NameLikeness, is_name_word, lexical_name_likeness
from tests.deid.detection.recognizers.context.context_helpers import found

# -- lexicons -------------------------------------------------------------------------


def test_word_lists_come_from_the_big_lexicons() -> None:
    # Census lists hold names Faker lacked; small US places are known.
    assert {"welsh", "kowalczyk"} <= lexicon.last_names()
    assert {"rob", "pat"} <= lexicon.first_names()
    assert {"white marsh", "catonsville"} <= lexicon.place_names()
    assert ("johns", "hopkins") in lexicon.hospital_forms()


def test_common_words_that_are_names_are_ambiguous_not_dropped() -> None:
    for word in ("white", "hope", "pat", "lou"):
        assert word in lexicon.ambiguous_words()
        assert is_name_word(word)  # still a name where context decides
    assert lexical_name_likeness("kowalczyk") == NameLikeness.STRONG
    assert lexical_name_likeness("pain") == NameLikeness.NO  # a rare surname, a common word
    assert lexical_name_likeness("lee") >= NameLikeness.WEAK  # a common word, a popular name


# -- relatives --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("son rob brought glasses", [("rob", "PERSON")]),
        ("daughter pat at bedside", [("pat", "PERSON")]),
        ("Spoke with daughter Lou by phone", [("Lou", "PERSON")]),
        ("GIRLFRIEND EVE VISITED", [("EVE", "PERSON")]),
        ("husband Grant updated", [("Grant", "PERSON")]),
    ],
)
def test_a_relation_word_decides_for_common_word_names(
    detector: Detector, text: str, expected: list
) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    ["son able to assist", "son in law visiting", "wife at bedside", "daughter will call back"],
)
def test_relation_words_before_ordinary_words(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


# -- initials, titles, roles ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("K. DOMBROWSKI AWARE OF LABS", [("K. DOMBROWSKI", "PERSON")]),
        ("T. WELSH PA AT BEDSIDE", [("T. WELSH", "PERSON")]),
        ("R HALVORSEN ORDERED KCL", [("R HALVORSEN", "PERSON")]),
        ("ok to hold per g white", [("g white", "PERSON")]),
        ("HO BAKER AWARE", [("BAKER", "PERSON")]),
        ("note by nadia p. okafor bsn", [("nadia p. okafor", "PERSON")]),
        ("Discussed with F. Lindqvist today.", [("F. Lindqvist", "PERSON")]),
    ],
)
def test_initials_decided_by_role_or_introducer(
    detector: Detector, text: str, expected: list
) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "E. coli in urine, C. diff negative",
        "S. aureus in sputum",
        "A FIB WITH RVR, T MAX 38.2",
        "I spoke with her; a plan was made",
        "Hep B and vitamin D given",
        "waht r teh signs",
    ],
)
def test_letters_that_are_not_initials(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


# -- introductions and sign-offs --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, my name is pat welsh and I have a question", [("pat welsh", "PERSON")]),
        ("Is this normal? Thanks, Rob", [("Rob", "PERSON")]),
        ("can I take it with food?\nregards,\neve", [("eve", "PERSON")]),
        ("I'm Rosalind, 71 F, is this dose high?", [("Rosalind", "PERSON")]),
        ("this is kowalski, irene, 80 yo", [("kowalski, irene", "PERSON")]),
        ("is that ok?\n- marta oyelaran", [("marta oyelaran", "PERSON")]),
        ("Patient Ignatius, 66 yo", [("Ignatius", "PERSON")]),
    ],
)
def test_self_introductions_and_sign_offs(detector: Detector, text: str, expected: list) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, will call back tomorrow",
        "thanks for the help",
        "the drug name is lasix",
        "I'm fine, thanks",
        "this is normal.",
        "patient denies pain",
    ],
)
def test_sign_offs_without_names(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


# -- places ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT ARRIVED FROM MIAMI. FAMILY HERE", [("MIAMI", "LOCATION")]),
        ("sister drove in from Richmond.", [("Richmond", "LOCATION")]),
        ("wife will fly from ROME tomorrow", [("ROME", "LOCATION")]),
        ("lives @ Dayton, OH", [("Dayton", "LOCATION")]),
        ("lives near White Marsh with son", [("White Marsh", "LOCATION")]),
        ("seen at our Frederick office", [("Frederick", "LOCATION")]),
        ("can I come to your silver spring clinic", [("silver spring", "LOCATION")]),
        ("PO Box 12, Silver Spring, MD 20901", [("Silver Spring", "LOCATION")]),
        ("we just moved to Tacoma from Boise", [("Tacoma", "LOCATION"), ("Boise", "LOCATION")]),
    ],
)
def test_places_after_place_words(detector: Detector, text: str, expected: list) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "drainage from jackson pratt drain",
        "UOP from foley adequate",
        "in bed, from home, in pain, at rest",
        "lives in reading glasses",
        "seen in March and in May",
        "at our main office",
        "What are the signs of West Nile virus?",
        "recovering from cataract surgery",
    ],
)
def test_place_words_before_ordinary_words(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


# -- hospitals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TRANSFERRED FROM HOLY CROSS TODAY", [("HOLY CROSS", "HOSPITAL")]),
        ("had surgery at Johns Hopkins", [("Johns Hopkins", "HOSPITAL")]),
        ("seen at Mt. Sinai last spring", [("Mt. Sinai", "HOSPITAL")]),
        ("records from Cedars-Sinai please", [("Cedars-Sinai", "HOSPITAL")]),
        ("followed at UCSF for years", [("UCSF", "HOSPITAL")]),
        ("pt transferred to GBMC", [("GBMC", "HOSPITAL")]),
        ("was treated @ Dayton VA last year", [("Dayton VA", "HOSPITAL")]),  # a VA by its city
        ("REFERRED TO MEMORIAL HOSPITAL", [("MEMORIAL", "HOSPITAL")]),
        ("seen at Brookfield Campus", [("Brookfield", "HOSPITAL")]),
        ("was transferred from Springfield General to", [("Springfield General", "HOSPITAL")]),
        ("i used to go to St Agnes", [("St Agnes", "HOSPITAL")]),
    ],
)
def test_hospitals_by_full_or_short_name(detector: Detector, text: str, expected: list) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "transferred to MICU from the floor",
        "admitted to the ICU from OSH",
        "CHF exacerbation, lasix BID",
        "mental health, home health, public health, good health",
        "holy cross",  # common words in lower case: the tagger decides
    ],
)
def test_units_and_generic_words_are_not_hospitals(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


# -- medical eponyms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "s/p Tommy John surgery on the right elbow",
        "Rocky Mountain spotted fever ruled out",
        "History of Barrett's esophagus",
        "no evidence of Lyme disease",
        "Parkinson disease, on sinemet",
        "foley catheter to gravity",
        "Swan in place, wedge 18",
        "What is the Epley maneuver?",
        "someone with Osgood-Schlatter",
    ],
)
def test_medical_eponyms_stay(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


def test_a_title_still_makes_an_eponym_a_person(detector: Detector) -> None:
    assert found(detector, "spoke with Dr. Parkinson") == [("Parkinson", "PERSON")]


# -- second pass ---------------------------------------------------------------------------


def test_a_confident_name_is_found_everywhere_with_its_initials(propagating: Detector) -> None:
    text = "Seen by T. Wozniak. Plan per Wozniak T. today. TW aware. T.W. to follow."
    assert found(propagating, text) == [
        ("T. Wozniak", "PERSON"),
        ("Wozniak T.", "PERSON"),
        ("TW", "PERSON"),
        ("T.W.", "PERSON"),
    ]


def test_a_common_word_name_propagates_only_as_written(propagating: Detector) -> None:
    text = "daughter Hope called. Hope to visit. we hope she improves"
    assert found(propagating, text) == [("Hope", "PERSON"), ("Hope", "PERSON")]


def test_initials_that_are_clinical_abbreviations_do_not_propagate(
    propagating: Detector,
) -> None:
    text = "Dr. Mary Svoboda here. MS stable."
    assert found(propagating, text) == [("Mary Svoboda", "PERSON")]
