"""Free-text metadata made safe to publish: a controlled vocabulary, or de-identification.

``note_type`` reaches the shards, the audit report (counted by value, JSON and HTML)
and the Prefect UI, and a source may put anything there ("Letter to <patient name>").
``LabelCleaner`` applies the field's ``LabelPolicy`` on the workers, where the
de-identifier lives, before any of those see the value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.config import LabelPolicy

if TYPE_CHECKING:
    from deid.anonymization.deidentifier import Deidentifier
    from deid.spans import Span

_CACHE_MAX = 4096
"""Distinct values whose detected spans are remembered (labels repeat a lot)."""


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


class LabelCleaner:
    """Applies one ``LabelPolicy`` to values of one field.

    In ``deidentify`` mode the value goes through the detector and the patient's
    surrogates, exactly like note text; detection does not depend on the patient, so
    the spans found in each distinct value are cached.  Not thread-safe (neither is the
    de-identifier): one per ``NoteTransformer``.
    """

    def __init__(self, policy: LabelPolicy, deidentifier: Deidentifier) -> None:
        self.policy = policy
        self.deidentifier = deidentifier
        self._terms = {_norm(term): term for term in policy.vocabulary}
        self._terms.update({_norm(alias): term for alias, term in policy.aliases.items()})
        self._spans: dict[str, list[Span]] = {}

    def clean(self, value: str | None, patient_id: str) -> str | None:
        """The value to publish for ``value`` of ``patient_id``'s note."""
        if value is None or self.policy.mode == "drop":
            return None
        if self.policy.mode == "vocabulary":
            return self._terms.get(_norm(value), self.policy.other)
        spans = self._spans.get(value)
        if spans is None:
            if len(self._spans) >= _CACHE_MAX:
                self._spans.clear()
            spans = self._spans[value] = self.deidentifier.detector.detect(value)
        if not spans:
            return value
        return self.deidentifier.deidentify(value, patient_id, spans=spans).text
