from __future__ import annotations

import pytest

from deid.detection.detector import Detector
from tests.deid.detection.recognizers.context.context_helpers import context_detector


@pytest.fixture(scope="module")
def detector() -> Detector:
    return context_detector(propagate=False)


@pytest.fixture(scope="module")
def propagating() -> Detector:
    return context_detector(propagate=True)
