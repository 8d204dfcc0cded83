"""Logging that cannot carry note text: every log record is sanitized when it is made.

``install()`` (or the ``safe_logging()`` context) wraps the process's log-record factory
and adds ``PhiSafeFilter`` to every existing handler, so each record is rewritten before
any handler (console, Prefect's API handler that stores logs in its database, pytest)
sees it:

* **exceptions**: ``exc_info`` that is not PHI-safe (``deid.errors.is_phi_safe``) becomes
  a ``RedactedError`` naming its type, with the original traceback frames (code
  locations, no values).  The exception's ``str`` and ``repr`` are also cut out of the
  message text, which is where Prefect puts them ("Task run failed with exception:
  ValueError('...')"), and remembered for a while, because Prefect repeats them in a
  later line ("Finished in state Failed('...')");
* **arguments** (``%s`` values) and ``extra`` fields: numbers, booleans, ``None``,
  enums, dates, UUIDs, paths and ``SafeText`` pass; anything else (strings, bytes,
  objects) becomes ``<text len=N #hash>``: its length and a hash salted per process
  (repeats can be matched within one run's logs; a dictionary of names cannot reverse it);
* **messages** longer than ``MAX_MESSAGE_CHARS`` are cut and marked.

What this cannot know is whether a message *template* embeds note text through an
f-string; templates are treated as code.  Keep note text out of them: pass values as
arguments and they are masked here.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import datetime as dt
import enum
import hashlib
import logging
import numbers
import secrets
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import PurePath
from typing import Any

from deid.anonymization.keys import MissingKeyError
from deid.errors import (
    RedactedError,
    chained,
    is_phi_safe,
    redact,
    register_safe_exception,
    type_name,
)

register_safe_exception(MissingKeyError)

MAX_MESSAGE_CHARS = 2_000
"""Longer log messages are cut: a log line is no place for a text dump."""

MIN_SCRUB_CHARS = 4
"""Exception texts shorter than this are not searched for in messages (too unspecific)."""

_SALT = secrets.token_bytes(16)
_MARK = "_deidflow_sanitized"
# Attributes every LogRecord has, plus the ones Prefect and this module add (IDs, names
# of runs and tasks, flags): their values are not data.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    _MARK,
}
_SAFE_EXTRAS = frozenset(
    {
        "flow_run_name",
        "flow_run_id",
        "flow_name",
        "task_run_name",
        "task_run_id",
        "task_name",
        "worker_id",
        "worker_name",
        "send_to_api",
    }
)


class SafeText(str):
    """A string declared PHI-free by its producer (a file name, a check name): logged as is."""


def mask_text(value: Any) -> str:
    """``<text len=N #hash>`` for a value that may hold note text (never the value)."""
    if isinstance(value, bytes):
        blob = value
    else:
        try:
            blob = str(value).encode("utf-8", "surrogatepass")
        except Exception:  # noqa: BLE001 - a broken __str__ must not break logging
            return f"<{type(value).__name__}>"
    digest = hashlib.blake2b(blob, key=_SALT, digest_size=4).hexdigest()
    kind = "bytes" if isinstance(value, bytes) else "text"
    return f"<{kind} len={len(value) if isinstance(value, str | bytes) else len(blob)} #{digest}>"


def safe_value(value: Any) -> Any:
    """``value`` if its type cannot carry note text, else a masked stand-in."""
    if isinstance(value, SafeText | bool | numbers.Number | enum.Enum | uuid.UUID | PurePath):
        return value
    if value is None or isinstance(value, dt.date | dt.time | dt.timedelta):
        return value
    if isinstance(value, BaseException):
        return _describe(value)
    return mask_text(value)


class _Scrubber:
    """Remembers the texts of redacted exceptions and cuts them out of later messages."""

    def __init__(self, size: int = 64) -> None:
        self._texts: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def remember(self, exc: BaseException) -> None:
        texts = set()
        for e in (exc, *chained(exc)):
            if is_phi_safe(e):
                continue
            texts.update(_texts_of(e))
        with self._lock:
            for text in texts:
                self._texts[text] = None
                self._texts.move_to_end(text)
            while len(self._texts) > self._size:
                self._texts.popitem(last=False)

    def scrub(self, message: str) -> str:
        with self._lock:
            texts = list(self._texts)
        for text in sorted(texts, key=len, reverse=True):  # longest first: repr before str
            if text in message:
                message = message.replace(text, "<withheld>")
        return message


