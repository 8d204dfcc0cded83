"""``deid.safe_logging`` and ``deid.errors``: note text cannot reach a log line or an error."""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from deid import safe_logging
from deid.anonymization.keys import MissingKeyError
from deid.errors import (
    RecordError,
    RedactedError,
    describe_exception,
    phi_safe_errors,
    phi_safe_iter,
    register_safe_exception,
)
from deid.safe_logging import MAX_MESSAGE_CHARS, SafeText, mask_text

NOTE = "Pt Zqxvelt Marbury seen 7/22 at Calvert Hospital"
NAME = "Zqxvelt Marbury"


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing to a string, with safe logging installed for the test only."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("deidflow.test.safe_logging")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    with safe_logging.safe_logging():
        yield logger, stream
    logger.removeHandler(handler)


def _raise(exc: BaseException) -> None:
    raise exc


def test_text_arguments_are_masked_and_structured_ones_kept(log) -> None:
    logger, stream = log
    logger.info("note %s: %d spans in %s, check %s", NOTE, 3, Path("/out/part-00000.parquet"),
                SafeText("residual_ssn"))  # fmt: skip
    line = stream.getvalue()
    assert NAME not in line
    assert f"note {mask_text(NOTE)}: 3 spans in /out/part-00000.parquet, check residual_ssn" in line


def test_masks_match_within_a_process_but_are_not_plain_hashes() -> None:
    import hashlib

    assert mask_text(NOTE) == mask_text(NOTE) != mask_text(NOTE + " ")
    assert f"len={len(NOTE)}" in mask_text(NOTE)
    plain = {hashlib.blake2b(NOTE.encode(), digest_size=4).hexdigest()}
    plain.add(hashlib.sha256(NOTE.encode()).hexdigest()[:8])
    assert not any(h in mask_text(NOTE) for h in plain)  # salted: no dictionary attack


def test_exception_messages_and_their_reprs_are_withheld(log) -> None:
    logger, stream = log
    try:
        _raise(ValueError(f"cannot parse {NOTE!r}"))
    except ValueError as exc:
        # What Prefect's task engine logs, then the state it logs a moment later:
        logger.error(f"Task run failed with exception: {exc!r}", exc_info=True)
        logger.info(f"Finished in state Failed('Task run encountered an exception {exc}')")
    text = stream.getvalue()
    assert NAME not in text
    assert "RedactedError: ValueError (message withheld" in text
    assert "in _raise" in text  # the traceback frames (code locations) are kept
    assert text.count("<withheld>") == 2


def test_unicode_errors_do_not_leak_the_string_they_hold(log) -> None:
    logger, stream = log
    try:
        (NOTE + "\udcff").encode("utf-8")
    except UnicodeEncodeError as exc:  # its repr holds the whole string; its str does not
        logger.exception("encoding failed: %r", exc)
    assert NAME not in stream.getvalue()
    assert "UnicodeEncodeError" in stream.getvalue()


def test_safe_exceptions_keep_their_message_but_not_an_unsafe_cause(log) -> None:
    logger, stream = log
    try:
        try:
            _raise(KeyError(NOTE))
        except KeyError:
            _raise(RecordError("note-17", "PROCESSING_ERROR"))
    except RecordError:
        logger.exception("record failed")
    try:
        _raise(MissingKeyError("set DEIDFLOW_KEY"))
    except MissingKeyError:
        logger.exception("no key")
    text = stream.getvalue()
    assert "RecordError: record note-17: PROCESSING_ERROR" in text
    assert "MissingKeyError: set DEIDFLOW_KEY" in text
    assert NAME not in text and "KeyError" not in text.replace("MissingKeyError", "")


def test_extras_and_non_string_messages_are_masked(log) -> None:
    logger, stream = log
    handler = logger.handlers[0]
    handler.setFormatter(logging.Formatter("%(message)s|%(note)s|%(flow_run_name)s"))
    logger.info("seen", extra={"note": NOTE, "flow_run_name": "crimson-fox"})
    logger.info({"text": NOTE}, extra={"note": 1, "flow_run_name": "x"})
    first, second = stream.getvalue().splitlines()
    assert first == f"seen|{mask_text(NOTE)}|crimson-fox"
    assert NAME not in second and second.endswith("|1|x")


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError(NOTE)

    __repr__ = __str__


def test_values_and_exceptions_that_cannot_be_printed_do_not_break_logging(log) -> None:
    logger, stream = log
    logger.info("value %s", _Unprintable())
    try:
        raise ValueError(_Unprintable())
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    assert "value <_Unprintable>" in text and "RedactedError: ValueError" in text
    assert NAME not in text


def test_long_messages_are_cut(log) -> None:
    logger, stream = log
    logger.info("x" * (MAX_MESSAGE_CHARS + 500))
    line = stream.getvalue().strip()
    assert len(line) < MAX_MESSAGE_CHARS + 100 and "[cut: <text len=" in line


def test_handlers_added_after_install_get_sanitized_records(log) -> None:
    logger, _ = log
    late = io.StringIO()
    handler = logging.StreamHandler(late)
    logger.addHandler(handler)
    try:
        logger.warning("odd %s", NOTE)
    finally:
        logger.removeHandler(handler)
    assert NAME not in late.getvalue() and "odd <text" in late.getvalue()


def test_install_is_idempotent_and_uninstall_restores_logging() -> None:
    # A served flow run earlier in this process installs it for good: start from scratch.
    was_installed = safe_logging.installed()
    safe_logging.uninstall()
    before = logging.getLogRecordFactory()
    with safe_logging.safe_logging():
        assert safe_logging.installed()
        with safe_logging.safe_logging():  # nested: the outer one keeps it installed
            pass
        assert safe_logging.installed()
    assert not safe_logging.installed()
    assert logging.getLogRecordFactory() is before
    if was_installed:
        safe_logging.install()


class _Reviewed(Exception):
    pass


def test_phi_safe_errors_replace_unsafe_exceptions_by_type() -> None:
    @phi_safe_errors
    def handle(kind: type[Exception]) -> None:
        raise kind(NOTE)

    with pytest.raises(RedactedError) as caught:
        handle(ValueError)
    assert str(caught.value) == "ValueError (message withheld: it may quote note text)"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert any(code.co_name == "handle" for code in _frames(caught.value.__traceback__))
    register_safe_exception(_Reviewed)
    with pytest.raises(_Reviewed, match=NAME):
        handle(_Reviewed)


def _frames(tb):  # type: ignore[no-untyped-def]
    while tb is not None:
        yield tb.tb_frame.f_code
        tb = tb.tb_next


def test_phi_safe_iter_and_describe_exception() -> None:
    def records() -> Iterator[int]:
        yield 1
        raise KeyError(NOTE)

    with pytest.raises(RedactedError, match="KeyError"):
        list(phi_safe_iter(records()))
    assert NAME not in describe_exception(KeyError(NOTE))
    assert describe_exception(RecordError("n1", "EMPTY_TEXT")).endswith("record n1: EMPTY_TEXT")


def test_safe_errors_survive_pickling() -> None:
    """Prefect and Dask pickle task exceptions."""
    for exc in (RecordError("n1", "OVERSIZED"), RedactedError("ValueError", ("KeyError",))):
        again = pickle.loads(pickle.dumps(exc))
        assert type(again) is type(exc) and str(again) == str(exc)
