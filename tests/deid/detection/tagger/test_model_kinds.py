"""Lexicon word classes, the CRF's marginals and the model kinds' persistence."""

from __future__ import annotations

import numpy as np
import pytest

from deid.detection.nlp import load_base_pipeline
from deid.detection.tagger.crf import chain_marginals
from deid.detection.tagger.features import FeatureExtractor
from deid.detection.tagger.model import TaggerModel
from deid.detection.tagger.word_classes import (
    AMBIGUOUS,
    FIRST_NAME,
    HOSPITAL_WORD,
    LAST_NAME,
    PLACE,
    coarse_class,
    name_class,
    place_class,
)
from deid.evaluation.corpora import Note
from deid.spans import Span
from tools.train_tagger import Hyper, featurize, fit_hyper


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return load_base_pipeline()


def test_word_classes_come_from_the_public_lexicons() -> None:
    assert coarse_class("welsh") & LAST_NAME  # a Census surname the old lists missed
    assert coarse_class("rob") & FIRST_NAME
    assert coarse_class("towson") & PLACE
    assert coarse_class("memorial") & HOSPITAL_WORD
    assert coarse_class("white") & AMBIGUOUS and not coarse_class("okonkwo") & AMBIGUOUS
    # Rarer surnames fall in higher buckets; no class for words that are no name.
    assert name_class("smith") // 20 == 1 and name_class("okonkwo") // 20 > 1
    assert name_class("the1") == 0 and place_class("7/22") == 0
    assert place_class("baltimore") != place_class("catonsville") != 0


def test_feature_sets_are_deterministic_across_extractors(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "Seen by dr healey. Son Bill called from Towson; to GBMC 7/22."
    for version, width in (("v1", 29), ("v2", 37)):
        a = FeatureExtractor(version)
        b = FeatureExtractor(version)
        keep, feats = a.extract(nlp(text))
        keep2, feats2 = b.extract(nlp(text))
        assert feats.shape == (len(keep), width)
        np.testing.assert_array_equal(feats, feats2)
    with pytest.raises(ValueError, match="unknown tagger feature set"):
        FeatureExtractor("v9")


def _exact_marginals(scores: np.ndarray, trans: np.ndarray) -> np.ndarray:
    from scipy.special import logsumexp

    n = len(scores)
    a, b = np.zeros_like(scores), np.zeros_like(scores)
    a[0] = scores[0]
    for t in range(1, n):
        a[t] = logsumexp(a[t - 1][:, None] + trans, axis=0) + scores[t]
    for t in range(n - 2, -1, -1):
        b[t] = logsumexp(trans + scores[t + 1] + b[t + 1], axis=1)
    m = a + b
    return np.exp(m - logsumexp(m, axis=1, keepdims=True))


def test_chain_marginals_match_forward_backward() -> None:
    rng = np.random.default_rng(0)
    trans = rng.normal(0, 1.0, (4, 4))
    lengths = [1, 2, 7, 30, 5]
    scores = rng.normal(0, 2, (sum(lengths), 4))
    starts = np.cumsum([0, *lengths[:-1]])
    exact = np.concatenate(
        [_exact_marginals(scores[s : s + n], trans) for s, n in zip(starts, lengths, strict=True)]
    )
    # A window as long as the sequences is exact; sequences never leak into each other.
    np.testing.assert_allclose(chain_marginals(scores, lengths, trans, window=40), exact, atol=1e-9)
    # The default window is close with these (strong, random) transitions.
    assert np.abs(chain_marginals(scores, lengths, trans) - exact).max() < 0.01
    assert chain_marginals(scores[:0], [], trans).shape == (0, 4)


def _tiny_training(nlp):  # type: ignore[no-untyped-def]
    notes = []
    for i, name in enumerate(["Zorblat", "Quenmir", "Vastrop", "Ildrenne"] * 4):
        text = f"Pt seen by Dr. {name} today. Plan per team."
        start = text.index(name)
        notes.append(Note(str(i), str(i), text, (Span(start, start + len(name), "HCPName"),)))
    return notes, featurize(FeatureExtractor("v2"), nlp, notes)


@pytest.mark.parametrize("kind", ["crf", "stack"])
def test_other_model_kinds_learn_and_survive_a_round_trip(kind, nlp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes, rows = _tiny_training(nlp)
    model = fit_hyper(rows, [1.0] * len(rows), Hyper(model=kind, o_weight=1.0), notes)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = TaggerModel.load(path)
    assert (loaded.transitions is not None) == (kind == "crf")
    assert (loaded.stacker is not None) == (kind == "stack")
    text = "Pt seen by Dr. Brellix today."
    spans = loaded.predict_spans(nlp(text), threshold=0.5)
    assert [text[s.start : s.end] for s in spans] == ["Brellix"]
