"""The flow's Prefect tasks, one module per stage: thin shells over library calls.

``prepare`` (lock the output, clear leftovers, load the key, open the staging area) ->
``deidentify`` (mapped over batches, on the workers) -> ``gate`` (validate each window,
enforce the gate before publication) -> ``stage`` (shards, quarantine, manifest: the
next version of the output dir) -> ``publish`` (the swap) -> ``report`` (run summary,
audit report, Prefect artifacts).  ``context`` holds what they share: the run's
context, its staging area (live handles) and its tally (values).

Tasks return what they did; the flow folds it into the run's tally.  Where a task must
write (shards, the quarantine) it is handed the staging area, a live handle Prefect
records by reference only (``quote``).

PHI and Prefect.  No task persists its result or caches (``NO_PHI_STORAGE``), so
nothing a task returns is written to Prefect's result storage.  Task inputs are
recorded by Prefect only as references and type names, never values, and run names
use batch indexes only.  Nothing here logs note content: the Prefect logger receives
counts and ID-free messages, and exceptions raised here carry counts, check names and
file names.  This package's ``__init__`` stays light: the workers import
``pipelines.tasks.deidentify`` and nothing else of it.
"""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE

NO_PHI_STORAGE: dict[str, Any] = {"persist_result": False, "cache_policy": NO_CACHE}
"""Options of every task that handles notes: no result persistence, no cache keys."""
