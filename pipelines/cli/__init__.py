"""``deidflow`` command line: thin shells over library functions.

Detection, evaluation and one-off de-identification need only ``deid``; ``run``,
``serve`` and ``report`` import the Prefect pipeline lazily, so the light commands
start fast and work without a Prefect server.

Every failure ends in one line on stderr, ``deidflow: <what is wrong> — <what to do>``,
and an exit code from ``pipelines.exit_codes`` (listed in ``--help``); ``--debug`` adds
the traceback (code locations only where a message could quote a note).  ``-`` stands
for stdin or stdout wherever a command reads or writes a file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

# Offline hygiene before any library import (see README "Offline settings").
for _var, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
    "GX_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(_var, _value)

from pipelines.exit_codes import (  # noqa: E402 - after the offline settings
    EXIT_CODES_HELP,
    ExitCode,
    InputError,
    OutputError,
    UsageError,
    report_failure,
)

STDIO = "-"

EPILOG = (
    """examples:
  deidflow detect --format physionet notes/id.text -o spans.jsonl
  deidflow evaluate ../shared/data/physionet-deid-dev
  DEIDFLOW_KEY=... deidflow deidentify notes.jsonl -o out.jsonl      ('-': stdin / stdout)
  DEIDFLOW_KEY=... deidflow run --input notes.jsonl --output out/notes
  DEIDFLOW_KEY=... deidflow run pipelines/examples/sample.yaml
  DEIDFLOW_KEY=... deidflow serve pipelines/examples/sample.yaml --cron "0 2 * * *"
  deidflow report out/sample --gold my-annotated-sample.jsonl
  deidflow sample --n 1000 -o notes.jsonl
  deidflow config schema > deidflow.schema.json

