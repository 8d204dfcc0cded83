"""Shard writing: boundaries, determinism, Arrow types, publishing and verification."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.config import OutputConfig
from pipelines.output.manifest import verify_output, write_manifest
from pipelines.output.shards import (
    SHARD_PATTERN,
    ShardWriter,
    StagingArea,
    clear_stale_staging,
    renamed_shards,
    scratch_location,
)
from schemas.deidentified import DEIDENTIFIED_SCHEMA
from schemas.manifest import ShardEntry
from tests.pipelines.report.helpers import example_manifest
from tests.pipelines.tables import deidentified_rows
from tests.timing import assert_costs_like_benign


def _write(directory: Path, chunks: list[int], **output: int) -> list:
    directory.mkdir(parents=True, exist_ok=True)
    writer = ShardWriter(directory, OutputConfig(dir=directory, **output))
    start = 0
    for n in chunks:
        writer.write(deidentified_rows(n, start))
        start += n
    return writer.close()


def test_shard_and_row_group_boundaries_follow_rows_only(tmp_path: Path) -> None:
    shards = _write(tmp_path / "a", [7, 1, 12, 3], target_shard_rows=10, row_group_rows=4)
    assert [(s.name, s.rows) for s in shards] == [
        ("data/train-00000-of-00003.parquet", 10),
        ("data/train-00001-of-00003.parquet", 10),
        ("data/train-00002-of-00003.parquet", 3),
        ("data/validation-00000-of-00001.parquet", 0),  # schema-only: every split exists
        ("data/test-00000-of-00001.parquet", 0),
    ]
    meta = pq.ParquetFile(tmp_path / "a" / shards[0].name).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 4, 2]
    # Same rows cut into different write calls: identical bytes.
    again = _write(tmp_path / "b", [1, 22], target_shard_rows=10, row_group_rows=4)
    assert [s.sha256 for s in again] == [s.sha256 for s in shards]


def test_each_split_gets_its_own_hf_named_shards(tmp_path: Path) -> None:
    writer = ShardWriter(tmp_path, OutputConfig(dir=tmp_path, target_shard_rows=4))
    writer.write(deidentified_rows(12, splits=("train", "train", "validation", "test")))
    shards = writer.close()
    assert [(s.name, s.split, s.rows) for s in shards] == [
        ("data/train-00000-of-00002.parquet", "train", 4),
        ("data/train-00001-of-00002.parquet", "train", 2),
        ("data/validation-00000-of-00001.parquet", "validation", 3),
        ("data/test-00000-of-00001.parquet", "test", 3),
    ]
    for shard in shards:
        assert set(pq.read_table(tmp_path / shard.name).column("split").to_pylist()) == {
            shard.split
        }
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(
        s.name.removeprefix("data/") for s in shards
    )


def test_an_append_renumbers_the_kept_shards_of_its_splits(tmp_path: Path) -> None:
    writer = ShardWriter(tmp_path, OutputConfig(dir=tmp_path), {"train": 2, "validation": 1})
    writer.write(deidentified_rows(3))
    new = writer.close()
    # test had no shard yet: it gets a schema-only one, so every split exists
    assert [s.name for s in new] == [
        "data/train-00002-of-00003.parquet",
        "data/test-00000-of-00001.parquet",
    ]
    old = [
        ShardEntry(name=f"data/{n}", split=n.split("-")[0], rows=1, bytes=1, sha256="b" * 64)
        for n in ("train-00000-of-00002.parquet", "train-00001-of-00002.parquet")
    ]
    old.append(
        old[0].model_copy(
            update={"name": "data/validation-00000-of-00001.parquet", "split": "validation"}
        )
    )
    assert renamed_shards(old, new[:1]) == {
        "data/train-00000-of-00002.parquet": "data/train-00000-of-00003.parquet",
        "data/train-00001-of-00002.parquet": "data/train-00001-of-00003.parquet",
        "data/validation-00000-of-00001.parquet": "data/validation-00000-of-00001.parquet",
    }


def test_shards_close_on_text_bytes_too(tmp_path: Path) -> None:
    shards = _write(tmp_path, [10], target_shard_rows=100, row_group_rows=2, target_shard_bytes=100)
    assert [s.rows for s in shards if s.split == "train"] == [6, 4]  # 120 >= 100 after 3 groups


def test_shards_are_zstd_with_plain_string_columns(tmp_path: Path) -> None:
    (shard, *_) = _write(tmp_path, [5])
    pf = pq.ParquetFile(tmp_path / shard.name)
    assert pf.schema_arrow == DEIDENTIFIED_SCHEMA
    assert pf.schema_arrow.field("text").type == pa.string()  # not large_string
    assert pf.metadata.row_group(0).column(0).compression == "ZSTD"
    assert not list(tmp_path.rglob("*.tmp"))


def test_publish_drops_unlisted_shards_and_verify_checks_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "data" / "train-00005-of-00009.parquet").write_bytes(b"stale from a bigger run")
    (out / "part-00000.parquet").write_bytes(b"the layout before data/: dropped")
    (out / "notes.parquet").write_bytes(b"not ours: never touched")
    assert verify_output(out).problems == ["manifest.json missing"]
    staging = StagingArea(out)
    writer = ShardWriter(staging.path, OutputConfig(dir=out, target_shard_rows=4))
    writer.write(deidentified_rows(6))
    shards = writer.close()
    assert staging.carry_over({}, rewritten=["manifest.json"]) == ["notes.parquet"]
    rows = {"train": 6, "validation": 0, "test": 0}
    write_manifest(
        staging.path,
        example_manifest().model_copy(update={"shards": shards, "rows": 6, "rows_by_split": rows}),
    )
    staging.swap_in()
    assert sorted(p.name for p in out.iterdir()) == ["data", "manifest.json", "notes.parquet"]
    assert sorted(p.name for p in (out / "data").iterdir()) == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
        "validation-00000-of-00001.parquet",
    ]
    assert verify_output(out).ok
    assert not staging.path.exists()

    stray = out / "data" / "notes.json"
    stray.write_bytes(b"appeared later")
    assert verify_output(out).problems == [
        "data/notes.json: not listed in manifest.json (readers of data/ see it)"
    ]
    stray.unlink()
    with (out / "data" / "train-00001-of-00002.parquet").open("r+b") as fh:
        fh.seek(10)
        fh.write(b"\x00")
    assert verify_output(out).problems == ["data/train-00001-of-00002.parquet: sha256 mismatch"]
    (out / "data" / "train-00000-of-00002.parquet").unlink()
    assert "data/train-00000-of-00002.parquet: missing" in verify_output(out).problems


def test_stale_staging_dirs_are_cleared(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    StagingArea(out)
    StagingArea(out)
    (tmp_path / ".out.deidflow-old-0123" / "sub").mkdir(parents=True)  # an old version
    (out / ".staging-x" / "sub").mkdir(parents=True)  # older deidflow: inside the output
    directory, prefix = scratch_location(out)
    (directory / f"{prefix}abcd").mkdir()  # a crashed run's duplicate digests
    (tmp_path / ".other.deidflow-next-0123").mkdir()  # another output's: not ours
    (tmp_path / "out-notes").mkdir()
    assert clear_stale_staging(out) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.deidflow-next-0123",
        "out",
        "out-notes",
    ]
    assert not list(out.iterdir())


@pytest.mark.parametrize(
    "text", ["train-" + "0" * 100_000, "train-00001-of-" * 20_000 + ".parquet"]
)
def test_shard_name_pattern_is_fast_on_adversarial_names(text: str) -> None:
    assert SHARD_PATTERN.match(text) is None

    def match(name: str) -> None:
        for _ in range(100):  # microseconds each: enough calls to time them
            SHARD_PATTERN.match(name)

    assert_costs_like_benign(match, text)
    assert re.fullmatch(SHARD_PATTERN, "train-00012-of-00013.parquet")
