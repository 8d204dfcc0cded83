"""Real Prefect flows over the sample notes plus every kind of bad record.

One baseline run is shared by the module; the other tests re-run the flow to check
byte-identical output, recovery from an interrupted run and a failed validation gate.
Detection runs without the trained tagger to keep the module fast; what is tested here
is the pipeline around it.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from deid.anonymization.keys import SecretKey
from pipelines import stream
from pipelines.config import PipelineConfig
from pipelines.gate.enforcement import ValidationFailed
from pipelines.gate.validation import ValidationOutcome
from pipelines.output.manifest import MANIFEST_NAME, read_manifest, verify_output
from pipelines.report.summary import SUMMARY_NAME, RunSummary
from pipelines.run import config_for_input, run_from_cli, run_pipeline
from pipelines.transform import pseudonym
from tests.conftest import PREFECT_TEST_HOME, TEST_KEY
from tests.paths import SAMPLE

N_SAMPLE = 24
CANARY = "Zqxcanaryvelt"  # in a published note: may reach shards, never Prefect
CANARY_QUARANTINED = "Qqcanarywoldram"  # only in a quarantined record
MAX_CHARS = 5_000

EXPECTED_QUARANTINE = {
    "MISSING_ID": 1,
    "EMPTY_TEXT": 1,
    "NOT_TEXT": 1,
    "UNDECODABLE": 1,
    "OVERSIZED": 1,
    "MALFORMED": 1,
    "DUPLICATE_ID": 1,
}


def _line(obj: dict) -> bytes:
    return json.dumps(obj).encode() + b"\n"


@pytest.fixture(scope="module")
def mixed_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 sample notes, one canary note, and one record per failure mode."""
    lines = SAMPLE.read_bytes().splitlines(keepends=True)[:N_SAMPLE]
    first, second = json.loads(lines[0]), json.loads(lines[1])
    bad = [
        _line({"patient_id": "px", "text": "no note id"}),
        _line({"note_id": "e1", "patient_id": "px", "text": "   "}),
        _line({"note_id": "e2", "patient_id": "px", "text": 12345}),
        b'{"note_id": "e3", "patient_id": "px", "text": "caf\xe9"}\n',
        _line({"note_id": "e4", "patient_id": "px", "text": "x" * (MAX_CHARS + 1) + CANARY}),
        b'{"note_id": "e5", "patient_id": \n',
        lines[0],  # exact duplicate line
        _line({**second, "note_id": "copy-of-2"}),  # same text, other ID: duplicate
        _line({**first, "text": f"Different text for the same ID {CANARY_QUARANTINED}."}),
    ]
    canary = {
        "note_id": "canary-1",
        "patient_id": "pc",
        "note_type": "progress_note",
        "note_date": "2021-05-04",
        "text": f"Patient {CANARY} seen on ward. Plan: continue current therapy.",
    }
    path = tmp_path_factory.mktemp("src") / "notes.jsonl"
    path.write_bytes(b"".join([*lines, _line(canary), *bad]))
    return path


def _config(source: Path, output: Path) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(source), "batch_size": 8},
            "output": {"dir": str(output), "target_shard_rows": 10, "row_group_rows": 4},
            "limits": {"max_note_chars": MAX_CHARS},
            "runtime": {"workers": 2, "window_batches": 2},
            "deid": {"detection": {"use_tagger": False}},
            # One bad record of each kind: 7 of 34 quarantined on purpose.
            "validation": {"max_quarantine_fraction": 0.5},
        }
    )


@pytest.fixture(scope="module")
def baseline(
    prefect_harness: Path, mixed_input: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PipelineConfig, RunSummary]]:
    config = _config(mixed_input, tmp_path_factory.mktemp("baseline") / "out")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEIDFLOW_KEY", TEST_KEY)
        summary = run_pipeline(config)
    yield config, summary


def _files(directory: Path) -> dict[str, bytes]:
    """Published files (shards + manifest) by name."""
    names = [p for p in directory.iterdir() if p.suffix == ".parquet" or p.name == MANIFEST_NAME]
    return {p.name: p.read_bytes() for p in names}


