"""The Great Expectations gate: each check fails when violated, and no value ever leaks."""

from __future__ import annotations

import datetime as dt
import json
import logging
import pickle
import re
import socket
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deid.spans import Span
from expectations.deidentified_notes import (
    DERIVED_COLUMNS,
    RESIDUAL_PATTERNS,
    build_batch_counts_suite,
    build_deidentified_suite,
    gx_type_for,
    residual_check_name,
)
from expectations.residual_patterns import RESIDUAL_PREFILTERS
from pipelines.gate import validation
from pipelines.gate.enforcement import ValidationFailed
from pipelines.gate.residual import MASK_CHAR, chars_outside, mask_replaced, residual_hits
from pipelines.gate.validation import (
    RESULT_FORMAT,
    assert_no_values,
    build_validation_frame,
    require_valid,
    scrub_result,
    validate_batch,
)
from schemas.deidentified import COLUMN_NAMES, DEIDENTIFIED_SCHEMA, PHI_COUNT_COLUMNS
from tests.timing import assert_costs_like_benign, assert_scales_linearly

# Fake PHI used to prove that failing values never reach results, messages or files.
FAKE_SSN = "123-45-6789"
FAKE_FIRST, FAKE_LAST = "Zebediah", "Quackenbush"
FAKE_EMAIL = "zq.patient@example.org"
FORBIDDEN = (FAKE_SSN, FAKE_FIRST, FAKE_LAST, FAKE_EMAIL)

# A note whose surrogates (name, date, phone) sit in spans the anonymizer reports.
_PIECES: tuple[tuple[str, bool], ...] = (
    ("Pt seen by ", False),
    ("Xavier Quill", True),
    (" on ", False),
    ("2019-03-04", True),
    (". Call ", False),
    ("555-123-4567", True),
    (". Afebrile, BP 120/80, Na 140, K 4.1, plan d/c in 2-3 days. Note ", False),
)


class Batch:
    """An output frame plus what the anonymizer reports alongside it."""

    def __init__(self, n: int) -> None:
        rows: dict[str, list] = {name: [] for name in COLUMN_NAMES}
        self.spans: list[list[tuple[int, int]]] = []
        for i in range(n):
            text, spans = "", []
            for piece, replaced in _PIECES:
                if replaced:
                    spans.append((len(text), len(text) + len(piece)))
                text += piece
            text += f"{i}."
            self.spans.append(spans)
            counts = dict.fromkeys(PHI_COUNT_COLUMNS, 0)
            counts.update(phi_person=1, phi_date=1, phi_phone_number=1)
            row = {
                "note_pseudonym": f"n{i:012x}",
                "patient_pseudonym": f"p{i // 3:012x}",
                "encounter_pseudonym": None,
                "note_type": "nursing",
                "note_date": dt.date(2020, 1, 1) + dt.timedelta(days=i % 300),
                "text": text,
                "split": ("train", "validation", "test")[i % 3],
                **counts,
                "phi_total": 3,
                "n_words": len(text.split()),
                "n_tokens": len(text.split()) + 1,
                "pipeline_version": "0.1.0",
                "policy_version": "safe_harbor/1",
            }
            for name in COLUMN_NAMES:
                rows[name].append(row[name])
        self.df = pa.Table.from_pydict(rows, schema=DEIDENTIFIED_SCHEMA).to_pandas()
        # The source's text outside the replaced spans: what the output carried over.
        self.orig_kept_chars = [
            len(text) - sum(end - start for start, end in spans)
            for text, spans in zip(self.df["text"], self.spans, strict=True)
        ]
        self.counts = {"rows_in": n + 3, "quarantined": 2, "duplicates_removed": 1}

    def validate(self, **overrides):
        kwargs = {
            "counts": self.counts,
            "replaced_spans": self.spans,
            "orig_kept_chars": self.orig_kept_chars,
        }
        kwargs.update(overrides)
        return validate_batch(self.df, **kwargs)

    def append_text(self, row: int, extra: str) -> None:
        """Add text the anonymizer did not touch (in the source too, outside every span)."""
        self.df.loc[row, "text"] = self.df.loc[row, "text"] + extra
        self.orig_kept_chars[row] += len(extra)

    def replace_span(self, row: int, k: int, new: str) -> None:
        """Put ``new`` into the ``k``-th replaced span of ``row`` as the anonymizer would:
        the text around it unchanged, the later spans moved by the change in length."""
        text, spans = self.df.loc[row, "text"], self.spans[row]
        start, end = spans[k]
        shift = len(new) - (end - start)
        self.df.loc[row, "text"] = text[:start] + new + text[end:]
        spans[k] = (start, start + len(new))
        spans[k + 1 :] = [(s + shift, e + shift) for s, e in spans[k + 1 :]]