def _texts_of(exc: BaseException) -> set[str]:
    """Every form in which ``exc``'s data can show up in a message."""
    candidates: list[str] = [a for a in exc.args if isinstance(a, str)]
    for render in (repr, str):
        with contextlib.suppress(Exception):  # a broken __str__ renders nothing to scrub
            candidates.append(render(exc))
    obj = getattr(exc, "object", None)  # UnicodeError keeps the whole input
    if isinstance(obj, str):
        candidates.append(obj)
    out = set()
    for text in candidates:
        if len(text) >= MIN_SCRUB_CHARS:
            out.add(text)
            out.add(repr(text)[1:-1])  # as it appears inside another object's repr
    return out


_scrubber = _Scrubber()


def _describe(exc: BaseException) -> str:
    safe = redact(exc)
    if safe is not exc:
        _scrubber.remember(exc)
        return f"{type(safe).__name__}({safe})"
    return repr(exc)


def sanitize(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite ``record`` in place as described in the module docstring; returns it.

    Never raises: if sanitizing fails, the whole message and exception are withheld
    (logging's own error report would print the raw message and arguments).
    """
    try:
        if not getattr(record, _MARK, False):
            _sanitize_exception(record)
            record.msg = _sanitized_message(record)
            record.args = None
            setattr(record, _MARK, True)
        _sanitize_extras(record)
    except Exception as exc:  # noqa: BLE001 - fail closed, keep logging alive
        record.msg = f"<log record withheld: sanitizing failed ({type(exc).__name__})>"
        record.args = None
        record.exc_info = record.exc_text = None
        for name in list(vars(record)):
            if name not in _STANDARD_ATTRS and name not in _SAFE_EXTRAS:
                setattr(record, name, "<withheld>")
        setattr(record, _MARK, True)
    return record


def _sanitize_exception(record: logging.LogRecord) -> None:
    info = record.exc_info
    if not info or info[1] is None:
        return
    exc = info[1]
    safe = redact(exc)
    unsafe_chain = any(not is_phi_safe(e) for e in chained(exc))
    if safe is exc and not unsafe_chain:
        return
    if safe is exc:  # safe itself, but it chains an unsafe one: show it without the chain
        safe = _unchained_copy(exc)
    _scrubber.remember(exc)
    record.exc_info = (type(safe), safe, exc.__traceback__)
    record.exc_text = None


def _unchained_copy(exc: BaseException) -> BaseException:
    try:
        clone = copy.copy(exc)  # args and attributes; cause and context are not copied
    except Exception:  # noqa: BLE001 - an odd constructor: fall back to the type name
        return RedactedError(type_name(exc))
    clone.__cause__ = clone.__context__ = None
    return clone.with_traceback(exc.__traceback__)


def _sanitized_message(record: logging.LogRecord) -> str:
    template = record.msg if isinstance(record.msg, str) else "%s"
    args: Any = record.args
    if not isinstance(record.msg, str):
        args = (record.msg,)
    if args:
        if isinstance(args, Mapping):
            safe_args: Any = {k: safe_value(v) for k, v in args.items()}
        else:
            safe_args = tuple(safe_value(a) for a in args)
        try:
            message = template % safe_args
        except (TypeError, ValueError, KeyError):
            message = f"{template} [arguments withheld]"
    else:
        message = template
    message = _scrubber.scrub(message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = f"{message[:MAX_MESSAGE_CHARS]}... [cut: {mask_text(message)}]"
    return message


def _sanitize_extras(record: logging.LogRecord) -> None:
    for name, value in list(vars(record).items()):
        if name in _STANDARD_ATTRS or name in _SAFE_EXTRAS:
            continue
        masked = safe_value(value)
        if masked is not value:
            setattr(record, name, masked)


class PhiSafeFilter(logging.Filter):
    """Handler filter: sanitizes each record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        sanitize(record)
        return True


_FILTER = PhiSafeFilter()
_install_lock = threading.Lock()
_previous_factory: Any = None
_filtered: list[logging.Handler] = []


def installed() -> bool:
    """Whether ``install`` is in effect in this process."""
    return _previous_factory is not None


def install() -> bool:
    """Sanitize every log record of this process from now on; False if already done."""
    global _previous_factory
    with _install_lock:
        if _previous_factory is not None:
            _filter_new_handlers()
            return False
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return sanitize(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _previous_factory = previous
        _filter_new_handlers()
        return True


def uninstall() -> None:
    """Undo ``install`` (tests; a pipeline process keeps it for its lifetime)."""
    global _previous_factory
    with _install_lock:
        if _previous_factory is None:
            return
        logging.setLogRecordFactory(_previous_factory)
        _previous_factory = None
        for handler in _filtered:
            handler.removeFilter(_FILTER)
        _filtered.clear()


@contextlib.contextmanager
def safe_logging() -> Iterator[None]:
    """``install`` for the duration of the block (undone only if this block installed it)."""
    mine = install()
    try:
        yield
    finally:
        if mine:
            uninstall()


def _filter_new_handlers() -> None:
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
                _filtered.append(handler)
