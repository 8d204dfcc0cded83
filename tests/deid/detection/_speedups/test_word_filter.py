"""The word prefilter of the structured recognizers (``deid.detection._speedups.word_filter``).

A filter may only ever let too much through: if it rejects a note a pattern matches in,
an identifier is silently missed.  The property tests below build texts from the very
words the filters look for, glued and separated every which way, and check that no
match is ever filtered out; the corpus test checks that whole recognizers find exactly
the same spans with and without filters.
"""

from __future__ import annotations

import json
import re

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deid.detection._speedups import word_filter as _word_filter
from deid.detection._speedups.word_filter import WordFilter, letter_runs
from deid.detection.recognizers import recognizer_classes
from deid.detection.recognizers.context.titled_names import (
    _CREDENTIAL_OPENING,
    _CREDENTIAL_RE,
    _CREDENTIAL_WORDS,
)
from deid.detection.recognizers.patterns._structured import StructuredRecognizer
from tests.paths import REPO


def _structured() -> list[StructuredRecognizer]:
    return [cls() for cls in recognizer_classes() if issubclass(cls, StructuredRecognizer)]


RECOGNIZERS = _structured()
PATTERNS: list[tuple[regex.Pattern[str] | re.Pattern[str], WordFilter | None]] = [
    (regex.compile(p.regex, r.FLAGS), WordFilter.for_pattern(p.regex, r.FLAGS))
    for r in RECOGNIZERS
    for p in r.patterns
]
# Context rules gate their own slow scans the same way; the credential filter also
# gates the check for a credential opening the text.
PATTERNS.append((_CREDENTIAL_RE, _CREDENTIAL_WORDS))
PATTERNS.append((re.compile(r"\A" + _CREDENTIAL_OPENING.pattern, re.I), _CREDENTIAL_WORDS))
FILTERED = [(compiled, f) for compiled, f in PATTERNS if f is not None]


def test_requirements_are_the_complete_leading_words() -> None:
    f = WordFilter.for_pattern(
        r"\b(?i:mrn|med(?:ical)?\.?\s{1,3}rec(?:ord)?|s/n|web\s?site)(?![A-Za-z])[ \t]{0,3}[0-9]{5,}"
    )
    assert f is not None
    assert f.requirements == {
        ("mrn",),
        ("med", "rec"),
        ("med", "record"),
        ("medical", "rec"),
        ("medical", "record"),
        ("s", "n"),
        ("web", "site"),
        ("website",),
    }
    assert f.may_match(letter_runs("Medical   Record: 1234567"))
    assert f.may_match(letter_runs("pacer S/N 12345"))
    assert not f.may_match(letter_runs("record medication given"))  # "rec" is not "record"
    assert not f.may_match(letter_runs("MRNs pending"))  # "mrns" is another word
    assert f.may_match(None)  # not ASCII: never skipped


def test_only_a_letter_lookahead_ends_a_word() -> None:
    f = WordFilter.for_pattern(r"\b(?i:lic)(?!\s)(?i:ense)(?![A-Za-z]) [0-9]+")
    assert f is not None
    assert f.requirements == {("license",)}


def test_start_and_end_of_text_and_non_letter_lookarounds_bound_words() -> None:
    """The shape of the credential scan: (?<=[\\s,(]) or ^ before, (?=[\\s,;)]|$) after."""
    f = WordFilter.for_pattern(r"(?:(?<=[\s,(])|^)(?:r\.?n|md)\.?(?=[\s,;)]|$)", re.IGNORECASE)
    assert f is not None
    assert f.requirements == {("rn",), ("r", "n"), ("md",)}
    assert f.may_match(letter_runs("seen by J. Smith, R.N."))
    assert not f.may_match(letter_runs("rns and mds"))


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?i:mrn)[0-9]+",  # no \b: the match may start inside a word
        r"\b(?i:mrn)",  # the run may go on after the pattern ("mrns")
        r"\b[A-Z0-9]{17}",  # letters and digits in one class
        r"\b(?:mrn|#)[0-9]+",  # a match may hold no word at all
        r"\b(?P<a>x)(?P=a)y",  # a backreference
        r"\b(?i:mrn)\p{L}",  # syntax only the `regex` module knows
    ],
)
def test_patterns_it_cannot_vouch_for_always_run(pattern: str) -> None:
    assert WordFilter.for_pattern(pattern) is None


def test_most_labelled_patterns_get_a_filter() -> None:
    """The prefilter is what keeps ~20 labelled patterns off most notes (issue 6)."""
    assert len(FILTERED) >= 20


def test_letter_runs_are_lower_cased_ascii_words() -> None:
    assert letter_runs("Pt. ID#12ab, S/N:x-Y") == frozenset({"pt", "id", "ab", "s", "n", "x", "y"})
    assert letter_runs("café") is None


_WORDS = sorted({w for _, f in FILTERED for req in f.requirements for w in req})
_VALUES = ["12345678", "AB12345", "8MUV933", "123-45-6789", "1HGCM82633A004352", "0042"]
_SEPARATORS = ["", " ", "  ", ":", ": ", "#", " # ", ".", ". ", "-", "/", "\n", ", ", "'", "s"]


@st.composite
def _texts(draw: st.DrawFn) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 10))):
        word = draw(st.sampled_from(_WORDS + _VALUES))
        case = draw(st.sampled_from([str.lower, str.upper, str.title]))
        pieces.append(case(word))
        pieces.append(draw(st.sampled_from(_SEPARATORS)))
    return "".join(pieces)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts())
def test_no_match_in_glued_label_words_is_filtered_out(text: str) -> None:
    runs = letter_runs(text)
    for compiled, word_filter in FILTERED:
        if compiled.search(text) is not None:
            assert word_filter.may_match(runs), compiled.pattern


@pytest.mark.parametrize("index", range(len(FILTERED)))
def test_no_string_the_pattern_matches_is_filtered_out(index: int) -> None:
    """Strings drawn from each pattern's own language (hypothesis ``from_regex``)."""
    compiled, word_filter = FILTERED[index]
    source = compiled if isinstance(compiled, re.Pattern) else compiled.pattern
    ascii_text = st.from_regex(source, fullmatch=True, alphabet=st.characters(max_codepoint=127))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(ascii_text)
    def check(text: str) -> None:
        if compiled.search(text) is not None:  # hypothesis does not enforce lookarounds
            assert word_filter.may_match(letter_runs(text))

    check()


def test_recognizers_find_the_same_spans_without_filters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample = REPO / "sample_data" / "notes.jsonl"
    texts = [json.loads(line)["text"] for line in sample.read_text().splitlines()]

    def spans(recognizers: list[StructuredRecognizer]) -> list[tuple[str, int, int]]:
        found = []
        for text in texts:
            for r in recognizers:
                found += [(x.entity_type, x.start, x.end) for x in r.analyze(text, [r.ENTITY])]
        return found

    with_filters = spans(RECOGNIZERS)
    monkeypatch.setattr(_word_filter.WordFilter, "for_pattern", classmethod(lambda *a: None))
    assert spans(_structured()) == with_filters
    assert len(with_filters) > 50  # the sample notes are full of labelled identifiers


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_letter_runs_are_the_lower_cased_runs_of_ascii_letters(text: str) -> None:
    assert letter_runs(text) == frozenset(re.findall(r"[a-z]+", text.lower()))
    assert letter_runs(text + "é") is None  # not ASCII: no skipping