N = 30


@pytest.fixture
def batch() -> Batch:
    return Batch(N)


def _regex_name(check: str) -> str:
    return f"residual_{check}: expect_column_values_to_not_match_regex(text_outside_replaced)"


# --- the happy path ----------------------------------------------------------------------


def test_clean_batch_passes(batch: Batch) -> None:
    outcome = batch.validate()
    assert outcome.success, outcome.failures
    assert outcome.failures == []
    assert outcome.summary["skipped"] == []
    assert outcome.summary["residual_scope"] == "outside_replaced_spans"
    assert outcome.summary["row_counts"]["accounted"] == N + 3
    require_valid(outcome)  # does not raise


def test_polars_input_validates_like_pandas(batch: Batch) -> None:
    import polars as pl

    table = pa.Table.from_pandas(batch.df, schema=DEIDENTIFIED_SCHEMA, preserve_index=False)
    outcome = validate_batch(
        pl.from_arrow(table),
        batch.counts,
        replaced_spans=batch.spans,
        orig_kept_chars=batch.orig_kept_chars,
    )
    assert outcome.success, outcome.failures


# --- each check fails when violated, naming itself and the row count ---------------------
# GX costs ~5-10 ms per expectation per validation whatever the row count, so one batch
# carries many independent defects, each in a different number of rows: the exact failure
# list then shows that every check fired, on its own rows only.


def test_each_row_check_names_itself_and_its_row_count(batch: Batch) -> None:
    b = batch
    b.df.loc[4, "note_pseudonym"] = None
    b.df.loc[5, "note_pseudonym"] = b.df.loc[6, "note_pseudonym"]
    b.df.loc[[1, 2, 3], "split"] = "dev"
    b.df.loc[[0, 1, 2, 3], "phi_total"] = -1
    b.df.loc[12, "text"] = None
    # Missed identifiers outside the replaced spans: 1 SSN, 2 phones, 3 emails, 4 MRNs.
    b.df.loc[7, "text"] = "Xavier" + FAKE_SSN  # glued to a replaced span: still caught
    b.spans[7] = [(0, 6)]
    b.orig_kept_chars[7] = len(FAKE_SSN)
    for row, leak in [
        (8, " call (617) 555-0199 today"),
        (9, " pager 617.555.0199"),
        (10, f" wrote to {FAKE_EMAIL}"),
        (11, " a.b@mail.example.com"),
        (13, " x@y.org"),
        (14, " MRN: 12345678"),
        (15, " mr# 1234567"),
        (16, " MRN#00012345"),
        (17, " mrn 99999"),
    ]:
        b.append_text(row, leak)
    # Kept text that changed, each by a few characters only: the default bounds are exact.
    b.df.loc[18, "text"] = b.df.loc[18, "text"][:-3]  # truncated
    b.df.loc[19, "text"] += "9."  # the tail duplicated
    name_start, name_end = b.spans[20][0]  # a surrogate wider than its reported span
    b.spans[20][0] = (name_start, name_end - 2)
    b.df.loc[21, "text"] = ""  # nothing left of a source with kept text
    b.spans[21] = []
    b.df.loc[22, "text"] = "Pt seen."
    b.spans[22] = []
    b.orig_kept_chars[22] = 0  # a source that was all PHI, output with kept text

    assert b.validate(counts=None).failures == sorted(
        [
            ("not_null: expect_column_values_to_not_be_null(note_pseudonym)", 1),
            ("not_null: expect_column_values_to_not_be_null(text)", 1),
            ("unique_note: expect_column_values_to_be_unique(note_pseudonym)", 2),
            ("split: expect_column_values_to_be_in_set(split)", 3),
            ("phi_total: expect_column_values_to_be_between(phi_total)", 4),
            (_regex_name("ssn"), 1),
            (_regex_name("email"), 3),
            (_regex_name("phone"), 2),
            (_regex_name("mrn"), 4),
            ("text_length_ratio: expect_column_values_to_be_between(text_length_ratio)", 5),
        ]
    )


