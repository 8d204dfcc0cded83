"""The manifest's schema: one definition, its JSON Schema current, its JSON canonical."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from schemas.manifest import SCHEMA_PATH, Manifest, json_schema
from tests.pipelines.report.helpers import example_manifest


def test_the_committed_json_schema_is_the_models() -> None:
    assert json.loads(SCHEMA_PATH.read_text()) == json_schema(), (
        "manifest.schema.json is stale: run `python -m schemas.manifest`"
    )


def test_a_manifest_round_trips_byte_for_byte_and_meets_its_json_schema() -> None:
    manifest = example_manifest()
    text = manifest.to_json()
    assert Manifest.from_json(text).to_json() == text
    assert text.endswith("\n") and json.loads(text) == manifest.model_dump(mode="json")
    jsonschema.validate(json.loads(text), json_schema())


def test_a_manifest_that_lies_about_its_shards_is_rejected() -> None:
    data = example_manifest().model_dump(mode="json")
    data["shards"][0]["sha256"] = "not-a-digest"
    with pytest.raises(ValidationError, match="sha256"):
        Manifest.model_validate(data)
    data = example_manifest().model_dump(mode="json")
    data["source"] = {"kind": "s3", "name": "x"}
    with pytest.raises(ValidationError):
        Manifest.model_validate(data)
