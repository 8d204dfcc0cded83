"""``lineage.parquet``: which published row came from which input note, beside the manifest.

One row per published row: its ``note_pseudonym`` (HMAC of the input note ID with the
run's key: whoever holds the key can trace an input note to its row, nobody else can),
``split``, ``shard`` (path in the output dir), ``row`` (position in the shard) and the
``run_id`` that wrote it.  It used to sit inline in ``audit_report.json`` and grew with
every note; the audit report now keeps counts and a sample.  An incremental run carries
the previous rows over (shard names updated) and appends its own, streaming: memory
stays flat however large the dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.manifest import ShardEntry

LINEAGE_NAME = "lineage.parquet"
LINEAGE_SCHEMA = pa.schema(
    [
        pa.field("note_pseudonym", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("shard", pa.string(), nullable=False),
        pa.field("row", pa.int64(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)
LINEAGE_METHOD = (
    "note_pseudonym is HMAC-SHA256(run key, 'deidflow/pseudonym/v1', 'note', input note_id), "
    "first 24 hex digits: the note_pseudonym column of the shard. Whoever holds the key can "
    "trace an input note ID to its shard and row; without the key the hashes reveal nothing."
)


def write_lineage(
    directory: Path,
    new_shards: Iterable[ShardEntry],
    run_id: str,
    previous: Path | None = None,
    renames: Mapping[str, str] | None = None,
) -> Path:
    """Write ``directory/lineage.parquet``: ``previous``'s rows (shards renamed), then the
    rows of ``new_shards`` (read back from their ``note_pseudonym`` column)."""
    final = directory / LINEAGE_NAME
    tmp = directory / f".{LINEAGE_NAME}.tmp"
    renames = renames or {}
    with pq.ParquetWriter(tmp, LINEAGE_SCHEMA, compression="zstd") as writer:
        if previous is not None and previous.is_file():
            for batch in pq.ParquetFile(previous).iter_batches(batch_size=65_536):
                table = pa.Table.from_batches([batch]).cast(LINEAGE_SCHEMA)
                shards = [renames.get(s, s) for s in table.column("shard").to_pylist()]
                table = table.set_column(
                    2, LINEAGE_SCHEMA.field("shard"), pa.array(shards, pa.string())
                )
                writer.write_table(table)
        for shard in new_shards:
            column = pq.read_table(directory / shard.name, columns=["note_pseudonym"]).column(0)
            n = len(column)
            writer.write_table(
                pa.table(
                    {
                        "note_pseudonym": column.combine_chunks().cast(pa.string()),
                        "split": pa.array([shard.split] * n, pa.string()),
                        "shard": pa.array([shard.name] * n, pa.string()),
                        "row": pa.array(range(n), pa.int64()),
                        "run_id": pa.array([run_id] * n, pa.string()),
                    },
                    schema=LINEAGE_SCHEMA,
                )
            )
    tmp.replace(final)
    return final


def lineage_summary(directory: Path, run_id: str, sample: int = 5) -> dict[str, object]:
    """What the audit report says about lineage: the file, its rows, this run's rows and
    the first ``sample`` of this run's note pseudonyms (keyed hashes, no IDs)."""
    path = directory / LINEAGE_NAME
    table = pq.read_table(path, columns=["note_pseudonym", "run_id"])
    mine = table.filter(pa.compute.equal(table.column("run_id"), run_id))
    return {
        "method": LINEAGE_METHOD,
        "file": LINEAGE_NAME,
        "rows": table.num_rows,
        "rows_this_run": mine.num_rows,
        "sample": mine.column("note_pseudonym").slice(0, sample).to_pylist(),
    }
