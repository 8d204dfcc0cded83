"""One Prefect server for a whole test session, shared by every xdist worker.

Prefect's own ``prefect_test_harness`` starts a server per process, with a start-up
limit: four workers on two cores started four servers at once and some gave up.  Here
the first test that needs a server starts one (``prefect server start`` on a free port,
its own SQLite file and home, UI off) under a file lock, waits for ``/api/health`` with
a generous timeout, and records it; every other worker finds the record and uses the
same server.  The session's controller stops it at the end (``stop_session_server``).
A watcher process ends the server if the controller dies without doing so, so a killed
test run leaves no server behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SHARED_ENV = "DEIDFLOW_TEST_SHARED_DIR"
"""A directory every process of the session knows (set by the controller)."""
CONTROLLER_ENV = "DEIDFLOW_TEST_CONTROLLER_PID"
STARTUP_TIMEOUT_S = 600.0
"""How long the first test waits for the server: minutes, on a loaded machine."""
PREFECT = Path(sys.executable).with_name("prefect")


@dataclass(frozen=True)
class SessionServer:
    api_url: str
    db: Path
    """The server's SQLite database (tests scan it for PHI)."""
    pid: int
    """The watcher's process group (the server runs in it)."""


def configure_session() -> None:
    """In the session's controller: the shared directory the workers inherit."""
    if SHARED_ENV not in os.environ:
        os.environ[SHARED_ENV] = tempfile.mkdtemp(prefix="deidflow-test-session-")
        os.environ[CONTROLLER_ENV] = str(os.getpid())


def stop_session_server() -> None:
    """In the controller, at the end: stop the server if one was started."""
    shared = os.environ.get(SHARED_ENV)
    if not shared or os.environ.get(CONTROLLER_ENV) != str(os.getpid()):
        return
    state = Path(shared) / "server.json"
    if state.is_file():
        pid = int(json.loads(state.read_text())["pid"])
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    with contextlib.suppress(OSError):
        for path in sorted(Path(shared).rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        Path(shared).rmdir()


def session_server() -> SessionServer:
    """The session's server: started by the first caller, found by the others."""
    configure_session()  # a run without the controller's hook (single process)
    shared = Path(os.environ[SHARED_ENV])
    state = shared / "server.json"
    with _locked(shared / "server.lock"):
        if state.is_file():
            data = json.loads(state.read_text())
            server = SessionServer(data["api_url"], Path(data["db"]), int(data["pid"]))
        else:
            server = _start(shared)
            state.write_text(
                json.dumps({"api_url": server.api_url, "db": str(server.db), "pid": server.pid})
            )
        _wait_healthy(server)
    return server


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _start(shared: Path) -> SessionServer:
    home, db = shared / "server-home", shared / "prefect.db"
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{db}",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{db}",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("PREFECT_API_URL", None)
    command = [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    controller = os.environ.get(CONTROLLER_ENV, str(os.getpid()))
    log = (shared / "server.log").open("wb")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tests.prefect_harness", controller, *command],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: stopping it stops the server too
        cwd=Path(__file__).resolve().parents[1],
    )
    return SessionServer(f"http://127.0.0.1:{port}/api", db, watcher.pid)


def _wait_healthy(server: SessionServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{server.api_url}/health", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the test Prefect server did not answer in {STARTUP_TIMEOUT_S} s")
        time.sleep(0.25)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _watch(controller: int, command: list[str]) -> int:
    """Run ``command`` (the server) until it ends or the ``controller`` process is gone."""
    server = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    while server.poll() is None:
        try:
            os.kill(controller, 0)
        except ProcessLookupError:
            server.terminate()
            break
        time.sleep(1.0)
    try:
        return server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        return server.wait()


if __name__ == "__main__":
    sys.exit(_watch(int(sys.argv[1]), sys.argv[2:]))
