"""Build note text piece by piece, recording gold PHI offsets as the pieces are appended.

Offsets are never recovered by searching the finished text: every PHI piece records its
own ``(start, end)`` at the moment it is appended, so the gold spans are exact by
construction, even when the same string also occurs elsewhere in the note.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal, NamedTuple, TypeAlias, TypedDict

from deid.entities import ENTITY_NAMES

CaseStyle = Literal["mixed", "upper", "lower"]

_LABELS = frozenset(ENTITY_NAMES)


class GoldSpan(TypedDict):
    """A gold span as written to JSONL: ``text[start:end]`` is PHI of type ``label``."""

    start: int
    end: int
    label: str


class Phi(NamedTuple):
    """A piece of text that is PHI of entity type ``label``."""

    text: str
    label: str


Piece: TypeAlias = "str | int | Phi | Sequence[Piece]"


@lru_cache(maxsize=8192)
def _parse(template: str) -> tuple[tuple[str, str | None], ...]:
    """Split ``"a {x} b"`` into ``(("a ", "x"), (" b", None))`` (``{{``/``}}`` are escapes)."""
    return tuple(
        (literal, field) for literal, field, _spec, _conv in string.Formatter().parse(template)
    )


class NoteBuilder:
    """Accumulates a note's text and its gold spans.

    ``case`` ("upper" for all-caps notes, "lower" for shorthand nursing notes) is applied
    when the note is built, in a way that never moves a character, so offsets recorded
    while appending stay valid for the final text.
    """

    __slots__ = ("_case", "_parts", "_length", "_spans")

    def __init__(self, case: CaseStyle = "mixed") -> None:
        self._case = case
        self._parts: list[str] = []
        self._length = 0
        self._spans: list[GoldSpan] = []

    def add(self, *pieces: Piece) -> NoteBuilder:
        """Append pieces in order: plain strings or numbers, ``Phi``, or sequences of them."""
        for piece in pieces:
            if isinstance(piece, Phi):
                self._append_phi(piece)
            elif isinstance(piece, str):
                self._append(piece)
            elif isinstance(piece, int):
                self._append(str(piece))
            else:
                self.add(*piece)
        return self

    def say(self, template: str, /, **slots: Piece) -> NoteBuilder:
        """Append ``template`` with ``{slot}`` placeholders filled from ``slots``."""
        for literal, field in _parse(template):
            if literal:
                self._append(literal)
            if field is not None:
                self.add(slots[field])
        return self

    def build(self) -> tuple[str, list[GoldSpan]]:
        """The note text and its spans (sorted, non-overlapping by construction)."""
        text = "".join(self._parts)
        if self._case != "mixed":
            if text.isascii():
                # ASCII re-casing maps each character to exactly one character.
                text = text.upper() if self._case == "upper" else text.lower()
            else:
                text = "".join(self._recased(part) for part in self._parts)
        return text, list(self._spans)

    def _recased(self, part: str) -> str:
        out = part.upper() if self._case == "upper" else part.lower()
        # A few non-ASCII characters change length when re-cased ("ß" -> "SS"); keep such
        # pieces as they are so that offsets stay valid.
        return out if len(out) == len(part) else part

    def _append(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self._length += len(text)

    def _append_phi(self, phi: Phi) -> None:
        if phi.label not in _LABELS:
            raise ValueError(f"unknown entity label {phi.label!r}")
        text = phi.text
        if not text or text != text.strip():
            raise ValueError(f"PHI piece for {phi.label} is empty or padded with whitespace")
        start = self._length
        self._append(text)
        self._spans.append({"start": start, "end": self._length, "label": phi.label})
