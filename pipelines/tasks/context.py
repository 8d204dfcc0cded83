"""What the flow's tasks share: the run's context, its staging area and its tally."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.config import PipelineConfig
from pipelines.gate.validation import ValidationOutcome
from pipelines.output.near_duplicates import NearDuplicateIndex
from pipelines.output.shards import ShardWriter, StagingArea, scratch_location
from pipelines.quarantine import QuarantineWriter
from pipelines.report.stats import RunStats
from pipelines.sources import RecordSource, open_source
from pipelines.stream import RunCounts
from pipelines.transform import BatchOutput
from schemas.manifest import Manifest, Watermark


@dataclass
class RunContext:
    """What ``prepare_run`` established before any record is read."""

    config: PipelineConfig
    output_dir: Path
    config_hash: str
    key_fingerprint: str
    previous_manifest: Manifest | None
    """The manifest this run appends to (incremental runs only)."""
    first_shard_index: dict[str, int]
    """Shards per split of the dataset an incremental run appends to (else empty)."""
    previous_watermark: Watermark
    started: float = field(default_factory=time.perf_counter)
    created: tuple[tuple[Path, Path, str], ...] = ()
    """``(topmost dir created, dir, the one file it may hold)`` for the output and the
    quarantine dirs this run made: a run that fails removes them again."""
    lock_fd: int | None = field(default=None, repr=False)
    """The output dir's lock, held from ``prepare_run`` until ``release``."""

    def release(self) -> None:
        """Release the output dir's lock (idempotent)."""
        if self.lock_fd is not None:
            fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
            os.close(self.lock_fd)
            self.lock_fd = None

    def remove_created(self) -> None:
        """Remove the dirs this run created, if they hold nothing but what it put there."""
        for top, directory, allowed in self.created:
            try:
                if not {p.name for p in directory.iterdir()} <= {allowed}:
                    continue
                (directory / allowed).unlink(missing_ok=True)
                for level in (directory, *directory.parents):
                    level.rmdir()  # stops at the first that is not empty
                    if level == top:
                        break
            except OSError:
                pass  # gone already, or holding something else: leave it


class Staging:
    """The run's live handles: the next version of the output dir, its shard writer, the
    quarantine writer and the source reader.  Tasks that write get it; none return it."""

    def __init__(self, run: RunContext) -> None:
        self.area = StagingArea(run.output_dir)
        self.writer = ShardWriter(self.area.path, run.config.output, run.first_shard_index)
        self.quarantine = QuarantineWriter(run.config.quarantine_path())
        self.quarantine.clear_stale()
        self.source: RecordSource = open_source(run.config, run.previous_watermark)
        near = run.config.near_duplicates
        self.near_duplicate_scope = near.scope
        self.counts_tokens = run.config.tokens.tokenizer is not None
        self._near_config = near if near.enabled else None
        self._output_dir = run.output_dir
        self._near_index: NearDuplicateIndex | None = None

    @property
    def near_duplicates(self) -> NearDuplicateIndex | None:
        """The run's near-duplicate index (made on first use; None when switched off)."""
        if self._near_index is None and self._near_config is not None:
            directory, prefix = scratch_location(self._output_dir)
            self._near_index = NearDuplicateIndex(
                threshold=self._near_config.threshold,
                num_perm=self._near_config.num_perm,
                directory=directory,
                prefix=prefix,
            )
        return self._near_index

    def __deepcopy__(self, memo: dict[int, Any]) -> Staging:
        # A live handle (open files), not a value: Prefect's ``Transaction.get`` deep-copies.
        return self

    def discard(self) -> None:
        """Drop whatever was staged and not published (idempotent)."""
        self.writer.abort()
        self.area.discard()
        self.quarantine.abort()
        if self._near_index is not None:
            self._near_index.close()


@dataclass(frozen=True)
class StagedWindow:
    """What ``stage_window`` wrote: counts only (the rows are in the shards)."""

    rows_out: int
    quarantined: Counter[str]
    """Records the workers could not publish, per reason (a note that raised, one the
    residual screen withheld)."""
    residual_by_check: Counter[str]
    phi_by_type: Counter[str]
    rows_by_split: Counter[str]
    policy_versions: frozenset[str]
    near_duplicates_removed: int = 0
    filtered: Counter[str] = field(default_factory=Counter)
    words_by_split: Counter[str] = field(default_factory=Counter)
    tokens_by_split: Counter[str] | None = None


@dataclass
class RunTally:
    """What the run has done so far: the reader's counts as it reads, and what the flow
    folds in from its tasks' return values."""

    counts: RunCounts = field(default_factory=RunCounts)
    input_digest: Any = field(default_factory=hashlib.sha256)
    """Fingerprint of every record read (fed by the reader): part of the run ID."""
    window_failures: Counter[str] = field(default_factory=Counter)
    """Rows per failed check, over all windows."""
    windows_validated: int = 0
    policy_versions: set[str] = field(default_factory=set)
    stats: RunStats = field(default_factory=RunStats)
    """What the audit report adds to the counts."""

    def add_verdict(self, outcome: ValidationOutcome) -> None:
        """Fold in one window's validation outcome."""
        self.windows_validated += 1
        self.stats.add_validation(outcome.summary)
        for name, rows in outcome.failures:
            self.window_failures[name] += rows

    def add_staged(self, staged: StagedWindow, outputs: list[BatchOutput]) -> None:
        """Fold in one staged window (``outputs``: its batches, for the report's stats)."""
        counts = self.counts
        counts.quarantined.update(staged.quarantined)
        counts.residual_by_check.update(staged.residual_by_check)
        counts.rows_out += staged.rows_out
        counts.phi_by_type.update(staged.phi_by_type)
        counts.rows_by_split.update(staged.rows_by_split)
        counts.near_duplicates_removed += staged.near_duplicates_removed
        counts.filtered.update(staged.filtered)
        counts.words_by_split.update(staged.words_by_split)
        if staged.tokens_by_split is not None:
            counts.tokens_by_split = (counts.tokens_by_split or Counter()) + staged.tokens_by_split
        self.policy_versions.update(staged.policy_versions)
        for out in sorted(outputs, key=lambda o: o.index):
            self.stats.add_output(out)


@dataclass(frozen=True)
class NextVersion:
    """What ``stage_manifest`` staged: the next version of the output dir, or -- when an
    incremental run read nothing new -- nothing, and the published manifest as it is."""

    manifest: Manifest
    publishing: bool
    audit_dir: Path
    """Where this run's audit files go: the next version (published with its data), or
    the output dir when nothing is published."""
    quarantine_report: Path | None = None
