"""``deidflow deidentify``: de-identify a JSONL file of notes, no pipeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cli._common import (
    STDIO,
    Command,
    check_input,
    deid_config,
    display_name,
    open_in,
    open_out,
)


def register(command: Command) -> None:
    p = command(
        "deidentify",
        help="de-identify a JSONL file of notes (key from $DEIDFLOW_KEY)",
        description=(
            "Read JSONL objects with note_id, patient_id, text; write {note_id, text} per line, in "
            "input order, de-identified with the default (surrogate, Safe Harbor) or given config. "
            "The secret key is read from $DEIDFLOW_KEY."
        ),
    )
    p.add_argument("input", type=Path, help="notes JSONL ('-' for stdin)")
    p.add_argument("-o", "--output", type=Path, required=True, help="JSONL to write ('-': stdout)")
    p.add_argument("--config", type=Path, help="deid or pipeline config YAML (its deid: part)")
    p.set_defaults(handler=_deidentify)


def _deidentify(args: argparse.Namespace) -> int:
    from deid.anonymization.deidentifier import Deidentifier, deidentify_lines

    config = deid_config(args.config)
    check_input(args.input, "input")
    deidentifier = Deidentifier(config)  # no key: stops here, before anything is read
    name = "<stdin>" if str(args.input) == STDIO else str(args.input)
    with open_in(args.input) as fin, open_out(args.output, not_same_as=args.input) as out:
        n = deidentify_lines(fin, out, deidentifier, name=name)
    print(f"de-identified {n:,} notes -> {display_name(args.output)}", file=sys.stderr)
    return 0
