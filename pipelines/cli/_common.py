"""What the commands share: ``-`` for stdin and stdout, checked inputs, atomic outputs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pipelines.exit_codes import InputError, OutputError

if TYPE_CHECKING:
    from deid.config import DeidConfig

STDIO = "-"

Command = Callable[..., argparse.ArgumentParser]
"""``command(name, help=..., description=...)``: a subcommand's parser, with ``--debug``
and ``--verbose`` and the exit codes in its epilog (``pipelines.cli._parser``)."""


def check_input(path: Path, what: str, *, folder_ok: bool = False) -> None:
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
def open_in(path: Path) -> Iterator[TextIO]:
    if str(path) == STDIO:
        yield sys.stdin
        return
    with path.open(encoding="utf-8", newline="") as fh:
        yield fh


@contextmanager
def open_out(path: Path, *, not_same_as: Path | None = None) -> Iterator[TextIO]:
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


def deid_config(path: Path | None) -> DeidConfig:
    """The ``deid`` config of a deid or pipeline config file (defaults without one)."""
    from deid.config import DeidConfig

    if path is None:
        return DeidConfig()
    check_input(path, "config file")
    return DeidConfig.from_file(path)


def display_name(path: Path) -> str:
    return "stdout" if str(path) == STDIO else str(path)


def path_or_none(path: Path) -> Path | None:
    return None if str(path) == STDIO else path
