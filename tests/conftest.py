"""Shared fixtures: a test key, and one Prefect harness per session (starting one costs ~10 s)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    """Run flows against a temporary Prefect server + SQLite DB; yields the DB file."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL
    from prefect.testing.utilities import prefect_test_harness

    # Prefect's 30 s start-up limit fails the whole session on a loaded 2-core machine.
    with prefect_test_harness(server_startup_timeout=180):
        url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
        yield Path(url.split(":///", 1)[1])
