"""Skip a labelled pattern on notes that lack the words its matches begin with.

A labelled pattern (``\\bMRN: 00123456``, ``\\bpacemaker serial # ...``) begins with
one of a few word sequences.  Scanning a note for an alternation of case-insensitive
words is slow in any regex engine (it is tried at every position): these patterns cost
~25 ms per thousand notes each, most of the regex time.  But the set of words in a note
is cheap to build once, and a pattern whose leading words are absent cannot match, so
it need not run.

:meth:`WordFilter.for_pattern` derives those words from the pattern itself (no
hand-kept lists that could drift from the regex).  It walks the parsed pattern along
every path, collecting the complete runs of ASCII letters a match must contain, up to
:data:`MAX_WORDS` per path, and stops a path at anything it does not model (a class
mixing letters and digits, a long repeat, a backreference...).  A pattern with a path
that requires no word gets no filter: it runs on every note.  :func:`letter_runs` gives
a note's words; it answers ``None`` (no skipping) for text that is not pure ASCII, where
case-insensitive matching and word boundaries involve more than the 52 ASCII letters.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from spacy.tokens import Doc

from deid.detection._speedups.regex_chars import UnknownClass, ascii_chars
from deid.detection.nlp import doc_text

MAX_WORDS = 3  # words required per path: enough to tell "pump serial" from "pump"
_MAX_PATHS = 5_000  # beyond this the analysis gives up (the pattern always runs)
_MAX_REPEAT = 3  # groups repeated more often than this end the path
_LETTERS = frozenset(string.ascii_letters)
# Byte table: ASCII letters lower-cased, every other byte a space.
_LOWER_LETTERS = bytes(ord(chr(b).lower()) if chr(b) in _LETTERS else ord(" ") for b in range(256))
_DOC_KEY = "deid_letter_runs"


def letter_runs(text: str) -> frozenset[str] | None:
    """The note's maximal runs of ASCII letters, lower-cased; ``None`` if not ASCII."""
    if not text.isascii():
        return None
    # Every non-letter byte to a space, then split: 1.5x faster than ``[a-z]+`` findall.
    return frozenset(text.encode("ascii").translate(_LOWER_LETTERS).decode("ascii").split())


def doc_letter_runs(doc: Doc) -> frozenset[str] | None:
    """:func:`letter_runs` of the doc's text, built once per doc (rules share them)."""
    if _DOC_KEY not in doc.user_data:
        doc.user_data[_DOC_KEY] = letter_runs(doc_text(doc))
    runs: frozenset[str] | None = doc.user_data[_DOC_KEY]
    return runs


class WordFilter:
    """The word sequences one of which every match of a pattern contains.

    Each requirement is a tuple of lower-cased words that a match contains as complete
    runs of ASCII letters, in that order.  The filter only checks that the words occur
    somewhere in the note, which is weaker than the pattern, never stronger.
    """

    def __init__(self, requirements: Iterable[tuple[str, ...]]) -> None:
        rest: dict[str, set[tuple[str, ...]]] = {}
        for words in requirements:
            rest.setdefault(words[0], set()).add(words[1:])
        self._rest = {first: _minimal(more) for first, more in rest.items()}
        self.first_words = frozenset(self._rest)

    @classmethod
    def for_pattern(cls, pattern: str, flags: int = 0) -> WordFilter | None:
        """The filter for ``pattern``, or ``None`` if some match may hold no known word."""
        try:
            items = list(sre_parse.parse(pattern, flags))
        except (re.error, TypeError, ValueError, OverflowError):  # `regex`-only syntax
            return None
        walk = _Walk()
        try:
            walk.end(walk.sequence(items, {_START}))
        except _TooMany:
            return None
        if not walk.finished or () in walk.finished:
            return None
        return cls(walk.finished)

    @property
    def requirements(self) -> set[tuple[str, ...]]:
        """Every word sequence the filter accepts, for inspection and tests."""
        return {(first, *more) for first, rests in self._rest.items() for more in rests}

    def may_match(self, runs: frozenset[str] | None) -> bool:
        """False only if no requirement is met by the note's words (``letter_runs``)."""
        if runs is None:
            return True
        for first in self.first_words.intersection(runs):
            for more in self._rest[first]:
                if runs.issuperset(more):
                    return True
        return False


