"""Train the PHI tagger.

    python -m tools.train_tagger --physionet ../shared/data/physionet-deid-dev \\
        --synthetic-n 3000 --out deid/detection/tagger/phi_tagger.npz

Training data: annotated notes (PhysioNet deid format and/or annotated JSONL), copies of
them with every gold span replaced by fresh lexicon values (``--variants``; see
``deid.detection.tagger.augment``) and synthetic notes.  Gold categories map onto the
tagger's labels (names -> PERSON; places -> HOSPITAL or LOCATION); every other token is
O, since rules handle dates, phones and IDs.  The model learns *kinds* of PHI and their contexts;
no word list is built from the gold.  Cross-validation (plain and leave-names-out) is
``make cv`` (``benchmarks/cross_validate.py``), with the same options.

Model kinds (``--model``): ``lr``, a per-token logistic regression; ``crf``, a
linear-chain CRF trained with python-crfsuite (a dev dependency: the shipped tagger only
decodes it, in numpy); ``stack``, two-pass stacking, the second pass trained on
cross-fitted first-pass probabilities.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from random import Random

import numpy as np
from spacy.language import Language

from deid.detection.nlp import load_base_pipeline
from deid.detection.tagger.augment import augment
from deid.detection.tagger.features import (
    DEFAULT_FEATURES,
    FEATURE_SETS,
    N_BUCKETS,
    FeatureExtractor,
)
from deid.detection.tagger.model import LABELS, TaggerModel
from deid.detection.tagger.stack import N_STACKED, stacked_features
from deid.evaluation.corpora import Note, read_corpus
from deid.evaluation.folds import patient_folds
from deid.spans import Span

# Bump when features, labels or training data change (recorded in the model file).
MODEL_VERSION = "phi-tagger-1"
PERSON_CATEGORIES = {"HCPName", "RelativeProxyName", "PTName", "PTNameInitial", "PERSON"}
PLACE_CATEGORIES = {"Location", "HOSPITAL", "LOCATION"}
TAGGER_CATEGORIES = PERSON_CATEGORIES | PLACE_CATEGORIES
# Words after a place that make it a facility rather than a town (for relabelling PhysioNet "Location").
_FACILITY = re.compile(
    r"(?i)\s*[-]?\s*(hospital|hosp|hospiatal|rehab|medical|center|clinic|adventist|memorial|"
    r"micu|sicu|ccu|icu|ew|er|ed|nursing|home|house|[0-9])\b"
)


def tagger_label(note: Note, span: Span) -> str:
    """The tagger label a gold span trains (or "O")."""
    cat = span.entity_type
    if cat in PERSON_CATEGORIES:
        return "PERSON"
    if cat in ("HOSPITAL", "LOCATION"):
        return cat
    if cat == "Location":
        text = note.text[span.start : span.end]
        after = note.text[span.end : span.end + 20]
        if _FACILITY.match(after) or _FACILITY.search(text) or (text.isupper() and len(text) <= 4):
            return "HOSPITAL"
        return "LOCATION"
    return "O"


@dataclass(frozen=True)
class NoteRows:
    """One note's training rows: feature buckets per non-space token and their labels."""

    feats: np.ndarray  # (tokens, N_TEMPLATES) int32
    labels: np.ndarray  # (tokens,) int8, indices into LABELS


def featurize(features: FeatureExtractor, nlp: Language, notes: Sequence[Note]) -> list[NoteRows]:
    """Feature rows and labels of every non-space token of every note, note by note."""
    out: list[NoteRows] = []
    texts = (n.text for n in notes)
    for note, doc in zip(notes, nlp.pipe(texts, batch_size=64), strict=True):
        keep, feats = features.extract(doc)
        y = np.zeros(len(keep), dtype=np.int8)
        if len(keep) and note.gold:
            starts = np.array([doc[int(i)].idx for i in keep])
            ends = starts + np.array([len(doc[int(i)]) for i in keep])
            for sp in note.gold:
                lab = tagger_label(note, sp)
                if lab != "O":
                    y[(starts < sp.end) & (ends > sp.start)] = LABELS.index(lab)
        out.append(NoteRows(feats.astype(np.int32), y))
    return out


