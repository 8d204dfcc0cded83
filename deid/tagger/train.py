"""Train the PHI tagger and measure it by cross-validation over patients.

    python -m deid.tagger.train --physionet ../shared/data/physionet-deid-dev \
        --synthetic-n 3000 --folds 5 --out deid/tagger/phi_tagger.npz

Training data: annotated notes (PhysioNet deid format and/or annotated JSONL).  Gold
categories map onto the tagger's labels (names -> PERSON; places -> HOSPITAL or
LOCATION); every other token is O, since rules handle dates, phones and IDs.  The
model learns *kinds* of PHI and their contexts; no word list is built from the gold.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from spacy.language import Language

from deid.corpora import Note, read_corpus
from deid.evaluate import evaluate
from deid.nlp import load_base_pipeline
from deid.spans import Span
from deid.tagger.features import N_BUCKETS, FeatureExtractor
from deid.tagger.model import LABELS, TaggerModel

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
    rows: Sequence[NoteRows], note_weights: Sequence[float], c: float, o_weight: float
) -> TaggerModel:
    """Fit the tagger on featurized notes, each token weighted by its note's weight."""
    kept = [(r, w) for r, w in zip(rows, note_weights, strict=True) if w > 0 and len(r.labels)]
    X, y = _matrix([r for r, _ in kept])
    sample_weight = np.concatenate([np.full(len(r.labels), w) for r, w in kept])
    return fit(X, y, c, o_weight, sample_weight)


def fit(X, y, c: float, o_weight: float, sample_weight=None) -> TaggerModel:  # type: ignore[no-untyped-def]
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
    return TaggerModel(W, b)


@dataclass(frozen=True)
class Hyper:
    """Training settings (recorded in the model file)."""

    c: float = 1.0
    o_weight: float = 0.3
    synthetic_weight: float = 0.05
    augmented_weight: float = 1.0  # per augmented copy
    real_weight: float = 1.0  # the annotated notes themselves
    variants: int = 0  # augmented copies of each annotated note


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
    features = FeatureExtractor()
    rows = featurize(features, nlp, [*real, *augmented, *synthetic])
    weights = note_weights(hyper, len(real), len(augmented), len(synthetic))
    model = fit_rows(rows, weights, c, o_weight)
    model.meta = model_meta(hyper, len(real), len(augmented), len(synthetic))
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
        "trained_with": "python -m deid.tagger.train --physionet <dev split> --synthetic-n 3000",
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
        "--folds", type=int, default=0, help="k-fold cross-validation by patient (0: skip)"
    )
    ap.add_argument(
        "--synthetic-n",
        type=int,
        default=0,
        help="also generate N synthetic notes (sample_data, seed 7)",
    )
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength")
    ap.add_argument(
        "--o-weight", type=float, default=0.3, help="class weight of O (lower favours recall)"
    )
    ap.add_argument("--thresholds", default="0.2,0.3,0.4,0.5", help="P(PHI) thresholds to report")
    ap.add_argument(
        "--synthetic-weight", type=float, default=0.05, help="sample weight of synthetic tokens"
    )
    ap.add_argument("--out", type=Path, help="where to write the trained model (.npz)")
    args = ap.parse_args(argv)

    nlp = load_base_pipeline()
    real = list(read_corpus(args.physionet)) if args.physionet else []
    synthetic = [n for path in args.synthetic for n in read_corpus(path)]
    synthetic += synthetic_notes(args.synthetic_n)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    hyper = {"c": args.c, "o_weight": args.o_weight, "synthetic_weight": args.synthetic_weight}

    cv: dict[str, dict[str, float]] = {}
    if args.folds and real:
        fold_of = patient_folds(real, args.folds)
        results: dict[float, list[dict]] = {t: [] for t in thresholds}
        for k in range(args.folds):
            t0 = time.time()
            train = [n for n in real if fold_of[n.patient_id] != k]
            test = [n for n in real if fold_of[n.patient_id] == k]
            model = train_model(train, synthetic, nlp=nlp, **hyper)
            for t in thresholds:
                results[t].append(_counts(model, nlp, test, t))
            print(f"fold {k}: {len(test)} test notes, {time.time() - t0:.1f}s", file=sys.stderr)
        for t in thresholds:
            covered = sum(r["covered"] for r in results[t])
            gold = sum(r["gold"] for r in results[t])
            tp = sum(r["tp"] for r in results[t])
            pred = sum(r["pred"] for r in results[t])
            cv[str(t)] = {"full_cover_recall": covered / gold, "token_precision": tp / max(pred, 1)}
            print(
                f"cv threshold {t}: tagger-only recall on names/places {covered / gold:.4f} "
                f"({covered}/{gold}), token precision {tp / max(pred, 1):.4f}"
            )

    if args.out:
        model = train_model(real, synthetic, nlp=nlp, **hyper)
        if cv:
            model.meta["cross_validation"] = {"folds": args.folds, "by": "patient", "scores": cv}
        model.save(args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
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


def patient_folds(notes: Sequence[Note], folds: int, seed: int = 13) -> dict[str, int]:
    """Assign every patient to one of ``folds`` folds (deterministic)."""
    patients = sorted({n.patient_id for n in notes})
    random.Random(seed).shuffle(patients)
    return {p: i % folds for i, p in enumerate(patients)}


def _counts(model: TaggerModel, nlp, notes: Sequence[Note], threshold: float) -> dict:  # type: ignore[no-untyped-def]
    scoped = [
        Note(
            n.note_id,
            n.patient_id,
            n.text,
            tuple(s for s in n.gold if s.entity_type in TAGGER_CATEGORIES),
        )
        for n in notes
    ]
    preds = [
        [
            Span(s.start, s.end, s.label, s.score, "tagger")
            for s in model.predict_spans(doc, threshold)
        ]
        for doc in nlp.pipe([n.text for n in notes], batch_size=64)
    ]
    c = evaluate(scoped, preds).to_dict()["counts"]
    return {
        "covered": c["full_cover"],
        "gold": c["gold_spans"],
        "tp": c["token_tp"],
        "pred": c["token_tp"] + c["token_fp"],
    }


if __name__ == "__main__":
    sys.exit(main())
