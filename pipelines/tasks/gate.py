"""The gate's tasks: validate each window as it comes, enforce the gate before publishing
(``pipelines.gate``)."""

from __future__ import annotations

from collections.abc import Mapping

from prefect import get_run_logger, task

from deid.errors import phi_safe_errors
from pipelines.config import PipelineConfig
from pipelines.gate.enforcement import enforce
from pipelines.gate.validation import ValidationOutcome, check_window
from pipelines.stream import RunCounts, Window
from pipelines.tasks import NO_PHI_STORAGE
from pipelines.transform import BatchOutput


@task(name="validate-window", **NO_PHI_STORAGE)
@phi_safe_errors  # these handle note text: their errors reach Prefect by type only
def validate_window(window: Window, outputs: list[BatchOutput]) -> ValidationOutcome:
    """Run the Great Expectations gate on one window's output rows and counts."""
    outcome = check_window(window, outputs)
    if not outcome.success and outcome.summary:  # the rows failed (not only the counts)
        get_run_logger().error(
            "validation failed for %d expectation(s) in this window", len(outcome.failures)
        )
    return outcome


@task(name="enforce-gate", **NO_PHI_STORAGE)
def enforce_gate(
    config: PipelineConfig, counts: RunCounts, window_failures: Mapping[str, int]
) -> None:
    """Raise unless the run may publish (``pipelines.gate.enforcement.enforce``)."""
    enforce(config, counts, window_failures)
