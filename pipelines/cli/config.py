"""``deidflow config schema | check``: the config's JSON Schema, or its problems."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipelines.cli._common import Command, check_input


def register(command: Command) -> None:
    p = command(
        "config",
        help="the config's JSON Schema, or check a config file",
        description="`config schema` prints the JSON Schema of the pipeline config (point "
        "your editor's YAML language server at it); `config check FILE` lists every problem "
        "in FILE as file:line: key: message.",
    )
    csub = p.add_subparsers(title="actions", metavar="ACTION")
    cs = csub.add_parser("schema", help="print the JSON Schema of the pipeline config")
    cs.set_defaults(handler=_config_schema)
    cc = csub.add_parser("check", help="validate a pipeline config file")
    cc.add_argument("file", type=Path, help="pipeline config YAML")
    cc.set_defaults(handler=_config_check)


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

    check_input(args.file, "config file")
    try:
        PipelineConfig.from_file(args.file)
    except ConfigError as err:
        for problem in err.problems:  # all of them; the last line (stderr) is the first
            print(problem)
        raise
    print(f"{args.file}: ok")
    return 0
