"""Publication is atomic for readers: a crash at any step leaves the old or the new dataset.

``tasks.publish`` runs for real on synthetic shards (no Prefect, no detector).  The test
first records every file-system step publication takes (hard links into the next
version, the manifest rename, the exchange or the fallback's renames, deleting the old
version), then for each step "crashes" just before it: the step raises an exception no
code catches and nothing is cleaned up, as after SIGKILL.  Right after each crash the
output dir must hold the old complete dataset or the new complete one; then the start of
the next run (restore an interrupted swap, clear leftovers) must leave a verified
dataset and no hidden siblings, and publishing again must give the new dataset.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

import pipelines.output.shards as shards_mod
from pipelines.config import PipelineConfig
from pipelines.output.manifest import MANIFEST_NAME, read_manifest, verify_output
from pipelines.output.shards import (
    LOCK_NAME,
    SHARD_PATTERN,
    StagingArea,
    UnswappableOutput,
    check_swappable,
    clear_stale_staging,
    exchange_dirs,
    find_interrupted_swap,
    rename_exchange,
    shard_counts,
)
from pipelines.tasks.context import RunContext, RunTally, Staging
from pipelines.tasks.prepare import OutputBusy, _lock, _unlock, restore_interrupted_swap
from pipelines.tasks.publish import publish
from pipelines.tasks.stage import stage_manifest
from schemas.manifest import Manifest
from tests.pipelines.tables import deidentified_rows

USER_FILE = "README.txt"  # something a user keeps in the output dir: must survive


class Crash(BaseException):
    """Stands in for SIGKILL: not an ``Exception``, so nothing on the way catches it."""


def _config(root: Path, out: Path) -> PipelineConfig:
    source = root / "notes.jsonl"
    source.touch()
    return PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(source)},
            "output": {"dir": str(out), "target_shard_rows": 4, "row_group_rows": 2},
        }
    )


def _publish(root: Path, out: Path, rows: int, start: int, incremental: bool) -> Manifest:
    """One run's staging + ``tasks.stage_manifest`` + ``tasks.publish`` under the output's lock, as the flow does it
    after the gate passed.  The lock is released however it ends, as a dead process's is."""
    out.mkdir(exist_ok=True)
    fd = _lock(out)
    try:
        previous = read_manifest(out) if incremental else None
        first = shard_counts(previous.shards) if previous else {}
        run = RunContext(_config(root, out), out, "c" * 64, "f" * 16, previous, first, None)
        staging, tally = Staging(run), RunTally()
        staging.writer.write(deidentified_rows(rows, start))
        tally.counts.rows_in = tally.counts.rows_out = rows
        tally.input_digest.update(f"{rows}:{start}".encode())
        sealed = staging.writer.close()
        version = stage_manifest.fn(run, staging, tally, sealed)
        publish.fn(staging, version)
        return version.manifest
    finally:
        _unlock(fd)


def _dataset(out: Path) -> dict[str, bytes]:
    """What a reader sees: shards and manifest."""
    if not out.is_dir():
        return {}
    data = out / "data"
    shards = {
        f"data/{p.name}": p.read_bytes()
        for p in (data.iterdir() if data.is_dir() else [])
        if SHARD_PATTERN.match(p.name)
    }
    manifest = out / MANIFEST_NAME
    return {**shards, **({MANIFEST_NAME: manifest.read_bytes()} if manifest.exists() else {})}


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _next_run_starts(out: Path) -> None:
    """What ``prepare_run`` does before reading anything (without Prefect)."""
    restore_interrupted_swap(out)
    out.mkdir(exist_ok=True)
    fd = _lock(out)
    try:
        clear_stale_staging(out)
    finally:
        _unlock(fd)


