"""What ``deidflow run`` calls: run the flow in-process and return its summary.

``run_pipeline(config)`` runs the Prefect flow without a server of your own: unless
``PREFECT_API_URL`` points at one, Prefect's temporary server (one per run, shared with
the workers of a local Dask cluster: ``task_runner_for_run``).  ``config_for_input``
builds the config for the shortcut ``deidflow run --input notes.jsonl --output DIR``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.config import FilesSource, OutputConfig, PipelineConfig, RuntimeConfig, is_url
from pipelines.prefect_server import TemporaryPrefectServer
from pipelines.preflight import count_records, preflight
from pipelines.progress import RunProgress, quiet_prefect_console
from pipelines.report.summary import RunSummary


def config_for_input(
    input_path: str | Path,
    output_dir: str | Path,
    quarantine_dir: str | Path | None = None,
) -> PipelineConfig:
    """Defaults for one input file (JSONL/CSV/Parquet by suffix, or a .txt directory).

    The key comes from ``DEIDFLOW_KEY``; the quarantine defaults to
    ``<input>.deidflow-quarantine-RESTRICTED/`` beside the input.
    """
    return PipelineConfig(
        source=FilesSource(path=Path(input_path).resolve()),
        output=OutputConfig(dir=Path(output_dir).resolve()),
        quarantine_dir=Path(quarantine_dir).resolve() if quarantine_dir else None,
    )


def run_from_cli(
    config_path: Path | None,
    input_path: Path | str | None,
    output_dir: Path | None,
    progress: bool = True,
    *,
    file_format: str | None = None,
    columns: dict[str, str] | None = None,
    allow_empty: bool = False,
    max_quarantine_fraction: float | None = None,
    verbose: bool = False,
    debug: bool = False,
    quarantine_dir: Path | None = None,
) -> int:
    """``deidflow run [CONFIG] [--input PATH] [--output DIR] ...``; returns the exit code.

    With CONFIG, ``--input`` replaces a file source's path and ``--output`` the output
    dir; without it both are required.  The other arguments override the config (see
    ``deidflow run --help``).  Exit codes: ``pipelines.exit_codes.ExitCode``.  A failure
    prints one line on stderr, ``deidflow: <what is wrong> — <what to do>``; messages
    name files, settings, checks and counts, never note content: an unexpected error is
    shown by its type only (``deid.errors.describe_exception``), since its message could
    quote a note.
    """
    from pipelines.exit_codes import report_failure

    try:
        config = cli_config(
            config_path,
            input_path,
            output_dir,
            file_format=file_format,
            columns=columns,
            allow_empty=allow_empty,
            max_quarantine_fraction=max_quarantine_fraction,
            quarantine_dir=quarantine_dir,
        )
        preflight(config)  # before any Prefect server starts: a mistake costs a second
        display = RunProgress(
            sys.stderr, count=lambda: _count(config), show=progress and sys.stderr.isatty()
        )
        with contextlib.ExitStack() as stack:
            if not verbose:  # local Dask workers and the server inherit it
                stack.enter_context(_environ(PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL="WARNING"))
            from pipelines import flow  # noqa: F401 - sets up Prefect's logging, quieted next

            stack.enter_context(display)
            stack.enter_context(
                quiet_prefect_console(verbose=verbose, debug=debug, console=display.console)
            )
            summary = run_pipeline(config, progress=display, checked=True)
    except SystemExit:
        raise
    except BaseException as err:  # noqa: BLE001 - each becomes its one line and exit code
        return report_failure(err, debug=debug)
    print(summary.headline())
    if rate := display.rate_line():
        print(f"rate: {rate}")
    print(f"manifest: {summary.manifest}")
    if summary.quarantined:
        print(f"quarantined records (RESTRICTED, holds PHI): {summary.quarantine_dir}")
    return 0


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Environment variables set for a block (an explicit setting of the user's wins)."""
    added = {k: v for k, v in values.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _count(config: PipelineConfig) -> int | None:
    from pipelines.output.manifest import read_manifest

    previous = None
    if getattr(config.source, "incremental", False) and config.output.dir.is_dir():
        try:
            manifest = read_manifest(config.output.dir)
        except ValueError:  # an older layout: preflight says what to do
            manifest = None
        previous = manifest.source.watermark if manifest else None
    return count_records(config, previous)


def cli_config(
    config_path: Path | None,
    input_path: Path | str | None,
    output_dir: Path | None,
    *,
    file_format: str | None = None,
    columns: dict[str, str] | None = None,
    allow_empty: bool = False,
    max_quarantine_fraction: float | None = None,
    quarantine_dir: Path | None = None,
) -> PipelineConfig:
    """The run's config: the file's (or the defaults for ``--input``), with the
    command line's settings on top, validated as a whole."""
    from pipelines.exit_codes import UsageError

    if input_path is not None and str(input_path) == "-":
        raise UsageError(
            "run cannot read its notes from stdin",
            "save them to a file and pass its path: a run reads its input more than once "
            "and keeps its quarantine beside it",
        )
    if config_path is None:
        if input_path is None or output_dir is None:
            raise UsageError(
                "run needs a CONFIG file, or both --input and --output",
                "e.g. deidflow run --input notes.jsonl --output out/notes",
            )
        data: dict[str, Any] = {
            "source": {"kind": "files", "path": _absolute(input_path)},
            "output": {"dir": _absolute(output_dir)},
        }
        if is_url(str(input_path)) and quarantine_dir is None:
            raise UsageError(
                f"--input {input_path} is a URL, and its quarantine (raw PHI) must be a "
                "local directory, never written back to the bucket",
                "pass --quarantine-dir DIR (a restricted local directory)",
            )
    else:
        data = PipelineConfig.from_file(config_path).model_dump(mode="python", exclude_unset=True)
        if input_path is not None:
            if data["source"].get("kind") not in ("files", "fhir"):
                raise UsageError(
                    "--input replaces the path of a file or fhir source, and this config "
                    f"reads a database ({data['source'].get('kind')})",
                    "drop --input, or use a config with source.kind: files or fhir",
                )
            data["source"].pop("url", None)
            data["source"]["path"] = _absolute(input_path)
        if output_dir is not None:
            data["output"]["dir"] = _absolute(output_dir)
    if quarantine_dir is not None:
        data["quarantine_dir"] = _absolute(quarantine_dir)
    if file_format is not None:
        if data["source"].get("kind") not in ("files", "fhir"):
            raise UsageError("--format applies to file and fhir sources only", "drop --format")
        if file_format == "fhir":
            data["source"]["kind"] = "fhir"
            data["source"].pop("format", None)
        elif data["source"]["kind"] == "fhir":
            raise UsageError(
                f"--format {file_format} with a fhir source", "drop --format, or use --format fhir"
            )
        else:
            data["source"]["format"] = file_format
    if columns:
        data["columns"] = {**data.get("columns", {}), **columns}
    validation = data.setdefault("validation", {})
    if allow_empty:
        validation["allow_empty"] = True
    if max_quarantine_fraction is not None:
        validation["max_quarantine_fraction"] = max_quarantine_fraction
    return PipelineConfig.from_mapping(data)


def _absolute(path: Path | str) -> str:
    # Not resolved: the name the user gave (and its suffix) is the input's, even if a
    # symlink; publication resolves the output dir where it needs to.  A URL stays one.
    return str(path) if is_url(str(path)) else os.path.abspath(path)


def run_pipeline(
    config: PipelineConfig, progress: bool | RunProgress = False, *, checked: bool = False
) -> RunSummary:
    """Run the de-identification flow for ``config`` and return its summary.

    First ``pipelines.preflight.preflight`` (unless ``checked``: the caller ran it): the
    key, the output, the input and its columns, the database, before Prefect starts and
    before any note is read; it raises a ``pipelines.exit_codes.Failure``.  Then raises
    ``pipelines.gate.validation.ValidationFailed`` when the gate or the publication guard
    fails (nothing is published), ``pipelines.tasks.OutputBusy`` if another run holds
    the output directory, ``pipelines.output.shards.ShardCorrupted`` if a staged shard changed
    before it was published (nothing is published).  ``progress``: a ``RunProgress``
    (entered by the caller) or ``True`` for a bar on stderr when it is a terminal.
    """
    if not checked:
        preflight(config)

    from deid.safe_logging import safe_logging
    from pipelines.flow import deidentify_notes, set_progress_callback, set_published_callback

    with contextlib.ExitStack() as stack:
        display: RunProgress | None = None
        if isinstance(progress, RunProgress):
            display = progress
        elif progress:
            display = stack.enter_context(RunProgress(sys.stderr))
        set_progress_callback(display.update if display else None)
        stack.callback(set_progress_callback, None)
        published: list[Path] = []
        set_published_callback(published.append)
        stack.callback(set_published_callback, None)
        try:
            # Every log record of the run, the local cluster's included, is sanitized.
            with (
                safe_logging(),
                prefect_server_for_run(config) as server,
                task_runner_for_run(config, server) as runner,
            ):
                return deidentify_notes.with_options(task_runner=runner)(config)
        except Exception as err:
            if published:  # the dataset and its audit files are out: say so, not "failed"
                raise _published_but_failed(published[0], err) from err
            raise
    raise AssertionError("unreachable")  # pragma: no cover - for type checkers


def _published_but_failed(output_dir: Path, cause: BaseException) -> Exception:
    """The error for a run that published its dataset (shards, manifest, audit report)
    and then failed: exit code 6, not "failed"."""
    from deid.errors import describe_exception
    from pipelines.exit_codes import PublishedButFailed

    return PublishedButFailed(
        f"published {output_dir} (shards, manifest and audit report are in place), but the "
        f"run failed after publishing: {describe_exception(cause)}",
        "nothing to redo; the Prefect UI may lack this run's final state and artifacts",
    )


# Settings the flow process relies on (cli.py and deid/detection/nlp.py set their defaults): given
# to local Dask workers explicitly, on top of the environment they inherit, so a worker
# stays offline and quiet however it is started.  Never the key: workers inherit it with
# the rest of the environment, which keeps it out of Dask's own objects.
WORKER_ENV_VARS = (
    "DO_NOT_TRACK",
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "GX_ANALYTICS_ENABLED",
    "HF_HUB_OFFLINE",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS",
)


@contextmanager
def prefect_server_for_run(config: PipelineConfig) -> Iterator[TemporaryPrefectServer | None]:
    """The run's own temporary Prefect server, started now, or ``None`` if it needs none.

    ``None`` when ``PREFECT_API_URL`` names a server (or a test harness), or when
    Prefect's temporary servers are disabled (Prefect then refuses to run, as it should).
    Otherwise the server is launched here and stopped when the run ends; the kernel
    kills it if this process dies first (``pipelines.prefect_server``).  Callers wait for
    it with ``use_prefect_server``, so that other start-up work overlaps its start.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        yield None
        return
    with TemporaryPrefectServer(config.runtime.prefect_server_timeout) as server:
        try:
            yield server
        finally:
            _drain_prefect_clients()


def _drain_prefect_clients(timeout_s: float = 30.0) -> None:
    """Send Prefect's queued logs and events while the run's server still listens (else
    they fail at exit with "Error logging to API")."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):  # best effort: the run's outcome is decided
            worker.drain_all(timeout=timeout_s)


@contextmanager
def use_prefect_server(server: TemporaryPrefectServer | None) -> Iterator[str | None]:
    """Wait for ``server`` and point Prefect at it for the block; yields the API URL in
    use (``None``: no server set, Prefect's own rules apply)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if server is None:
        url = PREFECT_API_URL.value()
        yield str(url) if url else None
        return
    url = server.wait_ready()
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


@contextmanager
def task_runner_for_run(
    config: PipelineConfig, server: TemporaryPrefectServer | None = None
) -> Iterator[Any]:
    """The task runner for one run of ``config``, with what it needs around it.

    ``server`` is the run's temporary Prefect server (``prefect_server_for_run``), if
    it has one: the flow (and a local cluster's workers) report to it.

    ``thread`` and ``dask_address``: ``task_runner_for(config.runtime)``.  ``dask`` (a
    local cluster): the cluster is started here, not by the runner, for two reasons:

    * one Prefect API for the flow and every worker.  Without ``PREFECT_API_URL`` Prefect
      starts a temporary server in each process that needs one, so each worker process
      started its own (~225 MiB and steady CPU each; measured 0.65x the thread runner).
      The workers are pointed at the run's server instead;
    * warm workers.  Each worker imports deidflow and builds its de-identifier (seconds)
      while that server starts, instead of on its first batch.

    The runner is handed the cluster's address; the cluster stops when the run ends.
    """
    runtime = config.runtime
    if runtime.task_runner != "dask":
        with use_prefect_server(server):
            yield task_runner_for(runtime)
        return
    import dask
    from distributed import Client, LocalCluster
    from prefect.settings import PREFECT_API_URL

    env = {name: os.environ[name] for name in WORKER_ENV_VARS if name in os.environ}
    url = PREFECT_API_URL.value()  # a real server, or a test harness: workers use it too
    if url and server is None:
        env["PREFECT_API_URL"] = str(url)
    with (
        # Dask samples each worker's stack every 10 ms for its dashboard profiler: ~4 % of a
        # worker's CPU (measured: 20k notes, 2 workers, 418-424 -> 426-446 notes/s).  The
        # nannies hand this config to the worker processes.
        dask.config.set(
            {
                "distributed.worker.profile.enabled": False,
                # Dask makes glibc hand back freed heap above 64 KiB at once, so memory a
                # batch frees is faulted in again by the next: a few % of worker CPU.  The
                # detector returns free heap to the OS itself after each memory zone.
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
            }
        ),
        LocalCluster(
            n_workers=runtime.workers,
            threads_per_worker=1,  # one deidentifier per process: CPU-bound Python
            dashboard_address=None,
            env=env,  # distributed.Nanny(env=...): set in each worker process
        ) as cluster,
        Client(cluster) as client,
        contextlib.ExitStack() as stack,
    ):
        client.wait_for_workers(runtime.workers)
        warm_ups = [  # one per worker, ahead of any batch; held until the run ends
            client.submit(_warm_worker, config, workers=[address], pure=False)
            for address in client.scheduler_info(n_workers=-1)["workers"]
        ]
        # The task context sent to each worker carries the URL as well.
        url = stack.enter_context(use_prefect_server(server))
        if server is not None and url:
            client.run(_set_environ, {"PREFECT_API_URL": url})
        yield task_runner_for(runtime, address=cluster.scheduler_address)
        del warm_ups


def task_runner_for(runtime: RuntimeConfig, address: str | None = None) -> Any:
    """The Prefect task runner for the mapped de-id tasks (``runtime.task_runner``).

    Dask workers build their own ``Deidentifier`` (once per worker process, then reused)
    and read the key from their own environment: a local cluster inherits this process's,
    a remote one needs ``DEIDFLOW_KEY`` set on every worker.  For ``dask`` pass the
    ``address`` of the cluster ``task_runner_for_run`` started; without it the runner
    starts a plain local cluster itself.  The output bytes do not depend on the runner.
    """
    if runtime.task_runner == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=runtime.workers)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ValueError(
            f"runtime.task_runner {runtime.task_runner!r} needs prefect-dask "
            "(pip install prefect-dask)"
        ) from None
    if runtime.task_runner == "dask_address":
        return DaskTaskRunner(address=runtime.dask_address)
    if address is not None:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": runtime.workers,
            "threads_per_worker": 1,
            "dashboard_address": None,
        }
    )


def _warm_worker(config: PipelineConfig) -> None:
    """On a Dask worker: build the de-identifier its batches will use (kept per process)."""
    from pipelines.tasks.deidentify import checked_out_transformer

    with checked_out_transformer(config):
        pass
    # What is loaded now (libraries, models, lexicons) lives as long as the worker: keep
    # it out of the garbage collector's full passes, which otherwise walk it again and again.
    gc.freeze()


def _set_environ(values: dict[str, str]) -> None:
    """On a Dask worker: set environment variables (a function, so nothing else is sent)."""
    os.environ.update(values)
