"""Record checks and the quarantine: nothing is dropped silently.

``check_record`` turns a ``RawRecord`` into a ``NoteRecord`` or a ``QuarantineItem``
with a reason code.  Quarantined records are written, raw, to a RESTRICTED directory
beside the source: it holds PHI and must get the same protection as the source itself.
Everything that leaves the quarantine for reports carries only source references,
note IDs and reason codes.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pipelines.records import RawRecord, Reason
from schemas.notes import ColumnMapping, NoteRecord

README_NAME = "README-RESTRICTED.txt"
README_TEXT = """\
RESTRICTED: this directory holds RAW CLINICAL NOTES (protected health information).

deidflow puts here the records it could not de-identify (missing IDs, empty or
non-text content, undecodable bytes, unparseable lines, processing errors, notes
whose de-identified text still held an identifier the detector missed), unchanged,
one JSON object per line in quarantine-<run_id>.jsonl, with a reason code.  Records
over the size limit are not copied: their line holds a reference (file, byte offset
and length, or row) to the record in the source.

Protect it like the source it sits beside: same access controls, never copy it to
the de-identified output, never attach it to tickets or reports.  Reports carry only
source references, note IDs and reason codes.
"""


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """A record that will not be published, and why.  ``payload`` is raw (PHI)."""

    reason: Reason
    source_ref: str
    note_id: str | None = None
    detail: str = ""
    payload: Any = field(default=None, repr=False)
    reference: dict[str, Any] | None = None
    """Where the record lies in its source (file, offset, length): what the quarantine
    keeps instead of a copy of an oversized record."""

    def report_entry(self) -> dict[str, str | None]:
        """The PHI-free view for reports: where, which ID, why."""
        return {
            "source_ref": self.source_ref,
            "note_id": self.note_id,
            "reason": self.reason.value,
            "detail": self.detail,
        }


def check_record(
    raw: RawRecord,
    columns: ColumnMapping,
    max_note_chars: int,
    date_shift_days: tuple[int, int] = (0, 0),
) -> NoteRecord | QuarantineItem:
    """A valid note, or the first reason it is not one.

    ``date_shift_days`` is the range of per-patient date offsets: a ``note_date`` that
    some offset in it would move outside the calendar (before 0001-01-01 or after
    9999-12-31) is ``INVALID_DATE``, whatever the patient's own offset, so that which
    records are quarantined never depends on the key.
    """
    if raw.problem is not None:
        note_id = _as_id(raw.fields.get("note_id")) if raw.canonical else None
        # Nothing to keep of a record that was never read (a .txt file's fields come
        # from its path) or is too large to copy.
        unread = raw.raw is None and (raw.canonical or not raw.fields)
        return QuarantineItem(
            raw.problem,
            raw.source_ref,
            note_id if isinstance(note_id, str) else None,
            raw.detail,
            payload=None if unread or raw.problem is Reason.OVERSIZED else _raw_payload(raw),
            reference=raw.location if raw.problem is Reason.OVERSIZED else None,
        )
    row = raw.fields if raw.canonical else columns.apply(raw.fields)

    def reject(reason: Reason, detail: str = "") -> QuarantineItem:
        note_id = _as_id(row.get("note_id"))
        oversized = reason is Reason.OVERSIZED
        return QuarantineItem(
            reason,
            raw.source_ref,
            note_id if isinstance(note_id, str) else None,
            detail,
            payload=None if oversized else jsonable(raw.fields),
            reference=raw.location if oversized else None,
        )

    for name in ("note_id", "patient_id"):
        value = _as_id(row.get(name))
        if value is _UNDECODABLE:
            return reject(Reason.UNDECODABLE, name)
        if value is None:
            return reject(Reason.MISSING_ID, name)
    note_id = cast(str, _as_id(row.get("note_id")))
    patient_id = cast(str, _as_id(row.get("patient_id")))

    text = row.get("text")
    if text is None:
        return reject(Reason.EMPTY_TEXT)
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return reject(Reason.UNDECODABLE, "text")
    if not isinstance(text, str):
        return reject(Reason.NOT_TEXT, type(text).__name__)
    if not _is_valid_unicode(text):
        return reject(Reason.UNDECODABLE, "text")
    if "\x00" in text:
        return reject(Reason.NOT_TEXT, "nul")
    if not text.strip():
        return reject(Reason.EMPTY_TEXT)
    if len(text) > max_note_chars:
        return reject(Reason.OVERSIZED, f"{len(text)} chars")

    metadata: dict[str, str | None] = {}
    for name in ("note_type", "encounter_id"):
        value = row.get(name)
        parsed = _as_id(value) if name == "encounter_id" else _as_label(value)
        if parsed is _UNDECODABLE:
            return reject(Reason.UNDECODABLE, name)
        if parsed is None and value is not None and not _is_blank(value):
            return reject(Reason.INVALID_FIELD, f"{name}: {type(value).__name__}")
        metadata[name] = cast("str | None", parsed)

    note_date = _as_date(row.get("note_date"))
    if note_date is _INVALID:
        return reject(Reason.INVALID_DATE)
    if isinstance(note_date, dt.date) and not _shiftable(note_date, date_shift_days):
        return reject(Reason.INVALID_DATE, "out of range for the date shift")
    return NoteRecord(
        note_id=note_id,
        patient_id=patient_id,
        text=text,
        note_type=metadata["note_type"],
        note_date=note_date,  # type: ignore[arg-type]
        encounter_id=metadata["encounter_id"],
    )


_INVALID = object()
_UNDECODABLE = object()
"""An ID or label whose bytes are not UTF-8 (kept apart from a missing one)."""


def _raw_payload(raw: RawRecord) -> Any:
    """What the quarantine keeps of a record the source could not parse: its bytes (as
    read) and whatever fields it did yield."""
    if raw.raw is not None and raw.fields:
        return {"raw": jsonable(raw.raw), "fields": jsonable(raw.fields)}
    return jsonable(raw.raw if raw.raw is not None else raw.fields)


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _as_id(value: Any) -> str | None | object:
    """IDs may arrive as strings or integers; anything else counts as missing.

    Returns ``_UNDECODABLE`` for a string holding bytes that are not UTF-8.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        return value if _is_valid_unicode(value) else _UNDECODABLE
    return None


