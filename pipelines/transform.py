"""One batch of notes -> one Arrow table of ``DEIDENTIFIED_SCHEMA`` rows.

Plain library code (no Prefect): ``pipelines.tasks.deidentify`` wraps it.  IDs become keyed
pseudonyms, the split comes from an HMAC of the patient ID, the note date moves by the
patient's date offset (the one ``Deidentifier`` applies to dates in the text), and a
note whose de-identification raises is reported back by position with its exception
type only (the message could quote the note).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa

from deid.anonymization.deidentifier import KEEP, Deidentifier, DeidResult, phi_counts
from deid.anonymization.keys import SecretKey
from deid.entities import ENTITY_NAMES
from pipelines.config import PipelineConfig, SplitRatios
from pipelines.metadata import LabelCleaner
from pipelines.output.filters import ContentFilter
from pipelines.output.near_duplicates import signature
from schemas.deidentified import DEIDENTIFIED_SCHEMA, PHI_COUNT_COLUMNS, phi_count_column
from schemas.notes import NoteRecord

PSEUDONYM_HEX_CHARS = 24  # 96 bits: collisions stay negligible far beyond 10^9 notes

# Tokens as ``deid.evaluation.metrics`` counts them, for PHI density per 1,000 tokens (linear time).
_TOKEN = re.compile(r"\w+")


class BatchFailed(RuntimeError):
    """Every note of a batch raised: the setup is broken (message: types and counts only)."""


@dataclass(frozen=True, slots=True)
class NoteBatch:
    """Consecutive valid notes; ``index`` orders batches within a run."""

    index: int
    notes: tuple[NoteRecord, ...] = field(repr=False)
    token: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False, compare=False)
    """Random, per batch: what Dask hashes for its task key instead of the note text."""

    def __len__(self) -> int:
        return len(self.notes)

    def __dask_tokenize__(self) -> tuple[str, int, str]:
        # Dask's default token hashes every field, i.e. all note text of the batch, in the
        # flow process for each submitted task (~5 % of its CPU); and a key derived from
        # note text is no business of the scheduler's.  A random token is unique anyway.
        return ("NoteBatch", self.index, self.token)


@dataclass(slots=True)
class BatchOutput:
    """Rows for the notes that succeeded, plus what the validation gate needs."""

    index: int
    table: pa.Table
    replaced_spans: list[list[tuple[int, int]]]
    """Output-text offsets of the spans the anonymizer replaced, per row (not kept ones)."""
    orig_kept_chars: list[int]
    """Characters of each row's original text outside the spans the anonymizer replaced:
    what the output must carry over unchanged (the gate's ``text_length_ratio``)."""
    phi_counts: Counter[str]
    failures: list[tuple[int, str]]
    """``(position in batch, exception type name)`` per note that raised."""
    operator_counts: Counter[str] = field(default_factory=Counter)
    """Applied spans per operator name (``keep`` for detections the policy left as they were)."""
    orig_tokens: list[int] = field(default_factory=list)
    """``\\w+`` tokens of each row's original text (parallel to ``orig_kept_chars``)."""
    row_operators: list[Counter[str]] = field(default_factory=list)
    """Applied spans per operator, per row (parallel to ``orig_kept_chars``)."""
    residual: list[tuple[int, dict[str, int]]] = field(default_factory=list)
    """``(position in batch, matches per residual check)`` per note whose output the
    residual-identifier screen withheld (see ``withhold``); never the matched text."""
    filter_reasons: list[str | None] = field(default_factory=list)
    """Per row: the content filter that removes it (``pipelines.output.filters``), or None."""
    signatures: list[bytes | None] = field(default_factory=list)
    """Per row: MinHash signature of its de-identified text (None: near-duplicate removal
    off, or the row is filtered anyway)."""

    def row_positions(self, batch_len: int) -> list[int]:
        """Position in the batch of each row of ``table`` (notes that raised have none)."""
        gone = {pos for pos, _ in self.failures} | {pos for pos, _ in self.residual}
        return [pos for pos in range(batch_len) if pos not in gone]

    def withhold(self, hits: dict[int, dict[str, int]], batch_len: int) -> None:
        """Remove rows (``hits``: row index -> matches per check) from the output.

        Every per-row list and the per-batch counts are recomputed for the rows that
        stay, so the withheld notes count nowhere but in ``residual``.
        """
        if not hits:
            return
        positions = self.row_positions(batch_len)
        keep = [i for i in range(self.table.num_rows) if i not in hits]
        self.residual = sorted([*self.residual, *((positions[i], hits[i]) for i in hits)])
        self.keep_rows(keep)

    def keep_rows(self, keep: list[int]) -> None:
        """Keep only the rows at ``keep`` (row indexes, in order): the table, every
        per-row list and the per-batch counts, so dropped rows count nowhere."""
        if len(keep) == self.table.num_rows:
            return
        # Typed indices: an empty Python list becomes a null-typed array take() rejects
        # (a batch whose every row was withheld).
        self.table = self.table.take(pa.array(keep, type=pa.int64()))
        self.replaced_spans = [self.replaced_spans[i] for i in keep]
        self.orig_kept_chars = [self.orig_kept_chars[i] for i in keep]
        self.orig_tokens = [self.orig_tokens[i] for i in keep]
        self.row_operators = [self.row_operators[i] for i in keep]
        if self.filter_reasons:
            self.filter_reasons = [self.filter_reasons[i] for i in keep]
        if self.signatures:
            self.signatures = [self.signatures[i] for i in keep]
        self.operator_counts = sum(self.row_operators, Counter())
        self.phi_counts = Counter(
            {
                entity: total
                for entity in ENTITY_NAMES
                if (total := sum(self.table.column(phi_count_column(entity)).to_pylist())) > 0
            }
        )


@cache
def _tokenizer_from(path: str) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)  # a local file: nothing is fetched


