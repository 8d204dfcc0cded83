"""``deidflow sample``: synthetic annotated notes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cli._common import Command, open_out, path_or_none
from pipelines.exit_codes import UsageError


def register(command: Command) -> None:
    p = command(
        "sample",
        help="generate synthetic annotated notes",
        description="Generate synthetic clinical notes with gold PHI spans (annotated JSONL).",
    )
    p.add_argument("--n", type=int, default=60, help="number of notes (default 60)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("sample_notes.jsonl"),
        help="JSONL to write ('-' for stdout; default sample_notes.jsonl)",
    )
    p.add_argument(
        "--questions",
        action="store_true",
        help="only short clinical questions, one per patient, about a third PHI-free "
        "(the set benchmarks/clinical_questions.py measures)",
    )
    p.add_argument(
        "--format",
        choices=["jsonl", "fhir"],
        default="jsonl",
        help="jsonl (default): annotated JSONL; fhir: a FHIR Bulk Data export folder "
        "(Patient, DocumentReference, DiagnosticReport, Binary .ndjson; plain, HTML, RTF "
        "and Binary-referenced attachments; gold spans in gold.jsonl), -o names the folder",
    )
    p.add_argument(
        "--unusable",
        action="store_true",
        help="with --format fhir: make 1 note in 25 unusable (PDF only, bad base64, a url "
        "outside the export, no attachment) to see the quarantine at work",
    )
    p.set_defaults(handler=_sample)


def _sample(args: argparse.Namespace) -> int:
    from sample_data.generate import generate

    if args.n < 0:
        raise UsageError(f"--n must be 0 or more, not {args.n}", "give a number of notes")
    if args.format == "fhir":
        from sample_data.fhir import write_fhir_export

        if str(args.output) in ("-", "sample_notes.jsonl"):
            raise UsageError("--format fhir writes a folder", "pass -o DIR, e.g. -o sample_fhir")
        fhir = write_fhir_export(args.n, args.seed, args.output, unusable=args.unusable)
        print(f"{fhir.describe()} in {args.output}", file=sys.stderr)
        return 0
    with open_out(args.output) as out:
        summary = generate(args.n, args.seed, out, questions_only=args.questions)
    print(summary._replace(path=path_or_none(args.output)).describe(), file=sys.stderr)
    return 0
