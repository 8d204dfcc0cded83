"""Hypothesis strategies for hostile note text, one per class the reliability tests name.

Every strategy draws valid Unicode strings (``str`` without lone surrogates) unless its
name says otherwise; ``lone_surrogates`` and the byte strategies are for the paths that
must reject such input.  Sizes stay modest so that thousands of cases run in minutes;
the explicit 100k-character and multi-megabyte cases live in the tests.
"""

from __future__ import annotations

from hypothesis import strategies as st

NAMES = [
    "Smith", "John", "Mary", "Calvert", "Helen", "O'Brien", "McDonald", "Van Der Berg",
    "Jean-Luc", "NGUYEN", "ST. MARY'S", "Dr.", "Mr.", "Mrs.", "RN", "MD", "Boston",
    "Hospital", "Ward", "North", "Street", "Unit", "Foley", "Parkinson", "Zqxvelt",
]  # fmt: skip
CLINICAL = [
    "pt", "BP", "120/80", "HR", "88", "RR", "16", "SpO2", "98%", "on", "RA", "NAD", "s/p",
    "CABG", "x3", "MVR", "afib", "7.40/35/64", "PEEP", "5", "FiO2", "40%", "Lasix", "20mg",
    "IV", "q6h", "prn", "c/o", "SOB", "denies", "CP", "f/u", "w/", "neuro", "A&Ox3",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\n", "\t", ", ", ". ", "; ", " - ", "/", ":", "\r\n", "\n\n"]
HTML_RTF = [
    "<div>", "</div>", "<br/>", "<b>", "</b>", "&amp;", "&nbsp;", "<td class='x'>", "-->",
    "<!--", "<script>alert(1)</script>", "{\\rtf1\\ansi", "\\par ", "\\b ", "\\b0 ", "}",
    "{\\fonttbl{\\f0 Arial;}}", "\\'e9", "\\u8211?", "<p style=\"a:b\">", "<<<", ">>>",
]  # fmt: skip
PHI_PIECES = [
    "7/22", "7/22/93", "07/22/1993", "July 22nd", "22-Jul-2019", "2019-07-22", "the 3rd",
    "(617) 555-1212", "617-555-1212", "x4412", "pager 2231", "078-05-1120", "MRN 1234567",
    "john.smith@example.org", "http://example.org/a?b=1", "10.0.0.1", "02115",
    "12 Elm Street", "Apt 4B", "age 93", "93 yo", "Dr. Healey", "Mary Calvert",
    "St. Elsewhere Hospital", "DEA AB1234563", "NPI 1234567893", "VIN 1HGCM82633A004352",
]  # fmt: skip
EMOJI = ["🙂", "👨‍👩‍👧", "👍🏽", "🇺🇸", "❤️", "🤒", "\U0001f9d1\u200d\u2695\ufe0f"]
RTL_COMBINING = [
    "שלום", "مرحبا", "\u202e", "\u202c", "\u200f", "\u200e", "\u2067", "\u2069",
    "e\u0301", "a\u0300\u0301\u0302\u0303", "\u0345" * 5, "Z\u0351\u0352\u0357\u035b",
    "\u200b", "\u200d", "\ufeff", "\u00ad", "ﬁ", "Ⅻ", "①", "𝐍𝐚𝐦𝐞",
]  # fmt: skip
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000"


def _join(parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[str]:
    return st.builds(lambda ps, sep: sep.join(ps), parts, st.sampled_from(SEPARATORS))


def _tokens(words: list[str], min_size: int = 1, max_size: int = 200) -> st.SearchStrategy[str]:
    """Words joined by random separators (each gap drawn separately)."""
    pair = st.tuples(st.sampled_from(words), st.sampled_from(SEPARATORS))
    return st.lists(pair, min_size=min_size, max_size=max_size).map(
        lambda ps: "".join(w + s for w, s in ps)
    )


empty = st.just("")
whitespace_only = st.text(alphabet=WHITESPACE, min_size=1, max_size=300)
unicode_text = st.text(max_size=1_500)  # any valid code point, control chars included
with_nul = st.builds(
    lambda a, b, n: a + "\x00" * n + b, st.text(max_size=200), st.text(max_size=200),
    st.integers(1, 5),
)  # fmt: skip
clinical = _tokens(CLINICAL + NAMES + PHI_PIECES, max_size=400)
all_phi = _tokens(PHI_PIECES + NAMES[:11], max_size=300)
html_rtf = _tokens(HTML_RTF + CLINICAL + NAMES, max_size=300)
emoji_rtl = _tokens(EMOJI + RTL_COMBINING + NAMES + CLINICAL, max_size=300)
mojibake = st.text(max_size=400).map(
    lambda t: t.encode("utf-8").decode("latin-1")  # UTF-8 read as Latin-1: "Ã©"
)
utf16_as_latin1 = st.text(max_size=200).map(lambda t: t.encode("utf-16").decode("latin-1"))
digit_lines = st.lists(st.text(alphabet="0123456789", min_size=1, max_size=80), max_size=200).map(
    "\n".join
)
# Inputs built to make regexes backtrack: long runs of one shape.
capitalized_run = st.builds(
    lambda words, n: " ".join(words * n),
    st.lists(st.sampled_from([w for w in NAMES if w[:1].isupper()]), min_size=1, max_size=8),
    st.integers(50, 600),
)
digit_punct_run = st.builds(
    lambda unit, n: unit * n,
    st.text(alphabet="0123456789-/.:,()# ", min_size=1, max_size=6),
    st.integers(100, 3_000),
)
punct_run = st.builds(
    lambda unit, n: unit * n,
    st.text(alphabet=".,-/\\:;()[]{}#@*&%$!?'\"_=+|<>~^`", min_size=1, max_size=4),
    st.integers(100, 2_000),
)
long_line = st.builds(
    lambda unit, n: (unit * n)[:60_000],
    st.sampled_from(["a", "A", "Smith ", "7/22 ", "x1 ", "Dr. ", "MR ", "120/80 "]),
    st.integers(1_000, 12_000),
)

HOSTILE_TEXT = st.one_of(
    empty, whitespace_only, unicode_text, with_nul, clinical, all_phi, html_rtf, emoji_rtl,
    mojibake, utf16_as_latin1, digit_lines, capitalized_run, digit_punct_run, punct_run,
    long_line,
)  # fmt: skip
"""Any of the classes above: valid Unicode, at most ~60k characters."""

lone_surrogates = st.builds(
    lambda a, s, b: a + s + b,
    st.text(max_size=100),
    st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3),
    st.text(max_size=100),
)
"""Strings no UTF-8 encoder accepts (what ``surrogateescape`` makes of undecodable bytes)."""

raw_bytes = st.one_of(
    st.binary(max_size=500),
    st.text(max_size=300).map(lambda t: t.encode("utf-16")),
    st.text(max_size=300).map(lambda t: t.encode("latin-1", "replace")),
    st.builds(
        lambda t, b: t.encode() + b, st.text(max_size=200), st.binary(min_size=1, max_size=8)
    ),
)
"""File contents for a ``.txt`` source: arbitrary, UTF-16, Latin-1, UTF-8 with junk."""