def _minimal(rests: set[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Drop the word sequences that hold all the words of a shorter one (never decisive)."""
    kept: list[tuple[str, ...]] = []
    for rest in sorted(rests, key=lambda r: (len(r), r)):
        if not any(set(k) <= set(rest) for k in kept):
            kept.append(rest)
    return tuple(kept)


# --- the walk over a parsed pattern ------------------------------------------------------

# A path state: (complete words so far, letters of the current run, whether the current
# run is known to start at a non-letter).  The current run counts as a word only then.
_State = tuple[tuple[str, ...], str, bool]
_START: _State = ((), "", False)


class _TooMany(Exception):
    pass


class _Walk:
    def __init__(self) -> None:
        self.finished: set[tuple[str, ...]] = set()

    def sequence(self, items: list[Any], states: set[_State]) -> set[_State]:
        for op, av in items:
            if not states:
                break
            states = self.item(op, av, states)
            if len(states) + len(self.finished) > _MAX_PATHS:
                raise _TooMany
        return states

    def end(self, states: set[_State]) -> set[_State]:
        """Something unmodelled follows: each path requires the words it has so far."""
        self.finished |= {words for words, _, _ in states}
        return set()

    def item(self, op: Any, av: Any, states: set[_State]) -> set[_State]:
        if op in (sre.LITERAL, sre.IN):
            kind = _char_kind(op, av)
            if kind is None:
                return self.end(states)
            if kind:
                return {(w, cur + ch, guarded) for w, cur, guarded in states for ch in kind}
            return self.boundary(states)
        if op is sre.SUBPATTERN:
            return self.sequence(list(av[-1]), states)
        if op is sre.BRANCH:
            out: set[_State] = set()
            for alternative in av[1]:
                out |= self.sequence(list(alternative), states)
            return out
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            return self.repeat(av, states)
        if op is sre.AT and av in (sre.AT_BOUNDARY, sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
            return self.boundary(states)  # no letter on one side: a run starts or ends
        if op is sre.ASSERT and av[0] == -1 and _is_one_non_letter(list(av[1])):
            return self.boundary(states)  # (?<=[\s,(]): a non-letter before
        if op is sre.ASSERT_NOT and av[0] == 1 and _is_any_letter(list(av[1])):
            return self.boundary(states)  # (?![A-Za-z]): no letter follows
        if op is sre.ASSERT and av[0] == 1 and _non_letter_or_end(list(av[1])):
            return self.boundary(states)  # (?=[\s,;)]|$): no letter follows
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            return states  # zero-width: it only removes matches
        return self.end(states)

    def boundary(self, states: set[_State]) -> set[_State]:
        """A non-letter follows (or is consumed): the current run is complete.

        A path where a letter then follows anyway cannot match; keeping it only makes
        the filter more permissive.
        """
        out: set[_State] = set()
        for words, cur, guarded in states:
            if cur and guarded:
                words = (*words, cur)
                if len(words) == MAX_WORDS:
                    self.finished.add(words)
                    continue
            out.add((words, "", True))
        return out

    def repeat(self, av: Any, states: set[_State]) -> set[_State]:
        low, high, sub = av[0], av[1], list(av[2])
        if _is_one_non_letter(sub):
            taken = self.boundary(states)
            return taken if low >= 1 else states | taken
        if high > _MAX_REPEAT:
            return self.end(states)
        out = set(states) if low == 0 else set()
        current = states
        for count in range(1, high + 1):
            current = self.sequence(sub, current)
            if count >= low:
                out |= current
        return out


def _char_kind(op: Any, av: Any) -> set[str] | None:
    """What one character item matches: its lower-cased letters, an empty set for
    non-letters only, or ``None`` when it may match both (or the analysis cannot tell)."""
    try:
        chars = ascii_chars(op, av)
    except UnknownClass:
        return None
    letters = chars & _LETTERS
    if letters and chars - _LETTERS:
        return None
    return {ch.lower() for ch in letters}


def _is_one_non_letter(sub: list[Any]) -> bool:
    """Whether ``sub`` is one character that can never be a letter (``\\s``, ``[:.#]``)."""
    return len(sub) == 1 and sub[0][0] in (sre.LITERAL, sre.IN) and _char_kind(*sub[0]) == set()


def _non_letter_or_end(items: list[Any]) -> bool:
    """Whether every way through ``items`` starts with a non-letter or the end of text."""
    if not items:
        return False
    op, av = items[0]
    if op in (sre.LITERAL, sre.IN):
        return _char_kind(op, av) == set()
    if op is sre.AT:
        return av in (sre.AT_END, sre.AT_END_STRING)
    if op is sre.SUBPATTERN:
        return _non_letter_or_end(list(av[-1]))
    if op is sre.BRANCH:
        return all(_non_letter_or_end(list(alt)) for alt in av[1])
    return False


def _is_any_letter(sub: list[Any]) -> bool:
    """Whether ``sub`` is one character class matching every ASCII letter (``[A-Za-z]``)."""
    if len(sub) != 1 or sub[0][0] is not sre.IN:
        return False
    try:
        return ascii_chars(*sub[0]) >= _LETTERS
    except UnknownClass:
        return False
