"""The flow on Dask gives the same bytes as the single-process run.

``task_runner: dask_address``: starts ``dask scheduler`` and ``dask worker`` (two
one-thread processes) on 127.0.0.1 with the key in their environment.  ``task_runner:
dask``: the local cluster ``pipelines.run`` starts, in-process against the test harness
and through ``deidflow run`` on Prefect's temporary server (one server for the flow and
its workers).  Each runs the committed sample and compares shards and manifest bytes
with the thread runner's.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pipelines.config import PipelineConfig
from tests.conftest import TEST_KEY
from tests.paths import REPO
from tests.prefect_harness import STARTUP_TIMEOUT_S

if TYPE_CHECKING:
    from pipelines.report.summary import RunSummary

pytest.importorskip("prefect_dask", reason="prefect-dask is not installed")

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample_data" / "notes.jsonl"
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def dask_address(prefect_harness: Path) -> Iterator[str]:
    """A local ``dask scheduler`` + ``dask worker --nworkers 2``, stopped afterwards."""
    from distributed import Client
    from prefect.settings import PREFECT_API_URL

    dask_cli = Path(sys.executable).with_name("dask")
    if not dask_cli.exists():
        pytest.skip("the dask command is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DEIDFLOW_KEY": TEST_KEY,  # workers read the key from their own environment
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),  # task runs report to the test server
        "OMP_NUM_THREADS": "1",
    }
    common = {"env": env, "cwd": REPO, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [str(dask_cli), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        **common,
    )
    worker = subprocess.Popen(
        [str(dask_cli), "worker", address, "--nworkers", str(WORKERS), "--nthreads", "1"]
        + ["--host", "127.0.0.1", "--no-dashboard"],
        **common,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:  # the scheduler needs a moment before it accepts connections
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(WORKERS, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline or scheduler.poll() is not None:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        _stop(worker)
        _stop(scheduler)


def _mapping(output: Path, runtime: dict[str, object]) -> dict[str, object]:
    return {
        "source": {"kind": "files", "path": str(SAMPLE), "batch_size": 8},
        "output": {"dir": str(output)},
        "quarantine_dir": str(output.parent / "quarantine"),
        "runtime": runtime,
    }


def _config(output: Path, runtime: dict[str, object]) -> PipelineConfig:
    return PipelineConfig.model_validate(_mapping(output, runtime))


@pytest.fixture(scope="module")
def thread_output(prefect_harness: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The thread runner's output for the sample: what every Dask run must match."""
    from pipelines.run import run_pipeline

    out = tmp_path_factory.mktemp("thread") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEIDFLOW_KEY", TEST_KEY)
        summary = run_pipeline(_config(out, {"task_runner": "thread"}))
    assert summary.rows_out == sum(1 for _ in SAMPLE.open())
    return out


def _assert_same_output(expected: Path, actual: Path) -> None:
    shards = sorted(f"data/{p.name}" for p in expected.glob("data/*.parquet"))
    assert shards and shards == sorted(f"data/{p.name}" for p in actual.glob("data/*.parquet"))
    for name in [*shards, "manifest.json", "lineage.parquet", "README.md"]:
        assert (expected / name).read_bytes() == (actual / name).read_bytes(), name


