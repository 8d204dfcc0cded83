"""The FHIR reader: field mapping, attachments in every form an export holds them, and a
reason for every note it cannot use."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.config import FhirSource
from pipelines.quarantine import QuarantineItem, check_record
from pipelines.records import RawRecord, Reason, Skip
from pipelines.sources.fhir import FhirRecordSource, html_to_text, media_type
from sample_data.fhir import write_fhir_export
from sample_data.generate import iter_notes
from schemas.notes import ColumnMapping, NoteRecord

TEXT = "Pt Jane Roe seen 03/04/2021 for chest pain.\nPlan: follow up."


def _b64(data: str | bytes, charset: str = "utf-8") -> str:
    raw = data.encode(charset) if isinstance(data, str) else data
    return base64.b64encode(raw).decode()


def _docref(rid: str = "d1", **attachment: Any) -> dict[str, Any]:
    att = attachment or {"contentType": "text/plain", "data": _b64(TEXT)}
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "subject": {"reference": "Patient/p1"},
        "type": {
            "coding": [
                {"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}
            ]
        },
        "date": "2021-03-04T10:00:00+01:00",
        "context": {"encounter": [{"reference": "Encounter/e9"}]},
        "content": [{"attachment": att}],
    }


def _export(
    tmp_path: Path, *resources: dict[str, Any], name: str = "DocumentReference.ndjson"
) -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    with (folder / name).open("a") as fh:
        for res in resources:
            fh.write(json.dumps(res) + "\n")
    return folder


def _read(path: Path) -> list[RawRecord]:
    return list(FhirRecordSource(FhirSource(kind="fhir", path=path), 100_000).records())


def _checked(path: Path) -> list[NoteRecord | QuarantineItem]:
    return [check_record(r, ColumnMapping(), 100_000) for r in _read(path) if r.skipped is None]


def test_document_reference_maps_to_a_note(tmp_path: Path) -> None:
    [note] = _checked(_export(tmp_path, _docref()))
    assert isinstance(note, NoteRecord)
    assert (note.note_id, note.patient_id, note.encounter_id) == (
        "DocumentReference/d1",
        "p1",
        "e9",
    )
    assert (note.note_type, str(note.note_date), note.text) == ("Progress note", "2021-03-04", TEXT)


def test_diagnostic_report_presented_form_and_period_dates(tmp_path: Path) -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "subject": {"reference": "https://ehr.example/fhir/Patient/p2"},
        "code": {"text": "CT chest"},
        "effectivePeriod": {"start": "2020-12-31T23:00:00Z"},
        "encounter": {"reference": "Encounter/e3"},
        "presentedForm": [{"contentType": "text/plain", "data": _b64(TEXT)}],
    }
    doc = _docref("d2")
    del doc["date"]
    doc["context"]["period"] = {"start": "2019-05"}  # partial: no date rather than a guess
    notes = _checked(_export(tmp_path, report, doc, name="mixed.ndjson"))
    assert all(isinstance(n, NoteRecord) for n in notes)
    r, d = notes
    assert isinstance(r, NoteRecord) and isinstance(d, NoteRecord)
    assert (r.note_id, r.patient_id, r.note_type, str(r.note_date)) == (
        "DiagnosticReport/r1",
        "p2",
        "CT chest",
        "2020-12-31",
    )
    assert d.note_date is None


def test_html_rtf_and_declared_charsets_become_plain_text(tmp_path: Path) -> None:
    html = "<html><head><style>b{}</style><script>x=1</script></head><body><p>Seen &amp; well</p><p>Dr&nbsp;Who</p></body></html>"
    rtf = r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Chest pain\par Caf\'e9 visit}"
    folder = _export(
        tmp_path,
        _docref("h", contentType="text/html; charset=utf-8", data=_b64(html)),
        _docref("r", contentType="application/rtf", data=_b64(rtf)),
        _docref(
            "l",
            contentType='text/plain; charset="ISO-8859-1"',
            data=_b64("Café Noël", "iso-8859-1"),
        ),
    )
    texts = [n.text for n in _checked(folder) if isinstance(n, NoteRecord)]
    assert texts == ["Seen & well\n\nDr Who", "Chest pain\nCafé visit", "Café Noël"]
    assert media_type("Text/HTML ; charset=UTF-8") == ("text/html", "utf-8")
    assert html_to_text("a<br>b") == "a\nb"


def test_plain_text_is_preferred_and_binary_references_resolve(tmp_path: Path) -> None:
    doc = _docref("multi")
    doc["content"] = [
        {"attachment": {"contentType": "application/pdf", "data": _b64(b"%PDF")}},
        {"attachment": {"contentType": "text/html", "data": _b64("<p>html copy</p>")}},
        {"attachment": {"contentType": "text/plain", "url": "Binary/b7"}},
    ]
    folder = _export(tmp_path, doc)
    _export(
        tmp_path,
        {"resourceType": "Binary", "id": "b6", "contentType": "text/plain", "data": _b64("no")},
        {"resourceType": "Binary", "id": "b7", "contentType": "text/plain", "data": _b64(TEXT)},
        name="Binary.ndjson",
    )
    records = _read(folder)
    assert [r.skipped for r in records] == [Skip.NOT_A_NOTE, Skip.NOT_A_NOTE, None]
    [note] = [check_record(r, ColumnMapping(), 100_000) for r in records if r.skipped is None]
    assert isinstance(note, NoteRecord) and note.text == TEXT


@pytest.mark.parametrize(
    ("attachment", "reason", "detail"),
    [
        (
            {"contentType": "application/pdf", "data": _b64(b"%PDF")},
            Reason.UNSUPPORTED_CONTENT,
            "application/pdf",
        ),
        ({"contentType": "text/plain", "data": "%%%not base64"}, Reason.UNDECODABLE, "base64"),
        (
            {"contentType": "text/plain; charset=utf-8", "data": _b64(b"\xff\xfe\xfa")},
            Reason.UNDECODABLE,
            "utf-8",
        ),
        (
            {"contentType": "text/plain; charset=klingon", "data": _b64("x")},
            Reason.UNDECODABLE,
            "charset",
        ),
        (
            {"contentType": "text/plain", "url": "https://other.example/Binary/1"},
            Reason.UNRESOLVED_REFERENCE,
            "outside",
        ),
        (
            {"contentType": "text/plain", "url": "Binary/missing"},
            Reason.UNRESOLVED_REFERENCE,
            "not in the export",
        ),
        (
            {"contentType": "text/plain", "title": "no data"},
            Reason.EMPTY_TEXT,
            "no content attachment",
        ),
    ],
)
def test_unusable_notes_are_quarantined_with_a_reason_and_their_resource(
    tmp_path: Path, attachment: dict[str, Any], reason: Reason, detail: str
) -> None:
    [item] = _checked(_export(tmp_path, _docref(**attachment)))
    assert isinstance(item, QuarantineItem)
    assert (item.reason, item.note_id) == (reason, "DocumentReference/d1")
    assert detail in item.detail
    assert "Jane" not in item.detail and "Jane" not in item.source_ref  # no text in messages
    # The quarantine (restricted) keeps the resource as read, for a steward to inspect.
    assert json.loads(base64.b64decode(item.payload["raw"]["base64"]))["id"] == "d1"


def test_bad_lines_other_files_and_bundles(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "DocumentReference.ndjson").write_text(
        '{"resourceType": "Doc\n[1, 2]\n\n' + json.dumps(_docref("ok")) + "\n"
    )
    (folder / "manifest.txt").write_text("not an export file")
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:1",
                "resource": {
                    "resourceType": "Binary",
                    "id": "x",
                    "contentType": "text/plain",
                    "data": _b64(TEXT),
                },
            },
            {"resource": _docref("inbundle", contentType="text/plain", url="urn:uuid:1")},
            {"resource": {"resourceType": "Patient", "id": "p1"}},
            {"request": {"method": "DELETE"}},
        ],
    }
    (folder / "bundle.json").write_text(json.dumps(bundle))
    records = _read(folder)
    assert [(r.source_ref, r.problem, r.skipped) for r in records] == [
        ("DocumentReference.ndjson:1", Reason.MALFORMED, None),
        ("DocumentReference.ndjson:2", Reason.MALFORMED, None),
        ("DocumentReference.ndjson:4", None, None),
        ("bundle.json:entry 1", None, Skip.NOT_A_NOTE),
        ("bundle.json:entry 2", None, None),
        ("bundle.json:entry 3", None, Skip.NOT_A_NOTE),
        ("bundle.json:entry 4", Reason.MALFORMED, None),
        ("manifest.txt", None, Skip.NOT_FHIR_FILE),
    ]
    assert records[4].fields["text"] == TEXT
    assert FhirRecordSource(FhirSource(kind="fhir", path=folder), 100_000).count() == len(records)


def test_the_generated_export_reads_back_to_the_sample_notes(tmp_path: Path) -> None:
    summary = write_fhir_export(120, 3, tmp_path / "fx", unusable=True)
    assert summary.unusable == 5
    by_id = {n["note_id"]: n["text"] for n in iter_notes(120, 3)}
    gold = [json.loads(line) for line in (tmp_path / "fx" / "gold.jsonl").read_text().splitlines()]
    checked = _checked(tmp_path / "fx")
    notes = {n.note_id: n for n in checked if isinstance(n, NoteRecord)}
    quarantined = [q.reason for q in checked if isinstance(q, QuarantineItem)]
    assert len(notes) + len(quarantined) == 120
    assert sorted(quarantined) == sorted(
        [
            Reason.UNSUPPORTED_CONTENT,
            Reason.UNDECODABLE,
            Reason.UNRESOLVED_REFERENCE,
            Reason.EMPTY_TEXT,
            Reason.UNSUPPORTED_CONTENT,
        ]
    )
    assert len(gold) > 80
    for g in gold:  # unchanged text: plain, Latin-1 and Binary-referenced attachments
        assert notes[g["note_id"]].text == g["text"] == by_id[g["note_id"].split("/", 1)[1]]
    assert {n.note_type for n in notes.values()} >= {"discharge_summary", "progress_note"}
