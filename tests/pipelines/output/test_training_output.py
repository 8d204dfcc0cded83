"""A real flow run's output is training-ready: loaders read it without arguments, copy-forward
near-duplicates and contentless notes are removed and counted, token counts are there, and
the dataset card tells the splits, the removals and the provenance without PHI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.config import PipelineConfig
from pipelines.output.manifest import read_manifest, verify_output
from pipelines.report.summary import RunSummary
from pipelines.run import run_pipeline
from tests.conftest import TEST_KEY
from tests.paths import SAMPLE

CANARY = "Zqxcardcanary"
N_NOTES = 24


def _tokenizer(path: Path) -> Path:
    """A tiny local WordLevel tokenizer file (built here: nothing is fetched)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "the": 1}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(path))
    return path


@pytest.fixture(scope="module")
def run(
    prefect_harness: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[PipelineConfig, RunSummary, list[dict]]:
    tmp = tmp_path_factory.mktemp("training-output")
    notes = [json.loads(line) for line in SAMPLE.read_text().splitlines()[:N_NOTES]]
    notes = [{k: v for k, v in n.items() if k != "spans"} for n in notes]
    first = notes[0]
    lines = first["text"].splitlines()
    variant = "\n".join([*lines, "Ambulating in the hall with assistance this afternoon."])
    notes += [
        # copy-forward: the first note re-saved with one line added
        {**first, "note_id": "copy-forward-1", "text": variant},
        {**first, "note_id": "exact-copy-1"},  # byte-identical text: an exact duplicate
        {"note_id": "sig-1", "patient_id": "ps", "text": "Electronically signed by Dr. Adams"},
        {
            "note_id": "canary-1",
            "patient_id": "pc",
            "note_type": "progress_note",
            "text": f"Seen with {CANARY} on the ward today. Plan: continue current care.",
        },
    ]
    source = tmp / "notes.jsonl"
    source.write_text("".join(json.dumps(n) + "\n" for n in notes))
    config = PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(source), "batch_size": 8},
            "output": {"dir": str(tmp / "out")},
            "deid": {"detection": {"use_tagger": False}},
            "tokens": {"tokenizer": str(_tokenizer(tmp / "tokenizer.json"))},
        }
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEIDFLOW_KEY", TEST_KEY)
        summary = run_pipeline(config)
    return config, summary, notes


def test_removals_are_counted_and_reconcile(run) -> None:
    config, summary, notes = run
    extra = summary.extra
    assert summary.duplicates_removed == 1
    assert extra["near_duplicates_removed"] >= 1  # the copy-forward variant
    assert extra["filtered_by_reason"].get("min_content") == 1  # the signature alone
    removed = summary.duplicates_removed + extra["near_duplicates_removed"] + extra["filtered"]
    assert summary.rows_in == len(notes)
    assert summary.rows_out + summary.quarantined + removed + summary.skipped == summary.rows_in
    manifest = read_manifest(config.output.dir)
    assert manifest is not None and manifest.rows == summary.rows_out
    counts = manifest.runs[-1].counts
    assert counts.near_duplicates_removed == extra["near_duplicates_removed"]
    assert counts.filtered_by_reason == extra["filtered_by_reason"]
    assert verify_output(config.output.dir).ok
    report = json.loads((config.output.dir / "audit_report.json").read_text())
    assert report["counts"]["near_duplicates_removed"] == extra["near_duplicates_removed"]
    # the report's statistics cover the published rows only
    assert sum(r["notes"] for r in report["phi"]["by_note_type"]) == summary.rows_out
    assert report["phi"]["by_type"] == summary.phi_by_type


def test_every_loader_reads_the_splits_without_arguments(run) -> None:
    import datasets
    import duckdb
    import polars as pl
    import pyarrow.dataset as ds

    config, summary, _ = run
    out = config.output.dir
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    loaded = datasets.load_dataset(str(out), cache_dir=str(out.parent / "hf-cache"))
    expected = {s: n for s, n in summary.rows_by_split.items() if n}
    assert isinstance(loaded, datasets.DatasetDict)
    assert {s: loaded[s].num_rows for s in loaded} == expected
    for split in loaded:
        assert set(loaded[split]["split"]) == {split}
    assert pl.scan_parquet(out / "data").collect().height == summary.rows_out
    sql = f"SELECT count(*) FROM read_parquet('{out / 'data'}/*.parquet')"
    assert duckdb.sql(sql).fetchall() == [(summary.rows_out,)]
    assert pq.read_table(out / "data").num_rows == summary.rows_out
    assert ds.dataset(out / "data").count_rows() == summary.rows_out
    names = sorted(p.name for p in (out / "data").iterdir())
    assert all(n.split("-")[0] in ("train", "validation", "test") for n in names)
    assert all("-of-" in n for n in names)


def test_rows_carry_word_and_tokenizer_counts(run) -> None:
    config, _, _ = run
    table = pq.read_table(config.output.dir / "data")
    for row in table.select(["text", "n_words", "n_tokens"]).to_pylist():
        import re

        assert row["n_words"] == len(re.findall(r"\w+", row["text"]))
        assert row["n_tokens"] is not None and row["n_tokens"] > 0
    manifest = read_manifest(config.output.dir)
    assert manifest is not None and manifest.tokenizer_sha256
    assert sum(manifest.runs[-1].counts.words_by_split.values()) == sum(
        table.column("n_words").to_pylist()
    )


def test_the_card_describes_the_dataset_without_phi(run) -> None:
    import yaml

    config, summary, notes = run
    card = (config.output.dir / "README.md").read_text()
    _, header, body = card.split("---\n", 2)
    meta = yaml.safe_load(header)
    files = meta["configs"][0]["data_files"]
    assert {f["split"] for f in files} == {s for s, n in summary.rows_by_split.items() if n}
    for needle in (
        "Rows per split",
        "near_duplicate",
        "min_content",
        "Residual risk",
        summary.key_fingerprint,
        "data-use rules",
        "Intended use",
    ):
        assert needle in body
    assert CANARY not in card
    assert not any(n["note_id"] in card for n in notes)
    assert not any(n["patient_id"] in card for n in notes if len(n["patient_id"]) > 3)


def test_an_incremental_run_refuses_the_layout_before_data(tmp_path: Path) -> None:
    from pipelines.tasks.prepare import IncompatibleOutput, _appendable_manifest
    from tests.pipelines.report.helpers import example_manifest

    old = example_manifest().model_dump(mode="json")
    old.update(manifest_version=1)
    old["shards"][0]["name"] = "part-00000.parquet"
    (tmp_path / "manifest.json").write_text(json.dumps(old))
    with pytest.raises(IncompatibleOutput, match="older deidflow output layout"):
        _appendable_manifest(tmp_path)
