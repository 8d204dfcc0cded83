"""Exceptions that are safe to log, and a guard that makes any other exception safe.

PHI reaches logs through exceptions more than through log calls: a library error may
quote its input (``repr`` of a ``UnicodeError`` holds the whole string it failed on, a
``KeyError`` shows its key), and Prefect copies ``str(exc)`` into the run's state
message, its database and every log handler.  Two rules keep that from happening:

* exceptions deidflow raises about data carry identifiers, reason codes and counts only:
  they derive from ``PhiSafeError`` (``RecordError``), or their class is registered with
  ``register_safe_exception`` after review;
* any other exception leaving code that handles note text is replaced by a
  ``RedactedError`` (``phi_safe_errors``, ``phi_safe_iter``), which keeps the original's
  type name and traceback frames (code locations) but not its message or arguments.

``deid.safe_logging`` applies the same rule to every log record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class PhiSafeError(Exception):
    """Base for exceptions whose message is PHI-free by construction (IDs, codes, counts)."""


class RecordError(PhiSafeError):
    """A record could not be processed: which record and a reason code, never its content."""

    def __init__(self, record_id: str, reason: str) -> None:
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"record {record_id}: {reason}")

    def __reduce__(self) -> tuple[type[RecordError], tuple[str, str]]:
        return (type(self), (self.record_id, self.reason))


class InputFormatError(PhiSafeError, ValueError):
    """An input file is malformed: the message names the file, line and field, never content."""


class RedactedError(PhiSafeError):
    """Stands in for an exception whose message might quote data.

    ``type_name`` is the original's qualified class name; ``causes`` the class names of
    the exceptions chained to it (``__cause__`` / ``__context__``), outermost first.
    """

    def __init__(self, type_name: str, causes: tuple[str, ...] = ()) -> None:
        self.type_name = type_name
        self.causes = tuple(causes)
        text = f"{type_name} (message withheld: it may quote note text)"
        if self.causes:
            text += f"; chained: {', '.join(self.causes)}"
        super().__init__(text)

    def __reduce__(self) -> tuple[type[RedactedError], tuple[str, tuple[str, ...]]]:
        return (type(self), (self.type_name, self.causes))


_safe_types: set[type[BaseException]] = {PhiSafeError}


def register_safe_exception(*classes: type[BaseException]) -> None:
    """Declare exception classes whose messages were reviewed to hold no note text."""
    _safe_types.update(classes)


def is_phi_safe(exc: BaseException) -> bool:
    """True if ``exc``'s message may be shown (its class, or a base, was declared safe)."""
    return isinstance(exc, tuple(_safe_types))


def type_name(exc: BaseException) -> str:
    """``module.Class`` for library exceptions, ``Class`` for builtins."""
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def chained(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions chained to ``exc`` (cause or context), outermost first, no cycles."""
    seen = {id(exc)}
    current = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def redact(exc: BaseException) -> BaseException:
    """``exc`` itself if it is PHI-safe, else a ``RedactedError`` with its traceback frames."""
    if is_phi_safe(exc):
        return exc
    causes = tuple(type_name(c) for c in chained(exc))
    return RedactedError(type_name(exc), causes).with_traceback(exc.__traceback__)


def describe_exception(exc: BaseException) -> str:
    """A one-line description fit for logs and terminals: the message only if it is safe."""
    safe = redact(exc)
    if isinstance(safe, RedactedError):
        return str(safe)
    return f"{type_name(exc)}: {exc}" if str(exc) else type_name(exc)


def phi_safe_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: exceptions leaving ``fn`` are PHI-safe (others become ``RedactedError``).

    Put it on functions that handle note text and whose exceptions reach Prefect, logs
    or users.  ``raise ... from None``: the original (and its message) is not chained.
    """

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            safe = redact(exc)
            if safe is exc:
                raise
            raise safe from None

    return guarded


def phi_safe_iter(items: Iterable[T]) -> Iterator[T]:
    """``items``, with any exception raised while iterating made PHI-safe as above."""
    try:
        yield from items
    except Exception as exc:
        safe = redact(exc)
        if safe is exc:
            raise
        raise safe from None
