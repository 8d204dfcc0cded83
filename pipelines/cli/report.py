"""``deidflow report``: re-render a run's audit report, with a risk estimate."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli._common import Command, check_input, deid_config
from pipelines.exit_codes import InputError


def register(command: Command) -> None:
    p = command(
        "report",
        help="regenerate a run's audit report, optionally estimating residual risk",
        description=(
            "Re-render RUN_DIR/audit_report.json and audit_report.html (a self-contained page "
            "that makes no network request). With --gold, first score the run's detector on "
            "your annotated sample (annotated JSONL with 'spans', or a PhysioNet id.text + "
            "id-phi.phrase folder) and estimate how many identifiers this run left: full-cover "
            "recall with a 95% Wilson interval, per-type recall, and expected leaked "
            "identifiers per 10,000 notes at the run's PHI density. Needs no key."
        ),
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="output directory of a run")
    p.add_argument("--gold", type=Path, metavar="SAMPLE", help="annotated sample of your notes")
    p.add_argument(
        "--config",
        type=Path,
        help="deid config YAML for the detector (default: the config recorded in the report)",
    )
    p.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from pipelines.report import regenerate_report
    from pipelines.report.artifacts import risk_sentence
    from pipelines.report.audit import REPORT_JSON_NAME

    if not (args.run_dir / REPORT_JSON_NAME).is_file():
        raise InputError(
            f"{args.run_dir} holds no {REPORT_JSON_NAME}",
            "give the output directory of a published run",
        )
    if args.gold is not None:
        check_input(args.gold, "annotated sample", folder_ok=True)
    detector_config = deid_config(args.config) if args.config else None
    files = regenerate_report(args.run_dir, args.gold, detector_config)
    print(f"residual risk: {risk_sentence(files.report['risk'])}")
    print(f"report: {files.html_path}")
    print(f"json:   {files.json_path}")
    return 0
