"""The run's own temporary Prefect server: a start-up that fails says what and what to do.

(That a SIGKILLed run takes its server with it is checked in
``tests/reliability/test_crash_safety.py``, with a real ``deidflow run``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.settings import (
    PREFECT_API_DATABASE_CONNECTION_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)

from deid.errors import describe_exception
from pipelines.prefect_server import PrefectServerError, TemporaryPrefectServer


def test_a_server_that_does_not_answer_in_time_is_stopped_and_named() -> None:
    with temporary_settings({PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 0}):
        server = TemporaryPrefectServer(timeout_s=1e-6)
        server.start()
        process = server.process
        assert process is not None
        with pytest.raises(PrefectServerError) as err:
            server.wait_ready()
    assert process.poll() is not None  # stopped, not left behind
    message = describe_exception(err.value)  # what the CLI prints: shown, not withheld
    assert "did not answer within" in message
    assert "runtime.prefect_server_timeout" in message and "PREFECT_API_URL" in message


def test_a_server_that_exits_at_start_up_says_so(tmp_path: Path) -> None:
    unusable = f"sqlite+aiosqlite:///{tmp_path}/missing-dir/prefect.db"
    with (
        temporary_settings({PREFECT_API_DATABASE_CONNECTION_URL: unusable}),
        TemporaryPrefectServer(timeout_s=600) as server,
        pytest.raises(PrefectServerError) as err,
    ):
        server.wait_ready()
    assert "exited with status" in str(err.value)
    assert "prefect server start" in str(err.value)


def test_the_default_start_up_timeout_is_generous() -> None:
    from pipelines.config import RuntimeConfig

    assert RuntimeConfig().prefect_server_timeout >= 120  # Prefect's own 20 s failed runs