def build_matrix(model_features, nlp, notes: Sequence[Note]):  # type: ignore[no-untyped-def]
    """Feature matrix, labels and owning note index for every non-space token of every note."""
    rows = featurize(model_features, nlp, notes)
    X, y = _matrix(rows)
    owner = np.concatenate([np.full(len(r.labels), i) for i, r in enumerate(rows)])
    return X, y, owner


def _matrix(rows: Sequence[NoteRows]):  # type: ignore[no-untyped-def]
    from scipy.sparse import csr_matrix

    feats = np.concatenate([r.feats for r in rows])
    y = np.concatenate([r.labels for r in rows]).astype(np.int64)
    n, k = feats.shape
    data = np.ones(n * k, dtype=np.float32)
    indptr = np.arange(0, n * k + 1, k)
    X = csr_matrix((data, feats.ravel(), indptr), shape=(n, N_BUCKETS))
    X.sum_duplicates()
    return X, y


def fit_rows(
    rows: Sequence[NoteRows],
    note_weights: Sequence[float],
    c: float,
    o_weight: float,
    features: str = DEFAULT_FEATURES,
) -> TaggerModel:
    """Fit the tagger on featurized notes, each token weighted by its note's weight."""
    kept = [(r, w) for r, w in zip(rows, note_weights, strict=True) if w > 0 and len(r.labels)]
    X, y = _matrix([r for r, _ in kept])
    sample_weight = np.concatenate([np.full(len(r.labels), w) for r, w in kept])
    return fit(X, y, c, o_weight, sample_weight, features)


def fit(
    X, y, c: float, o_weight: float, sample_weight=None, features: str = DEFAULT_FEATURES
) -> TaggerModel:  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    weights = {i: (o_weight if i == 0 else 1.0) for i in range(len(LABELS))}
    clf = LogisticRegression(C=c, max_iter=300, class_weight=weights, tol=1e-4)
    clf.fit(X, y, sample_weight=sample_weight)
    W = np.zeros((N_BUCKETS, len(LABELS)), dtype=np.float32)
    # Classes absent from the training data must never be predicted.
    b = np.full(len(LABELS), -1e4, dtype=np.float32)
    b[clf.classes_] = 0.0
    if len(clf.classes_) == 2:  # binary: sklearn keeps one row, for the second class
        W[:, clf.classes_[1]] = clf.coef_[0]
        b[clf.classes_[1]] = clf.intercept_[0]
    else:
        for row, cls in enumerate(clf.classes_):
            W[:, cls] = clf.coef_[row]
            b[cls] = clf.intercept_[row]
    return TaggerModel(W, b, {"features": features})


def fit_hyper(
    rows: Sequence[NoteRows], weights: Sequence[float], hyper: Hyper, notes: Sequence[Note]
) -> TaggerModel:
    """Fit the model kind ``hyper`` names on ``rows`` (featurized ``notes``)."""
    if hyper.model == "stack":
        halves = patient_folds(notes, 2, seed=29)
        return fit_stacked(rows, weights, [halves[n.patient_id] for n in notes], hyper)
    if hyper.model == "crf":
        return fit_crf(rows, weights, hyper.features, c2=hyper.c2)
    return fit_rows(rows, weights, hyper.c, hyper.o_weight, hyper.features)


@dataclass(frozen=True)
class Hyper:
    """Training settings (recorded in the model file)."""

    c: float = 1.0
    o_weight: float = 0.3
    synthetic_weight: float = 0.05
    augmented_weight: float = 1.0  # per augmented copy
    real_weight: float = 1.0  # the annotated notes themselves
    variants: int = 6  # augmented copies of each annotated note (chosen by make cv)
    features: str = DEFAULT_FEATURES  # feature set (deid.detection.tagger.features.FEATURE_SETS)
    model: str = "crf"  # "crf": linear-chain CRF (chosen by make cv); "lr": per token
    c2: float = 1.0  # the CRF's L2 strength


