"""Presidio's engine classes made fast: the same results, Presidio's extension points intact."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer, RecognizerRegistry, RecognizerResult

from deid.detection._speedups.presidio import (
    CachingRecognizerRegistry,
    DeidAnalyzerEngine,
    LazyNlpArtifacts,
    PreloadedSpacyNlpEngine,
)
from deid.detection.nlp import load_base_pipeline

TEXT = "Badge KX-4411 issued."


class _BadgeRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="BADGE", patterns=[Pattern("badge", r"KX-\d{4}", 0.4)], context=[]
        )


class _BoostingBadgeRecognizer(_BadgeRecognizer):
    """A custom recognizer with its own context hook (a Presidio extension point)."""

    def enhance_using_context(self, text, raw_recognizer_results, *args, **kwargs):  # type: ignore[no-untyped-def]
        for r in raw_recognizer_results:
            r.score = 0.99
        return raw_recognizer_results


def _analyze(recognizer: PatternRecognizer) -> list[RecognizerResult]:
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(recognizer)
    engine = DeidAnalyzerEngine(
        registry=registry,
        nlp_engine=PreloadedSpacyNlpEngine(load_base_pipeline()),
        supported_languages=["en"],
    )
    return engine.analyze(TEXT, language="en")


def test_context_enhancement_is_skipped_only_when_no_recognizer_uses_it() -> None:
    [plain] = _analyze(_BadgeRecognizer())
    [boosted] = _analyze(_BoostingBadgeRecognizer())
    assert (plain.start, plain.end) == (boosted.start, boosted.end) == (6, 13)
    assert plain.score == 0.4 and boosted.score == 0.99


def test_nlp_artifacts_build_lemmas_and_offsets_on_demand() -> None:
    engine = PreloadedSpacyNlpEngine(load_base_pipeline())
    [(text, artifacts)] = list(engine.process_batch([TEXT], language="en"))
    assert text == TEXT and isinstance(artifacts, LazyNlpArtifacts)
    assert "tokens_indices" not in vars(artifacts)  # not built until asked for
    assert artifacts.tokens_indices == [t.idx for t in artifacts.tokens] == [0, 6, 8, 9, 14, 20]
    assert len(artifacts.lemmas) == len(artifacts.tokens)
    assert isinstance(artifacts.keywords, list)


def test_registry_cache_answers_like_presidio_and_follows_changes() -> None:
    cached = CachingRecognizerRegistry(supported_languages=["en"])
    plain = RecognizerRegistry(supported_languages=["en"])
    for registry in (cached, plain):
        registry.add_recognizer(_BadgeRecognizer())
    assert [type(r) for r in cached.get_recognizers("en", ["BADGE"])] == [
        type(r) for r in plain.get_recognizers("en", ["BADGE"])
    ]

    answer = cached.get_recognizers("en", ["BADGE"])
    answer.clear()  # a caller changing its list does not change the next answer
    assert len(cached.get_recognizers("en", ["BADGE"])) == 1

    cached.add_recognizer(_BoostingBadgeRecognizer())  # clears the cache
    assert len(cached.get_recognizers("en", ["BADGE"])) == 2
    cached.remove_recognizer(cached.recognizers[0].name)
    assert len(cached.get_recognizers("en", ["BADGE"])) == len(cached.recognizers)


def test_registry_answers_in_registration_order() -> None:
    """Two recognizers finding the same span alike: the first registered names it, in
    every process (Presidio's own answer follows a set of objects)."""
    registry = CachingRecognizerRegistry(supported_languages=["en"])
    recognizers = [_BadgeRecognizer() for _ in range(12)]
    for i, rec in enumerate(recognizers):
        rec.name = f"badge{i}"
        registry.add_recognizer(rec)
    assert registry.get_recognizers("en", ["BADGE"]) == recognizers
    engine = DeidAnalyzerEngine(
        registry=registry,
        nlp_engine=PreloadedSpacyNlpEngine(load_base_pipeline()),
        supported_languages=["en"],
    )
    [result] = engine.analyze(TEXT, language="en")
    assert result.recognition_metadata[RecognizerResult.RECOGNIZER_NAME_KEY] == "badge0"
