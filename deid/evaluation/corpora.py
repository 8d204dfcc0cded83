"""Readers for annotated note corpora: PhysioNet deid format and JSON Lines.

Both readers yield :class:`Note` objects whose gold spans are offsets plus a category,
so that metrics never need the PHI strings.  Errors name the file, the line and the
note IDs, never any note or span text.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from deid.errors import InputFormatError
from deid.spans import Span

GOLD_RECOGNIZER = "gold"

_PHYSIONET_TEXT = "id.text"
_RECORD_START = "START_OF_RECORD="
_RECORD_END = "||||END_OF_RECORD"
_FIELD_SEP = "||||"


@dataclass(frozen=True)
class Note:
    """One clinical note, optionally with gold PHI spans (``entity_type`` = gold category).

    ``text`` is left out of ``repr`` so that logging a note cannot leak it.
    """

    note_id: str
    patient_id: str
    text: str = field(repr=False)
    gold: tuple[Span, ...] = ()
    note_type: str | None = None
    note_date: str | None = None


def read_corpus(path: str | Path) -> Iterator[Note]:
    """Read a corpus, choosing the format from the path.

    A directory or a ``.text`` file is read as PhysioNet deid format; a ``.jsonl`` or
    ``.json`` file as JSON Lines (one note object per line).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"corpus not found: {p}")
    if p.is_dir() or p.suffix == ".text":
        return read_physionet(p)
    if p.suffix in (".jsonl", ".json"):
        return read_jsonl(p)
    raise InputFormatError(
        f"{p}: unrecognised corpus format (expected a directory, .text, .jsonl or .json)"
    )


# --- PhysioNet deid ------------------------------------------------------------------


def read_physionet(path: str | Path) -> Iterator[Note]:
    """Notes of a PhysioNet deid corpus, with gold spans when a phrase file is present.

    ``path`` is a directory holding ``id.text`` or the ``.text`` file itself; gold spans
    are read from ``<stem>-phi.phrase`` next to it (``id-phi.phrase``) if it exists.
    Note text starts right after the newline ending the ``START_OF_RECORD=p||||n||||``
    header and stops right before ``||||END_OF_RECORD``; ``patient_id`` is ``p`` and
    ``note_id`` is ``n``.  Raises ``InputFormatError`` (a ``ValueError``) naming file and line on malformed input.
    """
    text_path = Path(path)
    if text_path.is_dir():
        text_path = text_path / _PHYSIONET_TEXT
    if not text_path.is_file():
        raise FileNotFoundError(f"PhysioNet notes file not found: {text_path}")
    phrase_path = text_path.with_name(f"{text_path.stem}-phi.phrase")
    return _read_physionet(text_path, phrase_path if phrase_path.is_file() else None)


def _read_physionet(text_path: Path, phrase_path: Path | None) -> Iterator[Note]:
    gold = _read_phrase_file(phrase_path) if phrase_path else {}
    seen: set[tuple[str, str]] = set()
    for patient_id, note_id, text in _physionet_records(text_path):
        key = (patient_id, note_id)
        if key in seen:
            raise InputFormatError(
                f"{text_path}: duplicate record patient={patient_id} note={note_id}"
            )
        seen.add(key)
        spans = []
        for lineno, start, end, category in gold.pop(key, ()):
            if end > len(text):
                raise InputFormatError(
                    f"{phrase_path}:{lineno}: gold span {start}-{end} lies beyond the end of "
                    f"note patient={patient_id} note={note_id} (length {len(text)})"
                )
            spans.append(Span(start, end, category, 1.0, GOLD_RECOGNIZER))
        yield Note(note_id, patient_id, text, tuple(sorted(spans)))
    if gold:
        lineno = min(entry[0] for entries in gold.values() for entry in entries)
        raise InputFormatError(
            f"{phrase_path}:{lineno}: gold span refers to a note absent from {text_path}"
        )


def read_physionet_lines(lines: Iterable[str], name: str = "<stdin>") -> Iterator[Note]:
    """Notes of PhysioNet ``id.text`` content read from ``lines`` (e.g. stdin), no gold.

    Keep line endings in ``lines`` as stored (``newline=""``): offsets count them.
    """
    for patient_id, note_id, text in _physionet_lines(lines, name):
        yield Note(note_id, patient_id, text)


def _physionet_records(text_path: Path) -> Iterator[tuple[str, str, str]]:
    """(patient, note, text) per record, reading the file line by line."""
    # newline="" keeps line endings as stored, so offsets count every character.
    with text_path.open(encoding="utf-8", newline="") as fh:
        yield from _physionet_lines(fh, text_path)


def _physionet_lines(fh: Iterable[str], text_path: str | Path) -> Iterator[tuple[str, str, str]]:
    """(patient, note, text) per record of ``id.text`` lines; errors name ``text_path``."""
    header: tuple[str, str] | None = None
    header_line = 0
    lines: list[str] = []
    lineno = 0
    try:
        for lineno, line in enumerate(fh, start=1):
            if header is None:
                if line.startswith(_RECORD_START):
                    header = _parse_header(line, text_path, lineno)
                    header_line = lineno
                    lines = []
                elif line.strip():
                    raise InputFormatError(
                        f"{text_path}:{lineno}: text outside a record "
                        f"(expected {_RECORD_START}<patient>||||<note>||||)"
                    )
                continue
            cut = line.find(_RECORD_END)
            if cut < 0:
                lines.append(line)
                continue
            lines.append(line[:cut])
            yield header[0], header[1], "".join(lines)
            header, lines = None, []
    except UnicodeDecodeError:
        raise InputFormatError(f"{text_path}: not valid UTF-8 after line {lineno}") from None
    if header is not None:
        raise InputFormatError(
            f"{text_path}:{header_line}: record patient={header[0]} note={header[1]} "
            f"has no {_RECORD_END}"
        )


