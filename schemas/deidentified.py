"""The de-identified output table, defined once.

Every shard the pipeline writes has exactly this Arrow schema.  Text columns are plain
``string`` (not ``large_string``) so that Hugging Face ``datasets`` can concatenate the
shards with other string datasets; PHI counts get one ``int32`` column per entity type
of the taxonomy so that loaders and validators see flat, typed columns.
"""

from __future__ import annotations

import pyarrow as pa

from deid.entities import ENTITY_NAMES

SCHEMA_VERSION = "2"

SPLITS: tuple[str, ...] = ("train", "validation", "test")


def phi_count_column(entity_type: str) -> str:
    """Name of the column counting replaced spans of ``entity_type``."""
    return f"phi_{entity_type.lower()}"


PHI_COUNT_COLUMNS: tuple[str, ...] = tuple(phi_count_column(e) for e in ENTITY_NAMES)

DEIDENTIFIED_SCHEMA = pa.schema(
    [
        pa.field("note_pseudonym", pa.string(), nullable=False),
        pa.field("patient_pseudonym", pa.string(), nullable=False),
        pa.field("encounter_pseudonym", pa.string()),
        pa.field("note_type", pa.string()),
        pa.field("note_date", pa.date32()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        *(pa.field(col, pa.int32(), nullable=False) for col in PHI_COUNT_COLUMNS),
        pa.field("phi_total", pa.int32(), nullable=False),
        pa.field("n_words", pa.int32(), nullable=False),
        pa.field("n_tokens", pa.int32()),
        pa.field("pipeline_version", pa.string(), nullable=False),
        pa.field("policy_version", pa.string(), nullable=False),
    ],
    metadata={"deidflow.schema_version": SCHEMA_VERSION},
)
"""Schema of every output shard.

- ``*_pseudonym``: keyed HMAC pseudonyms of the source IDs (stable for one key).
- ``note_date``: the source date shifted by the patient's date offset.
- ``text``: the anonymized note.
- ``split``: one of ``SPLITS``, assigned by patient so no patient spans two splits.
- ``phi_<type>`` / ``phi_total``: how many spans of each type were replaced.
- ``n_words``: ``\\w+`` tokens of ``text``; ``n_tokens``: tokens of ``text`` by the
  ``tokens.tokenizer`` file the run was given (null without one).
"""

COLUMN_NAMES: tuple[str, ...] = tuple(DEIDENTIFIED_SCHEMA.names)
