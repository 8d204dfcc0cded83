"""The pipeline's one typed config: where notes come from, where shards go, and limits.

``PipelineConfig`` nests the library's ``DeidConfig`` (not a copy of it) and adds the
source, the column mapping, the output layout and the quarantine location.  Secrets
never live here: a SQL source names the environment variable (or Prefect Secret block)
holding its URL or password, and the key comes from ``deid.anonymization.key_env``.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from deid.config import DeidConfig, config_error, read_yaml_document, stable_hash
from schemas.notes import ColumnMapping

FileFormat = Literal["txt", "jsonl", "csv", "parquet"]
TaskRunnerKind = Literal["thread", "dask", "dask_address"]
QUARANTINE_SUFFIX = ".deidflow-quarantine-RESTRICTED"

FORMAT_BY_SUFFIX: dict[str, FileFormat] = {
    ".txt": "txt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def is_url(value: object) -> bool:
    """Whether a source location is an fsspec URL (``s3://bucket/key``), not a local path."""
    return isinstance(value, str) and "://" in value


class _Located(_Strict):
    """A source read from a location: a local ``path``, or an fsspec ``url``
    (``s3://``, ``gs://``, ``az://``; the matching package, e.g. ``s3fs``, must be
    installed).  A ``path:`` that is a URL is taken as ``url``."""

    kind: str  # each source's Literal; declared here so that it comes first in messages
    path: Path | None = Field(None, description="Local file or folder.")
    url: str | None = Field(
        None,
        description="fsspec URL of the file or folder (s3://bucket/prefix/, gs://, az://); "
        "credentials come from the filesystem's usual environment variables or files "
        "(AWS_ACCESS_KEY_ID, ~/.aws, ...), never from this config. Needs an explicit "
        "quarantine_dir (local).",
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options for the fsspec filesystem, e.g. {endpoint_url: "
        "'https://minio.local:9000'} for an S3-compatible server (no secrets here).",
    )

    @model_validator(mode="before")
    @classmethod
    def _url_given_as_path(cls, data: Any) -> Any:
        if isinstance(data, dict) and is_url(data.get("path")) and data.get("url") is None:
            data = {**data, "url": data["path"]}
            del data["path"]
        return data

    @model_validator(mode="after")
    def _one_location(self) -> _Located:
        if (self.path is None) == (self.url is None):
            raise ValueError("the source needs exactly one of 'path' or 'url'")
        if self.url is not None:
            _check_no_secret_in_url(self.url)
        return self

    @property
    def location(self) -> str:
        """The path or URL, as text (for messages)."""
        return self.url if self.url is not None else str(self.path)

    @property
    def name(self) -> str:
        """The file or folder's last name (what manifests and reports show)."""
        return self.location.rstrip("/").rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        name = self.name
        return name[name.rfind(".") :].lower() if "." in name else ""

    def local_path(self) -> Path:
        """The local path; an error for a URL source (callers check ``url`` first)."""
        if self.path is None:
            raise ValueError(f"{self.url} is a URL, not a local path")
        return self.path


def _check_no_secret_in_url(url: str) -> None:
    scheme, _, rest = url.partition("://")
    userinfo = rest.split("/", 1)[0].rpartition("@")[0]
    if ":" in userinfo:
        raise ValueError(
            f"the {scheme} URL holds a password; give credentials through the environment "
            "(e.g. url_env / password_env, AWS_SECRET_ACCESS_KEY), never in the config"
        )


class FilesSource(_Located):
    """A directory of ``.txt`` notes, or one JSONL, CSV or Parquet file."""

    kind: Literal["files"] = "files"
    format: FileFormat | None = Field(
        None, description="Inferred from the suffix (a directory means txt) when omitted."
    )
    batch_size: int = Field(
        1024,
        ge=1,
        description="Notes per processing batch (one task each; per-task overhead is why "
        "it is not smaller: measured 361 notes/s with 256 vs 407 with 1024 on 2 Dask workers).",
    )

    def resolved_format(self) -> FileFormat:
        """The declared format, else the one implied by the path."""
        if self.format is not None:
            return self.format
        if self.url is not None and self.url.endswith("/"):
            return "txt"
        if self.path is not None and self.path.is_dir():
            return "txt"
        try:
            return FORMAT_BY_SUFFIX[self.suffix]
        except KeyError:
            raise ValueError(
                f"cannot infer the format of {self.location}; set source.format "
                f"to one of {sorted(set(FORMAT_BY_SUFFIX.values()))}"
            ) from None


class FhirSource(_Located):
    """A FHIR Bulk Data export: a folder of ``.ndjson`` files (one resource a line) and
    ``.json`` Bundles, or one such file.  Notes are ``DocumentReference`` and
    ``DiagnosticReport.presentedForm`` attachments (``pipelines.sources.fhir``)."""

    kind: Literal["fhir"]
    batch_size: int = Field(1024, ge=1, description="Notes per processing batch.")


class SqlSource(_Strict):
    """Any database SQLAlchemy reaches: a table or query, streamed with a server-side
    cursor (``yield_per``), incremental by a watermark column.

    The connection URL comes from exactly one of ``url`` (host and database only: a
    password in it is refused; add ``password_env``), ``url_env`` (an environment
    variable holding the whole URL) or ``url_secret`` (a Prefect Secret block holding it).
    """

    kind: Literal["sql"]
    url: str | None = Field(
        None,
        description="SQLAlchemy URL without password, e.g. "
        "postgresql+psycopg://deid@db.example.org:5432/notes, sqlite:////data/notes.db, "
        "mssql+pyodbc://deid@clarity/Clarity?driver=ODBC+Driver+18+for+SQL+Server, "
        "oracle+oracledb://deid@cerner:1521/?service_name=RPT (drivers: pip install).",
    )
    password_env: str | None = Field(
        None, description="Environment variable holding the password for `url`."
    )
    url_env: str | None = Field(
        None, description="Environment variable holding the whole URL (password included)."
    )
    url_secret: str | None = Field(
        None, description="Name of a Prefect Secret block holding the whole URL."
    )
    table: str | None = Field(None, description="Table name, optionally schema-qualified.")
    query: str | None = Field(None, description="A SELECT whose rows are notes.")
    watermark_column: str | None = Field(
        None, description="Monotonic column (timestamp or serial) for incremental runs."
    )
    incremental: bool = Field(False, description="Only pull rows newer than the last watermark.")
    batch_size: int = Field(1024, ge=1, description="Rows per fetch and per processing batch.")

    @model_validator(mode="after")
    def _rules(self) -> SqlSource:
        given = [k for k in ("url", "url_env", "url_secret") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("sql source needs exactly one of 'url', 'url_env' or 'url_secret'")
        if self.password_env is not None and self.url is None:
            raise ValueError("'password_env' goes with 'url'")
        if self.url is not None:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                parsed = make_url(self.url)
            except ArgumentError:
                raise ValueError("'url' is not a SQLAlchemy URL (dialect+driver://...)") from None
            if parsed.password is not None:
                raise ValueError(
                    "'url' holds a password; put it in an environment variable named by "
                    "'password_env' (or the whole URL in 'url_env')"
                )
        if (self.table is None) == (self.query is None):
            raise ValueError("sql source needs exactly one of 'table' or 'query'")
        if self.incremental and not self.watermark_column:
            raise ValueError("incremental sql source needs 'watermark_column'")
        return self


class PostgresSource(_Strict):
    """A PostgreSQL table or query: the ``sql`` source with the DSN (URL or libpq
    ``key=value`` string) in the environment variable ``dsn_env``.  Kept so that
    existing configs (and their config hashes) keep working."""

    kind: Literal["postgres"]
    dsn_env: str = Field("DEIDFLOW_PG_DSN", description="Environment variable holding the DSN.")
    table: str | None = Field(None, description="Table name, optionally schema-qualified.")
    query: str | None = Field(None, description="A SELECT whose rows are notes.")
    watermark_column: str | None = Field(
        None, description="Monotonic column (timestamp or serial) for incremental runs."
    )
    incremental: bool = Field(False, description="Only pull rows newer than the last watermark.")
    batch_size: int = Field(1024, ge=1, description="Rows per fetch and per processing batch.")

    @model_validator(mode="after")
    def _one_relation(self) -> PostgresSource:
        if (self.table is None) == (self.query is None):
            raise ValueError("postgres source needs exactly one of 'table' or 'query'")
        if self.incremental and not self.watermark_column:
            raise ValueError("incremental postgres source needs 'watermark_column'")
        return self


Source = Annotated[
    FilesSource | FhirSource | SqlSource | PostgresSource, Field(discriminator="kind")
]
DatabaseSource = SqlSource | PostgresSource
"""Sources read through SQLAlchemy (``pipelines.sources.sql``)."""


class SplitRatios(_Strict):
    """Share of patients in each split; must sum to 1."""

    train: float = Field(0.8, ge=0.0, le=1.0)
    validation: float = Field(0.1, ge=0.0, le=1.0)
    test: float = Field(0.1, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitRatios:
        if not math.isclose(self.train + self.validation + self.test, 1.0, abs_tol=1e-9):
            raise ValueError("split ratios must sum to 1")
        return self


class OutputConfig(_Strict):
    """Where and how shards are written."""

    dir: Path
    target_shard_rows: int = Field(100_000, ge=1, description="Close a shard at this many rows.")
    target_shard_bytes: int = Field(
        256 * 1024 * 1024, ge=1, description="...or once its text reaches this many UTF-8 bytes."
    )
    row_group_rows: int = Field(1024, ge=1, description="Rows per Parquet row group.")
    compression_level: int = Field(3, ge=1, le=22, description="zstd level.")
    splits: SplitRatios = Field(default_factory=SplitRatios)


class Limits(_Strict):
    """Records beyond these limits are quarantined, not processed."""

    max_note_chars: int = Field(
        200_000,
        ge=1,
        description="Longest note text in characters; a longer note is quarantined as "
        "OVERSIZED. It also bounds reading: a raw record is held in memory only up to a "
        "size a note of this length can take (JSONL 12 bytes a character, CSV/Parquet/txt "
        "4, plus 1 MiB for other fields); a longer one is quarantined by reference "
        "(file, offset, length), never copied.",
    )


LabelMode = Literal["deidentify", "vocabulary", "drop"]


class LabelPolicy(_Strict):
    """How a free-text metadata field (``note_type``) is made safe before it is published.

    Such a field is written to the shards, counted by value in the audit report and
    shown in the Prefect UI, and it may hold a name ("Letter to <patient>"): it is never
    published as read.
    """

    mode: LabelMode = Field(
        "deidentify",
        description="'deidentify': run the detector over the value and replace what it "
        "finds, like the note text (same patient's surrogates); 'vocabulary': publish only "
        "values of `vocabulary` (matched ignoring case and spacing, or through `aliases`), "
        "anything else as `other`; 'drop': publish nothing (null).",
    )
    vocabulary: list[str] = Field(
        default_factory=list, description="The values that may be published (mode 'vocabulary')."
    )
    aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Source value -> vocabulary value, for spellings the source uses "
        "(matched ignoring case and spacing).",
    )
    other: str | None = Field(
        "other",
        description="Published for a value outside the vocabulary (null: publish null).",
    )

    @model_validator(mode="after")
    def _vocabulary_complete(self) -> LabelPolicy:
        if self.mode == "vocabulary" and not self.vocabulary:
            raise ValueError("mode 'vocabulary' needs a non-empty 'vocabulary' list")
        unknown = sorted({v for v in self.aliases.values() if v not in self.vocabulary})
        if unknown:
            raise ValueError(f"aliases map to values not in 'vocabulary': {unknown}")
        return self


class MetadataConfig(_Strict):
    """Free-text fields besides the note text, one policy each (see ``LabelPolicy``)."""

    note_type: LabelPolicy = Field(default_factory=LabelPolicy)


class ValidationConfig(_Strict):
    """The output gate's run-level limits: when a run publishes nothing instead."""

    max_quarantine_fraction: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Publication guard: if more than this share of the records read is "
        "quarantined (for any reason), the run fails and the previous dataset stays: a wrong "
        "column mapping or a broken export quarantines most records and must not replace a "
        "good dataset. 1 turns the guard off.",
    )
    allow_empty: bool = Field(
        False,
        description="Publish a run that has no rows to publish (an empty source, or every "
        "record quarantined or a duplicate). Off by default: an empty result is almost "
        "always a mistake. An incremental run with nothing new never needs it.",
    )

    max_residual_fraction: float = Field(
        0.001,
        ge=0.0,
        le=1.0,
        description="Notes whose de-identified text still matches a residual-identifier "
        "check are quarantined (RESIDUAL_IDENTIFIER) and the rest published; if more than "
        "this share of the de-identified notes is withheld so, the run fails and publishes "
        "nothing (a systematic detector failure). 0 fails the run on any residual.",
    )


class RuntimeConfig(_Strict):
    """Concurrency knobs; they change speed and memory, never the output bytes."""

    workers: int = Field(
        1,
        ge=1,
        description="Threads (task_runner 'thread') or worker processes (task_runner 'dask') "
        "running the mapped de-id tasks. Detection is CPU-bound Python, so more threads "
        "rarely help (measured: 2 threads 18% slower than 1 on 600 notes); use 'dask' for cores.",
    )
    window_batches: int = Field(
        8,
        ge=1,
        description="Batches per window: the flow validates and stages one window while the "
        "next one's batches run, so at most two windows are in memory, whatever the input "
        "size. Each validation has a fixed cost (~0.25 s), spread over the window's notes.",
    )
    task_runner: TaskRunnerKind = Field(
        "thread",
        description="Where the mapped de-id tasks run: 'thread' (threads of this process), "
        "'dask' (a local Dask cluster of `workers` one-thread processes: uses every core; they "
        "report to the run's Prefect server and load their models while it starts) or "
        "'dask_address' (an existing Dask scheduler at `dask_address`; needs prefect-dask).",
    )
    dask_address: str | None = Field(
        None, description="Scheduler address for task_runner 'dask_address', e.g. tcp://host:8786."
    )
    prefect_server_timeout: float = Field(
        300.0,
        gt=0,
        description="Seconds the run waits for its temporary Prefect server to start (when "
        "PREFECT_API_URL is not set). Generous: on a busy machine the server has taken "
        "longer than Prefect's own 20 s.",
    )

    @model_validator(mode="after")
    def _address_iff_remote(self) -> RuntimeConfig:
        if (self.task_runner == "dask_address") != (self.dask_address is not None):
            raise ValueError(
                "runtime.dask_address is set exactly when task_runner is 'dask_address'"
            )
        return self


class ReportConfig(_Strict):
    """The audit report written beside the manifest."""

    gold_sample: Path | None = Field(
        None,
        description="Annotated sample of your own notes (annotated JSONL, or a PhysioNet "
        "id.text + id-phi.phrase folder): when set, every run's report estimates how many "
        "identifiers were missed. Without it the report says that risk was not estimated.",
    )

    @field_validator("gold_sample")
    @classmethod
    def _sample_exists(cls, value: Path | None) -> Path | None:
        # Checked at start: a missing sample must not surface only after publishing.
        if value is not None and not value.exists():
            raise ValueError(f"report.gold_sample {value} does not exist")
        return value


# --- output quality: near-duplicates, filters, token counts (issue 21) -------------------


class NearDuplicateConfig(_Strict):
    """Copy-forward notes (a note re-saved with a few lines changed) removed with MinHash LSH.

    Runs on the de-identified text (no PHI in the index), in the flow process, in input
    order: the first note of a cluster is kept, every later note whose estimated Jaccard
    similarity to a kept one reaches ``threshold`` is removed and counted
    (``near_duplicate``).
    """

    enabled: bool = Field(True, description="Remove near-duplicate notes.")
    threshold: float = Field(
        0.75,
        gt=0,
        lt=1,
        description="Jaccard similarity of word shingles at which a later note counts as a "
        "near-duplicate of an earlier one. 0.75 removed 97 % of copy-forward variants with "
        "1-10 % of their lines changed and 0.05 % of other notes (benchmarks/near_duplicates.py); "
        "0.8 removed 93 %.",
    )
    shingle_words: int = Field(3, ge=1, le=10, description="Words per shingle.")
    num_perm: int = Field(128, ge=16, le=512, description="MinHash permutations.")
    scope: Literal["corpus", "patient"] = Field(
        "corpus",
        description="'corpus': across all notes (a copy under another patient too); "
        "'patient': only among the notes of one patient.",
    )


class FiltersConfig(_Strict):
    """Notes without training value removed after de-identification (counted per filter)."""

    min_content_words: int = Field(
        3,
        ge=0,
        description="Fewest words a note must keep once template lines (blank, punctuation "
        "only, an empty 'Label:', signature and cc lines, template_patterns) are removed; 0 = off.",
    )
    template_patterns: list[str] = Field(
        default_factory=list,
        description="Extra regular expressions (matched against a whole stripped line, "
        "ignoring case) for your site's template lines.",
    )
    max_chars: int | None = Field(
        None, ge=1, description="Longest published note in characters (null: no limit)."
    )
    max_non_text_share: float | None = Field(
        0.2,
        ge=0,
        le=1,
        description="Largest share of characters that are neither letters, digits, "
        "whitespace nor ASCII punctuation (binary junk, mojibake, box drawing); null = off.",
    )

    @field_validator("template_patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"template pattern {pattern!r} does not compile: {err}") from None
        return value


class TokensConfig(_Strict):
    """Token counts per row: ``n_words`` (``\\w+``) always, ``n_tokens`` with a tokenizer."""

    tokenizer: Path | None = Field(
        None,
        description="A local Hugging Face tokenizers file (tokenizer.json): its token count "
        "of each note goes into n_tokens. Nothing is downloaded.",
    )

    @field_validator("tokenizer")
    @classmethod
    def _tokenizer_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"tokens.tokenizer {value} is not a file")
        return value


class PipelineConfig(_Strict):
    """Everything one pipeline run needs, validated at start."""

    deid: DeidConfig = Field(default_factory=DeidConfig)
    source: Source
    columns: ColumnMapping = Field(default_factory=ColumnMapping)
    output: OutputConfig
    limits: Limits = Field(default_factory=Limits)
    metadata: MetadataConfig = Field(default_factory=MetadataConfig)
    quarantine_dir: Path | None = Field(
        None,
        description="Restricted location for raw records that could not be processed "
        f"(holds PHI). Default for file sources: '<source>{QUARANTINE_SUFFIX}' beside it.",
    )
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    near_duplicates: NearDuplicateConfig = Field(default_factory=NearDuplicateConfig)
    filters: FiltersConfig = Field(default_factory=FiltersConfig)
    tokens: TokensConfig = Field(default_factory=TokensConfig)

    @model_validator(mode="after")
    def _quarantine_known(self) -> PipelineConfig:
        if self.quarantine_dir is None:
            if isinstance(self.source, SqlSource | PostgresSource):
                raise ValueError(f"a {self.source.kind} source needs an explicit 'quarantine_dir'")
            if self.source.url is not None:
                # Raw PHI is never written back to the bucket unasked.
                raise ValueError(
                    "a source read from a URL needs an explicit, local 'quarantine_dir'"
                )
        return self

    @field_validator("quarantine_dir", mode="before")
    @classmethod
    def _quarantine_local(cls, value: Any) -> Any:
        if is_url(value):
            raise ValueError("'quarantine_dir' must be a local directory (it holds raw PHI)")
        return value

    @classmethod
    def from_mapping(cls, data: dict[str, Any], base_dir: Path | None = None) -> PipelineConfig:
        """Validate a mapping; relative paths are taken relative to ``base_dir``.

        Raises ``deid.config.ConfigError`` naming each setting that is wrong.
        """
        if base_dir is not None:
            data = _resolve_paths(data, base_dir)
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise config_error(err, cls) from None

    @classmethod
    def from_file(cls, path: str | Path) -> PipelineConfig:
        """Load a YAML config; relative paths in it are relative to the file's directory.

        Raises ``deid.config.ConfigError`` whose problems read ``file:line: key.path:
        message`` (YAML syntax errors included), ``FileNotFoundError`` if it is missing.
        """
        p = Path(path)
        doc = read_yaml_document(p)
        try:
            return cls.model_validate(_resolve_paths(doc.data, p.resolve().parent))
        except ValidationError as err:
            raise config_error(err, cls, doc) from None

    def quarantine_path(self) -> Path:
        """The quarantine directory (explicit, or beside a file source)."""
        if self.quarantine_dir is not None:
            return self.quarantine_dir
        assert isinstance(self.source, _Located)  # guaranteed by _quarantine_known
        src = self.source.local_path()
        return src.parent / f"{src.name}{QUARANTINE_SUFFIX}"

    def config_hash(self) -> str:
        """SHA-256 of every setting that can change the output bytes for a given input.

        Locations (source path, output and quarantine dirs), runtime knobs, the report
        settings and the gate's run-level limits (they decide whether a run publishes, not
        what it writes) are left out: the same job run from another checkout or with more
        workers has the same hash.  What was read is pinned by the manifest's input fingerprint instead.
        """
        content = self.model_dump(
            mode="json",
            exclude={
                "source": {"path", "url"},
                "output": {"dir"},
                "quarantine_dir": True,
                "runtime": True,
                "report": True,
                "validation": True,
                "tokens": {"tokenizer"},
            },
        )
        if self.tokens.tokenizer is not None:  # the file, not where it lies
            content["tokens"]["tokenizer_sha256"] = hashlib.sha256(
                self.tokens.tokenizer.read_bytes()
            ).hexdigest()
        return stable_hash(content)


_PATH_KEYS: tuple[tuple[str, ...], ...] = (
    ("source", "path"),
    ("output", "dir"),
    ("quarantine_dir",),
    ("report", "gold_sample"),
    ("tokens", "tokenizer"),
    ("deid", "detection", "site_person_names"),
    ("deid", "detection", "site_place_names"),
)


def _resolve_paths(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Copy of ``data`` with the known path settings made absolute against ``base_dir``."""
    out = copy.deepcopy(data)
    for keys in _PATH_KEYS:
        parent: Any = out
        for key in keys[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        leaf = keys[-1]
        if (
            isinstance(parent, dict)
            and isinstance(parent.get(leaf), str)
            and not is_url(parent[leaf])
        ):
            value = Path(parent[leaf]).expanduser()
            parent[leaf] = os.path.normpath(value if value.is_absolute() else base_dir / value)
    return out
