"""Word lists as trie-shaped regexes, and the credential scan built on one."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deid.detection._speedups.word_trie import word_trie_regex
from deid.detection.recognizers.context import titled_names

WORDS = ["rn", "rrt", "rd", "lics", "licsw", "pa-c", "pac", "md", "msw", "a"]


def _longest_first(words: list[str], between: str = "") -> str:
    """The readable form: every word an alternative, longest first."""
    spelled = (between.join(re.escape(ch) for ch in w) for w in words)
    return "(?:" + "|".join(sorted(spelled, key=len, reverse=True)) + ")"


def test_matches_exactly_the_words() -> None:
    rx = re.compile(word_trie_regex(WORDS))
    assert all(rx.fullmatch(w) for w in WORDS)
    for other in ("", "r", "rr", "lic", "licswx", "pa", "p-c", "ms", "x"):
        assert rx.fullmatch(other) is None, other


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="rntdlicswpa-m. x", max_size=24))
def test_scans_as_the_longest_first_alternation(text: str) -> None:
    for between in ("", r"\.?"):
        trie = re.compile(word_trie_regex(WORDS, between))
        plain = re.compile(_longest_first(WORDS, between))
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_refuses_what_would_match_anywhere() -> None:
    with pytest.raises(ValueError, match="empty word"):
        word_trie_regex(["rn", ""])
    with pytest.raises(ValueError, match="no words"):
        word_trie_regex([])


_READABLE_CREDENTIAL = re.compile(
    r"(?:(?<=[\s,(])|^)"
    + _longest_first(sorted(titled_names._CREDENTIALS), r"\.?")
    + r"\.?(?=[\s,;)]|$)",
    re.IGNORECASE,
)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="RNrnCcAaPpDdMmSsWwTt.-, ();\nx", max_size=30))
def test_the_credential_scan_finds_what_its_readable_form_finds(text: str) -> None:
    assert titled_names.credential_starts(text) == [
        m.start() for m in _READABLE_CREDENTIAL.finditer(text)
    ]
