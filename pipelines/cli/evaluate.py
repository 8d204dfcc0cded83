"""``deidflow evaluate``: the detector measured on an annotated corpus."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.cli._common import STDIO, Command, check_input, deid_config
from pipelines.exit_codes import InputError


def register(command: Command) -> None:
    p = command(
        "evaluate",
        help="measure the detector on an annotated corpus",
        description=(
            "Run the detector over an annotated corpus (PhysioNet id.text + id-phi.phrase folder, "
            "or JSONL with 'spans'; '-' reads annotated JSONL from stdin) and print full-cover "
            "recall (every alphanumeric character of a gold span redacted: the leak-relevant "
            "number), any-overlap recall, token precision/recall/F1/F2 on \\w+ tokens, and "
            "recall per gold category."
        ),
    )
    p.add_argument("corpus", type=Path, help="PhysioNet folder / id.text, annotated JSONL, or -")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--config", type=Path, help="deid or pipeline config YAML")
    p.add_argument(
        "--show-misses",
        action="store_true",
        help="developer view: print each missed span WITH its text and context (shows PHI!)",
    )
    p.set_defaults(handler=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    from deid.detection.detector import Detector
    from deid.evaluation.corpora import read_corpus, read_jsonl_lines
    from deid.evaluation.metrics import evaluate, misses_with_context

    config = deid_config(args.config)
    check_input(args.corpus, "corpus", folder_ok=True)
    if str(args.corpus) == STDIO:
        notes = list(read_jsonl_lines(sys.stdin))
    else:
        try:
            notes = list(read_corpus(args.corpus))
        except FileNotFoundError as err:
            raise InputError(
                str(err), "give a PhysioNet folder (id.text) or annotated JSONL"
            ) from None
    detector = Detector(config.detection)
    predictions = list(detector.detect_batch(n.text for n in notes))
    report = evaluate(notes, predictions)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.format_text())
    if args.show_misses:
        for line in misses_with_context(notes, predictions):
            print(line)
    return 0
