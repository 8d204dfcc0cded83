"""PipelineConfig: validation, relative paths, quarantine location, config hash."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipelines.config import QUARANTINE_SUFFIX, FilesSource, PipelineConfig, PostgresSource


def _config(tmp_path: Path, **extra: object) -> PipelineConfig:
    data = {"source": {"kind": "files", "path": str(tmp_path / "notes.jsonl")}}
    data["output"] = {"dir": str(tmp_path / "out")}
    data.update(extra)
    return PipelineConfig.model_validate(data)


def test_from_file_resolves_paths_against_the_file(tmp_path: Path) -> None:
    cfg_dir = tmp_path / "jobs"
    cfg_dir.mkdir()
    (cfg_dir / "job.yaml").write_text(
        "source: {kind: files, path: ../data/notes.csv}\noutput: {dir: out}\n"
    )
    cfg = PipelineConfig.from_file(cfg_dir / "job.yaml")
    assert cfg.source.path == tmp_path / "data" / "notes.csv"
    assert cfg.output.dir == cfg_dir / "out"
    assert cfg.quarantine_path() == tmp_path / "data" / f"notes.csv{QUARANTINE_SUFFIX}"


def test_unknown_keys_and_bad_ratios_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="extra"):
        _config(tmp_path, limits={"max_note_chars": 10, "max_notes": 3})
    with pytest.raises(ValidationError, match="sum to 1"):
        _config(tmp_path, output={"dir": "o", "splits": {"train": 0.9, "validation": 0.2}})


def test_source_is_a_discriminated_union(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    assert isinstance(cfg.source, FilesSource)
    pg = PipelineConfig.model_validate(
        {
            "source": {"kind": "postgres", "table": "notes", "watermark_column": "updated_at"},
            "output": {"dir": "o"},
            "quarantine_dir": "q",
        }
    )
    assert isinstance(pg.source, PostgresSource)


def test_postgres_source_rules() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        PostgresSource(kind="postgres", table="t", query="select 1")
    with pytest.raises(ValidationError, match="watermark_column"):
        PostgresSource(kind="postgres", table="t", incremental=True)
    with pytest.raises(ValidationError, match="quarantine_dir"):
        PipelineConfig.model_validate(
            {"source": {"kind": "postgres", "table": "t"}, "output": {"dir": "o"}}
        )


def test_format_is_inferred_from_the_path(tmp_path: Path) -> None:
    assert FilesSource(path=tmp_path).resolved_format() == "txt"
    assert FilesSource(path=tmp_path / "a.ndjson").resolved_format() == "jsonl"
    assert FilesSource(path=tmp_path / "a.PARQUET").resolved_format() == "parquet"
    with pytest.raises(ValueError, match="source.format"):
        FilesSource(path=tmp_path / "a.xml").resolved_format()


def test_config_hash_ignores_locations_and_runtime_only(tmp_path: Path) -> None:
    base = _config(tmp_path)
    moved = _config(
        tmp_path / "elsewhere",
        runtime={"workers": 8},
        quarantine_dir=str(tmp_path / "q"),
    )
    assert base.config_hash() == moved.config_hash()
    assert base.config_hash() != _config(tmp_path, limits={"max_note_chars": 99}).config_hash()
    stricter = _config(tmp_path, deid={"anonymization": {"policy": "strict"}})
    assert base.config_hash() != stricter.config_hash()


def test_shipped_sample_config_is_valid() -> None:
    path = Path(__file__).parents[2] / "pipelines" / "examples" / "sample.yaml"
    cfg = PipelineConfig.from_file(path)
    assert cfg.source.path.name == "notes.jsonl"
    assert cfg.source.path.parent.name == "sample_data"


def test_residual_cap_is_a_fraction_outside_the_config_hash(tmp_path: Path) -> None:
    base = _config(tmp_path)
    assert base.validation.max_residual_fraction == 0.001
    for bad in (-0.1, 1.5):
        with pytest.raises(ValidationError, match="max_residual_fraction"):
            _config(tmp_path, validation={"max_residual_fraction": bad})
    with pytest.raises(ValidationError, match="extra"):
        _config(tmp_path, validation={"max_residual": 0.1})
    # It decides whether a run publishes, not what it writes: same hash, so incremental
    # runs can still append to a dataset after the cap is changed.
    looser = _config(tmp_path, validation={"max_residual_fraction": 0.05})
    assert looser.config_hash() == base.config_hash()