def test_wrong_column_type_fails_for_the_whole_batch(batch: Batch) -> None:
    batch.df["note_pseudonym"] = range(N)
    assert batch.validate().failures == [
        ("type: expect_column_values_to_be_of_type(note_pseudonym)", N)
    ]


def test_surrogates_inside_replaced_spans_pass_but_fail_without_spans(batch: Batch) -> None:
    """The surrogate phone is a realistic number: only masking tells it from a leak."""
    unmasked = batch.validate(replaced_spans=None)
    assert unmasked.failures == [(_regex_name("phone"), N)]
    assert unmasked.summary["residual_scope"] == "full_text"
    assert unmasked.summary["skipped"] == ["text_length_ratio"]  # needs the spans too


def test_replacement_lengths_do_not_matter_to_the_length_ratio(batch: Batch) -> None:
    """Only the kept text is compared: surrogates of any length, and all-PHI notes, pass."""
    batch.replace_span(0, 0, "Christopher Alexander Montgomery-Whitfield")  # was 12 chars
    batch.replace_span(0, 2, "5551234567")
    batch.replace_span(1, 0, "Al Bo")
    batch.replace_span(1, 1, "")  # an operator may also remove a span entirely
    batch.df.loc[2, "text"] = "Christopher Johnson"  # the whole source was PHI
    batch.spans[2] = [(0, 19)]
    batch.orig_kept_chars[2] = 0
    batch.df.loc[3, "text"] = ""  # ... and here it was replaced by nothing
    batch.spans[3] = []
    batch.orig_kept_chars[3] = 0
    frame = build_validation_frame(batch.df, batch.spans, batch.orig_kept_chars)
    ratios = frame["text_length_ratio"].tolist()
    assert ratios[:2] == [1.0, 1.0] and pd.isna(ratios[2]) and pd.isna(ratios[3])
    assert ratios[4:] == [1.0] * (N - 4)  # exactly: no tolerance is needed
    outcome = batch.validate()
    assert outcome.success, outcome.failures
    assert outcome.summary["ratio_bounds"] == [1.0, 1.0]


def test_ratio_bounds_are_configurable_and_unsupplied_inputs_are_reported(batch: Batch) -> None:
    kept = list(batch.orig_kept_chars)
    kept[3] *= 10
    outcome = batch.validate(counts=None, orig_kept_chars=kept, ratio_bounds=(0.05, 5.0))
    assert outcome.success, outcome.failures
    assert outcome.summary["ratio_bounds"] == [0.05, 5.0]
    assert outcome.summary["skipped"] == ["row_reconciliation"]
    failed = batch.validate(counts=None, orig_kept_chars=kept, ratio_bounds=(0.2, 5.0))
    assert failed.failures == [
        ("text_length_ratio: expect_column_values_to_be_between(text_length_ratio)", 1)
    ]
    assert batch.validate(counts=None, orig_kept_chars=None).summary["skipped"] == [
        "row_reconciliation",
        "text_length_ratio",
    ]


