"""Smoke test of benchmarks/near_duplicates.py on 1,500 notes: the corpus has the promised
shares, the variants are removed, the counts add up and memory is sampled."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

from tests.paths import REPO


def _script():
    path = REPO / "benchmarks" / "near_duplicates.py"
    spec = importlib.util.spec_from_file_location("near_duplicates_bench", path)
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_edit_lines_changes_one_to_ten_percent_of_the_lines() -> None:
    script = _script()
    text = "\n".join(f"line {i} with some words in it" for i in range(40))
    rng = random.Random(1)
    for _ in range(20):
        edited = script.edit_lines(text, rng, ["an added line of filler words"])
        assert edited != text
        changed = set(edited.splitlines()) ^ set(text.splitlines())
        assert 1 <= len(changed) <= 2 * 4  # at most 4 lines touched, each seen twice at most


def test_small_run_removes_variants_and_reconciles(tmp_path: Path) -> None:
    out = tmp_path / "nd.json"
    args = ["--notes", "1500", "--every", "500", "--deid-notes", "0", "--json", str(out)]
    assert _script().main(args) == 0
    result = json.loads(out.read_text())
    notes = result["notes"]
    assert sum(notes.values()) == 1500
    assert 0.12 < notes["variant"] / 1500 < 0.25 and notes["exact"] > 0
    assert result["variants_removed_share"] > 0.85
    assert result["exact_copies_removed_share"] == 1.0
    assert result["other_notes_removed_as_near_duplicates_share"] < 0.01
    assert [m["notes"] for m in result["memory"]] == [500, 1000, 1500]


def test_pipeline_mode_runs_the_same_corpus_with_near_duplicates_on_and_off(
    tmp_path: Path,
) -> None:
    """``--pipeline`` feeds ``deidflow run`` the benchmark's mix, one config per side that
    differs only in ``near_duplicates.enabled`` (the runs themselves take minutes of CPU:
    the figures come from the script, not from here)."""
    from pipelines.config import PipelineConfig

    script = _script()
    notes = tmp_path / "notes.jsonl"
    kinds = script.write_corpus(600, 21, notes)
    rows = [json.loads(line) for line in notes.read_text().splitlines()]
    assert len(rows) == 600 and sum(kinds.values()) == 600 and kinds["variant"] > 60
    assert len({r["note_id"] for r in rows}) == 600 and all(r["patient_id"] for r in rows)
    on, off = (
        PipelineConfig.from_file(script.run_config(notes, tmp_path, name, enabled))
        for name, enabled in (("on", True), ("off", False))
    )
    assert on.near_duplicates.enabled and not off.near_duplicates.enabled
    assert on.runtime.task_runner == off.runtime.task_runner == "thread"
    assert on.runtime.workers == off.runtime.workers == 1
    assert on.output.dir != off.output.dir
