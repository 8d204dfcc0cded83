"""Exit codes of ``deidflow``, and the one line each failure prints.

Defined once here; ``deidflow --help`` and the README list the same table.  A mistake a
person can fix is a ``Failure``: its message reads ``<what is wrong> — <what to do>`` and
its class carries the exit code.  ``diagnose`` turns any exception into that line: the
program's own messages (paths, settings, variables, counts, check names) are shown in
full; anything else is shown by its type only, since it may have been raised while a
note's text was in hand (``deid.errors``).
"""

from __future__ import annotations

import sys
import traceback
from enum import IntEnum
from typing import ClassVar, TextIO

from deid.errors import PhiSafeError, describe_exception, redact, register_safe_exception

# errno and file names only (the flow registers it too; the light commands need it here).
register_safe_exception(OSError)


class ExitCode(IntEnum):
    """What ``deidflow`` returns to the shell."""

    OK = 0
    INTERNAL = 1
    """An unexpected error (a bug, or an environment deidflow does not know): by type only."""
    USAGE = 2
    """Bad arguments, an invalid config, a missing key or environment variable."""
    INPUT = 3
    """The source: missing, unreadable, unknown format, a mapped column missing, empty,
    database unreachable, invalid table or query, malformed input file."""
    OUTPUT = 4
    """The output: a file, not creatable, the current directory, inside the source, a
    mount point, busy (another run), incompatible with an incremental run."""
    NOT_PUBLISHED = 5
    """The run finished but published nothing: validation gate, publication guard (too
    many quarantined, no rows), a staged shard changed.  The previous dataset is intact."""
    PUBLISHED_BUT_FAILED = 6
    """Published, then a later step failed.  The audit report is published with the data,
    in the same swap, so it is in place; the Prefect UI may lack the run's final state."""
    INTERRUPTED = 130
    """Ctrl-C."""
    BROKEN_PIPE = 141
    """The reader of stdout went away (``| head``): silent, as for other Unix tools."""


EXIT_CODES_HELP = """exit codes:
  0    ok
  1    internal error (unexpected; shown by type only, --debug for a traceback)
  2    usage or config error (arguments, config file, key or environment variable)
  3    input error (source missing, unreadable, unknown format, column missing, empty,
       database unreachable, invalid table or query)
  4    output error (a file, not creatable, the current directory, inside the source,
       a mount point, busy, incompatible)
  5    nothing published (validation gate, publication guard, shard changed): the
       previous dataset is untouched
  6    published (data and audit report), but a later step failed: nothing to redo
  130  interrupted
  141  stdout closed by its reader (e.g. `| head`), silently
"""


class Failure(PhiSafeError):
    """A mistake a person can act on: ``<what is wrong> — <what to do>``.

    Its message holds the program's own words only (paths, settings, counts), never data.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL

    def __init__(self, what: str, todo: str = "") -> None:
        self.what = what
        self.todo = todo
        super().__init__(f"{what} — {todo}" if todo else what)

    def __reduce__(self) -> tuple[type[Failure], tuple[str, str]]:
        return (type(self), (self.what, self.todo))


class UsageError(Failure):
    """Arguments, config, key or an environment variable."""

    exit_code = ExitCode.USAGE


class InputError(Failure):
    """The source cannot be read as configured."""

    exit_code = ExitCode.INPUT


class OutputError(Failure):
    """The output cannot be written or replaced."""

    exit_code = ExitCode.OUTPUT


class NotPublished(Failure):
    """The run completed its checks and refused to publish."""

    exit_code = ExitCode.NOT_PUBLISHED


class PublishedButFailed(Failure):
    """The run published its dataset and audit report, then a later step failed."""

    exit_code = ExitCode.PUBLISHED_BUT_FAILED


CONFIG_TODO = "fix the config (`deidflow config schema` describes every setting)"


def diagnose(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code and the one line (without ``deidflow: ``) for ``exc``."""
    from deid.anonymization.keys import MissingKeyError
    from deid.config import ConfigError
    from deid.errors import InputFormatError

    if isinstance(exc, Failure):
        return exc.exit_code, str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return (
            ExitCode.INTERRUPTED,
            "interrupted — run it again (a run that did not finish publishes nothing)",
        )
    if isinstance(exc, ConfigError):
        todo = (
            "check the indentation and quoting on that line"
            if "YAML syntax error" in str(exc)
            else CONFIG_TODO
        )
        return ExitCode.USAGE, f"{exc} — {todo}"
    if isinstance(exc, MissingKeyError):
        return ExitCode.USAGE, str(exc)
    if isinstance(exc, InputFormatError):
        return ExitCode.INPUT, f"{exc} — fix that line of the input, or choose another file"
    code = _pipeline_code(exc)
    if code is not None:
        return code
    if isinstance(exc, FileNotFoundError):
        return ExitCode.INPUT, f"{exc} — check the path"
    if isinstance(exc, OSError):
        return ExitCode.INTERNAL, f"{describe_exception(exc)} — check the file system and retry"
    return (
        ExitCode.INTERNAL,
        f"internal error: {describe_exception(exc)} — rerun with --debug for a traceback "
        "(note text is never shown) and report it",
    )


def _pipeline_code(exc: BaseException) -> tuple[ExitCode, str] | None:
    """Errors of the pipeline's own classes; imported only if the pipeline was loaded."""
    if "pipelines.flow" not in sys.modules:
        return None
    from pipelines.gate.enforcement import ValidationFailed
    from pipelines.output.shards import ShardCorrupted, UnswappableOutput
    from pipelines.tasks.prepare import IncompatibleOutput, OutputBusy

    if isinstance(exc, ValidationFailed):
        todo = exc.advice or "the previous dataset is untouched; fix the cause and run again"
        return ExitCode.NOT_PUBLISHED, f"nothing published: {exc} — {todo}"
    if isinstance(exc, ShardCorrupted):
        return (
            ExitCode.NOT_PUBLISHED,
            f"nothing published: {exc} — check the disk and run again; the previous "
            "dataset is untouched",
        )
    if isinstance(exc, OutputBusy):
        return ExitCode.OUTPUT, f"{exc} — wait for it to finish, or choose another --output"
    if isinstance(exc, IncompatibleOutput | UnswappableOutput):
        return ExitCode.OUTPUT, str(exc)
    return None


def report_failure(exc: BaseException, *, debug: bool = False, stream: TextIO | None = None) -> int:
    """Print ``deidflow: <line>`` for ``exc`` on stderr and return its exit code.

    ``debug`` prints the traceback first: code locations only for an exception whose
    message may quote a note (it is replaced by ``RedactedError``, as in the logs).
    """
    out = stream if stream is not None else sys.stderr
    code, line = diagnose(exc)
    if debug and not isinstance(exc, KeyboardInterrupt):
        safe = redact(exc)
        # No chained exceptions: a safe error raised while handling another would show it.
        out.write("".join(traceback.format_exception(safe, chain=False)))
    out.write(f"deidflow: {line}\n")
    out.flush()
    return int(code)
