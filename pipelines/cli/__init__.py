"""``deidflow`` command line: one module per command, each a thin shell over library calls.

Detection, evaluation and one-off de-identification need only ``deid``; ``run``,
``serve`` and ``report`` import the Prefect pipeline lazily, so the light commands
start fast and work without a Prefect server.  Each command module has ``register``
(its arguments and help) and its handler; ``_common`` holds what they share.

Every failure ends in one line on stderr, ``deidflow: <what is wrong> — <what to do>``,
and an exit code from ``pipelines.exit_codes`` (listed in ``--help``); ``--debug`` adds
the traceback (code locations only where a message could quote a note).  ``-`` stands
for stdin or stdout wherever a command reads or writes a file.
"""

from __future__ import annotations

import argparse
import os
import sys
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

from pipelines.cli import (  # noqa: E402 - after the offline settings
    config,
    deidentify,
    detect,
    evaluate,
    report,
    run,
    sample,
    serve,
)
from pipelines.exit_codes import EXIT_CODES_HELP, ExitCode, report_failure  # noqa: E402

COMMANDS = (detect, evaluate, deidentify, sample, run, serve, report, config)
"""In the order ``deidflow --help`` lists them."""

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
  deidflow sample --questions --n 1000 -o questions.jsonl
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

    for module in COMMANDS:
        module.register(command)
    return p


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("deidflow")
    except metadata.PackageNotFoundError:  # a bare checkout
        return "0+unknown"
