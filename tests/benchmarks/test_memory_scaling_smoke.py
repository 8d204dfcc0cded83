"""Smoke test of benchmarks/memory_scaling.py: 250 generated notes, samples every 100.

Checks the curve's shape (a sample at each interval and one at the end), that the notes
went through the flow's duplicate check, and that the JSON carries no note text.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from sample_data.generate import iter_notes
from tests.paths import REPO


def test_memory_curve_has_a_sample_per_interval_and_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEIDFLOW_KEY", "test-key-not-secret-xx")
    path = REPO / "benchmarks" / "memory_scaling.py"
    spec = importlib.util.spec_from_file_location("memory_scaling", path)
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "memory.json"

    assert script.main(["--notes", "250", "--every", "100", "--json", str(out)]) == 0

    result = json.loads(out.read_text())
    samples = result["samples"]
    last = samples[-1]
    assert [s["notes"] for s in samples[:2]] == [100, 200]
    assert last["notes"] + last["duplicates_removed"] == 250  # the end is sampled too
    for key in ("rss_mb", "malloc_in_use_mb", "learned_chunks", "string_table_cells"):
        assert last[key] > 0
    text = out.read_text()
    for note in iter_notes(250, seed=7):
        assert note["patient_id"] not in text and note["text"][:40] not in text
