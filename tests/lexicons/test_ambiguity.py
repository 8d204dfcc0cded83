"""The ambiguous class: lexicon entries that are also common words, kept, not dropped."""

from __future__ import annotations

from deid import lexicons


def test_common_word_surnames_are_ambiguous_and_still_surnames() -> None:
    for word in ("white", "young", "king", "brown"):
        assert lexicons.is_ambiguous(word), word
        assert lexicons.surname(word) is not None, word
        assert "english" in lexicons.ambiguous()[word].reasons
    assert "surname" in lexicons.ambiguous()["white"].lexicons


def test_distinctive_names_are_not_ambiguous() -> None:
    for word in ("garcia", "nguyen", "kowalski", "mary", "jane"):
        assert not lexicons.is_ambiguous(word), word


def test_medical_terms_are_ambiguous_for_that_reason() -> None:
    assert "medical" in lexicons.ambiguous()["foley"].reasons
    assert lexicons.is_ambiguous("FOLEY")


def test_ambiguous_words_belong_to_some_lexicon() -> None:
    names = set(lexicons.surnames()) | set(lexicons.first_names())
    places = set(lexicons.us_places()) | set(lexicons.foreign_cities())
    for word, why in lexicons.ambiguous().items():
        assert why.reasons <= {"english", "medical"}
        if "surname" in why.lexicons or "first_name" in why.lexicons:
            assert word in names
        if "us_place" in why.lexicons or "foreign_city" in why.lexicons:
            assert word in places