def load_tokenizer(path: Path | None) -> Any:
    """The ``tokens.tokenizer`` file as a ``tokenizers.Tokenizer`` (one per process), or None."""
    return None if path is None else _tokenizer_from(str(path))


@cache
def pipeline_version() -> str:
    try:
        return metadata.version("deidflow")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def pseudonym(key: SecretKey, kind: str, value: str) -> str:
    """Keyed, stable pseudonym of an identifier (hex); ``kind`` separates ID namespaces."""
    return key.derive("deidflow/pseudonym/v1", kind, value).hex()[:PSEUDONYM_HEX_CHARS]


def assign_split(key: SecretKey, patient_id: str, ratios: SplitRatios) -> str:
    """``train``/``validation``/``test`` from a uniform HMAC draw per patient."""
    draw = int.from_bytes(key.derive("deidflow/split/v1", patient_id)[:8], "big") / 2**64
    if draw < ratios.train:
        return "train"
    if draw < ratios.train + ratios.validation:
        return "validation"
    return "test"


class NoteTransformer:
    """Turns ``NoteBatch`` into ``BatchOutput`` with one ``Deidentifier`` and key.

    Not thread-safe (the deidentifier is not): use one per worker.
    """

    def __init__(self, config: PipelineConfig, key: SecretKey, deidentifier: Deidentifier) -> None:
        self.config = config
        self.key = key
        self.deidentifier = deidentifier
        self.policy_version = f"{config.deid.anonymization.policy}@{config.deid.config_hash()[:12]}"
        self.note_types = LabelCleaner(config.metadata.note_type, deidentifier)
        self.filter = ContentFilter(config.filters)
        self.tokenizer = load_tokenizer(config.tokens.tokenizer)

    def transform(self, batch: NoteBatch) -> BatchOutput:
        columns: dict[str, list[Any]] = {name: [] for name in DEIDENTIFIED_SCHEMA.names}
        out = BatchOutput(batch.index, DEIDENTIFIED_SCHEMA.empty_table(), [], [], Counter(), [])
        for pos, note, result in self._deidentify(batch):
            if isinstance(result, BaseException):
                out.failures.append((pos, type(result).__name__))
                continue
            counts = phi_counts(result)
            try:
                row = self._row(note, result.text, counts)
            except Exception as exc:  # noqa: BLE001 - this note only; kept by type, never message
                out.failures.append((pos, type(exc).__name__))
                continue
            out.phi_counts.update(counts)
            for name, value in row.items():
                columns[name].append(value)
            replaced = [span for span in result.spans if span.operator != KEEP]
            out.replaced_spans.append([(span.start, span.end) for span in replaced])
            # Replaced spans never overlap (the anonymizer merges them first); if they did,
            # this count would come out too small and the gate would fail the row.
            replaced_chars = sum(span.orig_end - span.orig_start for span in replaced)
            out.orig_kept_chars.append(len(note.text) - replaced_chars)
            out.orig_tokens.append(sum(1 for _ in _TOKEN.finditer(note.text)))
            row_operators = Counter(span.operator for span in result.spans)
            out.row_operators.append(row_operators)
            out.operator_counts.update(row_operators)
            reason = self.filter.reason(result.text)
            out.filter_reasons.append(reason)
            near = self.config.near_duplicates
            out.signatures.append(
                signature(result.text, words=near.shingle_words, num_perm=near.num_perm)
                if near.enabled and reason is None
                else None
            )
        if len(batch) > 1 and len(out.failures) == len(batch):
            # Every note failing is a broken setup, not bad notes: fail the run instead of
            # quarantining the whole input.
            kinds = sorted({kind for _, kind in out.failures})
            raise BatchFailed(f"all {len(batch)} notes of batch {batch.index} raised {kinds}")
        if self.tokenizer is not None and columns["text"]:
            encodings = self.tokenizer.encode_batch(columns["text"], add_special_tokens=False)
            columns["n_tokens"] = [len(e.ids) for e in encodings]
        out.table = pa.Table.from_pydict(columns, schema=DEIDENTIFIED_SCHEMA)
        return out

    def _deidentify(
        self, batch: NoteBatch
    ) -> Iterator[tuple[int, NoteRecord, DeidResult | BaseException]]:
        """Results in batch order; an exception stands in for a note that raised.

        The batched call is much faster (spaCy batches); if it raises, the batch is redone
        note by note so only the failing notes are lost to the quarantine.
        """
        records = [(note.text, note.patient_id) for note in batch.notes]
        try:
            results: list[DeidResult | BaseException] = list(
                self.deidentifier.deidentify_batch(records)
            )
        except Exception:  # noqa: BLE001 - isolate the note(s) below
            results = []
            for text, patient_id in records:
                try:
                    results.append(self.deidentifier.deidentify(text, patient_id))
                except Exception as exc:  # noqa: BLE001 - kept by type only, never message
                    results.append(exc)
        yield from zip(range(len(records)), batch.notes, results, strict=True)

    def _row(self, note: NoteRecord, text: str, counts: dict[str, int]) -> dict[str, Any]:
        """One output row; raises (and nothing is appended) if any value cannot be made."""
        key = self.key
        row: dict[str, Any] = {
            "note_pseudonym": pseudonym(key, "note", note.note_id),
            "patient_pseudonym": pseudonym(key, "patient", note.patient_id),
            "encounter_pseudonym": (
                pseudonym(key, "encounter", note.encounter_id) if note.encounter_id else None
            ),
            # Free text that may name someone: never published as read.
            "note_type": self.note_types.clean(note.note_type, note.patient_id),
            "note_date": self._shift(note.note_date, note.patient_id),
            "text": text,
            "split": assign_split(key, note.patient_id, self.config.output.splits),
        }
        for column in PHI_COUNT_COLUMNS:
            row[column] = 0
        for entity_type, n in counts.items():
            row[phi_count_column(entity_type)] = n
        row["phi_total"] = sum(counts.values())
        row["n_words"] = sum(1 for _ in _TOKEN.finditer(text))
        row["n_tokens"] = None  # filled for the whole batch at once (transform)
        row["pipeline_version"] = pipeline_version()
        row["policy_version"] = self.policy_version
        return row

    def _shift(self, date: dt.date | None, patient_id: str) -> dt.date | None:
        """The note date moved by the same per-patient offset as dates in the text."""
        if date is None:
            return None
        return date + dt.timedelta(days=self.deidentifier.date_offset(patient_id))
