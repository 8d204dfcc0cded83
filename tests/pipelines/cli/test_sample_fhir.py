"""``deidflow sample --format fhir``: a Bulk Data export folder the FHIR source reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.exit_codes import ExitCode


def test_sample_writes_an_export_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "export"
    assert main(["sample", "--format", "fhir", "--n", "30", "--unusable", "-o", str(out)]) == 0
    assert "30 notes (1 unusable on purpose)" in capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert {"DocumentReference.ndjson", "Patient.ndjson", "gold.jsonl"} <= set(names)
    kinds = {
        json.loads(line)["resourceType"]
        for p in out.glob("*.ndjson")
        for line in p.read_text().splitlines()
    }
    assert kinds <= {"Patient", "DocumentReference", "DiagnosticReport", "Binary"}
    assert main(["sample", "--format", "fhir", "--n", "3"]) == ExitCode.USAGE  # no folder given
    assert "pass -o DIR" in capsys.readouterr().err
