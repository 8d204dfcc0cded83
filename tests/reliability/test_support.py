"""The PHI scanner the reliability tests rely on: a test helper that must not cry wolf."""

from __future__ import annotations

from tests.reliability.support import Needles


def test_a_gold_year_inside_a_uuid_is_no_hit_wherever_it_lies() -> None:
    needles = Needles({"2004": "DateYear"})
    uuid = "9a51a1da-2004-4296-b090-d18865c881a6"
    padding = "\x00" * 5000  # past the first 36 characters, where the window starts late
    assert needles.find(f"{padding}\x02{uuid}\x00") == set()
    assert needles.find(f"{padding}e011428d742d{uuid}2026-12-07") == set()
    assert needles.find(f"{padding} seen in 2004.") == {"2004"}
    assert needles.find(f"{padding} id 120045 ") == set()
