"""The gate's per-window check: de-identified rows and their counts, with Great Expectations.

``check_window`` validates one window's output rows (``validate_batch``: the suites of
``expectations.deidentified_notes``) and reconciles its counts, returning a
``ValidationOutcome`` that carries expectation names and counts only; the run-level
decision on all windows is ``pipelines.gate.enforcement.enforce``.  ``require_valid``
turns a failed outcome into ``ValidationFailed``.

PHI never leaves this module through GX results: every validation uses
``RESULT_FORMAT`` (counts, no values), the result dict is scrubbed again before it is
read, GX's own logger is silenced (it logs raw exception messages, which can quote
data), and the context is ephemeral (no files, no Data Docs, no network).

Why residual-identifier checks run on *masked* text: in surrogate mode the output holds
realistic fake phones, SSNs and emails, so scanning the whole output would flag every
surrogate.  The anonymizer reports where it inserted each replacement (offsets into the
output), so ``mask_replaced`` blanks those spans and the patterns run on the text the
anonymizer left untouched: any hit there is an identifier the detector missed.  The mask
character is a non-word, non-digit symbol, so masking can never complete a pattern nor
hide a boundary next to a missed identifier.  What this cannot see is a *partially*
detected identifier (e.g. only the last four digits replaced): that is a recall problem
measured by the span-level evaluation, not by this gate.

One missed identifier must not stop a ten-million-note run, so
``pipelines.gate.residual.residual_hits`` screens each row with the same patterns
*before* the gate: the flow quarantines a row with a hit
(reason ``RESIDUAL_IDENTIFIER``) and the gate runs on the rows that are left, where the
residual checks must still pass.  A run-level cap
(``validation.max_residual_fraction``) fails the run when the screen withholds more
than that share of the notes: a detector that fails systematically must stop the run,
not quietly quarantine half the data.

The corruption guard (``text_length_ratio``) compares what the anonymizer must leave
alone: the output's characters outside the replaced spans against the original's
characters outside the spans it replaced.  Surrogates may be any length, so whole-text
lengths say nothing (a note that is mostly short names can legitimately double); the
kept text must match exactly, so its ratio is 1.0 and anything else means truncated,
duplicated or corrupted output, or replacement offsets that are wrong.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from expectations.deidentified_notes import (
    ACCOUNTED,
    DEFAULT_RATIO_BOUNDS,
    DERIVED_COLUMNS,
    DUPLICATES_REMOVED,
    QUARANTINED,
    ROWS_IN,
    ROWS_OUT,
    ROWS_OUT_REPORTED,
    TEXT_LENGTH_RATIO,
    TEXT_OUTSIDE_REPLACED,
    build_batch_counts_suite,
    build_deidentified_suite,
)
from pipelines.gate.enforcement import ValidationFailed
from pipelines.gate.residual import SpanLike, chars_outside, mask_replaced
from pipelines.stream import Window
from pipelines.transform import BatchOutput
from schemas.deidentified import COLUMN_NAMES

RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
"""Counts only.  GX's default formats copy failing values (real PHI) into results."""

COUNT_KEYS_REQUIRED: tuple[str, ...] = (ROWS_IN, QUARANTINED, DUPLICATES_REMOVED)
COUNT_KEYS_OPTIONAL: tuple[str, ...] = (ROWS_OUT,)

# Result keys that hold (or may hold) data values; dropped wherever they occur.
_VALUE_KEYS = frozenset(
    {"unexpected_list", "unexpected_rows", "details", "exception_message", "exception_traceback"}
)
_VALUE_KEY_PREFIXES = ("partial_unexpected", "unexpected_index")
_EXCEPTION_TYPE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)(?::|$)")


@dataclass(frozen=True)
class ValidationOutcome:
    """What the gate decided.

    ``failures``: ``(check name, row count)`` per failed expectation, e.g.
    ``("residual_ssn: expect_column_values_to_not_match_regex(text_outside_replaced)", 1)``.
    ``summary``: JSON-ready counts and names for the audit report, never values.
    """

    success: bool
    failures: list[tuple[str, int]]
    summary: dict[str, Any]


