"""audit_report.json: versioned, valid against its JSON Schema, counts only, regenerable."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pipelines.cli import main
from pipelines.report import REPORT_HTML_NAME, REPORT_JSON_NAME, read_report, regenerate_report
from tests.pipelines.report.helpers import EVIL_NOTE_TYPE, HASHES, evaluation, schema, write_run


def test_report_matches_its_json_schema(tmp_path: Path) -> None:
    out, report = write_run(tmp_path)
    validator = jsonschema.Draft202012Validator(schema())
    validator.validate(report)
    validator.validate(json.loads((out / REPORT_JSON_NAME).read_text()))
    assert (out / REPORT_HTML_NAME).is_file()


def test_schema_catches_a_broken_report(tmp_path: Path) -> None:
    _, report = write_run(tmp_path)
    validator = jsonschema.Draft202012Validator(schema())
    for breakage in (
        lambda r: r.update(schema_version="1"),
        lambda r: r["counts"].pop("rows_out"),
        lambda r: r["risk"].update(status="maybe"),
        lambda r: r["lineage"]["sample"].append("raw-note-id-17"),
        lambda r: r.update(note_text="anything"),
    ):
        broken = json.loads(json.dumps(report))
        breakage(broken)
        assert not validator.is_valid(broken)


def test_report_holds_the_numbers_a_steward_needs(tmp_path: Path) -> None:
    out, report = write_run(tmp_path)
    assert report["counts"] == {
        "rows_in": 7,
        "rows_out": 5,
        "quarantined": 1,
        "duplicates_removed": 1,
        "skipped": 0,
        "skipped_by_reason": {},
        "rows_by_split": {"train": 5},
    }
    assert report["phi"]["total"] == 10 and report["phi"]["per_note"] == 2.0
    assert report["phi"]["tokens"] == 1050
    assert report["phi"]["by_source"] == [
        {"source": "files:notes.jsonl", "total": 10, "by_type": {"DATE": 6, "PERSON": 4}}
    ]
    assert report["operators"] == {"date_shift": 6, "keep": 2, "surrogate": 10}
    assert report["quarantine"]["by_reason"] == {"EMPTY_TEXT": 1}
    assert report["validation"]["expectations_evaluated"] == 72
    checks = {(c["suite"], c["check"]) for c in report["validation"]["checks"]}
    assert ("deidentified_notes", "residual_ssn") in checks
    assert ("deidentified_batch_counts", "row_reconciliation") in checks
    assert report["lineage"] == {
        "method": report["lineage"]["method"],
        "file": "lineage.parquet",
        "rows": 5,
        "rows_this_run": 5,
        "sample": HASHES[:5],
    }
    assert report["run"]["key_fingerprint"] == "0123456789abcdef"
    assert report["policy"]["policy"] == "safe_harbor"
    assert report["software"]["prefect"] and report["software"]["python"]
    assert report["risk"]["status"] == "no_sample"  # no gold_sample in this config


def test_gold_sample_in_the_config_gives_an_estimate(tmp_path: Path) -> None:
    sample = tmp_path / "gold.jsonl"
    sample.write_text("{}\n")
    _, report = write_run(tmp_path, gold_sample=sample)
    risk = report["risk"]
    assert risk["status"] == "estimated"
    assert risk["sample"]["name"] == "gold.jsonl"
    # d = 10 PHI / 5 notes = 2 per note, r = 0.9
    assert risk["expected_leaks_per_10k_notes"]["estimate"] == pytest.approx(2222.2222, abs=1e-3)


def test_read_report_refuses_other_schema_versions(tmp_path: Path) -> None:
    out, report = write_run(tmp_path)
    (out / REPORT_JSON_NAME).write_text(json.dumps({**report, "schema_version": "99"}))
    with pytest.raises(ValueError, match="schema version '99'"):
        read_report(out)
    with pytest.raises(FileNotFoundError, match="deidflow run"):
        read_report(tmp_path)


def test_regenerate_with_a_gold_sample_replaces_only_the_risk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.report as report_pkg

    out, before = write_run(tmp_path)
    sample = tmp_path / "gold.jsonl"
    sample.write_text("{}\n")
    monkeypatch.setattr(
        report_pkg, "evaluate_sample", lambda path, detector: evaluation(99, 100, name_cover=9)
    )
    monkeypatch.setattr(report_pkg, "_detector", lambda config: object())
    files = regenerate_report(out, sample)
    after = json.loads(files.json_path.read_text())
    assert after["risk"]["recall"]["estimate"] == 0.99
    assert {k: v for k, v in after.items() if k not in ("risk", "generated_at")} == {
        k: v for k, v in before.items() if k not in ("risk", "generated_at")
    }
    assert "99.0 %" in files.html_path.read_text()


def test_cli_report_rerenders_and_says_when_risk_is_not_estimated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = write_run(tmp_path)
    (out / REPORT_HTML_NAME).unlink()
    assert main(["report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "not estimated" in printed and "--gold" in printed
    assert (out / REPORT_HTML_NAME).is_file()
    assert main(["report", str(tmp_path / "missing")]) == 3  # an input error


def test_source_values_are_escaped_in_the_html(tmp_path: Path) -> None:
    out, _ = write_run(tmp_path)
    page = (out / REPORT_HTML_NAME).read_text()
    assert EVIL_NOTE_TYPE not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
