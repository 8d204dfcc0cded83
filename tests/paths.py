"""Where tests find data outside the repository (one definition)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The PhysioNet development split lives in shared/ beside the repository checkout.
DEV_CORPUS = Path(
    os.environ.get("DEIDFLOW_DEV_CORPUS", REPO.parent / "shared" / "data" / "physionet-deid-dev")
)
