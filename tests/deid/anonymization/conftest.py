"""Shared fixtures for the anonymizer tests."""

from __future__ import annotations

import pytest

from deid.anonymization.deidentifier import Deidentifier
from deid.anonymization.surrogates import SurrogateSource
from tests.deid.anonymization.helpers import KEY


@pytest.fixture(scope="module")
def deid() -> Deidentifier:
    return Deidentifier(key=KEY)


@pytest.fixture
def source() -> SurrogateSource:
    return SurrogateSource(KEY)