def test_counts_that_do_not_reconcile_fail(batch: Batch) -> None:
    # accounted = N validated + 2 quarantined - 1 = N + 1: 8 rows unaccounted for
    counts = {"rows_in": N + 9, "rows_out": N + 1, "quarantined": 2, "duplicates_removed": -1}
    outcome = batch.validate(counts=counts)
    assert outcome.failures == sorted(
        [
            ("row_reconciliation: expect_column_pair_values_to_be_equal(rows_in, accounted)", 8),
            (
                "rows_out_reported: expect_column_pair_values_to_be_equal"
                "(rows_out_reported, rows_out)",
                1,
            ),
            ("non_negative_count: expect_column_values_to_be_between(duplicates_removed)", 1),
        ]
    )
    assert outcome.summary["row_counts"]["accounted"] == N + 1


def test_missing_column_fails_the_schema_check(batch: Batch) -> None:
    batch.df = batch.df.drop(columns=["policy_version"])
    outcome = batch.validate()
    assert ("columns: expect_table_columns_to_match_ordered_list()", N) in outcome.failures
    assert outcome.summary["schema"]["missing_columns"] == ["policy_version"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"counts": {"rows_in": 1, "quarantined": 0}},
        {"counts": {"rows_in": 1, "quarantined": 0, "duplicates_removed": 0, "dupes": 1}},
        {"orig_kept_chars": [1, 2]},
        {"replaced_spans": [[]]},
    ],
)
def test_malformed_arguments_raise(batch: Batch, kwargs) -> None:
    with pytest.raises(ValueError):
        batch.validate(**kwargs)


def test_require_valid_raises_with_names_and_counts_only(batch: Batch) -> None:
    batch.df.loc[5, "note_pseudonym"] = batch.df.loc[6, "note_pseudonym"]
    with pytest.raises(ValidationFailed) as err:
        require_valid(batch.validate())
    assert str(err.value) == (
        "validation failed, 1 expectation(s): "
        "unique_note: expect_column_values_to_be_unique(note_pseudonym) [2 row(s)]"
    )


def test_validation_failed_survives_pickling() -> None:
    err = ValidationFailed([("split: expect_column_values_to_be_in_set(split)", 2)])
    clone = pickle.loads(pickle.dumps(err))
    assert clone.failures == err.failures and str(clone) == str(err)


