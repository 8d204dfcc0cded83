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


EXAMPLES = sorted((Path(__file__).parents[2] / "pipelines" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_config_is_valid(example: Path) -> None:
    PipelineConfig.from_file(example)


def test_one_example_per_source_kind() -> None:
    kinds = {PipelineConfig.from_file(p).source.kind for p in EXAMPLES}
    assert kinds >= {"files", "fhir", "sql"}


def _sql(**source: object) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {"source": {"kind": "sql", **source}, "output": {"dir": "o"}, "quarantine_dir": "q"}
    )


def test_sql_source_rules_keep_passwords_out_of_the_config() -> None:
    ok = _sql(url="postgresql+psycopg://reader@db:5432/notes", password_env="PW", table="t")
    assert ok.source.kind == "sql"
    with pytest.raises(ValidationError, match="password_env"):
        _sql(url="postgresql+psycopg://reader:hunter2@db/notes", table="t")
    with pytest.raises(ValidationError, match="exactly one of 'url', 'url_env'"):
        _sql(url="sqlite:///x.db", url_env="DB_URL", table="t")
    with pytest.raises(ValidationError, match="exactly one of 'table' or 'query'"):
        _sql(url_env="DB_URL")
    with pytest.raises(ValidationError, match="watermark_column"):
        _sql(url_env="DB_URL", table="t", incremental=True)
    with pytest.raises(ValidationError, match="quarantine_dir"):
        PipelineConfig.model_validate(
            {"source": {"kind": "sql", "url_env": "U", "table": "t"}, "output": {"dir": "o"}}
        )


def test_url_sources_need_a_local_quarantine_and_no_secret_in_the_url(tmp_path: Path) -> None:
    cfg = PipelineConfig.from_mapping(
        {
            "source": {"kind": "files", "path": "s3://bucket/in/notes.parquet"},
            "output": {"dir": "o"},
            "quarantine_dir": "q",
        },
        base_dir=tmp_path,
    )
    assert isinstance(cfg.source, FilesSource)
    assert (cfg.source.url, cfg.source.path, cfg.source.name) == (
        "s3://bucket/in/notes.parquet",
        None,
        "notes.parquet",
    )
    assert cfg.source.resolved_format() == "parquet"
    assert cfg.quarantine_path() == tmp_path / "q"
    with pytest.raises(ValidationError, match="local 'quarantine_dir'"):
        _config(tmp_path, source={"kind": "fhir", "path": "gs://b/export/"})
    with pytest.raises(ValidationError, match="local directory"):
        _config(tmp_path, source={"kind": "fhir", "url": "s3://b/x/"}, quarantine_dir="s3://b/q/")
    with pytest.raises(ValidationError, match="holds a password"):
        _config(tmp_path, source={"kind": "files", "url": "s3://key:secret@b/n.jsonl"})


def test_the_postgres_kind_keeps_its_config_hash(tmp_path: Path) -> None:
    """Existing incremental datasets must stay compatible: the hash of a postgres
    source's settings is what it was before the SQL source existed."""
    pg = PipelineConfig.model_validate(
        {
            "source": {"kind": "postgres", "table": "notes", "watermark_column": "ts"},
            "output": {"dir": "o"},
            "quarantine_dir": "q",
        }
    )
    dumped = pg.model_dump(mode="json")["source"]
    assert dumped == {
        "kind": "postgres",
        "dsn_env": "DEIDFLOW_PG_DSN",
        "table": "notes",
        "query": None,
        "watermark_column": "ts",
        "incremental": False,
        "batch_size": 1024,
    }
