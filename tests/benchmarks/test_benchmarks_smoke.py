"""Smoke test of benchmarks/detection_speed.py: 5 synthetic notes, 1 rep.

The script's parent runs in-process; each engine runs in its own worker subprocess, as in
a real run (plain Presidio cannot share a process with deid's recognizers).

Checks the JSON result's shape and that it carries no note text; no timing asserts.
"""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType

import pytest

from tests.paths import REPO

SAMPLE = REPO / "sample_data" / "notes.jsonl"


def _load_script() -> ModuleType:
    path = REPO / "benchmarks" / "detection_speed.py"
    spec = importlib.util.spec_from_file_location("detection_speed", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "speed.json"
    script = _load_script()
    args = [str(SAMPLE), "--limit", "5", "--presidio-notes", "5", "--reps", "1"]
    assert script.main([*args, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_every_engine_is_timed_on_the_requested_notes(result: dict) -> None:
    for name in ("ours", "ours_deidentify", "presidio", "presidio_per_note"):
        engine = result["engines"][name]
        assert engine["notes"] == 5
        assert len(engine["reps"]) == 1
        assert engine["notes_per_s"] > 0 and engine["mb_per_min"] > 0
        assert engine["load_s"] > 0
        assert engine["peak_rss_mb"] >= engine["peak_rss_mb_after_load"] > 0
    assert result["ratio_ours_over_presidio"]["notes_per_s"] > 0
    assert result["ratio_deidentify_over_presidio"]["notes_per_s"] > 0
    assert result["ratio_deidentify_over_presidio_per_note"]["notes_per_s"] > 0


def test_presidio_runs_its_own_default_recognizers(result: dict) -> None:
    names = result["engines"]["presidio"]["recognizers"]
    assert {"SpacyRecognizer", "DateRecognizer", "PhoneRecognizer"} <= set(names)
    assert not [n for n in names if n.startswith("deid.")]
    assert "TaggerRecognizer" in result["engines"]["ours"]["recognizers"]


def test_recall_is_reported_beside_speed(result: dict) -> None:
    recall = result["engines"]["ours"]["recall"]
    assert recall["notes"] == 5 and recall["gold_spans"] > 0
    assert 0.0 <= recall["full_cover_recall"] <= 1.0
    assert result["engines"]["presidio"]["recall"]["gold_spans"] == recall["gold_spans"]
    # both baselines are one engine, called two ways: the same findings
    per_note = result["engines"]["presidio_per_note"]["recall"]
    assert per_note["full_cover"] == result["engines"]["presidio"]["recall"]["full_cover"]
    # anonymizing replaces what detection found: the same spans, so the same recall
    assert result["engines"]["ours_deidentify"]["recall"]["full_cover"] >= recall["full_cover"]


def test_result_is_comparable_across_commits(result: dict) -> None:
    assert result["schema_version"] == 1
    assert set(result["versions"]) >= {"presidio-analyzer", "spacy", "deidflow"}
    assert {"cpu_model", "python", "loadavg_before"} <= set(result["machine"])
    assert "commit" in result["git"]


def test_result_holds_no_note_text(result: dict) -> None:
    dumped = json.dumps(result)
    notes = [json.loads(line) for line in SAMPLE.read_text().splitlines()[:5]]
    phi = {n["text"][s["start"] : s["end"]] for n in notes for s in n["spans"]}
    assert not [v for v in phi if len(v) >= 4 and v in dumped]
