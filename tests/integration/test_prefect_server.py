"""The steward's path end to end: a real Prefect server, ``deidflow serve``, a run triggered
through the API with an edited parameter, its artifacts, and the UI page of the run.

Starts ``prefect server start --host 127.0.0.1`` on a free port (SQLite in a temporary
PREFECT_HOME, analytics off), serves the sample job's deployment from a ``deidflow
serve`` subprocess, triggers it over the REST API the UI uses, and waits for COMPLETED.
Every process started here is stopped by its fixture.  With ``DEIDFLOW_SCREENSHOT_DIR``
set, the UI screenshots are saved there (that is how ``docs/`` gets them).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import TEST_KEY
from tests.integration.chromium import browser, ensure_chromium
from tests.paths import REPO
from tests.prefect_harness import STARTUP_TIMEOUT_S

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample_data" / "notes.jsonl"
BIN = Path(sys.executable).parent
DEPLOYMENT = "steward-test"
N_NOTES = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _offline_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        HF_HUB_OFFLINE="1",
        TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="",
        **extra,
    )
    return env


def _stop(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """End a process we started (and its own process group: runner subprocesses)."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _api(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One API call, retried like Prefect's own client does on 429/502/503 (SQLite is busy
    while the scheduler and the runner write)."""
    for attempt in range(8):
        reply = httpx.request(method, url, timeout=30, **kwargs)
        if reply.status_code not in (429, 502, 503):
            return reply
        time.sleep(0.25 * 2**attempt)
    return reply


def _tail(path: Path, lines: int = 40) -> str:
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
    )


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:<port>
    home: Path

    @property
    def api(self) -> str:
        return f"{self.url}/api"


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[Server]:
    home = Path(tempfile.mkdtemp(prefix="deidflow-prefect-server-"))
    port = _free_port()
    log = home / "server.log"
    # The UI asks the API at PREFECT_UI_API_URL, which defaults to port 4200.
    env = _offline_env(home, PREFECT_UI_API_URL=f"http://127.0.0.1:{port}/api")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", home)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"prefect server exited {proc.returncode}:\n{_tail(log)}")
            try:
                if httpx.get(f"{server.api}/health", timeout=2).json() is True:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"prefect server not healthy after {STARTUP_TIMEOUT_S:g} s:\n{_tail(log)}"
                )
            time.sleep(0.5)
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pipeline config over a few sample notes, with an annotated sample for the risk."""
    tmp = tmp_path_factory.mktemp("served-job")
    lines = SAMPLE.read_text().splitlines()
    notes = tmp / "notes.jsonl"
    notes.write_text(
        "".join(
            json.dumps({k: v for k, v in json.loads(line).items() if k != "spans"}) + "\n"
            for line in lines[:N_NOTES]
        )
    )
    gold = tmp / "annotated-sample.jsonl"
    gold.write_text("\n".join(lines[N_NOTES : N_NOTES + 8]) + "\n")
    config = {
        "source": {"kind": "files", "path": str(notes), "batch_size": 16},
        "output": {"dir": str(tmp / "out" / "steward-test")},
        "deid": {"detection": {"use_tagger": False}},
        "report": {"gold_sample": str(gold)},
    }
    path = tmp / "steward-test.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def served(prefect_server: Server, job: Path) -> Iterator[dict[str, Any]]:
    """``deidflow serve JOB --cron ...`` running; yields the registered deployment."""
    log = job.parent / "serve.log"
    env = _offline_env(
        prefect_server.home,
        PREFECT_API_URL=prefect_server.api,
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        DEIDFLOW_KEY=TEST_KEY,
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "deidflow"), "serve", str(job), "--cron", "0 3 * * *", "--name", DEPLOYMENT],
            env=env,
            cwd=job.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"deidflow serve exited {proc.returncode}:\n{_tail(log)}")
            reply = _api("GET", f"{prefect_server.api}/deployments/name/deidflow/{DEPLOYMENT}")
            if reply.status_code == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"deployment not registered after {STARTUP_TIMEOUT_S:g} s:\n{_tail(log)}"
                )
            time.sleep(0.5)
        yield {**reply.json(), "log": log}
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def completed_run(prefect_server: Server, served: dict[str, Any]) -> dict[str, Any]:
    """A run triggered as the UI's "Run" button does, with one parameter edited."""
    reply = _api(
        "POST",
        f"{prefect_server.api}/deployments/{served['id']}/create_flow_run",
        json={"parameters": {"mode": "tag"}},
    )
    assert reply.status_code == 201, f"{reply.status_code}: {reply.text[:500]}"
    run_id = reply.json()["id"]
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        run = _api("GET", f"{prefect_server.api}/flow_runs/{run_id}").json()
        state = (run.get("state") or {}).get("type")
        if state == "COMPLETED":
            return run
        if state in {"FAILED", "CRASHED", "CANCELLED"} or time.monotonic() > deadline:
            pytest.fail(f"flow run ended {state}:\n{_tail(served['log'])}")
        time.sleep(1)