def _parse_header(line: str, text_path: str | Path, lineno: int) -> tuple[str, str]:
    fields = line[len(_RECORD_START) :].rstrip("\r\n").split(_FIELD_SEP)
    if len(fields) != 3 or not fields[0] or not fields[1] or fields[2]:
        raise InputFormatError(
            f"{text_path}:{lineno}: malformed record header "
            f"(expected {_RECORD_START}<patient>||||<note>||||)"
        )
    return fields[0].strip(), fields[1].strip()


def _read_phrase_file(phrase_path: Path) -> dict[tuple[str, str], list[tuple[int, int, int, str]]]:
    """Gold entries ``(line, start, end, category)`` per (patient, note); text is dropped."""
    gold: dict[tuple[str, str], list[tuple[int, int, int, str]]] = defaultdict(list)
    with phrase_path.open(encoding="utf-8") as fh:
        try:
            lines = list(enumerate(fh, start=1))
        except UnicodeDecodeError:
            raise InputFormatError(f"{phrase_path}: not valid UTF-8") from None
        for lineno, line in lines:
            if not line.strip():
                continue
            fields = line.split(maxsplit=5)
            if len(fields) < 5:
                raise InputFormatError(
                    f"{phrase_path}:{lineno}: expected "
                    f"'<patient> <note> <start> <end> <category> <text>', got {len(fields)} fields"
                )
            patient_id, note_id, start_s, end_s, category = fields[:5]
            try:
                start, end = int(start_s), int(end_s)
            except ValueError:
                raise InputFormatError(
                    f"{phrase_path}:{lineno}: start/end are not integers"
                ) from None
            if not 0 <= start < end:
                raise InputFormatError(
                    f"{phrase_path}:{lineno}: invalid gold span offsets start={start} end={end}"
                )
            gold[(patient_id, note_id)].append((lineno, start, end, category))
    return gold


# --- JSON Lines ----------------------------------------------------------------------


def read_jsonl(path: str | Path) -> Iterator[Note]:
    """Notes from JSON Lines: one object per line with ``note_id``, ``patient_id``,
    ``text`` and optional ``spans`` (``[{"start", "end", "label"}]``), ``note_type``,
    ``note_date``.  Blank lines are skipped.  Raises ``InputFormatError`` (a ``ValueError``) naming file and line.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"JSON Lines corpus not found: {p}")
    return _read_jsonl(p)


def _read_jsonl(path: Path) -> Iterator[Note]:
    with path.open(encoding="utf-8") as fh:
        yield from read_jsonl_lines(fh, str(path))


def read_jsonl_lines(lines: Iterable[str], name: str = "<stdin>") -> Iterator[Note]:
    """Notes from JSON Lines text (e.g. stdin), as ``read_jsonl``; errors name ``name``."""
    lineno = 0
    try:
        for lineno, line in enumerate(lines, start=1):
            if line.strip():
                yield _note_from_json(line, name, lineno)
    except UnicodeDecodeError:
        raise InputFormatError(f"{name}: not valid UTF-8 after line {lineno}") from None


def _note_from_json(line: str, path: str | Path, lineno: int) -> Note:
    where = f"{path}:{lineno}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        # exc.msg describes the syntax error only; str(exc) would be fine too, but the
        # position is all a reader needs.
        raise InputFormatError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        kind = "an array" if isinstance(obj, list) else type(obj).__name__
        raise InputFormatError(f"{where}: expected one JSON object per line, got {kind}")
    note_id = _required_id(obj, "note_id", where)
    patient_id = _required_id(obj, "patient_id", where)
    text = obj.get("text")
    if not isinstance(text, str):
        raise InputFormatError(f"{where}: field 'text' is {_missing_or_type(obj, 'text')}")
    spans = _gold_spans(obj.get("spans"), len(text), where)
    return Note(
        note_id,
        patient_id,
        text,
        spans,
        note_type=_optional_str(obj, "note_type", where),
        note_date=_optional_str(obj, "note_date", where),
    )


def _required_id(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    # Integers are accepted because exports often store IDs as numbers.
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise InputFormatError(f"{where}: field {key!r} is {_missing_or_type(obj, key)}")
    return str(value)


def _optional_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise InputFormatError(f"{where}: field {key!r} must be a string or null")
    return value


def _missing_or_type(obj: dict[str, Any], key: str) -> str:
    if key not in obj:
        return "missing"
    value = obj[key]
    if value == "":
        return "empty"
    return f"of type {type(value).__name__}"


def _gold_spans(raw: object, text_len: int, where: str) -> tuple[Span, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputFormatError(f"{where}: field 'spans' must be a list")
    spans = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InputFormatError(f"{where}: spans[{i}] must be an object")
        start, end, label = item.get("start"), item.get("end"), item.get("label")
        if not (_is_int(start) and _is_int(end)):
            raise InputFormatError(f"{where}: spans[{i}] needs integer 'start' and 'end'")
        if not isinstance(label, str) or not label:
            raise InputFormatError(f"{where}: spans[{i}] needs a non-empty string 'label'")
        if not 0 <= start < end <= text_len:
            raise InputFormatError(
                f"{where}: spans[{i}] offsets {start}-{end} outside the note (length {text_len})"
            )
        spans.append(Span(start, end, label, 1.0, GOLD_RECOGNIZER))
    return tuple(sorted(spans))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
