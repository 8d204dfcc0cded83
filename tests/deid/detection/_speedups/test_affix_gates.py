"""The tokenizer's affix gates: they skip only searches that cannot match."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from spacy.language import Language

from deid.detection._speedups.affix_gates import (
    GatedInfixFinditer,
    GatedPrefixSearch,
    GatedSuffixSearch,
)
from deid.detection.nlp import load_base_pipeline
from tests.paths import REPO


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_base_pipeline()


@pytest.fixture(scope="module")
def chunks() -> list[str]:
    """Short stems glued to every ASCII character on either side, and every piece spaCy
    may search of the sample notes' chunks (it strips affixes one at a time)."""
    stems = ("", "12", "ab", "AB", "x.", "5k", "'", "4m", "a-b", "US", "é")
    out = [s + chr(c) for s in stems for c in range(128)]
    out += [chr(c) + s for s in stems for c in range(128)]
    sample = REPO / "sample_data" / "notes.jsonl"
    for line in sample.read_text().splitlines():
        for chunk in json.loads(line)["text"].split():
            out += [chunk[i:j] for i in range(len(chunk)) for j in range(i + 1, len(chunk) + 1)]
    return out


def _spans(found: Any) -> Any:
    if found is None or isinstance(found, re.Match):
        return None if found is None else found.span()
    return [m.span() for m in found]


def _same_answers(
    gated: Callable[[str], Any], plain: Callable[[str], Any], chunks: list[str]
) -> None:
    wrong = [c for c in chunks if _spans(gated(c)) != _spans(plain(c))]
    assert not wrong, f"{len(wrong)} chunks answered differently, e.g. {wrong[:3]}"


def test_the_pipeline_uses_all_three_gates(nlp: Language) -> None:
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer.prefix_search.__self__, GatedPrefixSearch)
    assert isinstance(tokenizer.suffix_search.__self__, GatedSuffixSearch)
    assert isinstance(tokenizer.infix_finditer.__self__, GatedInfixFinditer)


def test_prefix_gate_answers_as_spacys_regex(nlp: Language, chunks: list[str]) -> None:
    gate = nlp.tokenizer.prefix_search.__self__
    _same_answers(gate.search, re.compile(gate.pattern).search, chunks)
    skipped = sum(c[:1] in gate._never_first for c in chunks)
    assert skipped > len(chunks) / 2  # letters and digits start most chunks
    assert {"a", "Z", "7", "\n"} <= gate._never_first
    # "US$" and "C$" are prefixes: chunks starting with U or C are searched.
    assert {"(", '"', "$", "U", "C", "-", "~", ">"}.isdisjoint(gate._never_first)


def test_suffix_gate_answers_as_spacys_regex(nlp: Language, chunks: list[str]) -> None:
    gate = nlp.tokenizer.suffix_search.__self__
    _same_answers(gate.search, re.compile(gate.pattern).search, chunks)
    skipped = sum(c[-1] in gate._never_last for c in chunks)
    assert skipped > len(chunks) / 4  # digits, newlines, most letters
    assert {"7", "\n", "e", "E"} <= gate._never_last
    assert {".", ",", ")", "s", "%"}.isdisjoint(gate._never_last)
    assert not gate._letters_may_match  # "'s", "5km": no suffix is letters only


def test_infix_gate_answers_as_spacys_regex(nlp: Language, chunks: list[str]) -> None:
    gate = nlp.tokenizer.infix_finditer.__self__
    _same_answers(gate.finditer, re.compile(gate.pattern).finditer, chunks)
    assert gate._may_start is not None
    skipped = sum(gate._may_start(c) is None for c in chunks)
    assert skipped > len(chunks) / 4  # letters and digits only
    assert gate._may_start("Smith1234") is None
    for punct in "-/.:,&+~^=<>*()":
        assert gate._may_start(f"ab{punct}cd") is not None


@pytest.mark.parametrize(
    ("gate", "pattern"),
    [
        (GatedPrefixSearch, r"x|^y"),  # "x" may match anywhere, not only first
        (GatedPrefixSearch, r"(?m)^x"),  # a line start is not the chunk's start
        (GatedSuffixSearch, r"x|y$"),
        (GatedSuffixSearch, r"x(?=y)"),
    ],
)
def test_a_gate_assumes_no_anchor_the_pattern_lacks(gate: Any, pattern: str) -> None:
    search = gate(re.compile(pattern)).search
    for chunk in ("x", "ax", "xa", "a\nx", "x\na", "xy", "axy"):
        assert _spans(search(chunk)) == _spans(re.search(pattern, chunk))


@pytest.mark.parametrize("pattern", [r"a?", r"\w*", r"(?:b|)", r"[^\W\d]", r"(?i)k"])
def test_the_infix_gate_models_what_it_reads_and_no_more(pattern: str) -> None:
    """Empty matches, classes it does not read, case folding: same answers."""
    finditer = GatedInfixFinditer(re.compile(pattern)).finditer
    for chunk in ("", "a", "b", "K", "k", "xyz", "12", "é", "ab-c"):
        assert _spans(finditer(chunk)) == _spans(re.finditer(pattern, chunk))


@pytest.mark.parametrize(
    ("pattern", "letters_may_match"),
    [
        (r"(?<=[0-9])(?:km|mg)$|'s$|\.$", False),
        (r"(?<=[0-9])s$", False),
        (r"(?i:K)$|(?<=x)x?$", True),  # folds case; an optional tail is empty
        (r"\w+$", True),
        (r"[^0-9]$", True),
        (r"(?<!x)s$", True),  # a negative lookaround cannot rule a match out
        (r"(?<=[a-z])\d?$", True),
        (r"(?=[0-9])$", False),
        (r"é$", False),  # non-ASCII chunks are always searched
    ],
)
def test_the_suffix_gate_skips_letters_only_when_no_match_is_letters(
    pattern: str, letters_may_match: bool
) -> None:
    gate = GatedSuffixSearch(re.compile(pattern))
    assert gate._letters_may_match is letters_may_match
    for chunk in ("k", "K", "xx", "abs", "ab5km", "é", "aé", "5s", "x's", "s", "ab."):
        assert _spans(gate.search(chunk)) == _spans(re.search(pattern, chunk)), chunk
