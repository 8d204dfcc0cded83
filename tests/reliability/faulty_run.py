"""``deidflow run CONFIG`` with faults that put note text into exceptions and log calls.

    python -m tests.reliability.faulty_run FAULT CONFIG

FAULT is one of:

* ``note-errors``: every note of the patients in ``$DEIDFLOW_FAULT_PATIENTS`` raises a
  ``ValueError`` quoting the whole note, after a library logger and the Prefect run
  logger were handed note text as arguments and an exception quoting it (the run goes
  on: those notes are quarantined as ``PROCESSING_ERROR``);
* ``task-error``: the de-identification task of batch 1 raises a ``ValueError`` quoting
  a note (the run fails inside a Prefect task);
* ``extract-error``: reading the 30th record raises a ``KeyError`` holding its text
  (the run fails in the flow itself, while extracting).

The leak test then searches everything the runs left for PHI.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

LIBRARY_LOGGER = "presidio-analyzer"


def _note_errors() -> None:
    from prefect import get_run_logger

    from deid.anonymization.deidentifier import Deidentifier

    poisoned = set(os.environ["DEIDFLOW_FAULT_PATIENTS"].split(","))
    library = logging.getLogger(LIBRARY_LOGGER)
    batch, single = Deidentifier.deidentify_batch, Deidentifier.deidentify

    def deidentify_batch(self: Deidentifier, records: Iterable[Any], *a: Any, **k: Any) -> Any:
        records = list(records)
        for text, patient_id in records:
            if patient_id in poisoned:
                raise ValueError(f"cannot parse {text!r}")
        return batch(self, records, *a, **k)

    def deidentify(self: Deidentifier, text: str, patient_id: str, *a: Any, **k: Any) -> Any:
        if patient_id in poisoned:
            library.warning("odd input %r in note %s", text[:300], text)
            get_run_logger().warning("note looked odd: %s", text[:500])
            try:
                raise KeyError(text[:200])
            except KeyError:
                library.error("lookup failed", exc_info=True)
            raise ValueError(f"cannot parse note: {text}")
        return single(self, text, patient_id, *a, **k)

    Deidentifier.deidentify_batch = deidentify_batch  # type: ignore[method-assign]
    Deidentifier.deidentify = deidentify  # type: ignore[method-assign]


def _task_error() -> None:
    from pipelines.transform import NoteTransformer

    transform = NoteTransformer.transform

    def failing(self: NoteTransformer, batch: Any) -> Any:
        if batch.index == 1:
            raise ValueError(f"batch failed near {batch.notes[0].text!r}")
        return transform(self, batch)

    NoteTransformer.transform = failing  # type: ignore[method-assign]


def _extract_error() -> None:
    import pipelines.stream as stream

    check_record = stream.check_record
    calls = iter(range(1, 10**9))

    def failing(raw: Any, *args: Any, **kwargs: Any) -> Any:
        if next(calls) == 30:
            raise KeyError(str(raw.fields.get("text", "")))
        return check_record(raw, *args, **kwargs)

    stream.check_record = failing


FAULTS = {"note-errors": _note_errors, "task-error": _task_error, "extract-error": _extract_error}


def main(argv: Iterator[str] | list[str]) -> int:
    fault, config = list(argv)
    FAULTS[fault]()
    from pipelines.cli import main as cli_main

    return cli_main(["run", config, "--no-progress"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
