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
    p.set_defaults(handler=_sample)


def _sample(args: argparse.Namespace) -> int:
    from sample_data.generate import generate

    if args.n < 0:
        raise UsageError(f"--n must be 0 or more, not {args.n}", "give a number of notes")
    with open_out(args.output) as out:
        summary = generate(args.n, args.seed, out, questions_only=args.questions)
    print(summary._replace(path=path_or_none(args.output)).describe(), file=sys.stderr)
    return 0
