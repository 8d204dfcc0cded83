"""Record checks and the quarantine: nothing is dropped silently.

``check_record`` turns a ``RawRecord`` into a ``NoteRecord`` or a ``QuarantineItem``
with a reason code.  Quarantined records are written, raw, to a RESTRICTED directory
beside the source: it holds PHI and must get the same protection as the source itself.
Everything that leaves the quarantine for reports carries only source references,
note IDs and reason codes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.records import RawRecord, Reason
from schemas.notes import ColumnMapping, NoteRecord

README_NAME = "README-RESTRICTED.txt"
README_TEXT = """\
RESTRICTED: this directory holds RAW CLINICAL NOTES (protected health information).

deidflow puts here the records it could not de-identify (missing IDs, empty or
non-text content, undecodable bytes, notes over the size limit, processing errors,
notes whose de-identified text still held an identifier the detector missed),
unchanged, one JSON object per line in quarantine-<run_id>.jsonl, with a reason code.

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

    def report_entry(self) -> dict[str, str | None]:
        """The PHI-free view for reports: where, which ID, why."""
        return {
            "source_ref": self.source_ref,
            "note_id": self.note_id,
            "reason": self.reason.value,
            "detail": self.detail,
        }


def check_record(
    raw: RawRecord, columns: ColumnMapping, max_note_chars: int
) -> NoteRecord | QuarantineItem:
    """A valid note, or the first reason it is not one."""
    if raw.problem is not None:
        payload = raw.raw if raw.raw is not None else raw.fields
        note_id = _as_id(raw.fields.get("note_id")) if raw.canonical else None
        return QuarantineItem(raw.problem, raw.source_ref, note_id, payload=jsonable(payload))
    row = raw.fields if raw.canonical else columns.apply(raw.fields)

    def reject(reason: Reason, detail: str = "") -> QuarantineItem:
        note_id = _as_id(row.get("note_id"))
        payload = None if reason is Reason.OVERSIZED else raw.fields
        return QuarantineItem(reason, raw.source_ref, note_id, detail, jsonable(payload))

    note_id = _as_id(row.get("note_id"))
    patient_id = _as_id(row.get("patient_id"))
    if note_id is None:
        return reject(Reason.MISSING_ID, "note_id")
    if patient_id is None:
        return reject(Reason.MISSING_ID, "patient_id")

    text = row.get("text")
    if text is None:
        return reject(Reason.EMPTY_TEXT)
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return reject(Reason.UNDECODABLE)
    if not isinstance(text, str):
        return reject(Reason.NOT_TEXT, type(text).__name__)
    if not _is_valid_unicode(text):
        return reject(Reason.UNDECODABLE)
    if "\x00" in text:
        return reject(Reason.NOT_TEXT, "nul")
    if not text.strip():
        return reject(Reason.EMPTY_TEXT)
    if len(text) > max_note_chars:
        return reject(Reason.OVERSIZED, f"{len(text)} chars")

    note_date = _as_date(row.get("note_date"))
    if note_date is _INVALID:
        return reject(Reason.INVALID_DATE)
    return NoteRecord(
        note_id=note_id,
        patient_id=patient_id,
        text=text,
        note_type=_as_optional_str(row.get("note_type")),
        note_date=note_date,  # type: ignore[arg-type]
        encounter_id=_as_id(row.get("encounter_id")),
    )


_INVALID = object()


def _as_id(value: Any) -> str | None:
    """IDs may arrive as strings or integers; anything else counts as missing."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value if value and _is_valid_unicode(value) else None
    return None


def _as_optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text if text and _is_valid_unicode(text) else None


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
        line = {
            "reason": item.reason.value,
            "source_ref": item.source_ref,
            "note_id": item.note_id,
            "detail": item.detail,
            "record": item.payload,
        }
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
        self._fh.close()
        self._fh = None
        os.replace(self._tmp, self.directory / f"quarantine-{run_id}.jsonl")
        self._tmp = None
        report = self.directory / f"report-{run_id}.json"
        body = {
            "run_id": run_id,
            "counts": dict(sorted(self.counts.items())),
            "records": self.entries,
        }
        tmp = report.with_name(f".{report.name}.tmp")
        tmp.write_text(json.dumps(body, sort_keys=True, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, report)
        return report

    def abort(self) -> None:
        """Drop the temp file of a failed run."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def clear_stale(self) -> None:
        """Remove temp files left by interrupted runs (one writer per source at a time)."""
        if self.directory.is_dir():
            for stale in self.directory.glob(".in-progress-*.jsonl"):
                stale.unlink(missing_ok=True)

    def _open(self) -> None:
        ensure_restricted_dir(self.directory)
        self._tmp = self.directory / f".in-progress-{uuid.uuid4().hex}.jsonl"
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._fh = os.fdopen(fd, "w", encoding="utf-8")


def ensure_restricted_dir(directory: Path) -> None:
    """Create the quarantine directory (owner-only) with its warning README."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    readme = directory / README_NAME
    if not readme.exists():
        readme.write_text(README_TEXT, encoding="utf-8")
