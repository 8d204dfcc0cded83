"""``deidflow serve``: scheduled Prefect deployments (``pipelines.serve``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli._common import Command, check_input
from pipelines.exit_codes import EXIT_CODES_HELP


def register(command: Command) -> None:
    p = command(
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
    p.add_argument("configs", nargs="+", type=Path, metavar="CONFIG", help="pipeline config YAML")
    p.add_argument(
        "--cron",
        default="0 2 * * *",
        help='cron schedule (default "0 2 * * *": nightly at 02:00)',
    )
    p.add_argument("--timezone", help="IANA time zone of the schedule (default UTC)")
    p.add_argument(
        "--no-schedule", action="store_true", help="no schedule: runs only when triggered"
    )
    p.add_argument("--paused", action="store_true", help="register the schedule paused")
    p.add_argument("--name", help="deployment name (one CONFIG only; default: the file's name)")
    p.add_argument(
        "--limit", type=int, default=1, help="flow runs at once in this process (default 1)"
    )
    p.add_argument(
        "--temporary-server",
        action="store_true",
        help="without PREFECT_API_URL, serve against a temporary Prefect server (the "
        "deployments and their history vanish when this process stops)",
    )
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from pipelines.serve import serve_configs

    for path in args.configs:
        check_input(path, "config file")
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
