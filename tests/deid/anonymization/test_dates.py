"""Date parsing, format-preserving shifting and surrogate dates (deid.anonymization.surrogates.dates)."""

from __future__ import annotations

import datetime as dt

import pytest

from deid.anonymization.surrogates import SurrogateSource
from deid.anonymization.surrogates.dates import (
    REF_YEAR,
    _split_pair,
    allowed_offsets,
    month_delta,
    parse_date,
    patient_offset_days,
    shift_date_text,
)
from tests.deid.anonymization.helpers import KEY, OTHER_KEY
from tests.timing import assert_costs_like_benign


@pytest.fixture
def draw(source: SurrogateSource):  # type: ignore[no-untyped-def]
    return source.for_patient("p1")


# Every format the detector reports, shifted by -40 days (July 22, 2019 was a Monday).
@pytest.mark.parametrize(
    ("original", "shifted"),
    [
        ("7/22", "6/12"),
        ("7-8", "5-29"),
        ("7/22/19", "6/12/19"),
        ("07/22/2019", "06/12/2019"),
        ("3/02", "01/22"),
        ("2019-07-22", "2019-06-12"),
        ("22-Jul-2019", "12-Jun-2019"),
        ("22 July 2019", "12 June 2019"),
        ("21 Apr, 21", "12 Mar, 21"),
        ("July 22, 2019", "June 12, 2019"),
        ("JULY 22ND", "JUNE 12TH"),
        ("Jul 22nd", "Jun 12th"),
        ("Jul/22", "Jun/12"),
        ("22nd of July", "12th of June"),
        ("Monday, July 22, 2019", "Wednesday, June 12, 2019"),
        ("Friday 9/17", "Friday 8/8"),
        ("7/22/2019 10:30", "6/12/2019 10:30"),
        ("11/21.93", "10/12.93"),
        ("6-17-21", "5-8-21"),
        ("Sept. 22, '19", "Aug. 13, '19"),
        ("1/15/2000", "12/6/1999"),
        ("1/15/00", "12/6/99"),
        ("July 2019", "June 2019"),
        ("7/2019", "6/2019"),
        ("8/87", "7/87"),
        ("nov, 96", "oct, 96"),
        ("MARCH OF 1993", "FEBRUARY OF 1993"),
        ("Jan 2019", "Dec 2018"),
        ("July", "June"),
        ("sept", "aug"),
        ("10/03/10/04", "08/24/08/25"),
        ("8/2-8/10", "6/23-7/1"),
    ],
)
def test_every_format_is_shifted_in_its_own_format(original: str, shifted: str, draw) -> None:  # type: ignore[no-untyped-def]
    assert shift_date_text(original, -40, draw) == shifted


_FORMATS = {
    "m/d/yyyy": lambda d: f"{d.month}/{d.day}/{d.year}",
    "mm/dd/yy": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}",
    "iso": lambda d: d.isoformat(),
    "spelled": lambda d: d.strftime("%B ") + f"{d.day}, {d.year}",
    "d-Mon-yyyy": lambda d: f"{d.day}-{d.strftime('%b')}-{d.year}",
    "Mon dth yyyy": lambda d: d.strftime("%b ") + f"{d.day}th {d.year}",
}


def _as_date(text: str) -> dt.date:
    parsed = parse_date(text)
    assert parsed is not None and parsed.month is not None and parsed.day is not None, text
    return dt.date(parsed.year or REF_YEAR, parsed.month, parsed.day)


@pytest.mark.parametrize("offset", [-364, -200, -45, -30, 31, 400])
@pytest.mark.parametrize("first", sorted(_FORMATS))
@pytest.mark.parametrize("second", sorted(_FORMATS))
def test_intervals_between_dates_stay_exact(offset: int, first: str, second: str, draw) -> None:  # type: ignore[no-untyped-def]
    d1 = dt.date(2019, 12, 28)  # ten days later is next year: the year must follow
    d2 = d1 + dt.timedelta(days=10)
    if first == "Mon dth yyyy" or second == "Mon dth yyyy":
        d1, d2 = dt.date(2019, 7, 4), dt.date(2019, 7, 14)  # "th" suffix days only
    new1 = _as_date(shift_date_text(_FORMATS[first](d1), offset, draw))
    new2 = _as_date(shift_date_text(_FORMATS[second](d2), offset, draw))
    assert (new2 - new1).days == 10
    assert (new1 - d1).days == offset


