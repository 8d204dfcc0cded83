"""The mapped task: detect, anonymize and screen one batch of notes.

The one task that runs on the workers (threads of the flow process, or Dask worker
processes).  A worker imports only what it runs: deid, the transform and the residual
screen (``pipelines.gate.residual``); not Great Expectations nor the report writer,
which the flow process alone needs (that import was ~6 s of CPU and ~100 MB per worker).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from prefect import task

from deid.anonymization.deidentifier import Deidentifier
from deid.anonymization.keys import load_key
from deid.errors import phi_safe_errors
from pipelines.config import PipelineConfig
from pipelines.gate.residual import screen_residuals
from pipelines.tasks import NO_PHI_STORAGE
from pipelines.transform import BatchOutput, NoteBatch, NoteTransformer

_idle_transformers: dict[tuple[str, str], list[NoteTransformer]] = {}
_idle_lock = threading.Lock()


@contextmanager
def checked_out_transformer(config: PipelineConfig) -> Iterator[NoteTransformer]:
    """A transformer for this config and key, used by one task at a time.

    Building one loads spaCy and the recognizers (seconds), so idle ones are kept for
    the next batch and the next run in this process; a deidentifier is not thread-safe,
    so each is lent to one task at a time.
    """
    secret = load_key(config.deid.anonymization)
    pool_key = (config.config_hash(), secret.fingerprint())  # not locations: reused across runs
    with _idle_lock:
        idle = _idle_transformers.setdefault(pool_key, [])
        transformer = idle.pop() if idle else None
    if transformer is None:
        deidentifier = Deidentifier(config.deid, key=secret)
        _ = deidentifier.detector  # build now: a broken setup must fail the run, not each note
        transformer = NoteTransformer(config, secret, deidentifier)
    try:
        yield transformer
    finally:
        with _idle_lock:
            _idle_transformers[pool_key].append(transformer)


@task(name="deidentify-batch", task_run_name="deidentify-batch-{batch.index}", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def deidentify_batch(batch: NoteBatch, config: PipelineConfig) -> BatchOutput:
    """Detect and replace PHI in one batch (runs mapped, several at once), then screen it."""
    with checked_out_transformer(config) as transformer:
        out = transformer.transform(batch)
    screen_residuals(out, len(batch))
    return out