def add_hyper_arguments(ap: argparse.ArgumentParser) -> None:
    """The ``Hyper`` settings as options (training here, ``benchmarks/cross_validate.py``)."""
    defaults = Hyper()
    ap.add_argument(
        "--variants",
        type=int,
        default=defaults.variants,
        help="augmented copies of each annotated note, every gold span replaced anew",
    )
    ap.add_argument("--augmented-weight", type=float, default=defaults.augmented_weight)
    ap.add_argument("--real-weight", type=float, default=defaults.real_weight)
    ap.add_argument(
        "--synthetic-weight",
        type=float,
        default=defaults.synthetic_weight,
        help="sample weight of synthetic notes",
    )
    ap.add_argument("--features", default=defaults.features, choices=FEATURE_SETS)
    ap.add_argument("--model", default=defaults.model, choices=("lr", "crf", "stack"))
    ap.add_argument("--c", type=float, default=defaults.c, help="inverse L2 strength (lr)")
    ap.add_argument("--c2", type=float, default=defaults.c2, help="L2 strength (crf)")
    ap.add_argument(
        "--o-weight",
        type=float,
        default=defaults.o_weight,
        help="class weight of O (lower favours recall)",
    )


def hyper_from_args(args: argparse.Namespace) -> Hyper:
    """The ``Hyper`` that ``add_hyper_arguments``' options describe."""
    return Hyper(**{f.name: getattr(args, f.name) for f in fields(Hyper)})


def train_model(
    real: Sequence[Note],
    synthetic: Sequence[Note] = (),
    c: float = 1.0,
    o_weight: float = 0.3,
    synthetic_weight: float = 0.05,
    nlp=None,  # type: ignore[no-untyped-def]
    augmented: Sequence[Note] = (),
    augmented_weight: float = 1.0,
    real_weight: float = 1.0,
) -> TaggerModel:
    """Fit a tagger on real, augmented and (down-weighted) synthetic annotated notes."""
    nlp = nlp or load_base_pipeline()
    hyper = Hyper(c, o_weight, synthetic_weight, augmented_weight, real_weight)
    features = FeatureExtractor(hyper.features)
    notes = [*real, *augmented, *synthetic]
    rows = featurize(features, nlp, notes)
    weights = note_weights(hyper, len(real), len(augmented), len(synthetic))
    model = fit_hyper(rows, weights, hyper, notes)
    model.meta = {**model.meta, **model_meta(hyper, len(real), len(augmented), len(synthetic))}
    return model


def note_weights(hyper: Hyper, real: int, augmented: int, synthetic: int) -> list[float]:
    """Per-note sample weights for notes ordered real, augmented, synthetic."""
    return (
        [hyper.real_weight] * real
        + [hyper.augmented_weight] * augmented
        + [hyper.synthetic_weight] * synthetic
    )


def model_meta(hyper: Hyper, real: int, augmented: int, synthetic: int) -> dict:
    return {
        "version": MODEL_VERSION,
        "trained_with": "python -m tools.train_tagger --physionet <dev split> --synthetic-n 3000",
        "labels": list(LABELS),
        "n_buckets": N_BUCKETS,
        **asdict(hyper),
        "training_notes": {"real": real, "augmented": augmented, "synthetic": synthetic},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--physionet", type=Path, help="PhysioNet-format corpus directory")
    ap.add_argument(
        "--synthetic", type=Path, action="append", default=[], help="annotated JSONL corpus"
    )
    ap.add_argument(
        "--synthetic-n",
        type=int,
        default=0,
        help="also generate N synthetic notes (sample_data, seed 7)",
    )
    add_hyper_arguments(ap)
    ap.add_argument("--seed", type=int, default=0, help="augmentation seed")
    ap.add_argument("--out", type=Path, required=True, help="where to write the model (.npz)")
    args = ap.parse_args(argv)

    hyper = hyper_from_args(args)
    t0 = time.time()
    real = list(read_corpus(args.physionet)) if args.physionet else []
    synthetic = [n for path in args.synthetic for n in read_corpus(path)]
    synthetic += synthetic_notes(args.synthetic_n)
    augmented = augment(real, hyper.variants, seed=args.seed)
    nlp = load_base_pipeline()
    features = FeatureExtractor(hyper.features)
    notes = [*real, *augmented, *synthetic]
    rows = featurize(features, nlp, notes)
    weights = note_weights(hyper, len(real), len(augmented), len(synthetic))
    model = fit_hyper(rows, weights, hyper, notes)
    model.meta = {
        **model.meta,
        **model_meta(hyper, len(real), len(augmented), len(synthetic)),
        "seed": args.seed,
    }
    model.save(args.out)
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {time.time() - t0:.0f}s); "
        "cross-validate with `make cv`",
        file=sys.stderr,
    )
    return 0