def test_deployment_has_the_schedule_and_editable_parameters(
    served: dict[str, Any], job: Path
) -> None:
    (schedule,) = served["schedules"]
    assert schedule["schedule"]["cron"] == "0 3 * * *" and schedule["active"]
    assert served["parameters"]["config_file"] == str(job)
    assert served["parameters"]["policy"] == "safe_harbor"
    editable = served["parameter_openapi_schema"]["properties"]
    assert {"source", "output", "policy", "mode", "gold_sample"} <= set(editable)


def test_triggered_run_completes_with_the_edited_parameter(
    completed_run: dict[str, Any], job: Path
) -> None:
    assert completed_run["parameters"]["mode"] == "tag"
    config = yaml.safe_load(job.read_text())
    report = json.loads((Path(config["output"]["dir"]) / "audit_report.json").read_text())
    assert report["run"]["flow_run_id"] == completed_run["id"]
    assert report["policy"]["default_mode"] == "tag"
    assert report["counts"]["rows_out"] == N_NOTES
    assert report["risk"]["status"] == "estimated"


def test_run_has_its_artifacts(prefect_server: Server, completed_run: dict[str, Any]) -> None:
    reply = _api(
        "POST",
        f"{prefect_server.api}/artifacts/filter",
        json={"artifacts": {"flow_run_id": {"any_": [completed_run["id"]]}}},
    )
    reply.raise_for_status()
    artifacts = {a["key"]: a for a in reply.json()}
    prefix = f"deidflow-{DEPLOYMENT}-"
    for suffix in ("summary", "counts", "phi-by-type", "phi-by-note-type", "validation", "shards"):
        assert prefix + suffix in artifacts
    assert artifacts[prefix + "summary"]["type"] == "markdown"
    assert f"| Rows out | {N_NOTES} |" in artifacts[prefix + "summary"]["data"]
    assert "leaked identifiers per 10,000 notes" in artifacts[prefix + "summary"]["data"]
    assert artifacts[prefix + "recall-by-type"]["type"] == "table"


def test_ui_shows_the_run(prefect_server: Server, completed_run: dict[str, Any]) -> None:
    binary, why = ensure_chromium()
    if binary is None:
        pytest.skip(why)
    shots = os.environ.get("DEIDFLOW_SCREENSHOT_DIR")
    with browser(binary, width=1440, height=1000) as page:
        load = page.load(f"{prefect_server.url}/runs/flow-run/{completed_run['id']}", settle=4)
        text = page.evaluate("document.body.innerText")
        assert completed_run["name"] in text
        assert "Completed" in text
        # The UI is served by the local server: nothing is fetched from anywhere else.
        assert all(u.startswith((prefect_server.url, "data:", "blob:")) for u in load.requests)
        if shots:
            page.screenshot(Path(shots) / "prefect-flow-run.png")
            assert page.evaluate(_CLICK_ARTIFACTS_TAB)
            time.sleep(2)
            page.screenshot(Path(shots) / "prefect-flow-run-artifacts.png")
            summary = _summary_artifact(prefect_server, completed_run["id"])
            page.load(f"{prefect_server.url}/artifacts/artifact/{summary}", settle=3)
            page.screenshot(Path(shots) / "prefect-run-summary-artifact.png")


_CLICK_ARTIFACTS_TAB = """(() => {
  const label = [...document.querySelectorAll("body *")]
    .filter(e => e.children.length === 0 && e.textContent.trim() === "Artifacts").pop();
  if (!label) return false;
  (label.closest("button, a, [role=tab], li") || label).click();
  return true;
})()"""


def _summary_artifact(server: Server, flow_run_id: str) -> str:
    reply = _api(
        "POST",
        f"{server.api}/artifacts/filter",
        json={
            "artifacts": {"flow_run_id": {"any_": [flow_run_id]}, "type": {"any_": ["markdown"]}}
        },
    )
    reply.raise_for_status()
    (artifact,) = reply.json()
    return artifact["id"]
