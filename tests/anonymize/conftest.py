"""Shared fixtures for the anonymizer tests."""

from __future__ import annotations

import pytest

from deid.anonymize import Deidentifier
from deid.surrogates import SurrogateSource
from tests.anonymize.helpers import KEY


@pytest.fixture(scope="module")
def deid() -> Deidentifier:
    return Deidentifier(key=KEY)


@pytest.fixture
def source() -> SurrogateSource:
    return SurrogateSource(KEY)