def test_counts_add_up_and_every_failure_has_its_reason(baseline) -> None:
    config, summary = baseline
    assert summary.rows_in == N_SAMPLE + 1 + 9
    assert summary.duplicates_removed == 2
    assert summary.quarantined_by_reason == EXPECTED_QUARANTINE
    assert summary.rows_out == N_SAMPLE + 1  # sample notes + canary; bad records never count
    assert summary.rows_in == summary.rows_out + summary.quarantined + summary.duplicates_removed
    manifest = read_manifest(config.output.dir)
    assert manifest is not None and manifest.rows == summary.rows_out
    assert manifest.runs[-1].counts.quarantined_by_reason == EXPECTED_QUARANTINE
    report = json.loads(Path(summary.quarantine_report).read_text())
    assert sorted(r["reason"] for r in report["records"]) == sorted(EXPECTED_QUARANTINE)
    assert {r["note_id"] for r in report["records"]} >= {"e1", "e2", "e3", "e4"}


def test_quarantine_lives_beside_the_source(baseline, mixed_input: Path) -> None:
    _, summary = baseline
    qdir = Path(summary.quarantine_dir)
    assert qdir == mixed_input.parent / "notes.jsonl.deidflow-quarantine-RESTRICTED"
    held = (qdir / f"quarantine-{summary.run_id}.jsonl").read_text()
    assert CANARY_QUARANTINED in held  # the raw record is kept for stewards...
    assert len(held.splitlines()) == sum(EXPECTED_QUARANTINE.values())


def test_manifest_verifies_and_describes_the_run(baseline) -> None:
    config, summary = baseline
    assert verify_output(config.output.dir).ok
    manifest = read_manifest(config.output.dir)
    assert manifest is not None and manifest.rows == summary.rows_out
    assert all(s.rows <= 10 for s in manifest.shards)
    assert manifest.run_id == summary.run_id
    assert manifest.config_hash == config.config_hash()
    assert manifest.key_fingerprint == summary.key_fingerprint
    assert manifest.schema_version == "2"
    assert manifest.validation.success is True
    (first, *_) = (s for s in manifest.shards if s.rows == 10)  # a full shard
    meta = pq.ParquetFile(config.output.dir / first.name).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 4, 2]


def test_shards_load_in_pyarrow_polars_duckdb_and_datasets(baseline, tmp_path: Path) -> None:
    import datasets
    import duckdb
    import polars as pl

    config, summary = baseline
    pattern = str(config.output.dir / "data" / "*.parquet")
    table = pq.ParquetDataset(sorted(glob.glob(pattern))).read()
    assert table.num_rows == summary.rows_out
    assert str(table.schema.field("text").type) == "string"
    assert pl.read_parquet(pattern).height == summary.rows_out
    ((n,),) = duckdb.sql(f"select count(*) from read_parquet('{pattern}')").fetchall()
    assert n == summary.rows_out
    ds = datasets.load_dataset(
        "parquet", data_files=pattern, split="train", cache_dir=str(tmp_path / "hf")
    )
    assert ds.num_rows == summary.rows_out
    assert ds.features["text"].dtype == "string"


def test_rows_are_pseudonymous_and_split_by_patient(baseline, mixed_input: Path) -> None:
    config, _ = baseline
    rows = pq.read_table(sorted(config.output.dir.glob("data/*.parquet"))).to_pylist()
    source = [json.loads(line) for line in mixed_input.read_bytes().splitlines()[:N_SAMPLE]]
    key = SecretKey.from_text(TEST_KEY)
    assert {pseudonym(key, "note", n["note_id"]) for n in source} <= {
        r["note_pseudonym"] for r in rows
    }
    assert len({r["note_pseudonym"] for r in rows}) == len(rows)
    splits_by_patient: dict[str, set[str]] = {}
    for r in rows:
        splits_by_patient.setdefault(r["patient_pseudonym"], set()).add(r["split"])
    assert all(len(s) == 1 for s in splits_by_patient.values())
    # Each patient's dates move by one non-zero offset (rows matched by pseudonym).
    by_note = {r["note_pseudonym"]: r for r in rows}
    offsets: dict[str, set[int]] = {}
    for note in source:
        row = by_note[pseudonym(key, "note", note["note_id"])]
        shift = (row["note_date"] - dt.date.fromisoformat(note["note_date"])).days
        offsets.setdefault(note["patient_id"], set()).add(shift)
    assert all(len(s) == 1 and 0 not in s for s in offsets.values())
    assert sum(r["phi_total"] for r in rows) > 0


