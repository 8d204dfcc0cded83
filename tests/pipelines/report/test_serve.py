"""``deidflow serve``: deployments built from config files, parameters a steward can edit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.config import PipelineConfig
from pipelines.serve import apply_overrides, build_deployment
from tests.paths import REPO

SAMPLE_CONFIG = REPO / "pipelines" / "examples" / "sample.yaml"


def test_overrides_replace_only_what_is_given(tmp_path: Path) -> None:
    base = PipelineConfig.from_file(SAMPLE_CONFIG)
    sample = tmp_path / "gold.jsonl"
    sample.write_text("")
    changed = apply_overrides(
        base,
        source=str(tmp_path / "other.jsonl"),
        output=str(tmp_path / "out"),
        policy="strict",
        mode="tag",
        gold_sample=str(sample),
    )
    assert changed.source.path == tmp_path / "other.jsonl"
    assert changed.output.dir == tmp_path / "out"
    assert changed.deid.anonymization.policy == "strict"
    assert changed.deid.anonymization.default_mode == "tag"
    assert changed.report.gold_sample == sample
    assert changed.source.batch_size == base.source.batch_size
    assert apply_overrides(base) == base


def test_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    base = PipelineConfig.from_file(SAMPLE_CONFIG)
    with pytest.raises(ValueError, match="gold_sample"):
        apply_overrides(base, gold_sample=str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValueError, match="policy"):
        apply_overrides(base, policy="lenient")  # type: ignore[arg-type]
    postgres = PipelineConfig.model_validate(
        {
            "source": {"kind": "postgres", "table": "notes"},
            "output": {"dir": str(tmp_path / "out")},
            "quarantine_dir": str(tmp_path / "q"),
        }
    )
    with pytest.raises(ValueError, match="file or fhir source"):
        apply_overrides(postgres, source="notes.jsonl")


def test_deployment_shows_the_configs_values_and_schedule(tmp_path: Path) -> None:
    deployment = build_deployment(SAMPLE_CONFIG, cron="30 1 * * *", timezone="Europe/Berlin")
    config = PipelineConfig.from_file(SAMPLE_CONFIG)
    assert deployment.name == "sample"
    assert deployment.parameters == {
        "config_file": str(SAMPLE_CONFIG),
        "source": str(config.source.path),
        "output": str(config.output.dir),
        "policy": "safe_harbor",
        "mode": "surrogate",
    }
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "30 1 * * *"
    assert schedule.schedule.timezone == "Europe/Berlin"
    properties = deployment._parameter_openapi_schema.properties
    assert set(properties) == {"config_file", "source", "output", "policy", "mode", "gold_sample"}
    assert "strict" in str(properties["policy"]) and "mask" in str(properties["mode"])
    assert "Annotated sample" in properties["gold_sample"]["description"]


def test_deployment_without_schedule_and_with_a_sample(tmp_path: Path) -> None:
    sample = tmp_path / "gold.jsonl"
    sample.write_text("")
    data = yaml.safe_load(SAMPLE_CONFIG.read_text())
    data["source"]["path"] = str(SAMPLE_CONFIG.parent / data["source"]["path"])
    data["output"]["dir"] = str(tmp_path / "out")
    data["report"] = {"gold_sample": str(sample)}
    config_file = tmp_path / "nightly.yaml"
    config_file.write_text(yaml.safe_dump(data))
    deployment = build_deployment(config_file, cron=None, name="manual")
    assert deployment.name == "manual"
    assert not deployment.schedules
    assert deployment.parameters["gold_sample"] == str(sample)
