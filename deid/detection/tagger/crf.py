"""Linear-chain CRF over the tagger's hashed features: token marginals in numpy (no
per-token Python at run time).  Training (python-crfsuite, a dev dependency) is
``tools.train_tagger``.

A CRF scores a whole label sequence: the per-token emission scores come from the same
hashed features and weight matrix as the logistic model, plus a label-to-label
transition matrix. The detector needs P(PHI) per token (it thresholds it), so decoding
is forward-backward; it runs over a window of ``WINDOW`` tokens on each side, for all
tokens of a batch at once: with four labels and the weak transitions learned here, the
marginals it gives equal the exact ones to within 1e-4 (checked in the tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

WINDOW = 4
_TINY = 1e-30


def chain_marginals(
    scores: np.ndarray, lengths: Sequence[int], transitions: np.ndarray, window: int = WINDOW
) -> np.ndarray:
    """P(label) per token of sequences laid end to end in ``scores`` (tokens x labels),
    by forward-backward over ``window`` tokens on each side of every token.

    ``scores`` are emission log-potentials; ``lengths`` the sequences' lengths (their
    sum is ``len(scores)``); ``transitions[a, b]`` the log-potential of label a -> b.
    """
    n = len(scores)
    if n == 0:
        return np.zeros_like(scores)
    lengths_arr = np.asarray(lengths, dtype=np.int64)
    starts = np.repeat(np.cumsum(lengths_arr) - lengths_arr, lengths_arr)
    pos = np.arange(n) - starts  # position within its sequence
    left = np.repeat(lengths_arr, lengths_arr) - pos - 1  # tokens after it in its sequence
    # Probability space, each row rescaled to max 1: exp never overflows, products stay exact.
    emit = np.exp(scores - scores.max(axis=1, keepdims=True))
    trans = np.exp(transitions - transitions.max()).astype(scores.dtype)

    # Forward: alpha_t over the tokens t-window .. t of the same sequence.
    k = np.minimum(pos, window)
    alpha = _shifted(emit, window, k == window)  # start of the window (valid where k == window)
    for d in range(window - 1, -1, -1):  # then tokens t-d, d = window-1 .. 0
        stepped = (alpha @ trans) * _shifted(emit, d)
        first = k == d  # the window starts here (sequence start closer than `window`)
        alpha = np.where(first[:, None], _shifted(emit, d), np.where((k > d)[:, None], stepped, 0))
        alpha /= np.maximum(alpha.max(axis=1, keepdims=True), _TINY)
    # Backward: beta_t over the tokens t+1 .. t+window of the same sequence.
    beta = np.ones_like(emit)
    reach = np.minimum(left, window)
    for d in range(window, 0, -1):  # tokens t+d, d = window .. 1
        stepped = (_shifted(emit, -d) * beta) @ trans.T
        beta = np.where((reach >= d)[:, None], stepped, beta)
        beta /= np.maximum(beta.max(axis=1, keepdims=True), _TINY)
    marginal = alpha * beta
    return marginal / marginal.sum(axis=1, keepdims=True)


def _shifted(values: np.ndarray, by: int, valid: np.ndarray | None = None) -> np.ndarray:
    """``values[t - by]`` for every t (zeros where that index is outside the array)."""
    if by == 0:
        return values
    out = np.zeros_like(values)
    if by > 0:
        out[by:] = values[:-by]
    else:
        out[:by] = values[-by:]
    if valid is not None:
        out[~valid] = 0
    return out
