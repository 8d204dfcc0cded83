"""Names and places found by the trained PHI tagger (``deid.detection.tagger``).

The tagger itself runs as the spaCy component ``phi_tagger`` inside the pipeline under
Presidio; this recognizer turns the spans it left on the Doc into Presidio results.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from deid import entities
from deid.detection.tagger.component import SPANS_KEY


class TaggerRecognizer(EntityRecognizer):
    """PERSON / HOSPITAL / LOCATION spans predicted by the PHI tagger."""

    name: str  # set by Presidio's EntityRecognizer.__init__

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[
                entities.PERSON.name,
                entities.HOSPITAL.name,
                entities.LOCATION.name,
            ],
            name="TaggerRecognizer",
            supported_language="en",
        )

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        doc = nlp_artifacts.tokens if nlp_artifacts is not None else None
        if doc is None or not doc.has_extension(SPANS_KEY):
            return []
        results = []
        for span in doc._.get(SPANS_KEY):
            if span.label not in entities:
                continue
            # Spans were already thresholded by the component; map P(PHI) into [0.5, 1].
            score = 0.5 + span.score / 2
            results.append(
                RecognizerResult(
                    span.label,
                    span.start,
                    span.end,
                    score,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return results


RECOGNIZERS = [TaggerRecognizer]
