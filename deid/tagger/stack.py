"""Two-pass stacking: a second, small model reads the first pass's probabilities of each
token and its neighbours ("Kurani Brogli": a confident surname lifts the word before it).

The second pass is a multinomial logistic regression over a few dense features per token
(its own first-pass log-odds, its neighbours' P(PHI), and products of them); it must be
trained on first-pass probabilities the first pass did not see the answers for, so
training cross-fits the first pass over two halves of the training patients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from deid.tagger.train import Hyper, NoteRows

OFFSETS = (-2, -1, 1, 2)
N_STACKED = 3 + 2 * len(OFFSETS) + 3


def stacked_features(probs: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """Dense second-pass features of tokens laid end to end (``probs``: tokens x labels)."""
    n = len(probs)
    lengths_arr = np.asarray(lengths, dtype=np.int64)
    pos = np.arange(n) - np.repeat(np.cumsum(lengths_arr) - lengths_arr, lengths_arr)
    left = np.repeat(lengths_arr, lengths_arr) - pos - 1
    p = np.clip(probs, 1e-6, 1.0)
    phi = 1.0 - probs[:, 0]
    cols = [np.log(p[:, 1:] / p[:, :1])]  # own log-odds of each PHI label against O
    near = {}
    for off in OFFSETS:
        valid = (pos + off >= 0) if off < 0 else (left - off >= 0)
        shifted = np.zeros(n, dtype=probs.dtype)
        if off < 0:
            shifted[-off:] = phi[:off]
        else:
            shifted[:-off] = phi[off:]
        shifted[~valid] = 0.0
        near[off] = shifted
        cols += [shifted[:, None], (~valid).astype(probs.dtype)[:, None]]
    cols += [
        (near[-1] * near[1])[:, None],
        (phi * np.maximum(near[-1], near[1]))[:, None],
        (near[-2] * near[-1] + near[1] * near[2])[:, None],
    ]
    return np.hstack(cols).astype(np.float32)


def fit_stacked(
    rows: Sequence[NoteRows], weights: Sequence[float], groups: Sequence[int], hyper: Hyper
):  # type: ignore[no-untyped-def]
    """First pass on all rows, second pass on cross-fitted first-pass probabilities.

    ``groups``: 0 or 1 per row (half of the training patients each), for cross-fitting.
    """
    from sklearn.linear_model import LogisticRegression

    from deid.tagger.model import LABELS
    from deid.tagger.train import fit_rows

    def fit_first(mask: Sequence[bool]):  # type: ignore[no-untyped-def]
        w = [wt if m else 0.0 for wt, m in zip(weights, mask, strict=True)]
        return fit_rows(rows, w, hyper.c, hyper.o_weight, hyper.features)

    oof: list[np.ndarray | None] = [None] * len(rows)
    for half in (0, 1):
        model = fit_first([g != half for g in groups])
        for i, r in enumerate(rows):
            if groups[i] == half and len(r.labels) and weights[i] > 0:
                oof[i] = model.probabilities_of(r.feats)
    kept = [i for i, p in enumerate(oof) if p is not None]
    X = np.vstack([stacked_features(oof[i], [len(oof[i])]) for i in kept])  # type: ignore[arg-type]
    y = np.concatenate([rows[i].labels for i in kept]).astype(np.int64)
    sw = np.concatenate([np.full(len(rows[i].labels), weights[i]) for i in kept])
    class_weight = {i: (hyper.o_weight if i == 0 else 1.0) for i in range(len(LABELS))}
    second = LogisticRegression(C=1.0, max_iter=500, class_weight=class_weight)
    second.fit(X, y, sample_weight=sw)
    coef = np.zeros((N_STACKED, len(LABELS)), dtype=np.float32)
    bias = np.full(len(LABELS), -1e4, dtype=np.float32)
    if len(second.classes_) == 2:  # binary: sklearn keeps one row, for the second class
        bias[second.classes_[0]] = 0.0
        coef[:, second.classes_[1]] = second.coef_[0]
        bias[second.classes_[1]] = second.intercept_[0]
    else:
        for row, cls in enumerate(second.classes_):
            coef[:, cls] = second.coef_[row]
            bias[cls] = second.intercept_[row]
    first = fit_first([True] * len(rows))
    first.stacker = (coef, bias)
    first.meta["model"] = "stacked"
    return first