def test_a_gx_crash_fails_closed_without_its_message(
    batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Exploding:
        def get_batch(self, **kwargs):
            raise RuntimeError(f"cannot parse {FAKE_SSN}")

    monkeypatch.setattr(validation, "_batch_definition", Exploding)
    with pytest.raises(ValidationFailed) as err:
        batch.validate()
    assert err.value.failures == [("gx_error: RuntimeError in suite deidentified_notes", N)]
    assert err.value.__cause__ is None and err.value.__suppress_context__


# --- values never leak -------------------------------------------------------------------


def _phi_laden(batch: Batch) -> None:
    """Fail as many checks as possible with fake PHI as the failing values."""
    batch.append_text(0, f" SSN {FAKE_SSN}, {FAKE_FIRST} {FAKE_LAST}, {FAKE_EMAIL}")
    batch.df.loc[[1, 2], "note_pseudonym"] = f"{FAKE_FIRST} {FAKE_LAST}"
    batch.df.loc[3, "note_pseudonym"] = FAKE_SSN
    batch.df.loc[4, "split"] = FAKE_LAST
    batch.df["phi_total"] = batch.df["phi_total"].astype(object)
    batch.df.loc[5, "phi_total"] = FAKE_SSN  # wrong type, and a comparison that raises


def test_failing_values_never_reach_summary_message_logs_or_files(
    batch: Batch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("network access during validation")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.chdir(tmp_path)
    # A fresh context created inside the empty cwd, so anything it writes is seen here.
    fresh = validation.new_batch_definition()
    monkeypatch.setattr(validation, "_batch_definition", lambda: fresh)
    _phi_laden(batch)

    with caplog.at_level(logging.DEBUG):
        outcome = batch.validate()
    checks = {name.split(":")[0] for name, _ in outcome.failures}
    assert {"residual_ssn", "residual_email", "unique_note", "split", "type"} <= checks
    errors = [f["error"] for f in outcome.summary["failures"] if "error" in f]
    assert errors == ["MetricResolutionError"]  # the str in phi_total: a GX exception path

    assert_no_values(json.dumps(outcome.summary), FORBIDDEN)
    assert_no_values(repr(outcome), FORBIDDEN)
    assert_no_values(str(ValidationFailed(outcome.failures)), FORBIDDEN)
    assert_no_values(caplog.text, FORBIDDEN)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []  # ephemeral: GX writes nothing at all


def test_result_format_keeps_values_out_even_before_scrubbing(batch: Batch) -> None:
    """The raw GX result under RESULT_FORMAT holds counts only; the default would not."""
    _phi_laden(batch)
    frame = build_validation_frame(batch.df, batch.spans, batch.orig_kept_chars)
    suite = build_deidentified_suite()
    gx_batch = validation._batch_definition().get_batch(batch_parameters={"dataframe": frame})

    summary_result = gx_batch.validate(suite, result_format=RESULT_FORMAT).to_json_dict()
    assert_no_values(json.dumps(summary_result, default=str), FORBIDDEN)

    complete = gx_batch.validate(suite, result_format="COMPLETE").to_json_dict()
    with pytest.raises(AssertionError):  # proves the check above can fail
        assert_no_values(json.dumps(complete, default=str), FORBIDDEN)
    assert_no_values(json.dumps(scrub_result(complete), default=str), FORBIDDEN)


def test_scrub_result_drops_value_keys_and_keeps_counts() -> None:
    raw = {
        "results": [
            {
                "result": {
                    "unexpected_count": 2,
                    "partial_unexpected_list": ["x"],
                    "partial_unexpected_counts": [{"value": "x", "count": 1}],
                    "unexpected_index_list": [1],
                    "unexpected_list": ["x"],
                    "details": {"value_counts": ["x"]},
                    "observed_value": "x",
                },
                "exception_info": {
                    "raised_exception": True,
                    "exception_message": "bad value 'x'",
                    "exception_traceback": "Traceback...\nTypeError: bad value 'x'\n",
                },
            },
            {"result": {"observed_value": 0.5}},
        ]
    }
    assert scrub_result(raw) == {
        "results": [
            {
                "result": {"unexpected_count": 2},
                "exception_info": {"raised_exception": True, "exception_type": "TypeError"},
            },
            {"result": {"observed_value": 0.5}},
        ]
    }


def test_assert_no_values_finds_escaped_values_and_names_no_value() -> None:
    with pytest.raises(AssertionError) as err:
        assert_no_values(json.dumps({"v": 'Zoë "Q"'}), ["x", 'Zoë "Q"'])
    assert str(err.value) == "forbidden value #1 found in result"


# --- masking -----------------------------------------------------------------------------


def test_mask_replaced_masks_exactly_the_spans() -> None:
    text = "call 555-123-4567 now"
    assert mask_replaced(text, [(5, 17)]) == "call " + MASK_CHAR * 12 + " now"
    assert mask_replaced(text, []) == text
    assert mask_replaced(text, [(4, 4)]) == text  # empty span


def test_mask_replaced_merges_overlaps_in_any_order_and_takes_span_objects() -> None:
    text = "abcdefghij"
    masked = mask_replaced(text, [Span(6, 8, "PERSON"), (3, 6), (0, 4)])
    assert masked == MASK_CHAR * 8 + "ij"
    assert len(masked) == len(text)


def test_chars_outside_counts_overlapping_spans_once_in_any_order() -> None:
    assert chars_outside(10, []) == 10
    assert chars_outside(10, [Span(6, 8, "PERSON"), (3, 6), (0, 4), (5, 5)]) == 2
    assert chars_outside(10, [(0, 10)]) == 0
    with pytest.raises(ValueError, match=r"replaced span \[3, 11\) outside text of length 10"):
        chars_outside(10, [(3, 11)])


def test_mask_replaced_rejects_offsets_outside_the_text_without_quoting_it() -> None:
    with pytest.raises(ValueError) as err:
        mask_replaced(FAKE_LAST, [(3, 40)])
    assert str(err.value) == f"replaced span [3, 40) outside text of length {len(FAKE_LAST)}"


# --- patterns: what they catch, what they leave alone, and linear time -------------------

_CLINICAL_NON_IDENTIFIERS = (
    "BP 120/80, HR 88, RR 18, SpO2 97% on 2L",
    "Na 140 K 4.1 Cl 102 HCO3 24 BUN 18 Cr 1.1 Glu 132",
    "on 2019-03-04 and 10/12/2020 at 14:30",
    "MRN pending; mr# to follow",
    "weight 72.5 kg, dose 5 mg q8h x 7 days, 1-2 tabs",
    "ICD-10 I50.9, CPT 99213, 3.5 x 2.1 cm lesion",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"SSN {FAKE_SSN}.", "ssn"),
        ("ssn:123-45-6789", "ssn"),
        ("call (617) 555-0199 today", "phone"),
        ("617 555 0199", "phone"),
        ("tel 617-555-0199x12", "phone"),
        (FAKE_EMAIL, "email"),
        ("MRN: 12345678", "mrn"),
        ("Mrn#0012345", "mrn"),
    ],
)
def test_patterns_catch_residual_identifiers(text: str, expected: str) -> None:
    hits = [name for name, p in RESIDUAL_PATTERNS.items() if re.search(p, text)]
    assert hits == [expected]


