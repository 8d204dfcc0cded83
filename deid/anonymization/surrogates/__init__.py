"""Surrogate generators, one module per kind of value: keyed, consistent, shaped like the
original.

Each entity type (``deid.entities``) names its generator: ``names``, ``places``,
``dates``, ``numbers`` (phones, SSNs, emails, URLs, IPs, and the shape-keeping
surrogate of IDs), and Safe Harbor's renderings of ``ages`` and ``zip_codes``.  A
generator takes the original text and a ``Draw`` (``SurrogateSource.for_patient``),
which ties every random choice to the secret key, the patient and the normalized
original value.
"""

from __future__ import annotations

from deid.anonymization.surrogates.source import AvoidSet, Draw, NoteContext, SurrogateSource

__all__ = ["AvoidSet", "Draw", "NoteContext", "SurrogateSource"]
