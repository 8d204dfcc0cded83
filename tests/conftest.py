"""Shared fixtures: a test key, and one Prefect server per test session, shared by all
xdist workers (``tests/prefect_harness.py``)."""

from __future__ import annotations

import contextlib
import inspect
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import prefect_harness as prefect_harness_module

# Before Prefect is imported anywhere: keep its home (result storage, profiles) inside a
# throwaway directory the PHI-leak tests can scan, and keep the test server offline.
PREFECT_TEST_HOME = Path(tempfile.mkdtemp(prefix="deidflow-prefect-home-"))
os.environ.setdefault("PREFECT_HOME", str(PREFECT_TEST_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEST_KEY = "deidflow-test-key-not-secret-0123456789"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runslow", action="store_true", default=False, help="also run tests marked slow"
    )


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        prefect_harness_module.configure_session()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        prefect_harness_module.stop_session_server()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow variant: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture
def deid_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """``DEIDFLOW_KEY`` set to a fixed test key."""
    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    return TEST_KEY


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[Path]:
    """Run flows against the session's Prefect server (SQLite); yields its database file."""
    import prefect.context
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.utilities.asyncutils import run_coro_as_sync

    server = prefect_harness_module.session_server()
    with (
        temporary_settings(updates={PREFECT_API_URL: server.api_url}),
        prefect.context._temporary_global_settings_context(  # as prefect_test_harness does
            prefect.context.get_settings_context()
        ),
    ):
        yield server.db

        async def drain() -> None:  # logs still buffered go out before the server stops
            with contextlib.suppress(RuntimeError):
                result = APILogWorker.instance().drain()
                if inspect.isawaitable(result):
                    await result

        run_coro_as_sync(drain())
