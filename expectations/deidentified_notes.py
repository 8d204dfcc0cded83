"""Great Expectations suites for the de-identified output, as code.

The suites are derived from ``schemas.deidentified.DEIDENTIFIED_SCHEMA`` so the column
list, the types and the not-null rules are written down once.  Two suites:

- ``build_deidentified_suite``: one row per output note, on a *validation frame* = the
  output table plus two derived columns that are never written out
  (``text_outside_replaced``: the text with every replaced span masked; and
  ``text_length_ratio``: length of the text *outside* the replaced spans in the output /
  the same in the original, see ``DEFAULT_RATIO_BOUNDS``).
- ``build_batch_counts_suite``: one row per batch, reconciling rows in with rows out,
  quarantined and removed duplicates.

Every expectation carries ``meta={"check": <short name>}``: reports use that name, so a
failure reads "residual_ssn" rather than an expectation type shared by four checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from expectations.residual_patterns import RESIDUAL_PATTERNS, residual_check_name
from schemas.deidentified import DEIDENTIFIED_SCHEMA, SPLITS

if TYPE_CHECKING:  # GX loads in seconds: imported where a suite is built, not here
    import great_expectations as gx

DEIDENTIFIED_SUITE_NAME = "deidentified_notes"
BATCH_COUNTS_SUITE_NAME = "deidentified_batch_counts"

TEXT_OUTSIDE_REPLACED = "text_outside_replaced"
TEXT_LENGTH_RATIO = "text_length_ratio"
DERIVED_COLUMNS: tuple[str, ...] = (TEXT_OUTSIDE_REPLACED, TEXT_LENGTH_RATIO)
"""Columns the validation frame appends after the output columns (never written out)."""

DEFAULT_RATIO_BOUNDS: tuple[float, float] = (1.0, 1.0)
"""Allowed ``text_length_ratio``: kept output characters / kept original characters.

