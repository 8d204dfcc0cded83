"""The tagger's linear model: weights, prediction, and turning token scores into spans."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from spacy.tokens import Doc

from deid import entities
from deid.detection.tagger.crf import chain_marginals
from deid.detection.tagger.features import N_BUCKETS, FeatureExtractor
from deid.detection.tagger.stack import stacked_features

LABELS = ("O", entities.PERSON.name, entities.HOSPITAL.name, entities.LOCATION.name)
MODEL_FILE = "phi_tagger.npz"
_BRIDGE = frozenset({"-", ".", "'", "&"})
# A possessive glued to a name or place belongs to it ("St. Mary's"): its "s" would leak.
_POSSESSIVE = frozenset({"'s", "\u2019s", "'", "\u2019"})


@dataclass(frozen=True)
class TaggedSpan:
    """A character span the tagger believes is PHI."""

    start: int
    end: int
    label: str
    score: float


class TaggerModel:
    """Linear scores over hashed features (see ``features``), turned into P(label) per token
    by a softmax (logistic regression), a linear-chain CRF's marginals (``transitions``
    set; the shipped model) or a second pass over the first's probabilities (``stacker``)."""

    def __init__(
        self,
        weights: np.ndarray,
        bias: np.ndarray,
        meta: dict | None = None,
        transitions: np.ndarray | None = None,
    ) -> None:
        if weights.shape != (N_BUCKETS, len(LABELS)):
            raise ValueError(
                f"weights must have shape {(N_BUCKETS, len(LABELS))}, got {weights.shape}"
            )
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.meta = meta or {}
        # A linear-chain CRF's label-to-label log-potentials (None: per-token softmax).
        self.transitions = None if transitions is None else transitions.astype(np.float32)
        # Two-pass stacking: (coefficients, bias) of the second pass (None: one pass).
        self.stacker: tuple[np.ndarray, np.ndarray] | None = None
        # Models saved before feature sets had names used the first one.
        self.features = FeatureExtractor(self.meta.get("features", "v1"))

    # -- persistence -------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> TaggerModel:
        """Load the shipped model (or one at ``path``)."""
        source = (
            Path(path) if path else resources.files("deid.detection.tagger").joinpath(MODEL_FILE)
        )
        with source.open("rb") as fh:  # type: ignore[union-attr]
            data = np.load(fh, allow_pickle=False)
            meta = json.loads(str(data["meta"]))
            transitions = data["transitions"] if "transitions" in data.files else None
            model = cls(data["weights"].astype(np.float32), data["bias"], meta, transitions)
            if "stack_coef" in data.files:
                model.stacker = (data["stack_coef"], data["stack_bias"])
            return model

    def save(self, path: str | Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "weights": self.weights.astype(np.float16),
            "bias": self.bias,
            "meta": np.array(json.dumps(self.meta, sort_keys=True)),
        }
        if self.transitions is not None:
            arrays["transitions"] = self.transitions
        if self.stacker is not None:
            arrays |= {"stack_coef": self.stacker[0], "stack_bias": self.stacker[1]}
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy's stub: allow_pickle

    # -- prediction --------------------------------------------------------------
    def token_probabilities(self, doc: Doc) -> tuple[np.ndarray, np.ndarray]:
        """(indices of non-space tokens, class probabilities per such token)."""
        return self.token_probabilities_batch([doc])[0]

    def token_probabilities_batch(self, docs: Sequence[Doc]) -> list[tuple[np.ndarray, np.ndarray]]:
        """``token_probabilities`` of each doc, computed for the whole batch at once."""
        if not docs:
            return []
        keeps, feats = self.features.extract_batch(docs)
        lengths = [len(keep) for keep in keeps]
        probs = self._probabilities(feats, lengths)
        ends = np.cumsum(lengths)
        return list(zip(keeps, np.split(probs, ends[:-1]), strict=True))

    def probabilities_of(self, feats: np.ndarray) -> np.ndarray:
        """Class probabilities of the tokens of one sequence, from its feature matrix."""
        return self._probabilities(feats, [len(feats)])

    def _probabilities(self, feats: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        # One gather per template into a reused buffer, accumulated in place, reading
        # each template's buckets as a contiguous row: ~8x faster than
        # ``weights[feats].sum(axis=1)`` and ~6x faster than ``weights[feats[:, t]]``
        # (fancy indexing with a strided column).  Same additions in the same order.
        by_template = np.ascontiguousarray(feats.T)
        scores = np.take(self.weights, by_template[0], axis=0)
        gathered = np.empty_like(scores)
        for buckets in by_template[1:]:
            np.take(self.weights, buckets, axis=0, out=gathered)
            scores += gathered
        scores += self.bias
        if self.transitions is not None:
            return chain_marginals(scores, lengths, self.transitions)
        probs = _softmax(scores)
        if self.stacker is not None:
            coef, bias = self.stacker
            probs = _softmax(stacked_features(probs, lengths) @ coef + bias)
        return probs

    def predict_spans(self, doc: Doc, threshold: float) -> list[TaggedSpan]:
        """Character spans whose tokens have P(PHI) >= threshold, merged across runs."""
        return self.predict_spans_batch([doc], threshold)[0]

    def predict_spans_batch(self, docs: Sequence[Doc], threshold: float) -> list[list[TaggedSpan]]:
        """``predict_spans`` of each doc, with one ``token_probabilities_batch`` for all."""
        batch = self.token_probabilities_batch(docs)
        return [
            self._spans(doc, keep, probs, threshold)
            for doc, (keep, probs) in zip(docs, batch, strict=True)
        ]

    def _spans(
        self, doc: Doc, keep: np.ndarray, probs: np.ndarray, threshold: float
    ) -> list[TaggedSpan]:
        spans: list[TaggedSpan] = []
        run: list[int] = []  # positions in `keep` of the current run
        phi = 1.0 - probs[:, 0] if len(keep) else probs[:, 0]
        positive = phi >= threshold
        for k in np.flatnonzero(positive):
            positive[k] = _has_alpha(doc[int(keep[k])].text)
        j = 0
        while j < len(keep):
            if (
                positive[j]
                or (
                    run
                    and j + 1 < len(keep)
                    and positive[j + 1]
                    and doc[int(keep[j])].text in _BRIDGE
                    and _adjacent(doc, keep, j)
                )
                or (run and run[-1] == j - 1 and _possessive(doc, keep, j))
            ):
                run.append(j)
            elif run:
                spans.append(self._span(doc, keep, probs, run))
                run = []
            j += 1
        if run:
            spans.append(self._span(doc, keep, probs, run))
        return spans

    def _span(self, doc: Doc, keep: np.ndarray, probs: np.ndarray, run: list[int]) -> TaggedSpan:
        first, last = doc[int(keep[run[0]])], doc[int(keep[run[-1]])]
        class_mass = probs[run, 1:].sum(axis=0)
        label = LABELS[1 + int(class_mass.argmax())]
        score = float((1.0 - probs[run, 0]).max())
        return TaggedSpan(first.idx, last.idx + len(last), label, score)


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores -= scores.max(axis=1, keepdims=True, initial=-np.inf)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


def _has_alpha(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _possessive(doc: Doc, keep: np.ndarray, j: int) -> bool:
    """A possessive ending glued to the token before it ("Mary" + "'s")."""
    tok, before = doc[int(keep[j])], doc[int(keep[j - 1])]
    return tok.lower_ in _POSSESSIVE and before.idx + len(before) == tok.idx


def _adjacent(doc: Doc, keep: np.ndarray, j: int) -> bool:
    """A bridge token glued (no whitespace) to at least one neighbour, as in O'Brien or Forman-Lyons."""
    tok = doc[int(keep[j])]
    before = doc[int(keep[j - 1])]
    return before.idx + len(before) == tok.idx or tok.idx + len(tok) == doc[int(keep[j + 1])].idx
