"""Two-pass stacking: a second, small model reads the first pass's probabilities of each
token and its neighbours ("Kurani Brogli": a confident surname lifts the word before it).

The second pass is a multinomial logistic regression over a few dense features per token
(its own first-pass log-odds, its neighbours' P(PHI), and products of them); it must be
trained on first-pass probabilities the first pass did not see the answers for, so
training (``tools.train_tagger``) cross-fits the first pass over two halves of the
training patients.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
