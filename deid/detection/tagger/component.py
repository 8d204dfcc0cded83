"""spaCy component ``phi_tagger``: runs the trained tagger and stores spans on the Doc."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from deid.detection.tagger.model import TaggedSpan, TaggerModel

FACTORY = "phi_tagger"
"""Name of the spaCy factory (``nlp.add_pipe(FACTORY)``)."""
SPANS_KEY = "phi_tagger"
DEFAULT_THRESHOLD = 0.1  # as DetectionConfig.tagger_threshold (chosen by make cv)

if not Doc.has_extension(SPANS_KEY):
    Doc.set_extension(SPANS_KEY, default=())


@cache
def load_model(path: str = "") -> TaggerModel:
    """The model at ``path`` (default: the one shipped in this package), loaded once per process."""
    return TaggerModel.load(path or None)


class PhiTagger:
    """Writes ``doc._.phi_tagger``: the tagger's spans (character offsets, label, P(PHI))."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, model: str = "") -> None:
        self.model = load_model(model)
        self.threshold = threshold

    def __call__(self, doc: Doc) -> Doc:
        spans: tuple[TaggedSpan, ...] = tuple(self.model.predict_spans(doc, self.threshold))
        doc._.set(SPANS_KEY, spans)
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        """Tag docs a batch at once (``nlp.pipe`` calls this): the same spans as one by one."""
        for docs in minibatch(stream, size=batch_size):
            for doc, spans in zip(
                docs, self.model.predict_spans_batch(docs, self.threshold), strict=True
            ):
                doc._.set(SPANS_KEY, tuple(spans))
                yield doc


@Language.factory(FACTORY, default_config={"threshold": DEFAULT_THRESHOLD, "model": ""})
def make_phi_tagger(nlp: Language, name: str, threshold: float, model: str) -> PhiTagger:
    return PhiTagger(threshold, model)
