"""The trained PHI tagger: shipped model, features, training and within-note propagation."""

from __future__ import annotations

import numpy as np
import pytest

from deid.detection.nlp import load_base_pipeline
from deid.detection.tagger.features import N_BUCKETS
from deid.detection.tagger.model import LABELS, TaggerModel
from deid.evaluation.corpora import Note
from deid.spans import Span
from tools.train_tagger import tagger_label, train_model


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return load_base_pipeline()


@pytest.fixture(scope="module")
def model() -> TaggerModel:
    return TaggerModel.load()


def test_shipped_model_loads_with_metadata(model: TaggerModel) -> None:
    assert model.weights.shape == (N_BUCKETS, len(LABELS))
    assert model.meta["labels"] == list(LABELS)
    assert model.meta["training_notes"]["real"] > 1000


def test_features_are_deterministic_and_in_range(model: TaggerModel, nlp) -> None:  # type: ignore[no-untyped-def]
    doc = nlp("Seen by dr healey. Son Bill called from Towson.")
    keep, feats = model.features.extract(doc)
    keep2, feats2 = model.features.extract(nlp(doc.text))
    assert feats.shape == (len(keep), model.features.n_templates)
    assert (feats >= 0).all() and (feats < N_BUCKETS).all()
    np.testing.assert_array_equal(feats, feats2)


def test_tagger_finds_names_in_context(model: TaggerModel, nlp) -> None:  # type: ignore[no-untyped-def]
    text = "Pt seen by Dr. Okonkwo this am. Daughter Priyanka at bedside, plan d/w Dr. Okonkwo."
    spans = model.predict_spans(nlp(text), threshold=0.3)
    names = {text[s.start : s.end] for s in spans}
    assert "Okonkwo" in names
    assert not names & {"Pt", "plan", "bedside", "am"}


def test_empty_and_whitespace_docs(model: TaggerModel, nlp) -> None:  # type: ignore[no-untyped-def]
    assert model.predict_spans(nlp(""), 0.3) == []
    assert model.predict_spans(nlp(" \n\n  "), 0.3) == []


def test_a_batch_tags_each_doc_as_alone(model: TaggerModel, nlp) -> None:  # type: ignore[no-untyped-def]
    """Batched features never look across docs: neighbours stop at each doc's edge."""
    texts = [
        "Daughter Priyanka at bedside.",
        "",
        "Okonkwo",  # one token: both neighbours are padding
        " \n ",
        "Seen by dr healey. Son Bill called from Towson.",
        "BP 120/80. Pt to CALVERT HOSPITAL with wife Mary Smith",
    ]
    docs = [nlp(t) for t in texts]
    alone = [model.features.extract(doc) for doc in docs]
    keeps, feats = model.features.extract_batch(docs)
    for (keep, _), batch_keep in zip(alone, keeps, strict=True):
        np.testing.assert_array_equal(keep, batch_keep)
    np.testing.assert_array_equal(np.concatenate([own for _, own in alone]), feats)
    # Reversed order changes every doc's neighbours in the batch, not its spans.
    one_by_one = [model.predict_spans(doc, 0.3) for doc in docs]
    assert model.predict_spans_batch(docs, 0.3) == one_by_one
    assert model.predict_spans_batch(docs[::-1], 0.3) == one_by_one[::-1]
    assert any(one_by_one)


def test_physionet_location_relabelling() -> None:
    text = "to CALVERT HOSPITAL; lives in Towson"
    note = Note("1", "1", text)
    assert tagger_label(note, Span(3, 10, "Location")) == "HOSPITAL"
    assert tagger_label(note, Span(29, 35, "Location")) == "LOCATION"
    assert tagger_label(note, Span(0, 2, "Date")) == "O"


def test_training_learns_from_examples(nlp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes = []
    for i, name in enumerate(["Zorblat", "Quenmir", "Vastrop", "Ildrenne"] * 5):
        text = f"Pt seen by Dr. {name} today. Plan per team."
        start = text.index(name)
        notes.append(Note(str(i), str(i), text, (Span(start, start + len(name), "HCPName"),)))
    model = train_model(notes, nlp=nlp, o_weight=1.0)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = TaggerModel.load(path)
    text = "Pt seen by Dr. Brellix today."
    spans = loaded.predict_spans(nlp(text), threshold=0.5)
    assert [text[s.start : s.end] for s in spans] == ["Brellix"]


def test_a_glued_possessive_joins_its_name(model: TaggerModel, nlp) -> None:  # type: ignore[no-untyped-def]
    """ "St. Mary's": a span that stopped before "'s" would leave its "s" in the output."""
    text = "Pt seen by Dr. Okonkwo's team."
    spans = model.predict_spans(nlp(text), threshold=0.3)
    assert [text[s.start : s.end] for s in spans] == ["Okonkwo's"]