def _as_label(value: Any) -> str | None | object:
    """A free-text label (``note_type``): a string or a number, on one line; a list,
    object or other value is not a label (``None``)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not text:
        return None
    return text if _is_valid_unicode(text) else _UNDECODABLE


def _as_date(value: Any) -> dt.date | None | object:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).date()
        except ValueError:
            return _INVALID
    return _INVALID


def _shiftable(date: dt.date, shift_days: tuple[int, int]) -> bool:
    """Whether every offset in ``shift_days`` keeps ``date`` inside the calendar."""
    low, high = shift_days
    return (date.toordinal() + min(low, 0) >= 1) and (
        date.toordinal() + max(high, 0) <= dt.date.max.toordinal()
    )


def _is_valid_unicode(text: str) -> bool:
    """False for lone surrogates (undecodable bytes kept by ``surrogateescape``)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_key(key: Any) -> str:
    """A dict key as JSON text; an undecodable one (a lone surrogate) as ``base64:...``.

    Left as is it would make the UTF-8 encoding of the whole record fail, with an error
    whose ``repr`` quotes the record.
    """
    text = str(key)
    if _is_valid_unicode(text):
        return text
    return "base64:" + base64.b64encode(_raw_bytes(text)).decode("ascii")


def _raw_bytes(text: str) -> bytes:
    """The bytes behind a string with lone surrogates: the source's own bytes when it was
    decoded with ``surrogateescape``, else (a ``\\ud800`` escape in JSON) surrogatepass."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def jsonable(value: Any) -> Any:
    """JSON-safe copy of a raw record; bytes and undecodable strings become base64."""
    if isinstance(value, dict):
        return {_json_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, str) and not _is_valid_unicode(value):
        return {"base64": base64.b64encode(_raw_bytes(value)).decode("ascii")}
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class QuarantineWriter:
    """Appends quarantined records to a private temp file; ``commit`` names it by run.

    The directory is created ``0700`` and the file ``0600``.  A run that fails calls
    ``abort``; the temp file is removed.  Re-running the same input rewrites the same
    ``quarantine-<run_id>.jsonl``.

    Several runs may read one source at once (into different outputs), so they share
    its quarantine directory: each writes its own ``.in-progress-<random>.jsonl`` and
    holds an exclusive lock on it while it lives.  ``clear_stale`` removes only temp
    files nobody holds (left by runs that were killed).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counts: Counter[str] = Counter()
        self.entries: list[dict[str, str | None]] = []
        self._tmp: Path | None = None
        self._fh: Any = None

    def add(self, item: QuarantineItem) -> None:
        if self._fh is None:
            self._open()
        line: dict[str, Any] = {
            "reason": item.reason.value,
            "source_ref": item.source_ref,
            "note_id": item.note_id,
            "detail": item.detail,
            "record": item.payload,
        }
        if item.reference is not None:
            line["reference"] = item.reference  # the record itself stays in the source
        self._fh.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
        self.counts[item.reason.value] += 1
        self.entries.append(item.report_entry())

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def commit(self, run_id: str) -> Path | None:
        """Make the file final as ``quarantine-<run_id>.jsonl``, beside a PHI-free report.

        The report ``report-<run_id>.json`` lists source reference, note ID and reason
        per record.  Returns the report's path, or ``None`` if nothing was quarantined.
        """
        if self._fh is None or self._tmp is None:
            return None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        os.replace(self._tmp, self.directory / f"quarantine-{run_id}.jsonl")
        self._fh.close()  # releases the lock, after the file has its final name
        self._fh = None
        self._tmp = None
        report = self.directory / f"report-{run_id}.json"
        body = {
            "run_id": run_id,
            "counts": dict(sorted(self.counts.items())),
            "records": self.entries,
        }
        # A name of its own: a concurrent run of the same input commits the same report.
        tmp = report.with_name(f".{report.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(body, sort_keys=True, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, report)
        return report

    def abort(self) -> None:
        """Drop the temp file of a failed run."""
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def clear_stale(self) -> int:
        """Remove temp files of interrupted runs (never one a live run holds); returns how many."""
        removed = 0
        if not self.directory.is_dir():
            return removed
        for stale in self.directory.glob(".in-progress-*.jsonl"):
            try:
                fd = os.open(stale, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live run's file
            else:
                stale.unlink(missing_ok=True)
                removed += 1
            finally:
                os.close(fd)
        for tmp in self.directory.glob(".report-*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < time.time() - _STALE_TMP_S:
                    tmp.unlink()
        return removed

    def _open(self) -> None:
        ensure_restricted_dir(self.directory)
        self._tmp = self.directory / f".in-progress-{uuid.uuid4().hex}.jsonl"
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new and ours: never blocks
        self._fh = os.fdopen(fd, "w", encoding="utf-8")


_STALE_TMP_S = 3600
"""A report temp file older than this is a leftover (they live for milliseconds)."""


def ensure_restricted_dir(directory: Path) -> None:
    """Create the quarantine directory (owner-only) with its warning README."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    readme = directory / README_NAME
    if not readme.exists():
        readme.write_text(README_TEXT, encoding="utf-8")
