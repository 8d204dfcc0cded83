"""Person-name lexicons: known names present with the right attributes."""

from __future__ import annotations

from deid import lexicons


def test_census_surnames_include_names_the_faker_lists_missed() -> None:
    welsh = lexicons.surname("Welsh")
    assert welsh is not None and welsh.people > 10_000
    assert lexicons.surname("SMITH") == lexicons.Surname("smith", 1, 2_442_977)
    assert len(lexicons.surnames()) == 162_252


def test_surname_lookup_ignores_apostrophes_and_case() -> None:
    assert lexicons.surname("O'Connor") == lexicons.surname("OCONNOR") is not None
    assert lexicons.surname("Notaname Xq") is None


def test_short_first_names_are_first_names() -> None:
    for word in ("rob", "pat", "lou", "eve", "Jan"):
        assert lexicons.first_name(word) is not None, word


def test_first_names_carry_their_sex() -> None:
    mary, robert, pat = (lexicons.first_name(w) for w in ("Mary", "ROBERT", "pat"))
    assert mary is not None and mary.sex == "F" and mary.share_female > 0.99
    assert robert is not None and robert.sex == "M" and robert.share_female < 0.01
    assert pat is not None and pat.sex is None  # 60 % women: no clear sex
    assert lexicons.first_names()["rob"].sex == "M"


def test_extra_first_names_are_rare_names_outside_the_census_table() -> None:
    extra = lexicons.extra_first_names()
    assert len(extra) > 40_000
    assert not extra & set(lexicons.first_names())
    assert all(w.isalpha() and w.islower() for w in extra)


def test_surname_people_matches_the_records() -> None:
    record = lexicons.surnames()["smith"]
    assert lexicons.names.surname_people("smith") == record.people > 0
    assert lexicons.names.surname_people("notasurnamexq") == 0
