"""``deidflow run``: the pipeline on a config, or on a file (``pipelines.run``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli._common import Command
from pipelines.exit_codes import UsageError


def register(command: Command) -> None:
    p = command(
        "run",
        help="run the de-identification pipeline (Prefect flow, in-process)",
        description=(
            "Run the pipeline: read notes, detect and anonymize, validate with Great Expectations, "
            "write Parquet shards + manifest + audit report. Give a pipeline CONFIG file, or just "
            "--input notes.jsonl --output DIR. The key comes from $DEIDFLOW_KEY (or a Prefect Secret "
            "block named in the config).\n\n"
            "Before a Prefect server starts or a note is read, the run checks the key, the output, "
            "the input (format, mapped columns, not empty) and the database.  It publishes "
            "nothing, and leaves the previous dataset as it was, if validation fails, if more "
            "than validation.max_quarantine_fraction (default 5 %%) of the records would be "
            "quarantined, or if there is no row to publish.  On a terminal it shows a progress "
            "bar (records, rate, ETA)."
        ),
    )
    p.add_argument("config", nargs="?", type=Path, help="pipeline config YAML")
    p.add_argument(
        "--input",
        help="JSONL/CSV/Parquet file, folder of .txt notes, or FHIR export (--format fhir); "
        "a local path or an fsspec URL (s3://bucket/key, gs://, az://: needs s3fs, gcsfs "
        "or adlfs, and --quarantine-dir)",
    )
    p.add_argument("--output", type=Path, help="output directory for shards and manifest")
    p.add_argument(
        "--format",
        choices=["jsonl", "csv", "parquet", "txt", "fhir"],
        help="input format (default: from the suffix; a folder is txt); fhir: a FHIR Bulk "
        "Data export folder (NDJSON) or Bundle JSON file, notes from DocumentReference and "
        "DiagnosticReport",
    )
    p.add_argument(
        "--quarantine-dir",
        type=Path,
        metavar="DIR",
        help="restricted local directory for records that cannot be processed (raw PHI; "
        "default: beside a local input; required for a URL input)",
    )
    p.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="source column of an input field, e.g. --column text=body (repeatable; fields: "
        "note_id, patient_id, text, note_type, note_date, encounter_id)",
    )
    p.add_argument(
        "--max-quarantine-fraction",
        type=float,
        metavar="F",
        help="publish only if at most this share of the records is quarantined "
        "(validation.max_quarantine_fraction, default 0.05; 1 turns the guard off)",
    )
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="publish even if there is no row to publish (validation.allow_empty)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pipelines.run import run_from_cli

    return run_from_cli(
        args.config,
        args.input,
        args.output,
        progress=not args.no_progress,
        file_format=args.format,
        columns=_columns(args.column),
        allow_empty=args.allow_empty,
        max_quarantine_fraction=args.max_quarantine_fraction,
        verbose=args.verbose,
        debug=args.debug,
        quarantine_dir=args.quarantine_dir,
    )


def _columns(pairs: list[str]) -> dict[str, str]:
    from schemas.notes import INPUT_FIELDS

    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field.strip() not in INPUT_FIELDS or not column.strip():
            raise UsageError(
                f"--column {pair!r} is not FIELD=COLUMN with a known field",
                f"e.g. --column text=body; fields: {', '.join(INPUT_FIELDS)}",
            )
        mapping[field.strip()] = column.strip()
    return mapping
