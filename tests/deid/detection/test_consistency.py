"""Within-note propagation: later mentions of a found name are covered too."""

from __future__ import annotations

from deid.detection.consistency import propagate
from deid.detection.nlp import load_base_pipeline
from deid.spans import Span


def test_propagates_name_to_other_mentions() -> None:
    nlp = load_base_pipeline()
    text = "dtr suzette called. suzette will visit; Suzette is proxy."
    doc = nlp(text)
    seed = Span(4, 11, "PERSON", 0.9, "rule")
    extra = propagate(doc, [seed])
    assert sorted((text[s.start : s.end]) for s in extra) == ["Suzette", "suzette", "suzette"]


def test_does_not_propagate_common_words_or_weak_seeds() -> None:
    nlp = load_base_pipeline()
    text = "Heart rate stable. heart sounds regular."
    doc = nlp(text)
    assert (
        propagate(doc, [Span(0, 5, "HOSPITAL", 0.9, "rule")]) == []
    )  # "heart" is an ordinary word
    text2 = "dtr suzette called. suzette visits."
    assert propagate(nlp(text2), [Span(4, 11, "PERSON", 0.4, "rule")]) == []  # below seed score
