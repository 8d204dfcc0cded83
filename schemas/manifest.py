"""``manifest.json``, the commit point of a published dataset: its schema, defined once.

The pipeline writes it (``pipelines.output.manifest``), incremental runs and
``verify_output`` read it back, and ``manifest.schema.json`` beside this file is its
JSON Schema for other readers (``python -m schemas.manifest`` regenerates it; a test
checks it is current).  It holds nothing that varies between identical runs: the
same input, config and key give a byte-identical file (canonical JSON: sorted keys,
two-space indent, UTF-8).  No PHI: counts, hashes, names of files and settings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_VERSION = 2
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")

Watermark = int | str | None
"""Where the next incremental run starts (an integer, or an ISO / decimal string)."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShardEntry(_Entry):
    """One Parquet shard of the dataset."""

    name: str = Field(
        description="Path in the output directory: data/<split>-NNNNN-of-MMMMM.parquet.",
        pattern=r"^data/(train|validation|test)-[0-9]{5}-of-[0-9]{5}\.parquet$",
    )
    split: Literal["train", "validation", "test"]
    rows: int = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Validation(_Entry):
    """The gate's verdict (a published dataset always passed it)."""

    success: bool
    windows: int = Field(ge=0, description="Windows of records validated.")
    failures: list[tuple[str, int]] = Field(description="(check, rows) of failed checks.")


class Counts(_Entry):
    """What one run did with the records it read: they add up to ``rows_in``."""

    rows_in: int = Field(ge=0)
    rows_out: int = Field(ge=0)
    quarantined: int = Field(ge=0)
    quarantined_by_reason: dict[str, int]
    duplicates_removed: int = Field(ge=0)
    skipped: int = Field(ge=0)
    skipped_by_reason: dict[str, int]
    phi_by_type: dict[str, int]
    rows_by_split: dict[str, int]
    near_duplicates_removed: int = Field(
        0, ge=0, description="Copy-forward notes removed as near-duplicates of an earlier one."
    )
    filtered: int = Field(0, ge=0, description="Notes removed by the content filters.")
    filtered_by_reason: dict[str, int] = Field(default_factory=dict)
    words_by_split: dict[str, int] = Field(
        default_factory=dict, description="Sum of the rows' n_words (\\w+ tokens) per split."
    )
    tokens_by_split: dict[str, int] | None = Field(
        None, description="Sum of the rows' n_tokens per split (with tokens.tokenizer only)."
    )


class FilesSource(_Entry):
    kind: Literal["files"]
    format: str
    name: str = Field(description="The input file or folder's name (not its path).")
    watermark: None = None


class PostgresSource(_Entry):
    kind: Literal["postgres"]
    relation: str = Field(description="The table, or 'query'.")
    incremental: bool
    watermark_column: str | None
    watermark: Watermark = None


class SqlSource(_Entry):
    kind: Literal["sql"]
    dialect: str = Field(description="SQLAlchemy dialect: postgresql, sqlite, mssql, oracle...")
    relation: str = Field(description="The table, or 'query'.")
    incremental: bool
    watermark_column: str | None
    watermark: Watermark = None


class FhirSource(_Entry):
    kind: Literal["fhir"]
    name: str = Field(description="The export folder or file's name (not its path).")
    watermark: None = None


Source = Annotated[
    FilesSource | FhirSource | SqlSource | PostgresSource, Field(discriminator="kind")
]


class RunEntry(_Entry):
    """One run whose shards the dataset still lists."""

    run_id: str
    input_fingerprint: str = Field(description="SHA-256 over the records read.")
    counts: Counts
    shards: list[str] = Field(description="Names of the shards this run wrote.")
    validation: Validation
    watermark: Watermark


class Manifest(_Entry):
    """The dataset: its shards with checksums, how it was made, and every run behind it."""

    manifest_version: Literal[2]
    schema_version: str = Field(description="Version of the shards' table schema.")
    pipeline_version: str
    policy_versions: list[str] = Field(description="<policy>@<config hash prefix> of each run.")
    run_id: str = Field(description="The last run: a hash of config, key and input.")
    config_hash: str
    key_fingerprint: str
    source: Source
    splits: dict[str, float]
    rows: int = Field(ge=0)
    rows_by_split: dict[str, int] = Field(description="Rows of the listed shards per split.")
    tokenizer_sha256: str | None = Field(
        None, description="SHA-256 of the tokens.tokenizer file that counted n_tokens."
    )
    validation: Validation
    shards: list[ShardEntry]
    runs: list[RunEntry]

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, two-space indent, non-ASCII kept, a final newline."""
        data = self.model_dump(mode="json")
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls.model_validate_json(text)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``Manifest`` (what ``manifest.schema.json`` holds)."""
    schema = Manifest.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def main() -> None:
    """Write ``manifest.schema.json`` (or check it with ``--check``)."""
    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if "--check" in sys.argv[1:]:
        sys.exit(0 if SCHEMA_PATH.read_text(encoding="utf-8") == text else 1)
    SCHEMA_PATH.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
