"""ClinicalDateRecognizer and YearRecognizer: clinical date formats in, nursing-note numbers out."""

from __future__ import annotations

import pytest

from deid.config import DetectionConfig
from deid.detection.detector import Detector
from deid.detection.recognizers.patterns.dates import (
    DATE_RECOGNIZER_NAME,
    YEAR_RECOGNIZER_NAME,
    ClinicalDateRecognizer,
    YearRecognizer,
)
from deid.entities import DateKind
from deid.spans import KIND_KEY
from tests.timing import assert_costs_like_benign


@pytest.fixture(scope="module")
def detector() -> Detector:
    # DATE only, so other recognizers cannot widen spans; no tagger model needed.
    return Detector(DetectionConfig(entities=("DATE",), use_tagger=False))


def found(detector: Detector, text: str) -> list[str]:
    return [text[s.start : s.end] for s in detector.detect(text)]


DATES = [
    ("HPI: FOUND BY HUSBAND ON FLOOR 7/22 AT HOME", "7/22"),
    ("admitted to hospital 9/3/97. (see past hx)", "9/3/97"),
    ("DOB 07/22/1993, allergies NKDA", "07/22/1993"),
    ("6-19-19 3P TO 7P: STABLE", "6-19-19"),
    ("CT scan 2019-07-22 read as negative", "2019-07-22"),
    ("CT scan 2019/07/22 read as negative", "2019/07/22"),
    ("repair of pseudoaneurysm on July 2nd, with stent", "July 2nd"),
    ("stated it was July 29th. Reoriented", "July 29th"),
    ("seen on Jul 22 by cardiology", "Jul 22"),
    ("surgery Jul 22, 2019 at OSH", "Jul 22, 2019"),
    ("born 22 July 2019 at term", "22 July 2019"),
    ("date of injury 22-Jul-2019.", "22-Jul-2019"),
    ("on the 3rd of July she fell", "3rd of July"),
    ("last seen in July 2019 by PCP", "July 2019"),
    ("LAST DOSE IN THIS CASE MARCH OF 1993.)", "MARCH OF 1993"),
    ("nursing progress note\n1->2 nov, 96  \n1900 - 0700", "1->2 nov, 96"),
    ("Nursing Progress Note \n21 Apr, 21 0700->1930", "21 Apr, 21"),
    ("home from hospital in sept. and d/c'd", "sept"),
    ("plans to be home for Christmas this year", "Christmas"),
    ("family visiting over Thanksgiving", "Thanksgiving"),
    ("cultures drawn on the 11th. One set neg", "11th"),
    ("\"i'm at the general hospital. it's the 11th.\" pt now oriented", "11th"),
    ("TEE W ?CARDIOVERSION FRIDAY 9/17.", "FRIDAY 9/17"),
    ("RADIATION TREATMENTS 10/03/10/04 AND DUE AGAIN", "10/03/10/04"),
    ("11/21.93 \nneuro: pt alert", "11/21.93"),
    ("hct-28.2 am labs on10/14/82> to hct-30", "10/14/82"),
    ("He returned to OR on 7-8 for coiling", "7-8"),
    ("Pt was admitted 1/3 with CHF", "1/3"),
    ("PMH: CAD, AVR 8/88, DDD PMR", "8/88"),
    ("cardiomyopathy EF 35% (3/02), laryngeal CA", "3/02"),
    ("LITHIUM TOXICITY-9/2/92. \n", "9/2/92"),
    ("PLACED IN R AC 11/17, ART LINE", "11/17"),
    ("d/c integrelin at 0630 2/31 \n1/2 NS at 200cc/hr", "2/31"),  # surrogate Feb 31
    ("POST 3/3 TX . BS 200", "3/3"),
    ("Mon 7/22: pt seen", "7/22"),
    ("cardiac cath May 5, stent to LAD", "May 5"),
    ("DC'D ON DEC 2 AT 10AM", "DEC 2"),
    # glued to a word or a dot; a month alone after a cue word; days listed after "on"
    ("PMH: hip fx4/97 s/p ORIF", "4/97"),
    ("R knee replaced x6/85, doing well", "6/85"),
    ("seen in clinic.9/14 f/u planned", "9/14"),
    ("moved here in aug. with family", "aug"),
    ("home since dec, lives alone", "dec"),
    ("HD on 3/2/4/6, missed today", "3/2/4/6"),
    # weekday-anchored relative dates pin one day
    ("I was discharged last Friday.", "last Friday"),
    ("my appt is next tuesday at 3", "next tuesday"),
    ("SEEN THIS PAST MONDAY BY PCP", "THIS PAST MONDAY"),
    ("surgery this coming Wed, NPO", "this coming Wed"),
]