def check_window(window: Window, outputs: Sequence[BatchOutput]) -> ValidationOutcome:
    """Validate one window: its published rows (``validate_batch``) and its counts.

    Every record of the window must be a published row, a quarantined record (by the
    reader, or by a worker: a note that raised or the residual screen withheld) or a
    removed duplicate; skipped entries are not records.  A window without rows is
    checked on its counts alone.
    """
    failed_rows = sum(len(o.failures) + len(o.residual) for o in outputs)  # both quarantined
    counts = {
        "rows_in": window.rows_in - window.skipped,
        "quarantined": window.quarantined + failed_rows,
        "duplicates_removed": window.duplicates_removed,
    }
    tables = [o.table for o in outputs]
    table = pa.concat_tables(tables) if tables else None
    if table is None or table.num_rows == 0:
        lost = counts["rows_in"] - counts["quarantined"] - counts["duplicates_removed"]
        failures = [("row_reconciliation", abs(lost))] if lost else []
        return ValidationOutcome(success=not lost, failures=failures, summary={})
    return validate_batch(
        table,
        counts,
        replaced_spans=[spans for o in outputs for spans in o.replaced_spans],
        orig_kept_chars=[n for o in outputs for n in o.orig_kept_chars],
    )


def require_valid(outcome: ValidationOutcome) -> None:
    """Raise ``ValidationFailed`` unless the batch passed."""
    if not outcome.success:
        raise ValidationFailed(outcome.failures)


def as_pandas(frame: pd.DataFrame | pa.Table | Any) -> pd.DataFrame:
    """A pandas frame as the suites expect it, via Arrow for Arrow and polars input.

    Going through ``pyarrow.Table.to_pandas`` keeps dates as ``datetime.date`` (polars'
    own ``to_pandas`` makes them ``datetime64``, which the type check rejects).
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    if isinstance(frame, pa.Table):
        return _to_pandas(frame)
    to_arrow = getattr(frame, "to_arrow", None)
    if callable(to_arrow):
        return _to_pandas(to_arrow())
    raise TypeError(f"cannot validate a {type(frame).__name__}; pass pandas, Arrow or polars")


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    # int32 as pandas' nullable Int32: a nullable column (n_tokens without a tokenizer)
    # would otherwise become object or float64 and fail its int32 type check.
    return table.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)


def build_validation_frame(
    df: pd.DataFrame,
    replaced_spans: Sequence[Iterable[SpanLike]] | None = None,
    orig_kept_chars: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The output frame plus the derived columns the row suite checks (never written out).

    ``replaced_spans[i]`` are the output-text spans the anonymizer inserted in row ``i``;
    without them the residual checks scan the whole text (right for tag and mask modes,
    and fail-closed for surrogates).  ``orig_kept_chars[i]`` is the number of characters
    of row ``i``'s *source* text outside the spans the anonymizer replaced (their
    ``orig_start``/``orig_end``; spans the policy kept count as kept text).  ``text_length_ratio`` is the output's characters outside
    ``replaced_spans[i]`` over that number; it needs both inputs and is left empty (not
    checked) without either.  With no kept source text it is empty if the output kept
    nothing either, else infinite.
    """
    clash = [c for c in DERIVED_COLUMNS if c in df.columns]
    if clash:
        raise ValueError(f"output frame already has derived column(s) {clash}")
    n = len(df)
    for name, seq in (("replaced_spans", replaced_spans), ("orig_kept_chars", orig_kept_chars)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} entries for {n} rows")
    texts: list[Any] = df["text"].tolist() if "text" in df.columns else [None] * n
    # Read each row's spans once: both derived columns use them (they may be iterators).
    spans = [list(row) for row in replaced_spans] if replaced_spans is not None else None
    masked = [
        _mask_row(text, spans[i] if spans is not None else (), i) for i, text in enumerate(texts)
    ]
    ratios = (
        [_kept_ratio(text, spans[i], orig_kept_chars[i]) for i, text in enumerate(texts)]
        if spans is not None and orig_kept_chars is not None
        else [math.nan] * n
    )
    return df.assign(
        **{
            TEXT_OUTSIDE_REPLACED: pd.Series(masked, index=df.index, dtype="str"),
            TEXT_LENGTH_RATIO: pd.Series(ratios, index=df.index, dtype="float64"),
        }
    )


def _mask_row(text: Any, spans: Iterable[SpanLike], row: int) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        return mask_replaced(text, spans)
    except ValueError as err:
        raise ValueError(f"row {row}: {err}") from None


def _kept_ratio(text: Any, spans: Iterable[SpanLike], orig_kept: int) -> float:
    if not isinstance(text, str):
        return math.nan  # the not-null check reports it
    kept = chars_outside(len(text), spans)  # offsets already checked by _mask_row
    if orig_kept <= 0:
        return math.nan if kept == 0 else math.inf
    return kept / orig_kept


