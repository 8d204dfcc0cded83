"""The flow on an existing Dask cluster gives the same bytes as the single-process run.

Starts ``dask scheduler`` and ``dask worker`` (two one-thread processes) on 127.0.0.1 with
the key in their environment, runs the committed sample through ``task_runner:
dask_address`` and through the thread runner, and compares shards and manifest bytes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.config import PipelineConfig
from tests.conftest import TEST_KEY

pytest.importorskip("prefect_dask", reason="prefect-dask is not installed")

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
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
        deadline = time.monotonic() + 60
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


def _config(output: Path, runtime: dict[str, object]) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(SAMPLE), "batch_size": 8},
            "output": {"dir": str(output)},
            "quarantine_dir": str(output.parent / "quarantine"),
            "runtime": runtime,
        }
    )


def test_dask_cluster_output_is_byte_identical(
    dask_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.run import run_pipeline

    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    local = run_pipeline(_config(tmp_path / "thread" / "out", {"task_runner": "thread"}))
    remote_config = _config(
        tmp_path / "dask" / "out",
        {"task_runner": "dask_address", "dask_address": dask_address},
    )
    remote = run_pipeline(remote_config)

    assert remote.rows_out == local.rows_out == sum(1 for _ in SAMPLE.open())
    local_dir, remote_dir = tmp_path / "thread" / "out", tmp_path / "dask" / "out"
    shards = sorted(p.name for p in local_dir.glob("part-*.parquet"))
    assert shards and shards == sorted(p.name for p in remote_dir.glob("part-*.parquet"))
    for name in [*shards, "manifest.json"]:
        assert (local_dir / name).read_bytes() == (remote_dir / name).read_bytes(), name


def test_dask_address_required_exactly_for_remote_runner() -> None:
    with pytest.raises(ValueError, match="dask_address"):
        _config(Path("/tmp/x/out"), {"task_runner": "dask_address"})
    with pytest.raises(ValueError, match="dask_address"):
        _config(Path("/tmp/x/out"), {"task_runner": "thread", "dask_address": "tcp://h:8786"})