@contextmanager
def _steps(crash_at: int | None = None) -> Iterator[list[str]]:
    """Record publication's file-system steps; raise ``Crash`` instead of step ``crash_at``."""
    seen: list[str] = []

    def traced(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            if crash_at is not None and len(seen) == crash_at:
                raise Crash(name)
            seen.append(name)
            return original(*args, **kwargs)

        return step

    with pytest.MonkeyPatch.context() as mp:
        for owner, attr in (
            (os, "link"),
            (os, "replace"),
            (os, "rename"),
            (shards_mod, "rename_exchange"),
            (shutil, "rmtree"),
        ):
            mp.setattr(owner, attr, traced(attr, getattr(owner, attr)))
        yield seen


@pytest.fixture(params=["exchange", "fallback"])
def swap_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "fallback":
        monkeypatch.setattr(shards_mod, "_renameat2", lambda: None)  # as where there is none
    elif shards_mod._renameat2() is None:
        pytest.skip("renameat2 not available here")
    return request.param


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
def test_a_crash_at_any_publish_step_leaves_old_or_new(
    tmp_path: Path, swap_kind: str, incremental: bool
) -> None:
    # The two versions, built once without crashes.
    ref = tmp_path / "ref" / "out"
    ref.parent.mkdir()
    _publish(ref.parent, ref, rows=6, start=0, incremental=False)
    (ref / USER_FILE).write_text("kept by the user")
    old = _dataset(ref)
    with _steps() as steps:
        _publish(ref.parent, ref, rows=5, start=100, incremental=incremental)
    new = _dataset(ref)
    assert old != new and (ref / USER_FILE).exists()
    assert "link" in steps and steps[-1] == "rmtree"  # kept files linked, old version deleted
    assert steps.count("rename") == (3 if swap_kind == "fallback" else 0)
    shard_names = sorted(n for n in new if n.startswith("data/train-"))
    if incremental:  # earlier shards stay, as they were (renumbered -of-N); two appended
        assert shard_names == [f"data/train-0000{i}-of-00004.parquet" for i in range(4)]
        assert new["data/train-00000-of-00004.parquet"] == old["data/train-00000-of-00002.parquet"]
        assert new["data/train-00001-of-00004.parquet"] == old["data/train-00001-of-00002.parquet"]
        assert new["data/test-00000-of-00001.parquet"] == old["data/test-00000-of-00001.parquet"]
    else:  # the whole dataset is replaced
        assert shard_names == [f"data/train-0000{i}-of-00002.parquet" for i in range(2)]
        assert all(new[n] != old[n] for n in shard_names)

    seen: set[str] = set()  # what readers saw right after the crashes
    for k in range(len(steps) + 1):  # crash before step k; k == len(steps): no crash
        root = tmp_path / f"crash-{k}"
        out = root / "out"
        root.mkdir()
        _publish(root, out, rows=6, start=0, incremental=False)
        (out / USER_FILE).write_text("kept by the user")
        lock_inode = (out / LOCK_NAME).stat().st_ino
        with _steps(crash_at=k if k < len(steps) else None), suppress(Crash):
            _publish(root, out, rows=5, start=100, incremental=incremental)
        now = _dataset(out)
        if not out.exists():
            # Only the fallback has this moment: between its first two renames.
            assert swap_kind == "fallback" and steps[k - 1] == "rename"
            assert find_interrupted_swap(out) is not None
            seen.add("missing")
        else:
            assert now in (old, new), f"crash before step {k} ({steps[k : k + 1]}): mixed"
            assert verify_output(out).ok
            seen.add("old" if now == old else "new")
        _next_run_starts(out)
        after = _dataset(out)
        assert after in (old, new) and verify_output(out).ok, f"crash before step {k}"
        assert (out / USER_FILE).read_text() == "kept by the user"
        assert _siblings(out) == [], f"crash before step {k}: leftovers"
        assert (out / LOCK_NAME).stat().st_ino == lock_inode  # one lock, whatever happened
        if after == old:  # the re-run publishes what the crashed run did
            _publish(root, out, rows=5, start=100, incremental=incremental)
        assert _dataset(out) == new and verify_output(out).ok
        assert _siblings(out) == []
    assert seen == ({"old", "new", "missing"} if swap_kind == "fallback" else {"old", "new"})


def test_the_lock_is_held_across_the_swap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _publish(tmp_path, out, rows=3, start=0, incremental=False)
    inode = (out / LOCK_NAME).stat().st_ino
    swap_in, checked = StagingArea.swap_in, []

    def swap_then_try_to_lock(self: StagingArea) -> None:
        swap_in(self)
        with pytest.raises(OutputBusy):  # the new version's lock file is the held one
            _lock(out)
        checked.append(True)

    monkeypatch.setattr(StagingArea, "swap_in", swap_then_try_to_lock)
    _publish(tmp_path, out, rows=3, start=10, incremental=False)
    assert checked and (out / LOCK_NAME).stat().st_ino == inode
    _unlock(_lock(out))  # released with its holder


def test_a_live_fallback_swap_is_not_undone(tmp_path: Path) -> None:
    """Between the fallback's renames the output dir is missing; a second run that
    starts then must not put the old version back under the first run's feet."""
    out = tmp_path / "out"
    _publish(tmp_path, out, rows=3, start=0, incremental=False)
    fd = _lock(out)
    try:
        old = tmp_path / f".out.{shards_mod.OLD_INFIX}live"
        os.rename(out, old)  # the first of the two renames, by the run holding the lock
        assert find_interrupted_swap(out) == old
        with pytest.raises(OutputBusy):
            restore_interrupted_swap(out)
        assert not out.exists()
    finally:
        _unlock(fd)
    assert restore_interrupted_swap(out)  # its holder died: put it back
    assert verify_output(out).ok


def test_exchange_swaps_two_directories(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not rename_exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not supported here")
    assert ((a / "x").read_text(), (b / "x").read_text()) == ("b", "a")
    with pytest.raises(FileNotFoundError):
        rename_exchange(a, tmp_path / "missing")


def test_fallback_exchange_ends_like_the_real_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shards_mod, "_renameat2", lambda: None)
    new, target = tmp_path / "new", tmp_path / "out"
    new.mkdir()
    target.mkdir()
    (new / "v").write_text("2")
    (target / "v").write_text("1")
    exchange_dirs(new, target)
    assert ((target / "v").read_text(), (new / "v").read_text()) == ("2", "1")
    assert _siblings(target) == []


def test_a_missing_kept_shard_stops_publication(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _publish(tmp_path, out, rows=6, start=0, incremental=False)
    before = _dataset(out)
    gone = "data/train-00001-of-00002.parquet"
    (out / gone).unlink()
    with pytest.raises(FileNotFoundError, match=gone):
        _publish(tmp_path, out, rows=2, start=50, incremental=True)
    assert _dataset(out) == {k: v for k, v in before.items() if k != gone}


def test_staging_lives_beside_the_output_and_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o750)
    staging = StagingArea(out)
    assert staging.path.parent == tmp_path and staging.path.name.startswith(".out.deidflow-next-")
    staging.carry_over({})
    staging.swap_in()
    assert (out.stat().st_mode & 0o777) == 0o750
    assert _siblings(out) == []


def test_a_long_output_name_gives_short_sibling_names(tmp_path: Path) -> None:
    out = tmp_path / ("o" * 200)
    out.mkdir()
    staging = StagingArea(out)
    assert len(staging.path.name) < 100
    assert clear_stale_staging(out) == 1 and not staging.path.exists()


def test_a_mount_point_is_refused_up_front() -> None:
    with pytest.raises(UnswappableOutput, match="mount point"):
        check_swappable(Path("/"))
