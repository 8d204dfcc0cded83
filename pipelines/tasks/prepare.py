"""Before any record is read: lock the output dir, clear leftovers, load the key, stage."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from prefect import get_run_logger, task

from deid.anonymization.keys import load_key
from pipelines.config import PipelineConfig
from pipelines.output.manifest import read_manifest
from pipelines.output.shards import (
    LOCK_NAME,
    check_swappable,
    clear_stale_staging,
    find_interrupted_swap,
    shard_counts,
)
from pipelines.quarantine import README_NAME as QUARANTINE_README
from pipelines.tasks import NO_PHI_STORAGE
from pipelines.tasks.context import RunContext, Staging
from schemas.manifest import Manifest


class OutputBusy(RuntimeError):
    """Another run holds the output directory's lock."""


class IncompatibleOutput(RuntimeError):
    """An incremental run would append to a dataset made with another config or key."""


@task(name="prepare-run", **NO_PHI_STORAGE)
def prepare_run(config: PipelineConfig) -> RunContext:
    """Lock the output dir, clear leftovers of interrupted runs, load the key."""
    output_dir = config.output.dir
    logger = get_run_logger()
    if restore_interrupted_swap(output_dir):
        logger.warning("restored the previous dataset of a publication that was interrupted")
    created = [
        (top, directory, allowed)
        for directory, allowed in (
            (output_dir, LOCK_NAME),
            (config.quarantine_path(), QUARANTINE_README),
        )
        if (top := _missing_top(directory)) is not None
    ]
    output_dir.mkdir(parents=True, exist_ok=True)
    check_swappable(output_dir)
    lock_fd = _lock(output_dir)
    try:
        removed = clear_stale_staging(output_dir)
        if removed:
            logger.warning("removed %d staging dir(s) of interrupted runs", removed)
        key = load_key(config.deid.anonymization)
        config_hash = config.config_hash()
        previous, first_index, watermark = None, {}, None
        existing = _appendable_manifest(output_dir) if _incremental(config) else None
        if existing is not None:
            if (existing.config_hash, existing.key_fingerprint) != (
                config_hash,
                key.fingerprint(),
            ):
                raise IncompatibleOutput(
                    f"{output_dir} holds a dataset made with another config or key — "
                    "use a new output directory, or a full (non-incremental) run"
                )
            previous = existing
            first_index = shard_counts(existing.shards)
            watermark = existing.source.watermark
    except BaseException:
        _unlock(lock_fd)
        raise
    return RunContext(
        config=config,
        output_dir=output_dir,
        config_hash=config_hash,
        key_fingerprint=key.fingerprint(),
        previous_manifest=previous,
        first_shard_index=first_index,
        previous_watermark=watermark,
        created=tuple(created),
        lock_fd=lock_fd,
    )


def _incremental(config: PipelineConfig) -> bool:
    return bool(getattr(config.source, "incremental", False))


def _appendable_manifest(output_dir: Path) -> Manifest | None:
    """The manifest an incremental run appends to (None: a first run)."""
    try:
        return read_manifest(output_dir)
    except ValueError:  # pydantic's ValidationError: another manifest version or layout
        raise IncompatibleOutput(
            f"{output_dir} holds a dataset of an older deidflow output layout — "
            "run once without incremental (a full run) to rebuild it in the current layout"
        ) from None


@task(name="open-staging", **NO_PHI_STORAGE)
def open_staging(run: RunContext) -> Staging:
    """Staging dir, shard writer, quarantine writer and the source reader for this run."""
    return Staging(run)


def restore_interrupted_swap(output_dir: Path) -> bool:
    """Put the previous dataset back if a run died between the two renames of a swap.

    Only the two-rename fallback of ``shards.exchange_dirs`` has such a moment (no output
    dir at all).  The previous version carries the same lock file (a hard link): if a
    live run holds it, that run is mid-swap and this raises ``OutputBusy``.
    """
    old = find_interrupted_swap(output_dir)
    if old is None:
        return False
    fd = _lock(old)
    try:
        os.rename(old, output_dir.resolve())
    finally:
        _unlock(fd)
    return True


def _missing_top(directory: Path) -> Path | None:
    """The topmost of ``directory`` and its parents that does not exist yet."""
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    return missing[-1] if missing else None


def _lock(output_dir: Path) -> int:
    """Exclusive, non-blocking lock on the output dir (released when the process exits)."""
    fd = os.open(output_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputBusy(f"another deidflow run is writing to {output_dir}") from None
    return fd


def _unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
