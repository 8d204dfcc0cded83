"""Parquet shards: written in a staging directory, published by rename.

Shard and row-group boundaries depend only on the sequence of rows (and the output
settings), never on timing or batching, so the same rows give the same bytes.  A
shard is written as ``part-NNNNN.parquet.tmp`` and renamed when closed; the whole
staging directory is published only after the run validated (``publish_shards``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.config import OutputConfig
from schemas.deidentified import DEIDENTIFIED_SCHEMA

SHARD_PATTERN = re.compile(r"^part-\d{5}\.parquet$")
STAGING_PREFIX = ".staging-"
# Low-cardinality columns: dictionary-encode them; free text and pseudonyms: don't.
_DICTIONARY_COLUMNS = ["note_type", "split", "pipeline_version", "policy_version"]


def shard_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


@dataclass(frozen=True)
class ShardInfo:
    """One published shard as the manifest lists it."""

    name: str
    rows: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ShardWriter:
    """Streams tables of ``DEIDENTIFIED_SCHEMA`` into size-bounded shards in ``directory``.

    Rows are buffered only up to one row group; a shard closes once it reaches
    ``target_shard_rows`` rows or ``target_shard_bytes`` bytes of text (checked at
    row-group boundaries).  Numbering starts at ``first_index``.
    """

    def __init__(self, directory: Path, output: OutputConfig, first_index: int = 0) -> None:
        self.directory = directory
        self.output = output
        self._next_index = first_index
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp_path: Path | None = None
        self._shard_rows = 0
        self._shard_text_bytes = 0
        self.shards: list[ShardInfo] = []

    def write(self, table: pa.Table) -> None:
        """Append rows; full row groups are written straight away."""
        if table.schema != DEIDENTIFIED_SCHEMA:
            table = table.cast(DEIDENTIFIED_SCHEMA)
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self._group_size():
            self._write_group(self._take(self._group_size()))

    def close(self) -> list[ShardInfo]:
        """Flush the last rows and close the open shard; returns every shard written."""
        if self._pending_rows:
            self._write_group(self._take(self._pending_rows))
        self._close_shard()
        return list(self.shards)

    def write_empty_shard(self) -> None:
        """A schema-only shard, so a run with no rows still gives loaders a table."""
        self._open_shard()
        self._close_shard(force=True)

    def abort(self) -> None:
        """Close without publishing (the staging directory is removed by the caller)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _group_size(self) -> int:
        # Never let one row group straddle the shard's row target.
        room = self.output.target_shard_rows - self._shard_rows
        return max(1, min(self.output.row_group_rows, room))

    def _take(self, n: int) -> pa.Table:
        table = pa.concat_tables(self._pending)
        head, rest = table.slice(0, n), table.slice(n)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows
        return head.combine_chunks()

    def _write_group(self, group: pa.Table) -> None:
        if self._writer is None:
            self._open_shard()
        assert self._writer is not None
        self._writer.write_table(group, row_group_size=group.num_rows)
        self._shard_rows += group.num_rows
        self._shard_text_bytes += int(pc.sum(pc.binary_length(group["text"])).as_py() or 0)
        if (
            self._shard_rows >= self.output.target_shard_rows
            or self._shard_text_bytes >= self.output.target_shard_bytes
        ):
            self._close_shard()

    def _open_shard(self) -> None:
        self._tmp_path = self.directory / (shard_name(self._next_index) + ".tmp")
        self._writer = pq.ParquetWriter(
            self._tmp_path,
            DEIDENTIFIED_SCHEMA,
            compression="zstd",
            compression_level=self.output.compression_level,
            use_dictionary=_DICTIONARY_COLUMNS,
            write_statistics=True,
            store_schema=True,
        )
        self._shard_rows = 0
        self._shard_text_bytes = 0

    def _close_shard(self, force: bool = False) -> None:
        if self._writer is None or self._tmp_path is None:
            return
        self._writer.close()
        self._writer = None
        if self._shard_rows == 0 and not force:
            self._tmp_path.unlink()
            return
        final = self._tmp_path.with_suffix("")  # drop ".tmp"
        _fsync(self._tmp_path)
        os.replace(self._tmp_path, final)
        self.shards.append(
            ShardInfo(final.name, self._shard_rows, final.stat().st_size, file_sha256(final))
        )
        self._next_index += 1
        self._tmp_path = None


class StagingArea:
    """``<output>/.staging-<token>/``: where a run's shards wait until it has validated."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.path = output_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        self.path.mkdir(parents=True)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def clear_stale_staging(output_dir: Path) -> int:
    """Remove staging directories left by interrupted runs; returns how many."""
    removed = 0
    if output_dir.is_dir():
        for entry in output_dir.iterdir():
            if entry.is_dir() and entry.name.startswith(STAGING_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


class ShardCorrupted(RuntimeError):
    """A staged shard no longer matches the size or SHA-256 recorded when it was closed."""


def verify_staged_shards(staging: StagingArea, shards: list[ShardInfo]) -> None:
    """Check every staged shard against its record before anything is published.

    Raises ``ShardCorrupted`` naming the shards and what differs (file names only).
    """
    problems = []
    for shard in shards:
        path = staging.path / shard.name
        if not path.is_file():
            problems.append(f"{shard.name} missing")
        elif path.stat().st_size != shard.bytes:
            problems.append(f"{shard.name} size {path.stat().st_size} != {shard.bytes}")
        elif file_sha256(path) != shard.sha256:
            problems.append(f"{shard.name} sha256 mismatch")
    if problems:
        raise ShardCorrupted(f"staged shard check failed: {'; '.join(problems)}")


def publish_shards(staging: StagingArea, shards: list[ShardInfo]) -> None:
    """Move validated shards from staging into the output directory (rename each)."""
    for shard in shards:
        os.replace(staging.path / shard.name, staging.output_dir / shard.name)
    _fsync_dir(staging.output_dir)


def remove_unlisted_shards(output_dir: Path, keep: set[str]) -> list[str]:
    """Delete ``part-*.parquet`` files the manifest does not list (stale or half-published)."""
    removed = []
    for entry in sorted(output_dir.iterdir()):
        if SHARD_PATTERN.match(entry.name) and entry.name not in keep:
            entry.unlink()
            removed.append(entry.name)
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
