"""The Deidentifier: text (+ patient) in, de-identified text and span metadata out.

>>> deid = Deidentifier()                                   # doctest: +SKIP
>>> result = deid.deidentify("Seen by Dr. Healey on 7/22.", patient_id="p1")
>>> result.text                                             # doctest: +SKIP
'Seen by Dr. Morrow on 5/3.'

Detection (``deid.detection.detector.Detector``) runs only when spans are not given.  Replacement
runs through a Presidio ``AnonymizerEngine`` with deidflow's operators
(``deid.anonymization.operators``); which operator a span gets follows from its entity's mode and
the policy (``deid.anonymization.policy``).  Metadata holds offsets, types and operator names --
never original values.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from deid.anonymization.keys import SecretKey, load_key
from deid.anonymization.operators import build_engine
from deid.anonymization.policy import is_identifier, operator_name_for
from deid.anonymization.surrogates import SurrogateSource
from deid.anonymization.surrogates.context import note_context
from deid.anonymization.surrogates.dates import patient_offset_days
from deid.anonymization.surrogates.source import AvoidSet, NoteContext
from deid.config import AnonymizationConfig, DeidConfig
from deid.errors import InputFormatError
from deid.spans import Span, merge_overlapping

if TYPE_CHECKING:
    from deid.detection.detector import Detector

KEEP = "keep"
"""Operator name recorded for a detected span the policy does not treat as PHI."""


@dataclass(frozen=True)
class AppliedSpan:
    """One replaced (or kept) span: offsets in the new and the original text, no values."""

    start: int
    end: int
    orig_start: int
    orig_end: int
    entity_type: str
    operator: str

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "orig_start": self.orig_start,
            "orig_end": self.orig_end,
            "label": self.entity_type,
            "operator": self.operator,
        }


@dataclass(frozen=True)
class DeidResult:
    """De-identified text, what was applied where, and the policy in force."""

    text: str
    spans: tuple[AppliedSpan, ...]
    policy: str

    def metadata(self) -> dict[str, object]:
        """JSON-ready metadata (policy, spans); no text."""
        return {"policy": self.policy, "spans": [s.to_dict() for s in self.spans]}


def phi_counts(result: DeidResult) -> dict[str, int]:
    """Replaced spans per entity type (spans kept by the policy are not counted)."""
    counts = Counter(s.entity_type for s in result.spans if s.operator != KEEP)
    return dict(sorted(counts.items()))


class Deidentifier:
    """Replaces PHI per the anonymization config with keyed, consistent surrogates.

    Args:
        config: a ``DeidConfig`` (detection + anonymization) or an ``AnonymizationConfig``.
        key: the secret key; loaded with ``deid.anonymization.keys.load_key`` when omitted
            (``MissingKeyError`` if there is none).
        detector: a ready ``Detector``; built on first use when spans are not given.

    One instance holds one Faker and one cache: use one per worker thread.
    """

    def __init__(
        self,
        config: DeidConfig | AnonymizationConfig | None = None,
        *,
        key: SecretKey | None = None,
        detector: Detector | None = None,
    ) -> None:
        if isinstance(config, AnonymizationConfig):
            config = DeidConfig(anonymization=config)
        self.config = config or DeidConfig()
        self.anon = self.config.anonymization
        self._key = key if key is not None else load_key(self.anon)
        self._source = SurrogateSource(self._key, cache_size=self.anon.surrogate_cache_size)
        self._engine = build_engine()
        self._detector = detector
        self._operator_names: dict[str, str] = {}
        self.date_offset("")  # fail early on a range without usable offsets

    @property
    def policy(self) -> str:
        return self.anon.policy

    @property
    def key_fingerprint(self) -> str:
        """Fingerprint of the key in use (safe to report)."""
        return self._key.fingerprint()

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            from deid.detection.detector import Detector  # lazy: spaCy is only needed to detect

            self._detector = Detector(self.config.detection)
        return self._detector

    def date_offset(self, patient_id: str) -> int:
        """The patient's date shift in days (derived from the key; never 0)."""
        low, high = self.anon.date_shift_days
        return patient_offset_days(
            self._key, patient_id, low, high, self.anon.date_shift_min_abs_days
        )

    def deidentify(
        self, text: str, patient_id: str, spans: Sequence[Span] | None = None
    ) -> DeidResult:
        """De-identify one note; detect PHI first unless ``spans`` are given."""
        if spans is None:
            spans = self.detector.detect(text)
        return self._apply(text, str(patient_id), spans)

    def deidentify_batch(
        self,
        records: Iterable[tuple[str, str]],
        spans: Iterable[Sequence[Span]] | None = None,
        batch_size: int = 64,
    ) -> Iterator[DeidResult]:
        """De-identify ``(text, patient_id)`` records in order.

        Without ``spans`` (one sequence per record), the records stream through one
        ``Detector.detect_batch`` call (spaCy batches of ``batch_size``), which holds at
        most one memory zone of notes ahead of the results.
        """
        if spans is not None:
            for (text, patient_id), note_spans in zip(records, spans, strict=True):
                yield self._apply(text, str(patient_id), note_spans)
            return
        pending: deque[tuple[str, str]] = deque()

        def texts() -> Iterator[str]:
            for text, patient_id in records:
                pending.append((text, str(patient_id)))
                yield text

        for note_spans in self.detector.detect_batch(texts(), batch_size):
            text, patient_id = pending.popleft()
            yield self._apply(text, patient_id, note_spans)

    # -- internals ---------------------------------------------------------------------
    def _apply(self, text: str, patient_id: str, spans: Sequence[Span]) -> DeidResult:
        policy, keep_years = self.anon.policy, self.anon.keep_bare_years
        replace: list[Span] = []
        kept: list[AppliedSpan] = []
        for sp in merge_overlapping(list(spans)):
            if sp.end > len(text):
                raise ValueError(
                    f"span {sp.start}-{sp.end} ({sp.entity_type}) beyond text length {len(text)}"
                )
            value = text[sp.start : sp.end]
            if is_identifier(sp.entity_type, value, policy, sp.kind, keep_years):
                replace.append(sp)
            else:
                kept.append(AppliedSpan(sp.start, sp.end, sp.start, sp.end, sp.entity_type, KEEP))
        if not replace:
            return DeidResult(text, tuple(kept), policy)

        operators = self._operators(
            patient_id,
            {sp.entity_type for sp in replace},
            AvoidSet(text[sp.start : sp.end] for sp in replace),
            note_context(text, replace),
        )
        pieces: list[str] = []
        applied: list[AppliedSpan] = []
        done = out_len = 0  # end of the text handled so far, in the input and the output
        for group in _groups(replace, _REPLACE_GROUP_CHARS):
            lo, hi = group[0].start, group[-1].end
            pieces.append(text[done:lo])
            out_len += lo - done
            result = self._engine.anonymize(
                text=text[lo:hi],
                analyzer_results=[
                    RecognizerResult(sp.entity_type, sp.start - lo, sp.end - lo, sp.score)
                    for sp in group
                ],
                operators=operators,
                merge_entities_with_spaces=False,
            )
            items = sorted(result.items, key=lambda item: item.start)
            if len(items) != len(group):  # pragma: no cover - spans are pre-merged
                raise RuntimeError("anonymizer dropped spans; expected one result per span")
            applied.extend(
                AppliedSpan(
                    out_len + item.start,
                    out_len + item.end,
                    sp.start,
                    sp.end,
                    sp.entity_type,
                    item.operator,
                )
                for sp, item in zip(group, items, strict=True)
            )
            pieces.append(result.text)
            out_len += len(result.text)
            done = hi
        pieces.append(text[done:])
        if kept:
            applied = _with_kept(applied, kept)
        return DeidResult("".join(pieces), tuple(applied), policy)

    def _operators(
        self, patient_id: str, entity_types: set[str], avoid: AvoidSet, context: NoteContext
    ) -> dict[str, OperatorConfig]:
        configs: dict[str, OperatorConfig] = {}
        offset: int | None = None
        for entity_type in entity_types:
            name = self._operator_name(entity_type)
            params: dict[str, Any] = {}
            if name in ("surrogate", "date_shift"):
                params = {"source": self._source, "patient_id": patient_id, "avoid": avoid}
            if name == "surrogate":
                params["context"] = context
            if name == "date_shift":
                offset = offset if offset is not None else self.date_offset(patient_id)
                params["offset_days"] = offset
            elif name == "mask":
                params = {"masking_char": self.anon.mask_char}
            configs[entity_type] = OperatorConfig(name, params)
        return configs

    def _operator_name(self, entity_type: str) -> str:
        name = self._operator_names.get(entity_type)
        if name is None:
            name = operator_name_for(entity_type, self.anon.mode_for(entity_type), self.anon.policy)
            self._operator_names[entity_type] = name
        return name


