"""The CLI contracts held-out checks call: detect, evaluate, deidentify (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.paths import PHYSIONET_FIXTURE, SAMPLE

FIXTURE = PHYSIONET_FIXTURE


def _gold_strings() -> list[str]:
    return [
        line.split(" ", 5)[5].strip()
        for line in (FIXTURE / "id-phi.phrase").read_text().splitlines()
    ]


def test_help_explains_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("detect", "evaluate", "deidentify", "run", "sample"):
        assert command in out


def test_detect_physionet_contract(tmp_path: Path) -> None:
    out = tmp_path / "spans.jsonl"
    assert main(["detect", "--format", "physionet", str(FIXTURE / "id.text"), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows, "the fixture has PHI; some spans must be found"
    texts = {}
    from deid.evaluation.corpora import read_physionet

    for note in read_physionet(FIXTURE):
        texts[(note.patient_id, note.note_id)] = note.text
    for row in rows:
        assert set(row) == {"patient", "note", "start", "end", "label"}
        assert isinstance(row["patient"], str) and isinstance(row["note"], str)
        text = texts[(row["patient"], row["note"])]
        assert 0 <= row["start"] < row["end"] <= len(text)
    raw = out.read_text()
    for phrase in _gold_strings():
        assert phrase not in raw, "span output must never carry PHI text"


def test_detect_jsonl_contract(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    lines = SAMPLE.read_text().splitlines()[:3]
    notes.write_text(
        "\n".join(
            json.dumps({k: json.loads(x)[k] for k in ("note_id", "patient_id", "text")})
            for x in lines
        )
        + "\n"
    )
    out = tmp_path / "spans.jsonl"
    assert main(["detect", "--format", "jsonl", str(notes), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    ids = {json.loads(x)["note_id"] for x in lines}
    assert rows and all(set(r) == {"note_id", "start", "end", "label"} for r in rows)
    assert {r["note_id"] for r in rows} <= ids


def test_evaluate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(FIXTURE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["gold_spans"] == len(_gold_strings())
    assert 0.0 <= report["full_cover_recall"] <= 1.0
    for phrase in _gold_strings():
        assert phrase not in json.dumps(report)


def test_deidentify_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEIDFLOW_KEY", "k" * 64)
    notes = tmp_path / "notes.jsonl"
    records = [
        {
            "note_id": "b",
            "patient_id": "p1",
            "text": "Seen by Dr. Healey on 7/22/2019. Call 617-555-0199.",
        },
        {"note_id": "a", "patient_id": "p1", "text": "No PHI here."},
    ]
    notes.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "out.jsonl"
    assert main(["deidentify", str(notes), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [set(r) for r in rows] == [{"note_id", "text"}] * 2
    assert [r["note_id"] for r in rows] == ["b", "a"]
    assert "Healey" not in rows[0]["text"] and "617-555-0199" not in rows[0]["text"]
    assert rows[1]["text"] == "No PHI here."


def test_deidentify_without_key_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DEIDFLOW_KEY", raising=False)
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"note_id": "1", "patient_id": "p", "text": "Dr. Healey"}) + "\n")
    assert main(["deidentify", str(notes), "-o", str(tmp_path / "out.jsonl")]) != 0
    err = capsys.readouterr().err
    assert "DEIDFLOW_KEY" in err
    assert "Healey" not in err