def test_year_less_dates_keep_intervals(draw) -> None:  # type: ignore[no-untyped-def]
    new1 = _as_date(shift_date_text("3/1", -100, draw))
    new2 = _as_date(shift_date_text("3/11", -100, draw))
    assert (new2 - new1).days == 10


@pytest.mark.parametrize("text", ["7/22", "2/29", "12/31", "1/1", "July", "8/87", "Jan 2019"])
def test_no_allowed_offset_leaves_a_date_unchanged(text: str, draw) -> None:  # type: ignore[no-untyped-def]
    for offset in allowed_offsets(-1500, 1500):
        assert shift_date_text(text, offset, draw) != text, offset


def test_month_level_dates_always_change_month() -> None:
    assert all(month_delta(off) % 12 for off in range(-2000, 2001) if off)
    assert month_delta(-10) == -1 and month_delta(10) == 1
    assert month_delta(-61) == -2


def test_allowed_offsets_skip_zero_whole_years_and_small_shifts() -> None:
    offsets = set(allowed_offsets(-800, 800, 30))
    assert not offsets & {0, 365, 366, -365, -366, 730, 731, -730, -731, 29, -29, 1, -1}
    assert {-364, -30, 30, 364, 367, -500} <= offsets
    with pytest.raises(ValueError, match="no usable offset"):
        allowed_offsets(365, 366)


def test_patient_offset_is_keyed_in_range_and_never_zero() -> None:
    offsets = [patient_offset_days(KEY, f"p{i}", -365, -1, 30) for i in range(50)]
    assert all(-364 <= off <= -30 for off in offsets)
    assert offsets == [patient_offset_days(KEY, f"p{i}", -365, -1, 30) for i in range(50)]
    rotated = [patient_offset_days(OTHER_KEY, f"p{i}", -365, -1, 30) for i in range(50)]
    assert sum(a != b for a, b in zip(offsets, rotated, strict=True)) >= 45
    assert len(set(offsets)) > 30


@pytest.mark.parametrize("text", ["the 3rd", "the 22nd", "11th", "21", "05", "the 1st", "2"])
def test_day_only_mentions_get_a_surrogate_day(text: str, draw) -> None:  # type: ignore[no-untyped-def]
    new = shift_date_text(text, -40, draw)
    assert new != text
    assert new == shift_date_text(text, -200, draw)  # a surrogate, not a shift: consistent
    parsed, old = parse_date(new), parse_date(text)
    assert parsed is not None and old is not None and parsed.kind == "day"
    assert parsed.day != old.day
    if text.startswith("the"):
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(parsed.day, "th")
        assert new == f"the {parsed.day}{suffix}"
    if text == "05":
        assert len(new) == 2  # zero padding kept


@pytest.mark.parametrize("text", ["Christmas", "Thanksgiving Day", "new year's eve", "Easter"])
def test_holidays_get_a_surrogate_date(text: str, draw) -> None:  # type: ignore[no-untyped-def]
    new = shift_date_text(text, -40, draw)
    parsed = parse_date(new)
    assert parsed is not None and parsed.kind == "month_day"
    assert new == shift_date_text(text, -40, draw)


@pytest.mark.parametrize("text", ["45/45", "2/30", "13/13", "sometime last spring", "32/7"])
def test_unparseable_dates_are_replaced_never_kept(text: str, draw, source) -> None:  # type: ignore[no-untyped-def]
    new = shift_date_text(text, -40, draw)
    assert new != text
    assert parse_date(new) is not None  # a plausible date
    assert new == shift_date_text(text, -40, source.for_patient("p1"))  # consistent
    assert text.isupper() == new.isupper() or not text.isupper()


def test_day_first_dates_are_recognized_when_unambiguous(draw) -> None:  # type: ignore[no-untyped-def]
    assert shift_date_text("22/7", -40, draw) == "12/6"


