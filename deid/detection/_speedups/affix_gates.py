r"""spaCy's affix regexes, not run on chunks they cannot match: same tokens, less time.

spaCy splits every chunk it has not cached (numbers, names: most of the chunks the
detector's memory zones keep it from caching) by calling three Python regexes over it,
again after each piece it strips.  Each is an alternation of ~40-80 pieces, several
opening with a lookbehind, so ``re`` tries every piece at every position of the chunk:
~1-2 us a call, over a third of tokenizing.

Yet most chunks hold nothing any piece could match.  A suffix match ends the chunk, a
prefix match starts it, and an infix match starts at one of a few punctuation
characters.  Each gate reads, from the parsed regex itself, the ASCII characters a match
may end (or start) with, and answers "no match" without searching when the chunk rules
them out.  The reading is a superset (a piece it does not model counts as "may be any
character", a pattern not anchored where the gate assumes turns the gate off), so every
answer is the regex's own.  Only ASCII is modelled: a chunk's non-ASCII character is
always searched.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from deid.detection._speedups.regex_chars import ASCII, UnknownClass, ascii_chars

_NO_CHARS: frozenset[str] = frozenset()
_LETTERS = frozenset(string.ascii_letters)
_START_ANCHORS = (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING)
_END_ANCHORS = (sre.AT_END, sre.AT_END_STRING)
_LINE_ANCHORS = (sre.AT_BEGINNING, sre.AT_END)  # of lines, in multi-line mode


class GatedPrefixSearch:
    """``prefix_search`` that skips chunks whose first character no prefix starts with."""

    def __init__(self, compiled: re.Pattern[str]) -> None:
        self.pattern = compiled.pattern  # spaCy serialises the tokenizer by this
        self._search = compiled.search
        self._never_first = _never_at_anchored_edge(_parse(compiled), compiled.flags, first=True)

    def search(self, chunk: str) -> re.Match[str] | None:
        if chunk[:1] in self._never_first:
            return None
        return self._search(chunk)


class GatedSuffixSearch:
    """``suffix_search`` that skips chunks whose last character no suffix ends with, and
    chunks of ASCII letters only if no suffix match is made of letters only.

    Of the chunks spaCy has not cached, about half end in a digit, a newline or a letter
    no suffix ends with ("e", "y", "l", ...); of the rest, a third are plain words (names)
    ending in a letter that only some suffixes end with ("'s", "5km").
    """

    def __init__(self, compiled: re.Pattern[str]) -> None:
        self.pattern = compiled.pattern
        self._search = compiled.search
        items = _parse(compiled)
        self._never_last = _never_at_anchored_edge(items, compiled.flags, first=False)
        self._letters_may_match = items is None or _may_match_within(
            items, _LETTERS, bool(compiled.flags & re.IGNORECASE)
        )

    def search(self, chunk: str) -> re.Match[str] | None:
        # ``$`` also matches before a final newline, so a match may end one earlier.
        end = chunk[-2:-1] if chunk.endswith("\n") else chunk[-1:]
        if end in self._never_last:
            return None
        if not self._letters_may_match and chunk.isascii() and chunk.isalpha():
            return None
        return self._search(chunk)


class GatedInfixFinditer:
    """``infix_finditer`` that skips chunks holding no character an infix starts with.

    Infixes start at punctuation ("-", "/", ".", ...): chunks of letters and digits,
    most of those spaCy splits, hold none.
    """

    def __init__(self, compiled: re.Pattern[str]) -> None:
        self.pattern = compiled.pattern
        self._finditer = compiled.finditer
        starts = _possible_chars(_parse(compiled), first=True, flags=compiled.flags)
        # Any character that may start a match, or any non-ASCII one (not modelled).  No
        # gate when any may: the pattern may then also match the empty string.
        self._may_start = (
            None
            if starts == ASCII
            else re.compile(f"[{re.escape(''.join(sorted(starts)))}]|[^\\x00-\\x7f]").search
        )

    def finditer(self, chunk: str) -> Iterator[re.Match[str]]:
        if self._may_start is not None and self._may_start(chunk) is None:
            return iter(())
        return self._finditer(chunk)


def _never_at_anchored_edge(items: list[Any] | None, flags: int, *, first: bool) -> frozenset[str]:
    """ASCII characters no match starts (``first``) or ends with, if every match is
    anchored at that edge of the chunk; otherwise none (the gate is off)."""
    anchors = _START_ANCHORS if first else _END_ANCHORS
    lines = bool(flags & re.MULTILINE)
    if items is None or not _anchored(items, anchors, first=first, lines=lines):
        return _NO_CHARS
    return ASCII - _possible_chars(items, first=first, flags=flags)


def _parse(compiled: re.Pattern[str]) -> list[Any] | None:
    try:
        return list(sre_parse.parse(compiled.pattern, compiled.flags))
    except re.error:  # pragma: no cover - a compiled pattern parses
        return None


def _possible_chars(items: list[Any] | None, *, first: bool, flags: int = 0) -> frozenset[str]:
    """ASCII characters a match may start (``first``) or end with: a superset."""
    if items is None:
        return ASCII
    try:
        return frozenset(_edge_chars(items, first, bool(flags & re.IGNORECASE))) & ASCII
    except UnknownClass:
        return ASCII


def _edge_chars(items: list[Any], first: bool, fold: bool) -> set[str]:
    """ASCII characters the sequence ``items`` may start or end with (both cases if
    ``fold``).

    Raises ``UnknownClass`` when it cannot tell (a class it does not read, an optional
    edge, an empty match).
    """
    for op, av in items if first else reversed(items):
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width
        if op in (sre.LITERAL, sre.IN):
            return _folded(ascii_chars(op, av), fold)
        if op is sre.SUBPATTERN:
            return _edge_chars(list(av[-1]), first, _in_group(fold, av, re.IGNORECASE))
        if op is sre.BRANCH:
            return set().union(*(_edge_chars(list(alt), first, fold) for alt in av[1]))
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            return _edge_chars(list(av[2]), first, fold)
        raise UnknownClass  # optional edges, backreferences, ...
    raise UnknownClass  # an empty match


def _anchored(items: list[Any], anchors: tuple[Any, ...], *, first: bool, lines: bool) -> bool:
    r"""Whether every match is anchored at the start (``^``) or end (``$``) of the chunk.

    With ``lines`` (multi-line mode) ``^`` and ``$`` mark lines, and only ``\A`` and
    ``\Z`` anchor.
    """
    for op, av in items if first else reversed(items):
        if op is sre.AT:
            if av in anchors and not (lines and av in _LINE_ANCHORS):
                return True
            continue
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width, and no anchor on its own
        if op is sre.SUBPATTERN:
            lines = _in_group(lines, av, re.MULTILINE)
            return _anchored(list(av[-1]), anchors, first=first, lines=lines)
        if op is sre.BRANCH:
            return all(_anchored(list(a), anchors, first=first, lines=lines) for a in av[1])
        return False
    return False


def _may_match_within(items: list[Any], alphabet: frozenset[str], fold: bool) -> bool:
    """Whether ``items`` may match inside a string made only of ``alphabet`` characters.

    A superset: each item is judged on its own, and anything not modelled may match.
    A positive lookaround must itself be satisfiable there (it reads the same string).
    """
    return all(_item_may_match_within(op, av, alphabet, fold) for op, av in items)


def _item_may_match_within(op: Any, av: Any, alphabet: frozenset[str], fold: bool) -> bool:
    if op in (sre.LITERAL, sre.IN):
        try:
            return bool(_folded(ascii_chars(op, av), fold) & alphabet)
        except UnknownClass:
            return True
    if op is sre.SUBPATTERN:
        return _may_match_within(list(av[-1]), alphabet, _in_group(fold, av, re.IGNORECASE))
    if op is sre.BRANCH:
        return any(_may_match_within(list(alt), alphabet, fold) for alt in av[1])
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        return av[0] == 0 or _may_match_within(list(av[2]), alphabet, fold)
    if op is sre.ASSERT:  # (direction, content): lookahead or lookbehind
        return _may_match_within(list(av[1]), alphabet, fold)
    return True  # AT, ASSERT_NOT, NOT_LITERAL, ANY, GROUPREF, ...


def _folded(chars: frozenset[str], fold: bool) -> set[str]:
    """``chars``, and their other case if case-insensitive (``fold``)."""
    return set(chars) | {c.swapcase() for c in chars} if fold else set(chars)


def _in_group(on: bool, group: Any, flag: int) -> bool:
    """Whether ``flag`` (``re.I``, ``re.M``) holds inside a group: ``(?i:...)`` turns it
    on, ``(?-i:...)`` off.  ``group`` is a ``SUBPATTERN``'s (id, add, del, items)."""
    return (on or bool(group[1] & flag)) and not group[2] & flag