@pytest.mark.parametrize(("text", "date"), DATES)
def test_detector_finds_date_with_exact_offsets(detector: Detector, text: str, date: str) -> None:
    spans = detector.detect(text)
    start = text.index(date)
    assert [(s.start, s.end) for s in spans] == [(start, start + len(date))]
    assert spans[0].entity_type == "DATE"
    assert spans[0].recognizer == DATE_RECOGNIZER_NAME


def test_date_range_gives_two_dates(detector: Detector) -> None:
    assert found(detector, "ceftaz rec'd 8/2-8/10. currently") == ["8/2", "8/10"]
    assert found(detector, "ceftaz rec'd 8/2 - 8/10. currently") == ["8/2", "8/10"]


def test_weekday_name_is_part_of_the_date(detector: Detector) -> None:
    assert found(detector, "cath Monday, July 22 at 9") == ["Monday, July 22"]


NOT_DATES = [
    "BP 120/80 HR 72",
    # pure intervals name no date (not PHI under Safe Harbor)
    "seen last week, 3 days ago, two weeks ago, yesterday and last month",
    "f/u next week",
    # glued numbers that stay settings, doses and ratios
    "pt on ps10/5, peep5/10, 1/2ns at 75",
    "dose .5/1 tab, 2-3x/week, ratio 1:2, 140/104/22",
    "aug 2L flow, dec UO, mar reviewed",
    "on 10/5/5 settings",
    "BP 94-113/42-51 WITH MAPS 60",
    "bp 100-108/49-57. pad 25-31",
    "ABG 7.40/35/64/22/-1 on 40%",
    "abg 91/42/7.36/25/-1. Occ pvcs",
    "AM ABG-90/30/7.36/18/-6. SX",
    "CO/CI/SVR 9.9/5.56/356 after",
    "Pt changed to PSV 15/5 with RR 12",
    "pt remains on ps 12/5 peep, 40% fio2",
    "ON BIPAP OVERNIGHT 10/5 FIO2 65%",
    "Resp: Acidotic on CPAP 5/5. Placed on PS",
    "IMV 6/700/40%/5/5--abg on these",
    "vent 10/5/.40 w/ abg",
    "D5 1/2 NS at 100cc/hr",
    "IVF changed to 1/2 NS with 20 meq",
    "formula changed to 3/4 str Nepro",
    "tube feeds at 2/3 strength",
    "crackles 1/2 up bilaterally",
    "OOB to chair for 1 1/2 hrs",
    "c/o 3/10 l back pain in",
    "pain #4/10, medicated",
    "Pt developed 4/10 CP. Tx",
    "+3/6 SEM BP 110/46",
    "BUN/CR 49/2.0 and K 3.9",
    "temp 98.6 po, BUN 54, PEEP 5, CVP 6",
    "a&ox3, I&O even, sats 94 TO 96",
    "given at 2130 and again at 0530",
    "woke at 10:26AM, NPN 1900-0700",
    "has been on bed pan 2-3 times",
    "hands edematous and up on 1-2 pillows",
    "LASIX DEC TO 10 MG/HR AT 2",
    "pt may need 2 units prbc",
    "see MAR 2 doses given",
    "set 1:1 with AS 89-109, Aug dia 90",
    "moved to the 3rd floor for the 2nd time",
    "sats in the 90s, HR 100-110",
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_nursing_numbers_are_not_dates(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


YEARS = [
    ("PMH: CAD, S/P MI 1992; LCX PTCA", ["1992"]),
    ("PMH MI '92, CABG X3 '92, REDO '95", ["'92", "'92", "'95"]),
    ("PMH MI 92, 3 VCABG C MVR", ["92"]),
    ("PMH: CABG 81, Redo CABG 84, MVR,MI 81,HTN", ["81", "84", "81"]),
    ("PMHX CVA in 94 and 00 affected (R) side", ["94", "00"]),
    ("DM W RETINOPATHY. \n CVA 74'. \n CHOLECYSTECTOMY 77'.", ["74'", "77'"]),
    ("Orientation knows it is 2020, not sure of month", ["2020"]),
    ("HX OF POSSIBLE MI IN 1980S AFTER CHOLE", ["1980S"]),
    ("stroke, middle cerebellar CVA 2004, hernia", ["2004"]),
    ("RENAL CELL CA 1977,S/P R NEPHRECTOMY", ["1977"]),
    ("PMH: breast CA'88, MI'92", ["'88", "'92"]),
    ("STOPPED SMOKING 62' PER WIFE", ["62'"]),
]


@pytest.mark.parametrize(("text", "years"), YEARS)
def test_detector_finds_years(detector: Detector, text: str, years: list[str]) -> None:
    spans = detector.detect(text)
    assert [text[s.start : s.end] for s in spans] == years
    assert {s.recognizer for s in spans} == {YEAR_RECOGNIZER_NAME}
    assert {s.kind for s in spans} == {DateKind.YEAR}  # what the policy reads


NOT_YEARS = [
    "HOB 30'. Drain placed",  # an angle: reported under the threshold only
    "AMBULATED 30' WITH 2 ASSIST",
    "tranfused at 2000 and 2030",
    "u/o 1975 cc for shift",
    "PLT 1990 from 2000",
    "NPN 1900-0700",
    "MI 92% stenosis",  # a percentage, not a year
    "HR 90's, sats 92",
]


@pytest.mark.parametrize("text", NOT_YEARS)
def test_numbers_are_not_years(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


def test_date_kind_metadata() -> None:
    text = "seen 7/22/93, MI '92, on July 2nd, in July 2019, for Christmas"
    kinds = {
        text[r.start : r.end]: r.recognition_metadata[KIND_KEY]
        for rec in (ClinicalDateRecognizer(), YearRecognizer())
        for r in rec.analyze(text, ["DATE"])
    }
    assert kinds == {
        "7/22/93": "full",
        "'92": "year",
        "July 2nd": "month_day",
        "July 2019": "month_year",
        "Christmas": "holiday",
    }


def test_fraction_like_pairs_need_a_date_word() -> None:
    rec = ClinicalDateRecognizer()
    assert rec.analyze("crackles 1/2 up, on 2-3L", ["DATE"]) == []  # rejected outright
    (weak,) = rec.analyze("pt seen 1/3, stable", ["DATE"])
    (dated,) = rec.analyze("pt admitted 1/3, stable", ["DATE"])
    assert weak.score < 0.5 <= dated.score


def test_recognizer_ignores_other_entities() -> None:
    assert ClinicalDateRecognizer().analyze("seen 7/22/93", ["AGE"]) == []
    assert YearRecognizer().analyze("MI 1992", ["PHONE_NUMBER"]) == []


def test_offsets_survive_case_folding_that_changes_length() -> None:
    text = "İİ seen 7/22/93 and MI 1992"  # "İ".lower() is two characters long
    (date,) = ClinicalDateRecognizer().analyze(text, ["DATE"])
    (year,) = YearRecognizer().analyze(text, ["DATE"])
    assert text[date.start : date.end] == "7/22/93"
    assert text[year.start : year.end] == "1992"


ADVERSARIAL = [
    "1/" * 50_000,
    "1" * 100_000,
    "-" * 100_000,
    " " * 100_000,
    "1-" * 50_000,
    "1/1." * 25_000,
    "12/12 " * 16_000,
    "jan " * 25_000,
    "July 1, " * 12_000,
    "1 jan " * 16_000,
    "the 1st " * 12_000,
    "'92 " * 25_000,
    "MI 92, " * 14_000,
    "Christmas " * 10_000,
    "JANUARY FEBRUARY " * 6_000,
    "fx4/97 " * 14_000,
    ".8/31" * 20_000,
    "CA'88" * 20_000,
    "smoking 62' " * 8_000,
    "last friday " * 8_000,
    "this past " * 10_000,
    "on 4/2/3/5 " * 9_000,
    "4/2/3/5/6/7/8/9/" * 6_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:8]))
def test_linear_time_on_adversarial_input(text: str) -> None:
    dates, years = ClinicalDateRecognizer(), YearRecognizer()
    assert_costs_like_benign(
        lambda t: (dates.analyze(t, ["DATE"]), years.analyze(t, ["DATE"])), text
    )
