"""Sources: each yields ``RawRecord`` one at a time, in a deterministic order.

A source only reads; it never judges.  Whether a record is a usable note (IDs present,
text decodable, within limits) is decided once, in ``pipelines.quarantine.check_record``,
whatever the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipelines.config import FhirSource, FilesSource, PipelineConfig, PostgresSource, SqlSource
from pipelines.records import RawRecord

__all__ = ["RawRecord", "RecordSource", "open_source"]


class RecordSource:
    """A reader: iterate ``records()``; ``watermark`` holds the highest value seen."""

    watermark: Any = None

    def records(self) -> Iterator[RawRecord]:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:  # pragma: no cover - interface
        """Non-PHI description of the source for manifests and reports."""
        raise NotImplementedError


def open_source(config: PipelineConfig, previous_watermark: Any = None) -> RecordSource:
    """The reader for ``config.source``; ``previous_watermark`` feeds incremental runs."""
    src = config.source
    if isinstance(src, FilesSource):
        from pipelines.sources.files import FileRecordSource

        # The run's own directories are never read as notes, should they lie in the source.
        own = (config.quarantine_path(), config.output.dir)
        return FileRecordSource(src, config.columns, config.limits.max_note_chars, exclude=own)
    if isinstance(src, FhirSource):
        from pipelines.sources.fhir import FhirRecordSource

        return FhirRecordSource(src, config.limits.max_note_chars)
    if isinstance(src, SqlSource | PostgresSource):
        from pipelines.sources.sql import SqlRecordSource

        return SqlRecordSource(src, config.columns, previous_watermark)
    raise TypeError(f"unsupported source kind {type(src).__name__}")  # pragma: no cover