def build_counts_frame(counts: Mapping[str, int], rows_out: int) -> pd.DataFrame:
    """One-row frame of the batch counts; ``rows_out`` is the number of rows validated."""
    missing = [k for k in COUNT_KEYS_REQUIRED if k not in counts]
    unknown = sorted(set(counts) - set(COUNT_KEYS_REQUIRED) - set(COUNT_KEYS_OPTIONAL))
    if missing or unknown:
        raise ValueError(f"counts: missing keys {missing}, unknown keys {unknown}")
    row = {
        ROWS_IN: int(counts[ROWS_IN]),
        ROWS_OUT: rows_out,
        ROWS_OUT_REPORTED: int(counts.get(ROWS_OUT, rows_out)),
        QUARANTINED: int(counts[QUARANTINED]),
        DUPLICATES_REMOVED: int(counts[DUPLICATES_REMOVED]),
    }
    row[ACCOUNTED] = row[ROWS_OUT] + row[QUARANTINED] + row[DUPLICATES_REMOVED]
    return pd.DataFrame([row], dtype="int64")


def validate_batch(
    df: pd.DataFrame | pa.Table | Any,
    counts: Mapping[str, int] | None = None,
    *,
    replaced_spans: Sequence[Iterable[SpanLike]] | None = None,
    orig_kept_chars: Sequence[int] | None = None,
    ratio_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS,
) -> ValidationOutcome:
    """Run the gate on one batch of output rows; never raises for bad *data*.

    ``df``: the output table (``DEIDENTIFIED_SCHEMA`` columns; pandas, Arrow or polars).
    ``counts``: ``rows_in``, ``quarantined``, ``duplicates_removed`` and optionally
    ``rows_out``; reconciled against ``len(df)``.  ``replaced_spans`` / ``orig_kept_chars``:
    see ``build_validation_frame``.  ``ratio_bounds``: allowed kept-text length ratio (see
    ``DEFAULT_RATIO_BOUNDS``).  Checks whose inputs are missing are listed under
    ``summary["skipped"]``.  Raises ``ValueError`` for malformed *arguments* (lengths that
    do not match, unknown count keys, span offsets outside a text) and ``ValidationFailed``
    if GX itself cannot run.  ``failures`` are sorted by name.
    """
    df = as_pandas(df)
    # Build both frames first: malformed arguments fail before any (slow) GX work.
    frame = build_validation_frame(df, replaced_spans, orig_kept_chars)
    counts_frame = build_counts_frame(counts, rows_out=len(df)) if counts is not None else None
    checks = _run(frame, _row_suite(tuple(ratio_bounds)), batch_rows=len(frame))
    row_counts: dict[str, int] | None = None
    if counts_frame is not None:
        row_counts = {k: int(v) for k, v in counts_frame.iloc[0].items()}
        checks += _run(counts_frame, _counts_suite(), batch_rows=None, row_counts=row_counts)

    failed = sorted((c for c in checks if not c["success"]), key=lambda c: c["name"])
    failures = [(c["name"], c["rows"]) for c in failed]
    skipped = [
        name
        for name, missing in (
            ("row_reconciliation", counts is None),
            ("text_length_ratio", replaced_spans is None or orig_kept_chars is None),
        )
        if missing
    ]
    summary: dict[str, Any] = {
        "success": not failed,
        "rows": len(df),
        "evaluated_expectations": len(checks),
        "failed_expectations": len(failed),
        "failures": [{k: v for k, v in c.items() if k != "success"} for c in failed],
        "residual_scope": "outside_replaced_spans" if replaced_spans is not None else "full_text",
        "ratio_bounds": list(ratio_bounds),
        "row_counts": row_counts,
        "schema": {
            "missing_columns": [c for c in COLUMN_NAMES if c not in df.columns],
            "unexpected_column_count": sum(c not in COLUMN_NAMES for c in df.columns),
        },
        "skipped": skipped,
    }
    return ValidationOutcome(success=not failed, failures=failures, summary=summary)