def test_prefect_stores_no_note_text(baseline, prefect_harness: Path) -> None:
    config, summary = baseline
    stored = [p for p in prefect_harness.parent.rglob("*") if p.is_file()]
    stored += [p for p in PREFECT_TEST_HOME.rglob("*") if p.is_file()]
    stored += [config.output.dir / SUMMARY_NAME, config.output.dir / MANIFEST_NAME]
    stored.append(Path(summary.quarantine_report))
    assert any(b"deidentify-batch-0" in p.read_bytes() for p in stored)  # we scan Prefect's DB
    sample_text = json.loads(SAMPLE.read_bytes().splitlines()[0])["text"][:40]
    for path in stored:
        blob = path.read_bytes()
        for secret in (CANARY, CANARY_QUARANTINED, sample_text):
            assert secret.encode() not in blob, f"note text found in {path.name}"


def test_rerun_is_byte_identical(baseline, tmp_path: Path, deid_key: str) -> None:
    config, summary = baseline
    again = config.model_copy(update={"output": config.output.model_copy(update={"dir": tmp_path})})
    summary2 = run_pipeline(again)
    assert summary2.run_id == summary.run_id
    assert _files(tmp_path) == _files(config.output.dir)


def test_duplicate_digests_go_beside_the_output(
    baseline, tmp_path: Path, deid_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the output's disk, not in the system temp dir (often a tmpfs: RAM); removed."""
    made: list[Path] = []

    class Recorded(stream.Deduplicator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(Path(self._dir))

    monkeypatch.setattr(stream, "Deduplicator", Recorded)
    config, _ = baseline
    run_pipeline(
        config.model_copy(
            update={"output": config.output.model_copy(update={"dir": tmp_path / "out"})}
        )
    )
    (scratch,) = made
    assert scratch.parent == tmp_path and scratch.name.startswith(".out.deidflow-scratch-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_interrupted_run_then_rerun_leaves_clean_output(
    baseline, tmp_path: Path, deid_key: str
) -> None:
    config, summary = baseline
    out = tmp_path / "out"
    shutil.copytree(config.output.dir, out)
    # What a crash can leave: a half-built next version, an old version not yet
    # deleted and a scratch dir beside the output, a staging dir of older deidflow versions inside it, a
    # shard renamed into place (older versions) before its manifest, a stale extra
    # shard, a temp manifest, and a quarantine temp file.
    (tmp_path / ".out.deidflow-next-0123abcd").mkdir()
    (tmp_path / ".out.deidflow-next-0123abcd" / ".train-00000.parquet.tmp").write_bytes(b"PAR1")
    shutil.copytree(out, tmp_path / ".out.deidflow-old-4567")
    (tmp_path / ".out.deidflow-scratch-89ab").mkdir()  # a dead run's duplicate digests
    (tmp_path / ".out.deidflow-scratch-89ab" / "digests.sqlite").write_bytes(b"SQLite")
    (out / ".staging-0123abcd").mkdir()
    (out / ".staging-0123abcd" / "part-00000.parquet.tmp").write_bytes(b"PAR1 half")
    (shard, *_) = sorted((out / "data").glob("train-*.parquet"))
    shutil.copy(shard, out / "data" / "train-00007-of-00009.parquet")  # stale extra shard
    shutil.copy(shard, out / "part-00001.parquet")  # a shard of the layout before data/
    (out / f".{MANIFEST_NAME}.tmp").write_text("{")
    qdir = Path(summary.quarantine_dir)
    (qdir / ".in-progress-dead.jsonl").write_text("{}\n")
    assert not verify_output(out).ok

    run_pipeline(
        config.model_copy(update={"output": config.output.model_copy(update={"dir": out})})
    )
    assert _files(out) == _files(config.output.dir)
    assert verify_output(out).ok
    assert not list(out.glob(".staging-*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert not list(qdir.glob(".in-progress-*"))


def test_a_swap_cut_between_its_renames_is_undone_by_the_next_run(
    baseline, tmp_path: Path, deid_key: str
) -> None:
    # Where renameat2 is missing, publication swaps with two renames; a crash between
    # them leaves no output dir and the previous version in a hidden sibling.
    config, _ = baseline
    out = tmp_path / "out"
    shutil.copytree(config.output.dir, tmp_path / ".out.deidflow-old-0123")
    (tmp_path / ".out.deidflow-next-4567").mkdir()  # the new version, never swapped in
    moved = config.model_copy(update={"output": config.output.model_copy(update={"dir": out})})
    run_pipeline(moved)
    assert _files(out) == _files(config.output.dir)
    assert verify_output(out).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failed_validation_publishes_nothing(
    baseline, tmp_path: Path, deid_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = baseline
    out = tmp_path / "out"
    shutil.copytree(config.output.dir, out)
    before = _files(out)

    def failing_gate(table, counts, **_: object) -> ValidationOutcome:
        return ValidationOutcome(False, [("residual_ssn: stand-in", 2)], {})

    monkeypatch.setattr("pipelines.gate.validation.validate_batch", failing_gate)
    moved = config.model_copy(update={"output": config.output.model_copy(update={"dir": out})})
    with pytest.raises(ValidationFailed, match="residual_ssn"):
        run_pipeline(moved)
    assert _files(out) == before  # the previous dataset is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # staging removed
    monkeypatch.undo()
    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    run_pipeline(moved)  # the lock was released


def test_input_output_shortcut_with_only_the_required_fields(
    prefect_harness: Path, tmp_path: Path, deid_key: str
) -> None:
    src = tmp_path / "minimal.jsonl"
    notes = [json.loads(line) for line in SAMPLE.read_bytes().splitlines()[:3]]
    src.write_text(
        "".join(
            json.dumps({k: n[k] for k in ("note_id", "patient_id", "text")}) + "\n" for n in notes
        )
    )
    summary = run_pipeline(config_for_input(src, tmp_path / "out"))
    assert (summary.rows_in, summary.rows_out) == (3, 3)
    rows = pq.read_table(tmp_path / "out" / "data").to_pylist()
    assert [r["note_type"] for r in rows] == [None, None, None]
    assert verify_output(tmp_path / "out").ok


def test_cli_exit_codes_and_messages(
    prefect_harness: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert run_from_cli(None, tmp_path / "in.jsonl", None, progress=False) == 2
    assert "--input and --output" in capsys.readouterr().err
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"note_id": "a", "patient_id": "p", "text": "Seen."}) + "\n")
    monkeypatch.delenv("DEIDFLOW_KEY", raising=False)
    assert run_from_cli(None, src, tmp_path / "out", progress=False) == 2
    assert "DEIDFLOW_KEY" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*.parquet"))


@pytest.mark.parametrize("workers", [1, 2])
def test_served_thread_run_uses_the_configured_threads(
    prefect_harness: Path,
    mixed_input: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """``deidflow serve`` runs as many batches at once as ``runtime.workers`` says.

    Each concurrent batch checks out a de-identifier of its own (kept for reuse), so the
    pool's size after the run is the peak concurrency.  Prefect's default thread pool is
    unbounded: with two windows of 4 batches in flight, 8 were built.
    """
    from pipelines.serve import scheduled_deidentify
    from pipelines.tasks import deidentify as deidentify_task

    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    monkeypatch.setattr(deidentify_task, "_idle_transformers", {})
    mapping = _config(mixed_input, tmp_path / "out").model_dump(mode="json")
    mapping["source"]["batch_size"] = 4  # batches of 1, 1, 2, 4, 4, ...: 4 per window
    mapping["runtime"] = {"workers": workers, "window_batches": 4}
    config_file = tmp_path / "served.json"
    config_file.write_text(json.dumps(mapping))  # JSON is YAML

    summary = scheduled_deidentify(config_file=str(config_file))

    assert summary.rows_out == N_SAMPLE + 1
    built = [len(pool) for pool in deidentify_task._idle_transformers.values()]
    assert len(built) == 1 and 1 <= built[0] <= workers
