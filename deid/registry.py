"""Builds the Presidio ``AnalyzerEngine`` deidflow uses, explicitly.

A bare ``AnalyzerEngine()`` would try to download ``en_core_web_lg`` and load
Presidio's generic recognizers; here every part is chosen: our spaCy pipeline
(``deid.nlp``) and our recognizers (``deid.recognizers``), nothing implicit.
"""

from __future__ import annotations

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from spacy.language import Language

from deid.config import DetectionConfig
from deid.nlp import SPACY_MODEL, load_base_pipeline
from deid.recognizers import recognizer_classes


class PreloadedSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine around a pipeline we built ourselves (no download, no lookup)."""

    def __init__(self, nlp: Language) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": SPACY_MODEL}],
            ner_model_configuration=NerModelConfiguration(),
        )
        self.nlp = {"en": nlp}

    def load(self) -> None:  # already loaded
        return None


def build_recognizers(config: DetectionConfig) -> list[EntityRecognizer]:
    """Instantiate every recognizer whose entities the config asks for."""
    wanted = set(config.entities)
    recognizers: list[EntityRecognizer] = []
    for cls in recognizer_classes():
        rec = cls()
        if wanted.intersection(rec.supported_entities):
            recognizers.append(rec)
    recognizers.extend(_site_list_recognizers(config))
    return recognizers


def _site_list_recognizers(config: DetectionConfig) -> list[EntityRecognizer]:
    """The site's own staff and place lists, when the config names them."""
    from deid.recognizers.site_lists import SiteListRecognizer

    out: list[EntityRecognizer] = []
    if config.site_person_names and "PERSON" in config.entities:
        out.append(
            SiteListRecognizer.from_file(config.site_person_names, "PERSON", "SiteStaffList")
        )
    if config.site_place_names and "HOSPITAL" in config.entities:
        out.append(
            SiteListRecognizer.from_file(config.site_place_names, "HOSPITAL", "SitePlaceList")
        )
    return out


def build_analyzer(config: DetectionConfig, nlp: Language | None = None) -> AnalyzerEngine:
    """The configured analyzer: our spaCy pipeline plus all deidflow recognizers."""
    if nlp is None:
        nlp = load_base_pipeline()
        if config.use_tagger:
            import deid.tagger.component  # noqa: F401  (registers the "phi_tagger" factory)

            model = str(config.tagger_model) if config.tagger_model else ""
            nlp.add_pipe(
                "phi_tagger", config={"threshold": config.tagger_threshold, "model": model}
            )
    registry = RecognizerRegistry(supported_languages=["en"])
    for rec in build_recognizers(config):
        registry.add_recognizer(rec)
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=PreloadedSpacyNlpEngine(nlp),
        supported_languages=["en"],
        default_score_threshold=config.score_threshold,
    )
