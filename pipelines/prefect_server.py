"""The temporary Prefect server of one run: started by the run, gone with it, always.

Without ``PREFECT_API_URL`` Prefect starts a temporary server of its own
(``SubprocessASGIServer``: ``uvicorn`` running Prefect's API in a child process) and
stops it only from an ``atexit`` hook.  A run killed with SIGKILL never runs that hook,
so the server lived on under init, ~250 MB and open handles on Prefect's database, one
per killed run.  Its start-up also timed out after 20 s on a busy machine, surfacing as
an anonymous ``RuntimeError``.

``TemporaryPrefectServer`` starts the same server itself:

* the kernel kills it when the thread that started it dies (``PR_SET_PDEATHSIG``), which
  covers SIGKILL and any other death of the run; start it from the thread that runs the
  flow (``run_pipeline`` does), which lives until the run ends;
* in a process group of its own, so a Ctrl-C in the terminal reaches the run, which
  reports its final state to the server before stopping it;
* with a generous start-up timeout (``runtime.prefect_server_timeout``, default 300 s, or
  Prefect's own setting if larger) whose failure says what happened and what to do.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import IO, Any

from deid.errors import register_safe_exception

_PR_SET_PDEATHSIG = 1
_PORT_IN_USE_EXIT = 3  # uvicorn's exit status when start-up fails (binding the port, say)
_PORT_ATTEMPTS = 5
_STOP_GRACE_S = 10.0
_LOG_TAIL_LINES = 3


class PrefectServerError(RuntimeError):
    """The run's temporary Prefect server did not start (message: what and what to do)."""


register_safe_exception(PrefectServerError)  # the server's own words; no note is read yet


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent(parent: int) -> Any:
    """A ``preexec_fn``: SIGKILL this child when its parent thread dies (Linux)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the process group remains
        return None

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm


class TemporaryPrefectServer:
    """Prefect's API server for one run on 127.0.0.1 (a free port), stopped with the run.

    ``start`` launches it (fast); ``wait_ready`` waits until it answers and returns its
    API URL; ``stop`` ends it.  Use it as a context manager around the run.
    """

    def __init__(self, timeout_s: float) -> None:
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

        self.timeout_s = max(
            float(timeout_s), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        )
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._ready_url: str | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def __enter__(self) -> TemporaryPrefectServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Launch the server process (returns at once; ``wait_ready`` waits for it)."""
        from prefect.settings import get_current_settings

        if self._log is None:
            # Closed by stop(); the server writes into it for the whole run.
            self._log = tempfile.TemporaryFile(prefix="deidflow-prefect-server-")  # noqa: SIM115
        self.port = _free_port()
        env = {
            **os.environ,
            # What Prefect's own temporary server runs with: no UI, ephemeral, final settings.
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **get_current_settings().to_environment_variables(exclude_unset=True),
        }
        env.pop("PREFECT_API_URL", None)
        import prefect
        from prefect.logging import get_logger

        get_logger("deidflow").info(
            "Starting the run's temporary Prefect server on http://127.0.0.1:%d", self.port
        )

        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(prefect.__module_path__.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            process_group=0,
            preexec_fn=_die_with_parent(os.getpid()),  # noqa: PLW1509 - arms PDEATHSIG only
        )

    def wait_ready(self) -> str:
        """Wait until the server answers (``PrefectServerError`` after the timeout)."""
        if self._ready_url is not None:
            return self._ready_url
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + self.timeout_s
        attempts = 1
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code == _PORT_IN_USE_EXIT and attempts < _PORT_ATTEMPTS and self._port_taken():
                attempts += 1  # another process took the port between the probe and the bind
                self.start()
                continue
            if code is not None:
                raise PrefectServerError(
                    f"the temporary Prefect server exited with status {code} before it "
                    f"answered{self._log_tail()}; set PREFECT_API_URL to a running Prefect "
                    "server (`prefect server start`) to run without one"
                )
            if self._healthy():
                self._ready_url = self.api_url
                return self._ready_url
            time.sleep(0.2)
        self.stop()
        raise PrefectServerError(
            f"the temporary Prefect server did not answer within {self.timeout_s:g} s (a "
            "busy machine?): raise runtime.prefect_server_timeout in the config, or set "
            "PREFECT_API_URL to a running Prefect server (`prefect server start`)"
        )

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def _port_taken(self) -> bool:
        if self._log is None:
            return False
        self._log.seek(0)
        return b"address already in use" in self._log.read().lower()

    def _log_tail(self) -> str:
        """The server's last log lines (Prefect's own messages: no note has been read yet)."""
        if self._log is None:
            return ""
        with contextlib.suppress(OSError):
            self._log.seek(0)
            lines = [ln for ln in self._log.read().decode("utf-8", "replace").splitlines() if ln]
            if lines:
                return " (" + " | ".join(lines[-_LOG_TAIL_LINES:]) + ")"
        return ""

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it lingers."""
        proc, self.process = self.process, None
        self._ready_url = None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
