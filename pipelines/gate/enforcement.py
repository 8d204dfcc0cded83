"""The gate's run-level decision: publish, or raise and publish nothing.

``enforce`` is called once, after the last window and before anything is staged for
publication (inside the flow's transaction: a failure rolls the sealed shards back).
Its failures name checks and counts, never data.  No Great Expectations here: the
exit-code mapping imports these classes cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.config import PipelineConfig
    from pipelines.stream import RunCounts

RESIDUAL_CAP_CHECK = "residual_identifier_fraction"


class ValidationFailed(Exception):
    """A batch failed the gate.  The message names expectations and counts, nothing else.

    ``advice`` says what to do about it, where the gate knows (the publication guard).
    """

    def __init__(self, failures: Sequence[tuple[str, int]], advice: str = "") -> None:
        self.failures = list(failures)
        self.advice = advice
        super().__init__(format_failures(self.failures))

    def __reduce__(self) -> tuple[type[ValidationFailed], tuple[list[tuple[str, int]], str]]:
        # Prefect and Dask pickle task exceptions; the default would pass the message.
        return (type(self), (self.failures, self.advice))


class PublicationRefused(ValidationFailed):
    """The publication guard refused the run (too much quarantined, or no rows).

    Its message is the guard's own sentence, not the list of expectations.
    """

    def __str__(self) -> str:
        return "; ".join(name for name, _ in self.failures)


def format_failures(failures: Sequence[tuple[str, int]]) -> str:
    """One line naming each failed expectation and its row count."""
    parts = "; ".join(f"{name} [{count} row(s)]" for name, count in failures)
    return f"validation failed, {len(failures)} expectation(s): {parts}"


def enforce(config: PipelineConfig, counts: RunCounts, window_failures: Mapping[str, int]) -> None:
    """Raise if any window failed validation, any record is unaccounted for, the residual
    screen withheld more than ``validation.max_residual_fraction`` of the notes, or the
    publication guard refuses the run (``publication_guard``)."""
    counts.check()
    failures = sorted(window_failures.items())
    cap = config.validation.max_residual_fraction
    withheld, screened = counts.residual_withheld, counts.screened
    if withheld and withheld > cap * screened:
        failures.append(
            (
                f"{RESIDUAL_CAP_CHECK}: {withheld} of {screened} de-identified notes withheld "
                f"> validation.max_residual_fraction {cap:g}",
                withheld,
            )
        )
    refused = publication_guard(config, counts)
    if refused is not None and not failures:
        raise refused
    if refused is not None:
        failures.extend(refused.failures)
    if failures:
        raise ValidationFailed(failures)


def publication_guard(config: PipelineConfig, counts: RunCounts) -> PublicationRefused | None:
    """Why this run must not replace the published dataset, or ``None``.

    A wrong column mapping, an export that lost its text column or an empty extract reads
    as records that are all quarantined, or as nothing at all; published, it would
    replace a good dataset with an empty one.  So the run fails when more than
    ``validation.max_quarantine_fraction`` of the records read were quarantined, or when
    it has no row to publish (unless ``validation.allow_empty``, or an incremental run
    found nothing new, which publishes nothing anyway).
    """
    limits = config.validation
    # Skipped entries (hidden files, ...) are not records: they neither fail nor dilute it.
    quarantined, rows_in = counts.quarantined_total, counts.rows_in - counts.skipped_total
    if rows_in and quarantined > limits.max_quarantine_fraction * rows_in:
        reasons = ", ".join(f"{r} {n}" for r, n in counts.quarantined.most_common(3))
        return PublicationRefused(
            [
                (
                    f"{quarantined:,} of {rows_in:,} records were quarantined ({reasons}), "
                    f"more than validation.max_quarantine_fraction "
                    f"({limits.max_quarantine_fraction:.0%})",
                    quarantined,
                )
            ],
            advice="any previous dataset is untouched; most records failing the same way "
            "usually means a wrong `columns:` mapping or a broken export (EMPTY_TEXT, "
            "MISSING_ID): fix the source or the mapping, or raise "
            "validation.max_quarantine_fraction (--max-quarantine-fraction) if so many bad "
            "records are expected",
        )
    incremental_no_news = getattr(config.source, "incremental", False) and rows_in == 0
    if counts.rows_out == 0 and not limits.allow_empty and not incremental_no_news:
        what = "the source yielded no records" if rows_in == 0 else f"of {rows_in:,} records read"
        return PublicationRefused(
            [(f"the run has no rows to publish ({what})", rows_in)],
            advice="any previous dataset is untouched; check the source, or set "
            "validation.allow_empty (--allow-empty) to publish an empty dataset",
        )
    return None