def _run(
    frame: pd.DataFrame,
    suite: Any,
    batch_rows: int | None,
    row_counts: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Validate ``frame`` and reduce the (scrubbed) GX result to one record per check."""
    batch_definition = _batch_definition()
    try:
        with _GX_LOCK:
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(suite, result_format=RESULT_FORMAT)
    except Exception as err:
        # Fail closed, and drop the original: its message or chained causes may quote data.
        name = f"gx_error: {type(err).__name__} in suite {suite.name}"
        raise ValidationFailed([(name, len(frame))]) from None
    scrubbed = scrub_result(result.to_json_dict())
    return [_check_record(r, batch_rows, row_counts) for r in scrubbed["results"]]


def _check_record(
    res: Mapping[str, Any], batch_rows: int | None, row_counts: Mapping[str, int] | None
) -> dict[str, Any]:
    config = res["expectation_config"]
    kwargs = config.get("kwargs", {})
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    check = config.get("meta", {}).get("check", config["type"])
    unexpected = res.get("result", {}).get("unexpected_count")
    rows = _failed_rows(check, unexpected, batch_rows, row_counts)
    record: dict[str, Any] = {
        "name": f"{check}: {config['type']}({', '.join(columns)})",
        "check": check,
        "expectation": config["type"],
        "columns": columns,
        "success": bool(res["success"]),
        "rows": rows if not res["success"] else 0,
    }
    errors = sorted(_exception_types(res.get("exception_info", {})))
    if errors:
        record["error"] = ", ".join(errors)
    return record


def _exception_types(info: Any) -> set[str]:
    """Type names of the exceptions in a scrubbed ``exception_info``.

    GX nests it per metric (``{metric id: {raised_exception, ...}}``) when a metric fails.
    """
    if not isinstance(info, dict):
        return set()
    if info.get("raised_exception"):
        return {info.get("exception_type", "exception")}
    return set().union(*(_exception_types(v) for v in info.values()), set())


def _failed_rows(
    check: str,
    unexpected: int | None,
    batch_rows: int | None,
    row_counts: Mapping[str, int] | None,
) -> int:
    """How many rows a failure concerns.

    Map expectations count unexpected rows; table-level ones (columns, dtype, errors)
    concern the whole batch; reconciliation failures concern the rows unaccounted for.
    """
    if row_counts is not None and check == "row_reconciliation":
        return abs(row_counts[ROWS_IN] - row_counts[ACCOUNTED])
    if row_counts is not None and check == "rows_out_reported":
        return abs(row_counts[ROWS_OUT_REPORTED] - row_counts[ROWS_OUT])
    if isinstance(unexpected, int):
        return unexpected
    return batch_rows if batch_rows is not None else 1


def scrub_result(obj: Any) -> Any:
    """A copy of a GX result dict without anything that can hold data values.

    Drops ``partial_unexpected*``, ``unexpected_index*``, ``unexpected_list``,
    ``unexpected_rows``, ``details``, exception messages and tracebacks (keeping only
    the exception's type name as ``exception_type``), and any ``observed_value`` that is
    not a number or boolean.
    """
    if isinstance(obj, list):
        return [scrub_result(item) for item in obj]
    if not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _VALUE_KEYS or key.startswith(_VALUE_KEY_PREFIXES):
            continue
        if key == "observed_value" and not isinstance(value, int | float | bool | None):
            continue
        out[key] = scrub_result(value)
    traceback = obj.get("exception_traceback")
    if isinstance(traceback, str) and traceback.strip():
        match = _EXCEPTION_TYPE.match(traceback.strip().splitlines()[-1])
        out["exception_type"] = match.group(1).rsplit(".", 1)[-1] if match else "exception"
    return out


def assert_no_values(result_json: str, forbidden: Iterable[str]) -> None:
    """Raise ``AssertionError`` if any of ``forbidden`` occurs in ``result_json``.

    Also checks the JSON-escaped form, so a value with quotes or non-ASCII characters is
    found however it was serialized.  The error names the index of the value, not it.
    """
    for i, value in enumerate(forbidden):
        escaped = json.dumps(value)[1:-1]
        if value in result_json or escaped in result_json:
            raise AssertionError(f"forbidden value #{i} found in result")


# --- the GX runtime: one ephemeral context per process ---------------------------------

_GX_LOCK = threading.Lock()


@functools.cache
def _batch_definition() -> Any:
    """Create the ephemeral context once; GX's startup is slow, validation is fast."""
    return new_batch_definition()


def new_batch_definition() -> Any:
    """A fresh ephemeral GX context's whole-dataframe batch definition.

    Ephemeral: no project directory, stores in memory, no Data Docs.  GX 1.24.1 ships no
    analytics client (``GX_ANALYTICS_ENABLED`` is only mentioned in a docstring); the
    config flag is switched off anyway in case a later version reads it.
    """
    # Imported here: only the flow process validates, and GX takes seconds to load.
    from great_expectations import get_context
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX logs raw exception messages ("Caught exception ... while trying to resolve"),
    # which can quote data values; errors reach us through scrubbed results instead.
    logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
    context = get_context(mode="ephemeral")
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("deidflow_validation")
    asset = source.add_dataframe_asset("validation_frames")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


@functools.lru_cache(maxsize=8)
def _row_suite(ratio_bounds: tuple[float, float]) -> Any:
    return build_deidentified_suite(ratio_bounds=ratio_bounds)


@functools.cache
def _counts_suite() -> Any:
    return build_batch_counts_suite()
