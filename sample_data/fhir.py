"""A synthetic FHIR Bulk Data export of the sample notes (``deidflow sample --format fhir``).

Writes what a ``$export`` of a hospital's FHIR server holds, one resource a line:
``Patient.ndjson``, ``DocumentReference.ndjson``, ``DiagnosticReport.ndjson``,
``Binary.ndjson``, and the export's ``manifest.json`` is left out (it is the server's
reply, not data).  The notes are ``sample_data.generate.iter_notes``; most are base64
``text/plain`` attachments, and the export also holds, deterministically per seed:

* HTML (``text/html``) and RTF (``text/rtf``) attachments, and a Latin-1 one;
* notes whose text is a ``Binary`` of the export (``attachment.url = Binary/<id>``);
* discharge summaries as ``DiagnosticReport.presentedForm``;
* with ``unusable=True`` a few notes the reader must quarantine: a PDF only, bad base64,
  a url to another server, no attachment.

``gold.jsonl`` beside the resources holds each plain-text note's gold spans (its note ID
is ``DocumentReference/<id>``), for checking a run on the export.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from pathlib import Path
from random import Random
from typing import Any, NamedTuple

from sample_data.generate import iter_notes

UNUSABLE = ("pdf_only", "bad_base64", "foreign_url", "no_attachment")


class FhirSummary(NamedTuple):
    notes: int
    patients: int
    files: list[str]
    unusable: int

    def describe(self) -> str:
        return (
            f"wrote a FHIR export of {self.notes} notes ({self.unusable} unusable on purpose) "
            f"for {self.patients} patients: {', '.join(self.files)}"
        )


def _b64(text: str, charset: str = "utf-8") -> str:
    return base64.b64encode(text.encode(charset)).decode("ascii")


def _latin1(text: str) -> bool:
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return False
    return True


def _html(text: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in text.split("\n\n"))
    return f"<html><head><style>p {{margin:0}}</style></head><body>\n{body}</body></html>"


def _rtf(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
    escaped = "".join(c if ord(c) < 128 else f"\\u{ord(c)}?" for c in escaped)
    return (
        "{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Courier;}}\\f0 "
        + escaped.replace("\n", "\\par\n")
        + "}"
    )


def _coding(note_type: str) -> dict[str, Any]:
    return {"coding": [{"system": "urn:deidflow:note-type", "code": note_type}]}


def _resources(
    n: int, seed: int, unusable: bool, plain_only: bool = False
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """``(file stem, resource, gold record or None)`` in export order."""
    rng = Random(f"fhir:{seed}")
    patients: set[str] = set()
    for i, note in enumerate(iter_notes(n, seed)):
        pid = note["patient_id"]
        if pid not in patients:
            patients.add(pid)
            yield "Patient", {"resourceType": "Patient", "id": pid, "active": True}, None
        rid = note["note_id"]
        text = note["text"]
        roll = rng.random()
        kind = "plain"
        if plain_only:
            pass
        elif unusable and i % 25 == 7:
            kind = UNUSABLE[(i // 25) % len(UNUSABLE)]
        elif roll < 0.08:
            kind = "html"
        elif roll < 0.14:
            kind = "rtf"
        elif roll < 0.20:
            kind = "binary"
        elif roll < 0.24:
            kind = "latin1"
        attachment: dict[str, Any] = {"contentType": "text/plain; charset=utf-8"}
        if kind in ("plain", "binary", "latin1", "bad_base64"):
            attachment["data"] = _b64(text)
        if kind == "latin1" and _latin1(text):
            attachment = {
                "contentType": "text/plain; charset=ISO-8859-1",
                "data": _b64(text, "iso-8859-1"),
            }
        elif kind == "html":
            attachment = {"contentType": "text/html", "data": _b64(_html(text))}
        elif kind == "rtf":
            attachment = {"contentType": "text/rtf", "data": _b64(_rtf(text))}
        elif kind == "binary":
            bid = f"bin-{rid}"
            yield (
                "Binary",
                {
                    "resourceType": "Binary",
                    "id": bid,
                    "contentType": "text/plain",
                    "data": _b64(text),
                },
                None,
            )
            attachment = {"contentType": "text/plain", "url": f"Binary/{bid}"}
        elif kind == "pdf_only":
            attachment = {"contentType": "application/pdf", "data": _b64("%PDF-1.4 ...")}
        elif kind == "bad_base64":
            attachment["data"] = "!!not base64!!" + attachment["data"]
        elif kind == "foreign_url":
            attachment = {"contentType": "text/plain", "url": "https://elsewhere.example/Binary/1"}
        subject = {"reference": f"Patient/{pid}"}
        encounter = {"reference": f"Encounter/{note['encounter_id']}"}
        if note["note_type"] == "discharge_summary" and kind == "plain":
            yield (
                "DiagnosticReport",
                {
                    "resourceType": "DiagnosticReport",
                    "id": rid,
                    "status": "final",
                    "code": _coding(note["note_type"]),
                    "subject": subject,
                    "encounter": encounter,
                    "effectiveDateTime": note["note_date"],
                    "presentedForm": [attachment],
                },
                {**note, "note_id": f"DiagnosticReport/{rid}"},
            )
            continue
        content = [] if kind == "no_attachment" else [{"attachment": attachment}]
        exact = kind in ("plain", "binary", "latin1")  # the text arrives unchanged
        gold = {**note, "note_id": f"DocumentReference/{rid}"} if exact else None
        yield (
            "DocumentReference",
            {
                "resourceType": "DocumentReference",
                "id": rid,
                "status": "current",
                "type": _coding(note["note_type"]),
                "subject": subject,
                "date": f"{note['note_date']}T09:00:00Z",
                "context": {
                    "encounter": [encounter],
                    "period": {"start": note["note_date"]},
                },
                "content": content,
            },
            gold,
        )


def write_fhir_export(
    n: int, seed: int, out_dir: str | Path, *, unusable: bool = False, plain_only: bool = False
) -> FhirSummary:
    """Write an export of ``n`` notes to ``out_dir`` (created; existing files replaced).

    ``plain_only``: every note a base64 text/plain attachment (the reader benchmark's
    input); ``unusable`` is then ignored."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    handles: dict[str, Any] = {}
    patients, notes, bad = set(), 0, 0
    try:
        gold = (out / "gold.jsonl").open("w", encoding="utf-8")
        handles["gold"] = gold
        for stem, resource, gold_record in _resources(n, seed, unusable, plain_only):
            if stem not in handles:
                handles[stem] = (out / f"{stem}.ndjson").open("w", encoding="utf-8")
            handles[stem].write(json.dumps(resource, ensure_ascii=False) + "\n")
            if stem == "Patient":
                patients.add(resource["id"])
            elif stem != "Binary":
                notes += 1
            if gold_record is not None:
                gold.write(json.dumps(gold_record, ensure_ascii=False) + "\n")
        bad = sum(1 for i in range(n) if unusable and not plain_only and i % 25 == 7)
    finally:
        for fh in handles.values():
            fh.close()
    files = sorted(f"{stem}.ndjson" for stem in handles if stem != "gold") + ["gold.jsonl"]
    return FhirSummary(notes, len(patients), files, bad)
