"""Internal: Presidio's engine classes, made fast for deidflow's detector.

Each subclass overrides a private Presidio method (``_doc_to_nlp_artifact``,
``_enhance_using_context``) or skips ``NlpArtifacts.__init__``, so a Presidio upgrade
must be checked against these (``tests/deid/detection/_speedups/test_presidio.py``).
Results are the same as Presidio's own classes give.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

from deid.detection.nlp import SPACY_MODEL, doc_text


class PreloadedSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine around a pipeline we built ourselves (no download, no lookup)."""

    def __init__(self, nlp: Language) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": SPACY_MODEL}],
            ner_model_configuration=NerModelConfiguration(),
        )
        self._pipelines: dict[str, Language] = {"en": nlp}
        # Presidio declares ``nlp`` as None until its own load() fills in such a dict.
        self.nlp = self._pipelines  # type: ignore[assignment]

    def load(self) -> None:  # already loaded
        return None

    def process_batch(  # type: ignore[override]
        self,
        texts: Iterable[str],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        as_tuples: bool = False,
    ) -> Iterator[Any]:
        """Presidio's ``process_batch``, yielding the input text instead of ``doc.text``."""
        if as_tuples or n_process != 1:
            yield from super().process_batch(
                list(texts), language, batch_size, n_process, as_tuples
            )
            return
        for doc in self._pipelines[language].pipe((str(t) for t in texts), batch_size=batch_size):
            yield doc_text(doc), self._doc_to_nlp_artifact(doc, language)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            self._get_entities(doc), self._get_scores_for_entities(doc)
        )
        return LazyNlpArtifacts(entities, doc, self, language, scores)


class LazyNlpArtifacts(NlpArtifacts):
    """Presidio's ``NlpArtifacts`` with lemmas, token offsets and keywords built on demand.

    Presidio builds them for every text (three Python passes over all tokens, a fifth of
    detection time); only its lemma context enhancer reads them, for recognizers with
    context words, which deidflow's recognizers do not have.  Custom ones still can.
    """

    def __init__(
        self,
        entities: list[Any],
        tokens: Doc,
        nlp_engine: SpacyNlpEngine,
        language: str,
        scores: list[float] | None = None,
    ) -> None:
        # NlpArtifacts.__init__ is skipped on purpose: it computes everything eagerly.
        self.entities = entities
        self.tokens = tokens
        self.nlp_engine = nlp_engine
        self.language = language
        self.scores = scores if scores else [0.85] * len(entities)

    @cached_property
    def lemmas(self) -> list[str]:  # type: ignore[override]
        return [t.lemma_ for t in self.tokens]

    @cached_property
    def tokens_indices(self) -> list[int]:  # type: ignore[override]
        return [t.idx for t in self.tokens]

    @cached_property
    def keywords(self) -> list[str]:  # type: ignore[override]
        return self.set_keywords(self.nlp_engine, self.lemmas, self.language)


class DeidAnalyzerEngine(AnalyzerEngine):
    """Presidio's ``AnalyzerEngine``, skipping context enhancement when it cannot apply.

    Presidio deep-copies every result and walks them per recognizer to boost scores by
    context words; with no recognizer that has context words or its own enhancement
    (deidflow's recognizers read context themselves), that changes nothing and costs a
    tenth of detection time.  Add a recognizer that has them and it runs as usual.
    """

    def _enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        if any(_uses_context(r) for r in recognizers):
            return super()._enhance_using_context(
                text, raw_results, nlp_artifacts, recognizers, context
            )
        return raw_results


class CachingRecognizerRegistry(RecognizerRegistry):
    """Presidio's registry, answering a repeated request from a cache.

    ``AnalyzerEngine.analyze`` asks the registry for the recognizers of the requested
    entities on every note, and the registry filters all of them each time (~2 % of
    detection).  deidflow asks the same question for every note of a run, and the
    answer only changes when a recognizer is added or removed, which clears the cache.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._answers: dict[tuple[str, tuple[str, ...] | None, bool], list[EntityRecognizer]]
        self._answers = {}  # before super().__init__, which may add recognizers
        super().__init__(*args, **kwargs)

    def get_recognizers(
        self,
        language: str,
        entities: list[str] | None = None,
        all_fields: bool = False,
        ad_hoc_recognizers: list[EntityRecognizer] | None = None,
    ) -> list[EntityRecognizer]:
        if ad_hoc_recognizers:
            return super().get_recognizers(language, entities, all_fields, ad_hoc_recognizers)
        key = (language, None if entities is None else tuple(entities), all_fields)
        answer = self._answers.get(key)
        if answer is None:
            # Presidio answers in the order of a set of recognizer objects, which differs
            # between processes; when two recognizers find the same span with the same
            # score, the first one names it.  Registration order makes that the same
            # recognizer in every process.
            order = {id(rec): i for i, rec in enumerate(self.recognizers)}
            answer = super().get_recognizers(language, entities, all_fields)
            answer.sort(key=lambda rec: order.get(id(rec), len(order)))
            self._answers[key] = answer
        return list(answer)  # a copy: callers may change the list they get

    def add_recognizer(self, recognizer: EntityRecognizer) -> None:
        self._answers.clear()
        super().add_recognizer(recognizer)

    def remove_recognizer(self, *args: Any, **kwargs: Any) -> None:
        self._answers.clear()
        super().remove_recognizer(*args, **kwargs)


def _uses_context(recognizer: EntityRecognizer) -> bool:
    own_hook = type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context
    return bool(recognizer.context) or own_hook
