"""Safe Harbor and strict policy rules (deid.anonymization.policy)."""

from __future__ import annotations

import pytest

from deid.anonymization.policy import is_identifier, operator_name_for
from deid.anonymization.surrogates.ages import generalize_age, parse_age
from deid.anonymization.surrogates.zip_codes import RESTRICTED_ZIP3, generalize_zip
from deid.entities import DateKind


@pytest.mark.parametrize(
    ("value", "identifier"),
    [("92", True), ("90", True), ("89", False), ("45", False), ("92 yo", True),
     ("ninety-two", True), ("eighty", False), ("one hundred and two", True), ("old", True)],
)  # fmt: skip
def test_safe_harbor_ages(value: str, identifier: bool) -> None:
    assert is_identifier("AGE", value, "safe_harbor") is identifier


@pytest.mark.parametrize("value", ["45", "89", "92"])
def test_strict_treats_every_age_as_identifier(value: str) -> None:
    assert is_identifier("AGE", value, "strict")


@pytest.mark.parametrize("value", ["1992", "'92", "92", "1980s", "1980S", "74'", "2004"])
def test_bare_year_stays_under_safe_harbor_and_goes_under_strict(value: str) -> None:
    assert not is_identifier("DATE", value, "safe_harbor")
    assert is_identifier("DATE", value, "strict")


def test_a_span_of_kind_year_marks_short_years() -> None:
    # "04" alone reads as a day of the month, unless its recognizer said it is a year.
    assert is_identifier("DATE", "04", "safe_harbor")
    assert not is_identifier("DATE", "04", "safe_harbor", kind=DateKind.YEAR)
    assert is_identifier("DATE", "7/22", "safe_harbor", kind=DateKind.YEAR)
    assert is_identifier("DATE", "04", "safe_harbor", kind=DateKind.YEAR, keep_years=False)


def test_the_policy_never_reads_a_recognizer_name() -> None:
    import inspect

    from deid.anonymization import policy

    assert "recognizer" not in inspect.signature(is_identifier).parameters
    assert "RECOGNIZER" not in inspect.getsource(policy)


@pytest.mark.parametrize("value", ["7/22", "July 1992", "7/92", "the 3rd", "Christmas", "garbled"])
def test_dates_more_specific_than_a_year_are_identifiers(value: str) -> None:
    assert is_identifier("DATE", value, "safe_harbor")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("92", "90+"), ("92 yo", "90+ yo"), ("92-year-old", "90+-year-old"), ("90s", "90+"),
     ("ninety-two year old", "90+ year old"), ("age 104", "age 90+")],
)  # fmt: skip
def test_ages_over_89_become_90_plus(value: str, expected: str) -> None:
    assert generalize_age(value) == expected


def test_parse_age() -> None:
    assert parse_age("aged 97") == 97
    assert parse_age("ninety-seven") == 97
    assert parse_age("one hundred two") == 102
    assert parse_age("n/a") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("02114", "02100"), ("02114-1234", "02100-0000"), ("90210", "90200"), ("021", "021"),
     ("0211", "0210"), ("12", "00")],
)  # fmt: skip
def test_zip_keeps_first_three_digits(value: str, expected: str) -> None:
    assert generalize_zip(value) == expected


@pytest.mark.parametrize("prefix", sorted(RESTRICTED_ZIP3))
def test_restricted_zip3_becomes_all_zeros(prefix: str) -> None:
    assert generalize_zip(prefix + "01") == "00000"
    assert generalize_zip(prefix + "01-1234") == "00000-0000"


def test_restricted_prefixes_are_the_seventeen_from_the_guidance() -> None:
    assert len(RESTRICTED_ZIP3) == 17
    assert {"036", "059", "063", "102", "203", "556", "692", "790", "821"} <= RESTRICTED_ZIP3
    assert {"823", "830", "831", "878", "879", "884", "890", "893"} <= RESTRICTED_ZIP3


@pytest.mark.parametrize(
    ("entity_type", "mode", "policy", "operator"),
    [("PERSON", "surrogate", "safe_harbor", "surrogate"),
     ("DATE", "surrogate", "safe_harbor", "date_shift"),
     ("AGE", "surrogate", "safe_harbor", "generalize"),
     ("ZIP_CODE", "surrogate", "safe_harbor", "generalize"),
     ("ZIP_CODE", "surrogate", "strict", "generalize"),
     ("DATE", "surrogate", "strict", "tag"),
     ("AGE", "surrogate", "strict", "tag"),
     ("DATE", "mask", "strict", "mask"),
     ("MRN", "tag", "safe_harbor", "tag"),
     ("PHONE_NUMBER", "mask", "safe_harbor", "mask")],
)  # fmt: skip
def test_operator_choice(entity_type: str, mode: str, policy: str, operator: str) -> None:
    assert operator_name_for(entity_type, mode, policy) == operator  # type: ignore[arg-type]
