"""``deidflow detect``: PHI spans of notes (offsets and labels, never the text)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

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
        "detect",
        help="find PHI spans (offsets and labels only, never the text)",
        description="Detect PHI and write one JSON object per span: offsets and label, never "
        "the PHI text.",
    )
    p.add_argument(
        "input",
        type=Path,
        help="PhysioNet id.text file (or its folder), or a JSONL file of notes; '-' for stdin",
    )
    p.add_argument("--format", choices=["physionet", "jsonl"], required=True, help="input format")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="spans JSONL to write ('-' for stdout)"
    )
    p.add_argument("--config", type=Path, help="deid or pipeline config YAML (detection is used)")
    p.set_defaults(handler=_detect)


def _detect(args: argparse.Namespace) -> int:
    from deid.detection.detector import Detector
    from deid.evaluation.corpora import (
        read_jsonl,
        read_jsonl_lines,
        read_physionet,
        read_physionet_lines,
    )

    config = deid_config(args.config)
    check_input(args.input, "input", folder_ok=args.format == "physionet")
    with open_in(args.input) as fin:
        if str(args.input) == STDIO:
            reader = read_physionet_lines if args.format == "physionet" else read_jsonl_lines
            notes = list(reader(fin))
        else:
            notes = list(
                read_physionet(args.input) if args.format == "physionet" else read_jsonl(args.input)
            )
    detector = Detector(config.detection)
    with open_out(args.output) as out:
        spans_iter = detector.detect_batch(n.text for n in notes)
        for note, spans in zip(notes, spans_iter, strict=True):
            for sp in spans:
                row: dict[str, Any]
                if args.format == "physionet":
                    row = {"patient": note.patient_id, "note": note.note_id}
                else:
                    row = {"note_id": note.note_id}
                row.update({"start": sp.start, "end": sp.end, "label": sp.entity_type})
                out.write(json.dumps(row) + "\n")
    print(f"detected PHI in {len(notes):,} notes -> {display_name(args.output)}", file=sys.stderr)
    return 0
