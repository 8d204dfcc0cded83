"""Builds the Presidio ``AnalyzerEngine`` deidflow uses, explicitly.

A bare ``AnalyzerEngine()`` would try to download ``en_core_web_lg`` and load
Presidio's generic recognizers; here every part is chosen: our spaCy pipeline
(``deid.detection.nlp``, with the PHI tagger as its one component) and our recognizers
(``deid.detection.recognizers``), nothing implicit.  The engine classes are Presidio's,
made fast (``deid.detection._speedups.presidio``).
"""

from __future__ import annotations

from presidio_analyzer import AnalyzerEngine, EntityRecognizer
from spacy.language import Language

from deid import entities
from deid.config import DetectionConfig
from deid.detection._speedups.presidio import (
    CachingRecognizerRegistry,
    DeidAnalyzerEngine,
    PreloadedSpacyNlpEngine,
)
from deid.detection.nlp import load_base_pipeline
from deid.detection.recognizers import recognizer_classes
from deid.detection.recognizers.site_lists import SiteListRecognizer
from deid.detection.tagger.component import FACTORY


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
    out: list[EntityRecognizer] = []
    if config.site_person_names and entities.PERSON.name in config.entities:
        out.append(
            SiteListRecognizer.from_file(
                config.site_person_names, entities.PERSON.name, "SiteStaffList"
            )
        )
    if config.site_place_names and entities.HOSPITAL.name in config.entities:
        out.append(
            SiteListRecognizer.from_file(
                config.site_place_names, entities.HOSPITAL.name, "SitePlaceList"
            )
        )
    return out


def build_pipeline(config: DetectionConfig) -> Language:
    """The spaCy pipeline detection runs: the base tokenizer, and the tagger if configured."""
    nlp = load_base_pipeline()
    if config.use_tagger:
        model = str(config.tagger_model) if config.tagger_model else ""
        nlp.add_pipe(FACTORY, config={"threshold": config.tagger_threshold, "model": model})
    return nlp


def build_analyzer(config: DetectionConfig, nlp: Language | None = None) -> AnalyzerEngine:
    """The configured analyzer over ``nlp`` (default: ``build_pipeline(config)``) with all
    deidflow recognizers."""
    if nlp is None:
        nlp = build_pipeline(config)
    registry = CachingRecognizerRegistry(supported_languages=["en"])
    for rec in build_recognizers(config):
        registry.add_recognizer(rec)
    return DeidAnalyzerEngine(
        registry=registry,
        nlp_engine=PreloadedSpacyNlpEngine(nlp),
        supported_languages=["en"],
        default_score_threshold=config.score_threshold,
    )