"""
    + EXIT_CODES_HELP
)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:
        # The reader of stdout left (``| head``): no message; keep the exit flush quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.BROKEN_PIPE)
    except BaseException as exc:  # noqa: BLE001 - every failure: one line and its exit code
        if isinstance(exc, SystemExit):
            raise
        return report_failure(exc, debug=debug)


# --- arguments ------------------------------------------------------------------------


def _common(suppress: bool) -> argparse.ArgumentParser:
    """--debug and --verbose, accepted before or after the command."""
    default: Any = argparse.SUPPRESS if suppress else False
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show the traceback of a failure (code locations; note text is never shown)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="show Prefect's and Great Expectations' INFO logs",
    )
    return p


def _parser() -> argparse.ArgumentParser:
    common = _common(suppress=True)
    p = argparse.ArgumentParser(
        prog="deidflow",
        description="De-identify clinical notes into validated, anonymized training data.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common(suppress=False)],
    )
    p.add_argument("--version", action="version", version=f"deidflow {_version()}")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        return sub.add_parser(name, parents=[common], **kwargs)

    d = command(
        "detect",
        help="find PHI spans (offsets and labels only, never the text)",
        description="Detect PHI and write one JSON object per span: offsets and label, never "
        "the PHI text.",
    )
    d.add_argument(
        "input",
        type=Path,
        help="PhysioNet id.text file (or its folder), or a JSONL file of notes; '-' for stdin",
    )
    d.add_argument("--format", choices=["physionet", "jsonl"], required=True, help="input format")
    d.add_argument(
        "-o", "--output", type=Path, required=True, help="spans JSONL to write ('-' for stdout)"
    )
    d.add_argument("--config", type=Path, help="deid or pipeline config YAML (detection is used)")
    d.set_defaults(handler=_detect)

    e = command(
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
    e.add_argument("corpus", type=Path, help="PhysioNet folder / id.text, annotated JSONL, or -")
    e.add_argument("--json", action="store_true", help="print machine-readable JSON")
    e.add_argument("--config", type=Path, help="deid or pipeline config YAML")
    e.add_argument(
        "--show-misses",
        action="store_true",
        help="developer view: print each missed span WITH its text and context (shows PHI!)",
    )
    e.set_defaults(handler=_evaluate)

    a = command(
        "deidentify",
        help="de-identify a JSONL file of notes (key from $DEIDFLOW_KEY)",
        description=(
            "Read JSONL objects with note_id, patient_id, text; write {note_id, text} per line, in "
            "input order, de-identified with the default (surrogate, Safe Harbor) or given config. "
            "The secret key is read from $DEIDFLOW_KEY."
        ),
    )
    a.add_argument("input", type=Path, help="notes JSONL ('-' for stdin)")
    a.add_argument("-o", "--output", type=Path, required=True, help="JSONL to write ('-': stdout)")
    a.add_argument("--config", type=Path, help="deid or pipeline config YAML (its deid: part)")
    a.set_defaults(handler=_deidentify)

    s = command(
        "sample",
        help="generate synthetic annotated notes",
        description="Generate synthetic clinical notes with gold PHI spans (annotated JSONL).",
    )
    s.add_argument("--n", type=int, default=60, help="number of notes (default 60)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("sample_notes.jsonl"),
        help="JSONL to write ('-' for stdout; default sample_notes.jsonl)",
    )
    s.set_defaults(handler=_sample)

    r = command(
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
    r.add_argument("config", nargs="?", type=Path, help="pipeline config YAML")
    r.add_argument("--input", type=Path, help="JSONL/CSV/Parquet file or folder of .txt notes")
    r.add_argument("--output", type=Path, help="output directory for shards and manifest")
    r.add_argument(
        "--format",
        choices=["jsonl", "csv", "parquet", "txt"],
        help="input format (default: from the suffix; a folder is txt)",
    )
    r.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="source column of an input field, e.g. --column text=body (repeatable; fields: "
        "note_id, patient_id, text, note_type, note_date, encounter_id)",
    )
    r.add_argument(
        "--max-quarantine-fraction",
        type=float,
        metavar="F",
        help="publish only if at most this share of the records is quarantined "
        "(validation.max_quarantine_fraction, default 0.05; 1 turns the guard off)",
    )
    r.add_argument(
        "--allow-empty",
        action="store_true",
        help="publish even if there is no row to publish (validation.allow_empty)",
    )
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(handler=_run)

    v = command(
        "serve",
        help="serve the pipeline as scheduled Prefect deployments (edit and trigger in the UI)",
        description=(
            "Register one Prefect deployment per pipeline CONFIG, with a cron schedule, and run\n"
            "its flow runs from this process until Ctrl-C (no work pool needed).  In the Prefect\n"
            "UI the parameters (config file, source, output, policy, mode, annotated sample)\n"
            "can be edited and a run triggered.  Point PREFECT_API_URL at a Prefect server\n"
            "(`prefect server start --host 127.0.0.1`); without one it refuses to start unless\n"
            "--temporary-server.  The key comes from $DEIDFLOW_KEY in this process's\n"
            "environment (or the config's Prefect Secret block)."
        ),
        epilog=(
            "example:\n"
            "  export PREFECT_API_URL=http://127.0.0.1:4200/api DEIDFLOW_KEY=...\n"
            '  deidflow serve pipelines/examples/sample.yaml --cron "30 1 * * *" '
            "--timezone Europe/Berlin\n\n" + EXIT_CODES_HELP
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
    v.add_argument(
        "--temporary-server",
        action="store_true",
        help="without PREFECT_API_URL, serve against a temporary Prefect server (the "
        "deployments and their history vanish when this process stops)",
    )
    v.set_defaults(handler=_serve)

    rp = command(
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

    c = command(
        "config",
        help="the config's JSON Schema, or check a config file",
        description="`config schema` prints the JSON Schema of the pipeline config (point "
        "your editor's YAML language server at it); `config check FILE` lists every problem "
        "in FILE as file:line: key: message.",
    )
    csub = c.add_subparsers(title="actions", metavar="ACTION")
    cs = csub.add_parser("schema", help="print the JSON Schema of the pipeline config")
    cs.set_defaults(handler=_config_schema)
    cc = csub.add_parser("check", help="validate a pipeline config file")
    cc.add_argument("file", type=Path, help="pipeline config YAML")
    cc.set_defaults(handler=_config_check)
    return p


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("deidflow")
    except metadata.PackageNotFoundError:  # a bare checkout
        return "0+unknown"


# --- files: '-' is stdin / stdout -----------------------------------------------------


def _check_input(path: Path, what: str, *, folder_ok: bool = False) -> None:
    """An input path exists and can be read (``-`` is stdin and always can)."""
    if str(path) == STDIO:
        return
    if not path.exists():
        raise InputError(f"{what} {path} does not exist", "check the path")
    if path.is_dir():
        if not folder_ok:
            raise InputError(f"{what} {path} is a directory", "give a file")
        if not os.access(path, os.R_OK | os.X_OK):
            raise InputError(
                f"cannot read {what} {path}: permission denied", "check its permissions"
            )
        return
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as err:
        raise InputError(
            f"cannot read {what} {path}: {err.strerror or type(err).__name__}",
            f"check its permissions (deidflow runs as uid {os.getuid()})",
        ) from None


@contextmanager
def _open_in(path: Path) -> Iterator[TextIO]:
    if str(path) == STDIO:
        yield sys.stdin
        return
    with path.open(encoding="utf-8", newline="") as fh:
        yield fh


@contextmanager
def _open_out(path: Path, *, not_same_as: Path | None = None) -> Iterator[TextIO]:
    """stdout for ``-``; else a temp file beside ``path``, renamed into place on success."""
    if str(path) == STDIO:
        yield sys.stdout
        sys.stdout.flush()
        return
    if path.is_dir():
        raise OutputError(f"output {path} is a directory", "give a file name to -o")
    same = not_same_as is not None and str(not_same_as) != STDIO and path.exists()
    if same and not_same_as is not None and path.resolve() == not_same_as.resolve():
        raise OutputError(f"output {path} is the input file", "write to another file")
    tmp = path.with_name(f".{path.name}.tmp")
    blocker = next((p for p in path.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise OutputError(
            f"cannot write {path}: {blocker} is a file, not a folder", "choose another -o"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = tmp.open("w", encoding="utf-8")
    except OSError as err:
        raise OutputError(
            f"cannot write {path}: {err.strerror or type(err).__name__}"
            + (f" ({err.filename})" if err.filename and str(err.filename) != str(tmp) else ""),
            "choose another -o (its folder must be creatable and writable)",
        ) from None
    try:
        with fh:
            yield fh
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


# --- commands -------------------------------------------------------------------------


def _deid_config(path: Path | None):  # type: ignore[no-untyped-def]
    """The ``deid`` config of a deid or pipeline config file (defaults without one)."""
    from deid.config import DeidConfig

    if path is None:
        return DeidConfig()
    _check_input(path, "config file")
    return DeidConfig.from_file(path)


def _detect(args: argparse.Namespace) -> int:
    from deid.detection.detector import Detector
    from deid.evaluation.corpora import (
        read_jsonl,
        read_jsonl_lines,
        read_physionet,
        read_physionet_lines,
    )

    config = _deid_config(args.config)
    _check_input(args.input, "input", folder_ok=args.format == "physionet")
    with _open_in(args.input) as fin:
        if str(args.input) == STDIO:
            reader = read_physionet_lines if args.format == "physionet" else read_jsonl_lines
            notes = list(reader(fin))
        else:
            notes = list(
                read_physionet(args.input) if args.format == "physionet" else read_jsonl(args.input)
            )
    detector = Detector(config.detection)
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
    print(f"detected PHI in {len(notes):,} notes -> {_name(args.output)}", file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from deid.detection.detector import Detector
    from deid.evaluation.corpora import read_corpus, read_jsonl_lines
    from deid.evaluation.metrics import evaluate, misses_with_context

    config = _deid_config(args.config)
    _check_input(args.corpus, "corpus", folder_ok=True)
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


def _deidentify(args: argparse.Namespace) -> int:
    from deid.anonymization.deidentifier import Deidentifier, deidentify_lines

    config = _deid_config(args.config)
    _check_input(args.input, "input")
    deidentifier = Deidentifier(config)  # no key: stops here, before anything is read
    name = "<stdin>" if str(args.input) == STDIO else str(args.input)
    with _open_in(args.input) as fin, _open_out(args.output, not_same_as=args.input) as out:
        n = deidentify_lines(fin, out, deidentifier, name=name)
    print(f"de-identified {n:,} notes -> {_name(args.output)}", file=sys.stderr)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from sample_data.generate import generate

    if args.n < 0:
        raise UsageError(f"--n must be 0 or more, not {args.n}", "give a number of notes")
    with _open_out(args.output) as out:
        summary = generate(args.n, args.seed, out)
    print(summary._replace(path=_path_or_none(args.output)).describe(), file=sys.stderr)
    return 0


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


def _serve(args: argparse.Namespace) -> int:
    from pipelines.serve import serve_configs

    for path in args.configs:
        _check_input(path, "config file")
    serve_configs(
        args.configs,
        cron=None if args.no_schedule else args.cron,
        timezone=args.timezone,
        name=args.name,
        paused=args.paused,
        limit=args.limit,
        temporary_server=args.temporary_server,
    )
    return 0


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
        _check_input(args.gold, "annotated sample", folder_ok=True)
    deid_config = _deid_config(args.config) if args.config else None
    files = regenerate_report(args.run_dir, args.gold, deid_config)
    print(f"residual risk: {risk_sentence(files.report['risk'])}")
    print(f"report: {files.html_path}")
    print(f"json:   {files.json_path}")
    return 0


def _config_schema(args: argparse.Namespace) -> int:
    from pipelines.config import PipelineConfig

    schema = PipelineConfig.model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "deidflow pipeline config",
        **{k: v for k, v in schema.items() if k != "title"},
    }
    print(json.dumps(schema, indent=2))
    return 0


def _config_check(args: argparse.Namespace) -> int:
    from deid.config import ConfigError
    from pipelines.config import PipelineConfig

    _check_input(args.file, "config file")
    try:
        PipelineConfig.from_file(args.file)
    except ConfigError as err:
        for problem in err.problems:  # all of them; the last line (stderr) is the first
            print(problem)
        raise
    print(f"{args.file}: ok")
    return 0


def _name(path: Path) -> str:
    return "stdout" if str(path) == STDIO else str(path)


def _path_or_none(path: Path) -> Path | None:
    return None if str(path) == STDIO else path


if __name__ == "__main__":
    sys.exit(main())