"Kept" is everything outside the replaced spans (a span the policy keeps counts as kept
text).  Replacements may be any length (a two-letter name can become a long surrogate),
so only the kept text is compared, and no operator touches it: with a correct
anonymizer the ratio is exactly 1.0.  Anything else means truncated, duplicated or
corrupted output, or replacement offsets that are wrong (which would also misplace the
residual-identifier mask), so the default allows no deviation at all.  A note with no
kept original text gets no ratio (not checked) when its output has none either, and an
infinite one (fails) when it does."""

# Arrow type of an output column -> the type names GX accepts for it after
# ``pyarrow.Table.to_pandas()`` (pandas 3: strings are ``str``, dates are ``datetime.date``).
_GX_TYPE_BY_ARROW: dict[pa.DataType, str] = {
    pa.string(): "str",
    pa.large_string(): "str",
    pa.date32(): "date",
    pa.int32(): "int32",
    pa.int64(): "int64",
}

# Row counts of one batch, as columns of a one-row frame.
ROWS_IN = "rows_in"
ROWS_OUT = "rows_out"
ROWS_OUT_REPORTED = "rows_out_reported"
QUARANTINED = "quarantined"
DUPLICATES_REMOVED = "duplicates_removed"
ACCOUNTED = "accounted"
"""``rows_out + quarantined + duplicates_removed``."""


def gx_type_for(arrow_type: pa.DataType) -> str:
    """The GX (pandas) type name an output column of ``arrow_type`` must have."""
    try:
        return _GX_TYPE_BY_ARROW[arrow_type]
    except KeyError:
        # A schema change must come with a deliberate update here, not a silent skip.
        raise NotImplementedError(f"no GX type mapping for Arrow type {arrow_type}") from None


def build_deidentified_suite(
    ratio_bounds: tuple[float, float] = DEFAULT_RATIO_BOUNDS,
    schema: pa.Schema = DEIDENTIFIED_SCHEMA,
) -> gx.ExpectationSuite:
    """The per-row suite, run on the validation frame (output columns + ``DERIVED_COLUMNS``).

    Checks: exact ordered columns; each output column's type; not-null for every
    non-nullable field (pandas' nullable ``Int32`` passes an ``int32`` type check, so types
    alone do not exclude nulls); unique note pseudonyms; ``split`` in ``SPLITS``;
    ``phi_total`` not negative; zero residual-identifier hits outside replaced spans;
    kept-text length ratio (``DEFAULT_RATIO_BOUNDS``) within ``ratio_bounds``.
    """
    low, high = ratio_bounds
    if not 0 < low <= high:
        raise ValueError(f"ratio_bounds must satisfy 0 < low <= high, got {ratio_bounds}")
    return _suite(DEIDENTIFIED_SUITE_NAME, _row_expectations(schema, low, high))


def _row_expectations(schema: pa.Schema, low: float, high: float) -> list:
    import great_expectations as gx

    ex = gx.expectations
    out: list = [
        ex.ExpectTableColumnsToMatchOrderedList(
            column_list=[*schema.names, *DERIVED_COLUMNS], meta={"check": "columns"}
        )
    ]
    for field in schema:
        out.append(
            ex.ExpectColumnValuesToBeOfType(
                column=field.name, type_=gx_type_for(field.type), meta={"check": "type"}
            )
        )
    for field in schema:
        if not field.nullable:
            out.append(
                ex.ExpectColumnValuesToNotBeNull(column=field.name, meta={"check": "not_null"})
            )
    out += [
        ex.ExpectColumnValuesToBeUnique(column="note_pseudonym", meta={"check": "unique_note"}),
        ex.ExpectColumnValuesToBeInSet(
            column="split", value_set=list(SPLITS), meta={"check": "split"}
        ),
        ex.ExpectColumnValuesToBeBetween(
            column="phi_total", min_value=0, meta={"check": "phi_total"}
        ),
    ]
    for name, pattern in RESIDUAL_PATTERNS.items():
        out.append(
            ex.ExpectColumnValuesToNotMatchRegex(
                column=TEXT_OUTSIDE_REPLACED,
                regex=pattern,
                meta={"check": residual_check_name(name)},
            )
        )
    out.append(
        ex.ExpectColumnValuesToBeBetween(
            column=TEXT_LENGTH_RATIO,
            min_value=low,
            max_value=high,
            meta={"check": "text_length_ratio"},
        )
    )
    return out


def build_batch_counts_suite() -> gx.ExpectationSuite:
    """The batch reconciliation suite, run on a one-row frame of ``COUNT_COLUMNS``.

    ``rows_in == rows_out + quarantined + duplicates_removed`` (``accounted``), the row
    count the caller reports equals the rows actually validated, and no count is negative
    (a negative count could make a wrong sum add up).
    """
    import great_expectations as gx

    ex = gx.expectations
    expectations: list = [
        ex.ExpectColumnPairValuesToBeEqual(
            column_A=ROWS_IN, column_B=ACCOUNTED, meta={"check": "row_reconciliation"}
        ),
        ex.ExpectColumnPairValuesToBeEqual(
            column_A=ROWS_OUT_REPORTED, column_B=ROWS_OUT, meta={"check": "rows_out_reported"}
        ),
    ]
    for column in (ROWS_IN, ROWS_OUT_REPORTED, QUARANTINED, DUPLICATES_REMOVED):
        expectations.append(
            ex.ExpectColumnValuesToBeBetween(
                column=column, min_value=0, meta={"check": "non_negative_count"}
            )
        )
    return _suite(BATCH_COUNTS_SUITE_NAME, expectations)


def _suite(name: str, expectations: list) -> gx.ExpectationSuite:
    """A suite holding exactly ``expectations``, built without a data context.

    ``suite.add_expectation`` needs an active context (it consults the store); the
    constructor does not, but it logs and *drops* an invalid expectation, so the count is
    checked: a suite that silently lost a check would fail open.
    """
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    if len(suite.expectations) != len(expectations):
        raise ValueError(
            f"suite {name}: {len(expectations) - len(suite.expectations)} invalid expectation(s)"
        )
    return suite