_REPLACE_GROUP_CHARS = 50_000
"""Longest stretch of text handed to Presidio's anonymizer at once: it rebuilds its whole
input for every replacement, which is quadratic on long notes full of PHI."""


def _groups(spans: list[Span], max_chars: int) -> Iterator[list[Span]]:
    """Sorted, non-overlapping spans in runs covering at most ``max_chars`` characters
    (a longer span forms a run of its own)."""
    group: list[Span] = []
    for sp in spans:
        if group and sp.end - group[0].start > max_chars:
            yield group
            group = []
        group.append(sp)
    if group:
        yield group


def _with_kept(applied: list[AppliedSpan], kept: list[AppliedSpan]) -> list[AppliedSpan]:
    """Merge kept spans in, moving their offsets by the length change of earlier replacements."""
    out: list[AppliedSpan] = []
    shift = 0
    for sp in sorted(applied + kept, key=lambda s: s.orig_start):
        if sp.operator == KEEP:
            sp = dataclasses.replace(sp, start=sp.orig_start + shift, end=sp.orig_end + shift)
        else:
            shift += (sp.end - sp.start) - (sp.orig_end - sp.orig_start)
        out.append(sp)
    return out


def deidentify_jsonl(
    input_path: str | Path,
    output_path: str | Path,
    config: DeidConfig | None = None,
    *,
    key: SecretKey | None = None,
    batch_size: int = 64,
) -> int:
    """De-identify a JSONL file of ``{"note_id", "patient_id", "text"}`` objects.

    Writes one ``{"note_id": ..., "text": ...}`` object per input object, in input order
    (blank lines are skipped), via a temporary file renamed into place.  Returns the
    number of notes written.  Errors name the line number and field, never content.
    """
    deid = Deidentifier(config, key=key)
    src, dst = Path(input_path), Path(output_path)
    tmp = dst.with_name(dst.name + ".tmp")
    try:
        with src.open(encoding="utf-8") as fin, tmp.open("w", encoding="utf-8") as fout:
            count = deidentify_lines(fin, fout, deid, name=str(src), batch_size=batch_size)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def deidentify_lines(
    lines: Iterable[str],
    out: TextIO,
    deidentifier: Deidentifier,
    *,
    name: str = "<stdin>",
    batch_size: int = 64,
) -> int:
    """``deidentify_jsonl`` over open streams (e.g. stdin and stdout); returns notes written.

    Malformed lines raise ``InputFormatError`` naming ``name`` and the line number.
    """
    notes = _read_notes(lines, name)
    first, second = itertools.tee(notes)
    records = ((text, patient_id) for _, patient_id, text in first)
    count = 0
    for (note_id, _, _), result in zip(
        second, deidentifier.deidentify_batch(records, batch_size=batch_size), strict=True
    ):
        out.write(json.dumps({"note_id": note_id, "text": result.text}, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def _read_notes(lines: Iterable[str], name: str) -> Iterator[tuple[Any, str, str]]:
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise InputFormatError(f"{where}: not valid JSON") from None
        if not isinstance(obj, dict):
            raise InputFormatError(f"{where}: expected a JSON object")
        for field in ("note_id", "patient_id", "text"):
            if field not in obj:
                raise InputFormatError(f"{where}: missing field {field!r}")
        if not isinstance(obj["text"], str):
            raise InputFormatError(f"{where}: field 'text' must be a string")
        yield obj["note_id"], _patient_id(obj["patient_id"], where), obj["text"]


def _patient_id(value: Any, where: str) -> str:
    """A patient ID as text; a missing one is an error, never a shared placeholder.

    ``str(None)`` would make every note without an ID the patient ``"None"``: unrelated
    notes would share one patient's surrogates and date shift.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise InputFormatError(
        f"{where}: field 'patient_id' is null, blank or not a string or integer "
        "(each note needs its patient: surrogates and date shifts are per patient)"
    )
