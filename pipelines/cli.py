"""``deidflow`` command line: thin shells over library functions.

Detection, evaluation and one-off de-identification need only ``deid``; ``run``,
``serve`` and ``report`` import the Prefect pipeline lazily, so the light commands
start fast and work without a Prefect server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

# Offline hygiene before any library import (see README "Offline settings").
for _var, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
    "GX_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(_var, _value)

EPILOG = """examples:
  deidflow detect --format physionet notes/id.text -o spans.jsonl
  deidflow evaluate ../shared/data/physionet-deid-dev
  DEIDFLOW_KEY=... deidflow deidentify notes.jsonl -o out.jsonl
  DEIDFLOW_KEY=... deidflow run --input notes.jsonl --output out/
  DEIDFLOW_KEY=... deidflow serve pipelines/examples/sample.yaml --cron "0 2 * * *"
  deidflow report out/sample --gold my-annotated-sample.jsonl
  deidflow sample --n 1000 -o notes.jsonl
"""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError, RuntimeError, KeyError) as exc:
        # Library errors carry IDs, paths and reasons, never note text.
        print(f"deidflow: error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="deidflow",
        description="De-identify clinical notes into validated, anonymized training data.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    d = sub.add_parser(
        "detect",
        help="find PHI spans (offsets and labels only, never the text)",
        description="Detect PHI and write one JSON object per span: offsets and label, never the PHI text.",
    )
    d.add_argument(
        "input", type=Path, help="PhysioNet id.text file (or its folder), or a JSONL file of notes"
    )
    d.add_argument("--format", choices=["physionet", "jsonl"], required=True, help="input format")
    d.add_argument(
        "-o", "--output", type=Path, required=True, help="spans JSONL to write ('-' for stdout)"
    )
    d.add_argument("--config", type=Path, help="deid config YAML (detection section is used)")
    d.set_defaults(handler=_detect)

    e = sub.add_parser(
        "evaluate",
        help="measure the detector on an annotated corpus",
        description=(
            "Run the detector over an annotated corpus (PhysioNet id.text + id-phi.phrase folder, "
            "or JSONL with 'spans') and print full-cover recall (every alphanumeric character of a "
            "gold span redacted: the leak-relevant number), any-overlap recall, token precision/"
            "recall/F1/F2 on \\w+ tokens, and recall per gold category."
        ),
    )
    e.add_argument("corpus", type=Path, help="PhysioNet folder / id.text, or annotated JSONL")
    e.add_argument("--json", action="store_true", help="print machine-readable JSON")
    e.add_argument("--config", type=Path, help="deid config YAML")
    e.add_argument(
        "--show-misses",
        action="store_true",
        help="developer view: print each missed span WITH its text and context (shows PHI!)",
    )
    e.set_defaults(handler=_evaluate)

    a = sub.add_parser(
        "deidentify",
        help="de-identify a JSONL file of notes (key from $DEIDFLOW_KEY)",
        description=(
            "Read JSONL objects with note_id, patient_id, text; write {note_id, text} per line, in "
            "input order, de-identified with the default (surrogate, Safe Harbor) or given config. "
            "The secret key is read from $DEIDFLOW_KEY."
        ),
    )
    a.add_argument("input", type=Path)
    a.add_argument("-o", "--output", type=Path, required=True)
    a.add_argument("--config", type=Path, help="deid config YAML")
    a.set_defaults(handler=_deidentify)

    s = sub.add_parser(
        "sample",
        help="generate synthetic annotated notes",
        description="Generate synthetic clinical notes with gold PHI spans (annotated JSONL).",
    )
    s.add_argument("--n", type=int, default=60, help="number of notes (default 60)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", type=Path, default=Path("sample_notes.jsonl"))
    s.set_defaults(handler=_sample)

    r = sub.add_parser(
        "run",
        help="run the de-identification pipeline (Prefect flow, in-process)",
        description=(
            "Run the pipeline: read notes, detect and anonymize, validate with Great Expectations, "
            "write Parquet shards + manifest + audit report. Give a pipeline CONFIG file, or just "
            "--input notes.jsonl --output DIR. The key comes from $DEIDFLOW_KEY (or a Prefect Secret "
            "block named in the config)."
        ),
    )
    r.add_argument("config", nargs="?", type=Path, help="pipeline config YAML")
    r.add_argument("--input", type=Path, help="JSONL/CSV/Parquet file or folder of .txt notes")
    r.add_argument("--output", type=Path, help="output directory for shards and manifest")
    r.add_argument("--no-progress", action="store_true", help="no progress display")
    r.set_defaults(handler=_run)

    v = sub.add_parser(
        "serve",
        help="serve the pipeline as scheduled Prefect deployments (edit and trigger in the UI)",
        description=(
            "Register one Prefect deployment per pipeline CONFIG, with a cron schedule, and run\n"
            "its flow runs from this process until Ctrl-C (no work pool needed).  In the Prefect\n"
            "UI the parameters (config file, source, output, policy, mode, annotated sample)\n"
            "can be edited and a run triggered.  Point PREFECT_API_URL at a Prefect server\n"
            "(`prefect server start --host 127.0.0.1`).  The key comes from $DEIDFLOW_KEY in\n"
            "this process's environment (or the config's Prefect Secret block)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "example:\n"
            "  export PREFECT_API_URL=http://127.0.0.1:4200/api DEIDFLOW_KEY=...\n"
            '  deidflow serve pipelines/examples/sample.yaml --cron "30 1 * * *" '
            "--timezone Europe/Berlin"
        ),
    )
    v.add_argument("configs", nargs="+", type=Path, metavar="CONFIG", help="pipeline config YAML")
    v.add_argument(
        "--cron",
        default="0 2 * * *",
        help='cron schedule (default "0 2 * * *": nightly at 02:00)',
    )
    v.add_argument("--timezone", help="IANA time zone of the schedule (default UTC)")
    v.add_argument(
        "--no-schedule", action="store_true", help="no schedule: runs only when triggered"
    )
    v.add_argument("--paused", action="store_true", help="register the schedule paused")
    v.add_argument("--name", help="deployment name (one CONFIG only; default: the file's name)")
    v.add_argument(
        "--limit", type=int, default=1, help="flow runs at once in this process (default 1)"
    )
    v.set_defaults(handler=_serve)

    rp = sub.add_parser(
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
    rp.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="output directory of a run")
    rp.add_argument("--gold", type=Path, metavar="SAMPLE", help="annotated sample of your notes")
    rp.add_argument(
        "--config",
        type=Path,
        help="deid config YAML for the detector (default: the config recorded in the report)",
    )
    rp.set_defaults(handler=_report)
    return p


def _detection_config(path: Path | None):  # type: ignore[no-untyped-def]
    from deid.config import DeidConfig

    return DeidConfig.from_file(path) if path else DeidConfig()


def _detect(args: argparse.Namespace) -> int:
    from deid.corpora import read_jsonl, read_physionet
    from deid.detect import Detector

    detector = Detector(_detection_config(args.config).detection)
    notes = list(
        read_physionet(args.input) if args.format == "physionet" else read_jsonl(args.input)
    )
    with _open_out(args.output) as out:
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
    print(f"detected PHI in {len(notes)} notes -> {args.output}", file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from deid.corpora import read_corpus
    from deid.detect import Detector
    from deid.evaluate import evaluate, misses_with_context

    detector = Detector(_detection_config(args.config).detection)
    notes = list(read_corpus(args.corpus))
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


def _deidentify(args: argparse.Namespace) -> int:
    from deid.anonymize import deidentify_jsonl

    n = deidentify_jsonl(args.input, args.output, _detection_config(args.config))
    print(f"de-identified {n} notes -> {args.output}", file=sys.stderr)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from sample_data.generate import generate

    summary = generate(args.n, args.seed, args.output)
    print(f"wrote {summary} -> {args.output}", file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> int:
    from pipelines.run import run_from_cli

    return run_from_cli(args.config, args.input, args.output, progress=not args.no_progress)


def _serve(args: argparse.Namespace) -> int:
    from pipelines.serve import serve_configs

    serve_configs(
        args.configs,
        cron=None if args.no_schedule else args.cron,
        timezone=args.timezone,
        name=args.name,
        paused=args.paused,
        limit=args.limit,
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from pipelines.artifacts import risk_sentence
    from pipelines.report import regenerate_report

    deid_config = _detection_config(args.config) if args.config else None
    files = regenerate_report(args.run_dir, args.gold, deid_config)
    print(f"residual risk: {risk_sentence(files.report['risk'])}")
    print(f"report: {files.html_path}")
    print(f"json:   {files.json_path}")
    return 0


class _open_out:
    """Open an output path for writing, or stdout for '-'; writes via a temp file + rename."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None

    def __enter__(self) -> Any:
        if str(self.path) == "-":
            return sys.stdout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._fh = self._tmp.open("w", encoding="utf-8")
        return self._fh

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if self._fh is None:
            return
        self._fh.close()
        if exc_type is None:
            self._tmp.replace(self.path)
        else:
            self._tmp.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
