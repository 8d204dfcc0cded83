"""Synthetic clinical notes with exact gold PHI spans (no real PHI).

``generate_notes`` builds notes in memory; ``sample_data.generate.generate`` writes N notes
to JSONL (it backs ``deidflow sample``).  See ``sample_data/README.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["NOTE_TYPES", "generate_notes", "write_jsonl"]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``python -m sample_data.generate`` does not find its own module
    # already imported by the package (runpy warns about that).
    if name in __all__:
        return getattr(importlib.import_module("sample_data.generate"), name)
    raise AttributeError(f"module 'sample_data' has no attribute {name!r}")