@pytest.mark.parametrize("text", _CLINICAL_NON_IDENTIFIERS)
def test_patterns_leave_ordinary_clinical_text_alone(text: str) -> None:
    hits = [name for name, p in RESIDUAL_PATTERNS.items() if re.search(p, text)]
    assert hits == []


_ADVERSARIAL = (
    "1" * 100_000,
    "123-45-" * 15_000,
    "(617) 555-" * 10_000,
    "a" * 100_000 + "@",
    "a@" + "b" * 100_000,
    "a@b." * 25_000,
    "MRN" + " " * 100_000,
    "MRN#" * 25_000,
    "Xavier Quill " * 8_000,
    "-. ()" * 20_000,
)


@pytest.mark.parametrize("hostile", _ADVERSARIAL, ids=lambda t: repr(t[:8]))
def test_patterns_run_in_linear_time_on_adversarial_input(hostile: str) -> None:
    def search(text: str) -> None:
        series = pd.Series([text], dtype="str")  # Arrow-backed: pandas uses RE2
        for pattern in RESIDUAL_PATTERNS.values():
            re.compile(pattern).search(text)
            series.str.contains(pattern)

    assert_costs_like_benign(search, hostile)


# --- suites ------------------------------------------------------------------------------


def test_row_suite_follows_the_output_schema() -> None:
    suite = build_deidentified_suite()
    ordered = [e for e in suite.expectations if e.expectation_type.endswith("ordered_list")]
    assert ordered[0].column_list == [*COLUMN_NAMES, *DERIVED_COLUMNS]
    not_null = {e.column for e in suite.expectations if e.meta["check"] == "not_null"}
    assert not_null == {f.name for f in DEIDENTIFIED_SCHEMA if not f.nullable}
    assert all("check" in e.meta for e in build_batch_counts_suite().expectations)


def test_suite_refuses_unknown_types_and_bad_bounds() -> None:
    with pytest.raises(NotImplementedError):
        gx_type_for(pa.float16())
    with pytest.raises(ValueError):
        build_deidentified_suite(ratio_bounds=(2.0, 0.5))


# --- speed -------------------------------------------------------------------------------


def test_validation_cost_grows_no_faster_than_the_rows() -> None:
    small, big = Batch(2_500), Batch(10_000)
    small.validate()  # warm-up: suite build and first-use costs
    assert big.validate().success
    assert_scales_linearly(small.validate, big.validate, size_ratio=4)


