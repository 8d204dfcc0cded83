"""``deidflow serve``: the pipeline as scheduled Prefect deployments, editable in the UI.

Each pipeline config file becomes one deployment of the ``deidflow`` flow, served by
this process with ``prefect.serve`` (no work pool, no worker): a cron schedule, and
parameters a steward can edit and trigger from the Prefect UI — the config file, and
overrides for the source path, output directory, policy, mode and annotated sample.
Every run executes in a fresh subprocess of this one, so the key must be in this
process's environment (``DEIDFLOW_KEY``) or in a Prefect Secret block named by the config.

The parameters are paths and setting names, never data: they are what Prefect stores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.deployments.runner import RunnerDeployment
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from deid.config import Mode, Policy
from pipelines.config import (
    FhirSource,
    FilesSource,
    PipelineConfig,
    PostgresSource,
    SqlSource,
    is_url,
)
from pipelines.report.summary import RunSummary

DEFAULT_CRON = "0 2 * * *"
"""Nightly at 02:00 (in ``timezone``, UTC by default)."""

SERVED_THREADS = 1
"""Threads of the served flow's own task runner: the default ``runtime.workers``.  Prefect's
default pool is unbounded, so every batch in flight ran at once (8 on a test run), each
building its own de-identifier.  Other ``runtime`` settings run as a subflow."""
_SERVED_RUNNER: TaskRunner[Any] = ThreadPoolTaskRunner(max_workers=SERVED_THREADS)


@flow(
    name="deidflow",
    persist_result=False,
    log_prints=False,
    task_runner=_SERVED_RUNNER,
)
def scheduled_deidentify(
    config_file: str,
    source: str | None = None,
    output: str | None = None,
    policy: Policy | None = None,
    mode: Mode | None = None,
    gold_sample: str | None = None,
) -> RunSummary:
    """De-identify notes per a pipeline config file, with optional overrides.

    Args:
        config_file: Pipeline config YAML (relative paths in it are relative to the file).
        source: Replaces the path of a file source (a JSONL/CSV/Parquet file or a folder of .txt notes).
        output: Replaces the output directory (shards, manifest, audit report).
        policy: Replaces the de-identification policy (safe_harbor or strict).
        mode: Replaces the default replacement mode (surrogate, tag or mask).
        gold_sample: Annotated sample of your notes: the audit report then estimates residual risk.
    """
    from pipelines.flow import deidentify_notes
    from pipelines.preflight import preflight

    config = apply_overrides(
        PipelineConfig.from_file(config_file),
        source=source,
        output=output,
        policy=policy,
        mode=mode,
        gold_sample=gold_sample,
    )
    preflight(config)  # one clear failure in the UI, before any note is read
    if config.runtime.task_runner == "thread" and config.runtime.workers == SERVED_THREADS:
        # Run the pipeline's body in this flow run, so its tasks and artifacts show on the
        # page of the run the steward triggered (a subflow would put them one click away).
        return deidentify_notes.fn(config)
    # A served run's task runner is the flow decorator's (Prefect's runner loads the flow
    # from its entrypoint, without ``with_options``), and a flow run cannot change it, so
    # other runners are a subflow with the configured one (for ``dask``: a local cluster
    # whose workers report to the same API).
    from pipelines.run import task_runner_for_run

    with task_runner_for_run(config) as runner:
        return deidentify_notes.with_options(task_runner=runner)(config)


def apply_overrides(
    config: PipelineConfig,
    *,
    source: str | None = None,
    output: str | None = None,
    policy: Policy | None = None,
    mode: Mode | None = None,
    gold_sample: str | None = None,
) -> PipelineConfig:
    """``config`` with the given settings replaced (``None`` keeps the file's value).

    Re-validated as a whole, so an override is checked like the file itself.
    """
    data = config.model_dump(mode="python")
    if source:
        if not isinstance(config.source, FilesSource | FhirSource):
            raise ValueError("'source' only replaces the path of a file or fhir source")
        data["source"]["url"] = None
        data["source"]["path"] = source if is_url(source) else _absolute(source)
    if output:
        data["output"]["dir"] = _absolute(output)
    if policy:
        data["deid"]["anonymization"]["policy"] = policy
    if mode:
        data["deid"]["anonymization"]["default_mode"] = mode
    if gold_sample:
        data["report"]["gold_sample"] = _absolute(gold_sample)
    return PipelineConfig.model_validate(data)


def build_deployment(
    config_path: Path,
    *,
    name: str | None = None,
    cron: str | None = DEFAULT_CRON,
    timezone: str | None = None,
    paused: bool = False,
) -> RunnerDeployment:
    """A deployment of the ``deidflow`` flow for one config file.

    The UI shows the config's own values as the default parameters; ``cron=None`` makes a
    deployment that runs only when triggered.
    """
    from prefect.schedules import Cron

    config_path = config_path.resolve()
    config = PipelineConfig.from_file(config_path)  # fail now, not at 2 a.m.
    parameters: dict[str, Any] = {
        "config_file": str(config_path),
        "output": str(config.output.dir),
        "policy": config.deid.anonymization.policy,
        "mode": config.deid.anonymization.default_mode,
    }
    if isinstance(config.source, FilesSource | FhirSource):
        parameters["source"] = config.source.location
    if config.report.gold_sample is not None:
        parameters["gold_sample"] = str(config.report.gold_sample)
    deployment = scheduled_deidentify.to_deployment(  # the runner: ``config.runtime``, per run
        name=name or config_path.stem,
        schedules=[Cron(cron, timezone=timezone)] if cron else None,
        paused=paused,
        parameters=parameters,
        description=f"De-identify notes per {config_path.name}; edit the parameters to override it.",
        tags=["deidflow"],
    )
    if not isinstance(deployment, RunnerDeployment):  # a coroutine, from async code only
        raise TypeError("deployments are built from synchronous code here")
    return deployment


def serve_configs(
    config_paths: list[Path],
    *,
    cron: str | None = DEFAULT_CRON,
    timezone: str | None = None,
    name: str | None = None,
    paused: bool = False,
    limit: int | None = 1,
    temporary_server: bool = False,
) -> None:
    """Register one deployment per config and serve them until interrupted (Ctrl-C).

    ``limit`` caps concurrent runs of this process (detection is CPU-bound).  Refuses
    to start (``pipelines.exit_codes.UsageError``) without a reachable ``PREFECT_API_URL``
    unless ``temporary_server`` (the deployments then vanish with this process), and
    without the key or a database DSN variable the scheduled runs would need.
    """
    from prefect import serve

    from deid.anonymization.keys import load_key
    from pipelines.exit_codes import UsageError
    from pipelines.preflight import check_prefect_api, require_dsn

    if name and len(config_paths) > 1:
        raise UsageError(
            "--name applies to one config", "drop it: deployments are named after their files"
        )
    configs = [PipelineConfig.from_file(path) for path in config_paths]
    for config in configs:  # what every scheduled run needs: fail now, not at 2 a.m.
        load_key(config.deid.anonymization)
        if isinstance(config.source, PostgresSource):
            require_dsn(config.source)
        elif isinstance(config.source, SqlSource) and config.source.url_secret is None:
            from pipelines.sources.sql import source_url

            source_url(config.source)  # its environment variables are set
    check_prefect_api(required=not temporary_server)
    deployments = [
        build_deployment(path, name=name, cron=cron, timezone=timezone, paused=paused)
        for path in config_paths
    ]
    serve(*deployments, limit=limit)


def _absolute(path: str) -> Path:
    return Path(path).expanduser().resolve()