def test_dask_cluster_output_is_byte_identical(
    dask_address: str, thread_output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    from pipelines.run import run_pipeline

    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    remote_config = _config(
        tmp_path / "dask" / "out",
        {"task_runner": "dask_address", "dask_address": dask_address},
    )
    remote: RunSummary = run_pipeline(remote_config)

    assert remote.rows_out == sum(1 for _ in SAMPLE.open())
    _assert_same_output(thread_output, tmp_path / "dask" / "out")
    with Client(dask_address, timeout=30) as client:
        built = client.run(_transformers_built)
    # 10 batches over 2 workers: one de-identifier per worker process, not one per batch.
    assert len(built) == WORKERS and max(built.values()) == 1


def test_served_flow_uses_the_configured_dask_runner(
    dask_address: str, thread_output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``deidflow serve``'s flow honours ``runtime.task_runner`` (its batches run on Dask)."""
    from distributed import Client

    from pipelines.serve import scheduled_deidentify

    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    with Client(dask_address, timeout=30) as client:
        before = sum(client.run(_tasks_run).values())
    out = tmp_path / "served" / "out"
    config_file = tmp_path / "served.yaml"
    mapping = _mapping(out, {"task_runner": "dask_address", "dask_address": dask_address})
    config_file.write_text(json.dumps(mapping, default=str))  # JSON is YAML

    summary = scheduled_deidentify(config_file=str(config_file))

    assert summary.rows_out == sum(1 for _ in SAMPLE.open())
    _assert_same_output(thread_output, out)
    with Client(dask_address, timeout=30) as client:
        after = sum(client.run(_tasks_run).values())
    assert after - before == _batches(summary.rows_in, 8)  # every batch ran on the cluster


def test_local_cluster_output_is_byte_identical(
    prefect_harness: Path, thread_output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.run import run_pipeline

    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    config = _config(tmp_path / "out", {"task_runner": "dask", "workers": WORKERS})
    summary = run_pipeline(config)

    assert summary.rows_out == sum(1 for _ in SAMPLE.open())
    _assert_same_output(thread_output, tmp_path / "out")


def test_local_cluster_workers_share_the_flow_api_and_reuse_one_deidentifier(
    prefect_harness: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client
    from prefect.settings import PREFECT_API_URL

    from pipelines.flow import deidentify_notes
    from pipelines.run import task_runner_for_run

    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    config = _config(tmp_path / "out", {"task_runner": "dask", "workers": WORKERS})
    with task_runner_for_run(config) as runner:
        deidentify_notes.with_options(task_runner=runner)(config)
        with Client(runner.address, timeout=30) as client:
            facts = list(client.run(_worker_facts).values())
            nanny_env = list(client.run(_nanny_env, nanny=True).values())

    assert len(facts) == WORKERS
    for fact in facts:
        assert fact["api_url"] == str(PREFECT_API_URL.value())  # no server of its own
        assert fact["has_key"]  # inherited from this process's environment ...
        assert fact["offline"] == {"DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}
        assert fact["transformers"] == 1  # warm-up's, reused by every batch
        assert fact["dask_profiler"] is False  # its stack sampling cost ~4 % of the CPU
        assert fact["malloc_trim_threshold"] is None  # Dask's 64 KiB: memory faulted in again
        assert fact["gc_frozen"] > 10_000  # the warm-up's long-lived objects
        assert not fact["loaded_gx"], " ".join(fact["pipelines_modules"])
    assert len(nanny_env) == WORKERS
    for env in nanny_env:  # ... and never copied into Dask's own worker settings
        assert "DEIDFLOW_KEY" not in env and TEST_KEY not in env.values()
        assert env["PREFECT_API_URL"] == str(PREFECT_API_URL.value())


def test_deidflow_run_on_local_cluster_starts_one_prefect_server(
    thread_output: Path, tmp_path: Path
) -> None:
    """Without ``PREFECT_API_URL`` the flow and both workers share one temporary server."""
    out = tmp_path / "out"
    config = tmp_path / "run.json"
    config.write_text(json.dumps(_mapping(out, {"task_runner": "dask", "workers": WORKERS})))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        DEIDFLOW_KEY=TEST_KEY,
        PREFECT_HOME=str(tmp_path / "prefect-home"),  # its own temporary server's database
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    deidflow = Path(sys.executable).with_name("deidflow")
    done = subprocess.run(
        [str(deidflow), "run", "--verbose", str(config)],  # Prefect's INFO logs: the server starts
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
    # Before the fix each worker process started a server of its own (3 in all). The run
    # starts its own (pipelines.prefect_server), and no process starts Prefect's.
    assert done.stderr.count("Starting the run's temporary Prefect server") == 1
    assert done.stderr.count("Starting temporary server") == 0
    assert TEST_KEY not in done.stdout + done.stderr
    _assert_same_output(thread_output, out)


def _batches(notes: int, batch_size: int) -> int:
    """How many batches ``notes`` make (the first ones are smaller: ``ramped_batch_size``)."""
    from pipelines.stream import ramped_batch_size

    count = 0
    while notes > 0:
        notes -= ramped_batch_size(batch_size, count)
        count += 1
    return count


def _tasks_run(dask_worker: Any) -> int:
    """On a worker: Dask tasks it has executed (``client.run`` calls are not tasks)."""
    return int(dask_worker.state.executed_count)


def _transformers_built() -> int:
    """On a worker: de-identifiers this process holds for reuse (``pipelines.tasks.deidentify``)."""
    from pipelines.tasks import deidentify as deidentify_task

    return sum(len(pool) for pool in deidentify_task._idle_transformers.values())


def _worker_facts() -> dict[str, Any]:
    """On a worker: what it reports to and what its environment holds (no key value)."""
    return {
        "api_url": os.environ.get("PREFECT_API_URL"),
        "has_key": bool(os.environ.get("DEIDFLOW_KEY")),
        "offline": {k: os.environ.get(k) for k in ("DO_NOT_TRACK", "HF_HUB_OFFLINE")},
        "transformers": _transformers_built(),
        # Only the flow process validates: a worker that loaded GX paid seconds and ~100 MB.
        "loaded_gx": "great_expectations" in sys.modules,
        "pipelines_modules": sorted(m for m in sys.modules if m.startswith("pipelines")),
        "dask_profiler": _dask_setting("distributed.worker.profile.enabled"),
        "malloc_trim_threshold": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "gc_frozen": gc.get_freeze_count(),
    }


def _dask_setting(key: str) -> Any:
    import dask

    return dask.config.get(key)


def test_dask_address_required_exactly_for_remote_runner() -> None:
    with pytest.raises(ValueError, match="dask_address"):
        _config(Path("/tmp/x/out"), {"task_runner": "dask_address"})
    with pytest.raises(ValueError, match="dask_address"):
        _config(Path("/tmp/x/out"), {"task_runner": "thread", "dask_address": "tcp://h:8786"})


def _nanny_env(dask_worker: Any) -> dict[str, str]:
    """On a nanny: the variables it sets in its worker process (``Nanny(env=...)``)."""
    return dict(dask_worker.env)