def test_two_digit_years_stay_two_digits_and_four_stay_four(draw) -> None:  # type: ignore[no-untyped-def]
    assert shift_date_text("1/5/01", -40, draw) == "11/26/00"
    assert shift_date_text("1/5/2001", -40, draw) == "11/26/2000"


def test_parse_kinds() -> None:
    kinds = {
        "7/22/2019": "full", "7/22": "month_day", "July 2019": "month_year", "July": "month",
        "1992": "year", "'92": "year", "1980s": "year", "the 3rd": "day", "Christmas": "holiday",
    }  # fmt: skip
    for text, kind in kinds.items():
        parsed = parse_date(text)
        assert parsed is not None and parsed.kind == kind, text
    assert parse_date("Monday") is None


@pytest.mark.parametrize(
    "hostile",
    ["1" * 100_000, " " * 100_000, "July " * 20_000, "1/" * 50_000, "the " * 25_000,
     "'" * 100_000, "Aa, " * 25_000, "1-1 " * 25_000, "Monday, " * 12_000 + "x"],
)  # fmt: skip
def test_parsing_is_linear_on_hostile_input(hostile: str, draw) -> None:  # type: ignore[no-untyped-def]
    assert parse_date(hostile) is None
    assert_costs_like_benign(lambda t: (parse_date(t), shift_date_text(t, -40, draw)), hostile)


@pytest.mark.parametrize(
    "hostile",
    ["1" * 20_000, " " * 20_000, "July " * 4_000, "1/" * 10_000, "the " * 5_000,
     "'" * 20_000, "1-1 " * 5_000, "Monday, " * 2_500, "christmas " * 2_000],
)  # fmt: skip
def test_date_regexes_are_linear_even_without_the_length_cap(hostile: str) -> None:
    from deid.anonymization.surrogates.dates import _HOLIDAY_RE, _PATTERNS

    def match_all(text: str) -> None:
        for _ in range(100):  # microseconds each: enough calls to time them
            for _, pattern in _PATTERNS:
                pattern.fullmatch(text)
            _HOLIDAY_RE.fullmatch(text)

    assert_costs_like_benign(match_all, hostile)


DETECTOR_SAMPLE = """admitted on 7/22. seen 7/22/19 and 07/22/2019, then 11.21.93 and 11/21.93.
dated 6-17-21. cath 2019-07-22 and 2019/07/22. labs 10/03/10/04. stay 8/2-8/10.
since 8/87 and 7/2019. July 22nd, 2019 and Jul 22 and July 2019 and MARCH OF 1993 and
nov, 96 and Friday, July 4. on 22 July 2019, 22-Jul-2019, 3rd of July, 21 Apr, 21 and
1->2 nov, 96. in September. on the 3rd we met. Christmas and xmas and new years eve and
kwanzaa. Friday 9/17 visit. on 7-8 for coiling. MI 92, CABG 81, 84. CVA 74'. born 1992.
in the 1980s. PTCA '04."""


def test_every_date_the_detector_reports_is_shifted_or_replaced(draw) -> None:  # type: ignore[no-untyped-def]
    dates = pytest.importorskip("deid.detection.recognizers.patterns.dates")
    from deid.anonymization.policy import is_identifier
    from deid.entities import DateKind
    from deid.spans import KIND_KEY

    found = 0
    for recognizer in (dates.ClinicalDateRecognizer(), dates.YearRecognizer()):
        for r in recognizer.analyze(DETECTOR_SAMPLE, ["DATE"]):
            value = DETECTOR_SAMPLE[r.start : r.end]
            found += 1
            kind = r.recognition_metadata.get(KIND_KEY)
            if recognizer.name == dates.YEAR_RECOGNIZER_NAME:
                assert kind == DateKind.YEAR
                assert not is_identifier("DATE", value, "safe_harbor", kind), value
                continue
            assert kind != DateKind.YEAR
            assert is_identifier("DATE", value, "safe_harbor", kind), value
            new = shift_date_text(value, -40, draw)
            assert new != value
            if kind in ("full", "month_day", "month_year", "month") and "->" not in value:
                assert parse_date(new) is not None or _split_pair(new) is not None, value
    assert found >= 35