def synthetic_notes(n: int, seed: int = 7) -> list[Note]:
    """``n`` synthetic annotated notes from ``sample_data`` (deterministic)."""
    if n <= 0:
        return []
    from sample_data.generate import iter_notes

    return [
        Note(
            str(d["note_id"]),
            str(d["patient_id"]),
            d["text"],
            tuple(
                Span(int(s["start"]), int(s["end"]), str(s["label"]), 1.0, "gold")
                for s in d["spans"]
            ),
        )
        for d in iter_notes(n, seed=seed)
    ]


# -- model kinds beyond the per-token logistic regression -----------------------------
def fit_crf(
    rows: Sequence[NoteRows],
    note_weights: Sequence[float],
    features: str,
    c2: float = 1.0,
    max_iterations: int = 150,
    seed: int = 0,
) -> TaggerModel:
    """Train a CRF with crfsuite (L-BFGS, L2 ``c2``) and export it as a ``TaggerModel``.

    crfsuite has no sample weights: a note of weight ``w`` is used ``floor(w)`` times,
    plus once more with probability ``w - floor(w)`` (deterministic given ``seed``).
    """
    import pycrfsuite

    rng = Random(seed)
    names = [str(i) for i in range(N_BUCKETS)]
    trainer = pycrfsuite.Trainer(verbose=False)
    for r, w in zip(rows, note_weights, strict=True):
        times = int(w) + (rng.random() < w - int(w))
        if not times or not len(r.labels):
            continue
        xseq = [[names[b] for b in row] for row in r.feats.tolist()]
        yseq = [LABELS[y] for y in r.labels.tolist()]
        for _ in range(times):
            trainer.append(xseq, yseq)
    trainer.set_params(
        {
            "c1": 0.0,
            "c2": c2,
            "max_iterations": max_iterations,
            "feature.possible_transitions": True,
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "crf.model")
        trainer.train(path)
        tagger = pycrfsuite.Tagger()
        tagger.open(path)
        info = tagger.info()
        tagger.close()
    weights = np.zeros((N_BUCKETS, len(LABELS)), dtype=np.float32)
    for (attr, label), w in info.state_features.items():
        weights[int(attr), LABELS.index(label)] = w
    transitions = np.zeros((len(LABELS), len(LABELS)), dtype=np.float32)
    for (a, b), w in info.transitions.items():
        transitions[LABELS.index(a), LABELS.index(b)] = w
    return TaggerModel(
        weights, np.zeros(len(LABELS)), {"features": features, "model": "crf"}, transitions
    )


def fit_stacked(
    rows: Sequence[NoteRows], weights: Sequence[float], groups: Sequence[int], hyper: Hyper
) -> TaggerModel:
    """First pass on all rows, second pass on cross-fitted first-pass probabilities.

    ``groups``: 0 or 1 per row (half of the training patients each), for cross-fitting.
    """
    from sklearn.linear_model import LogisticRegression

    def fit_first(mask: Sequence[bool]) -> TaggerModel:
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


if __name__ == "__main__":
    sys.exit(main())