# --- the row-level residual screen -------------------------------------------------------

_SCREEN_CASES = (
    f"SSN {FAKE_SSN}.",
    "617 555 0199",
    FAKE_EMAIL,
    *_CLINICAL_NON_IDENTIFIERS,
    "é123-45-6789",  # a letter glued on: a word boundary in ASCII only
    "123-45-6789é",
    "\u0661\u0662\u0663-\u0664\u0665-\u0666\u0667\u0668\u0669",  # Arabic-Indic digits
    f"{MASK_CHAR}123-45-6789{MASK_CHAR}",
    "tel:617.555.0199\n",
    "(617)555-0199",
    "mr#:0012345",
    "x" * 50 + "@" + "y" * 50 + ".org",
)


@pytest.mark.parametrize("dtype", ["str", object], ids=["arrow", "python"])
def test_residual_screen_flags_at_least_what_the_gate_flags(dtype: object) -> None:
    # GX's pandas engine checks ``column.str.contains(pattern)``: Arrow strings (RE2) or
    # objects (Python re).  A row the screen passes must never fail the gate.
    series = pd.Series(list(_SCREEN_CASES), dtype=dtype)
    flagged_by_gate = 0
    for name, pattern in RESIDUAL_PATTERNS.items():
        gate = series.str.contains(pattern).tolist()
        screen = [residual_check_name(name) in residual_hits(t, []) for t in _SCREEN_CASES]
        missed = [i for i, (g, s) in enumerate(zip(gate, screen, strict=True)) if g and not s]
        assert missed == [], f"{name}: the gate would fail case(s) {missed}"
        flagged_by_gate += sum(gate)
    assert flagged_by_gate >= 8  # the cases do exercise the patterns


def test_residual_screen_ignores_replaced_spans_and_counts_matches() -> None:
    text = f"SSN {FAKE_SSN}, old SSN 987-65-4321, call 555-123-4567 or {FAKE_EMAIL}"
    surrogate = text.index("555-123-4567")
    assert residual_hits(text, [(surrogate, surrogate + 12)]) == {
        "residual_email": 1,
        "residual_ssn": 2,
    }
    every = [(m.start(), m.end()) for m in re.finditer(r"\S*\d\S*|\S+@\S+", text)]
    assert residual_hits(text, every) == {}
    hits = residual_hits(text, [])
    assert_no_values(json.dumps(hits), FORBIDDEN)  # names and counts, never the values
    with pytest.raises(ValueError, match=r"outside text of length \d+$"):
        residual_hits(text, [(0, len(text) + 1)])


@pytest.mark.parametrize("hostile", _ADVERSARIAL, ids=lambda t: repr(t[:8]))
def test_residual_screen_runs_in_linear_time_on_adversarial_input(hostile: str) -> None:
    def screen(text: str) -> None:
        residual_hits(text, [])
        residual_hits(text, [(0, len(text) // 2)])

    assert_costs_like_benign(screen, hostile)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_residual_match_holds_its_prefilter(data: st.DataObject) -> None:
    """The screen skips a pattern on text without its prefilter: never on a match."""
    for name, pattern in RESIDUAL_PATTERNS.items():
        for flags in (0, re.ASCII):
            text = data.draw(st.from_regex(re.compile(pattern, flags)), label=name)
            assert re.search(RESIDUAL_PREFILTERS[name], text), name


def _screen_reference(text: str) -> dict[str, int]:
    """``residual_hits(text, [])`` as first written: every pattern, both semantics."""
    hits = {}
    for name, pattern in RESIDUAL_PATTERNS.items():
        found = max(len(re.findall(pattern, text, flags)) for flags in (0, re.ASCII))
        if found:
            hits[residual_check_name(name)] = found
    return hits


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=f"0123456789-. ()@a.orgMRmr#:\n\u0663é{MASK_CHAR}", max_size=40))
def test_the_fast_screen_counts_as_every_pattern_in_both_semantics(text: str) -> None:
    assert residual_hits(text, []) == _screen_reference(text)
