"""Where tests find files: the repository, its sample, fixtures, and data beside it."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "notes.jsonl"
"""The committed synthetic sample (60 annotated notes)."""
PHYSIONET_FIXTURE = REPO / "tests" / "fixtures" / "corpora" / "physionet"
"""A tiny PhysioNet-format corpus (``id.text`` + ``id-phi.phrase``)."""
# The PhysioNet development split lives in shared/ beside the repository checkout.
DEV_CORPUS = Path(
    os.environ.get("DEIDFLOW_DEV_CORPUS", REPO.parent / "shared" / "data" / "physionet-deid-dev")
)
