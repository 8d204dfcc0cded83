"""Train the PHI tagger and measure it by cross-validation over patients.

    python -m deid.tagger.train --physionet ../shared/data/physionet-deid-dev \
        --synthetic sample_data/train.jsonl --folds 5 --out deid/tagger/phi_tagger.npz

Training data: annotated notes (PhysioNet deid format and/or annotated JSONL).  Gold
categories map onto the tagger's labels (names -> PERSON; places -> HOSPITAL or
LOCATION); every other token is O, since rules handle dates, phones and IDs.  The
model learns *kinds* of PHI and their contexts; no word list is built from the gold.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from deid.corpora import Note, read_corpus
from deid.evaluate import evaluate
from deid.nlp import load_base_pipeline
from deid.spans import Span
from deid.tagger.features import N_BUCKETS
from deid.tagger.model import LABELS, TaggerModel

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


def build_matrix(model_features, nlp, notes: Sequence[Note]):  # type: ignore[no-untyped-def]
    """Feature rows and labels for every non-space token of every note."""
    from scipy.sparse import csr_matrix

    rows: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for note, doc in zip(notes, nlp.pipe([n.text for n in notes], batch_size=64), strict=True):
        keep, feats = model_features.extract(doc)
        y = np.zeros(len(keep), dtype=np.int64)
        char_label = {}
        for sp in note.gold:
            lab = tagger_label(note, sp)
            if lab != "O":
                char_label[(sp.start, sp.end)] = LABELS.index(lab)
        if char_label:
            starts = np.array([doc[int(i)].idx for i in keep])
            ends = starts + np.array([len(doc[int(i)]) for i in keep])
            for (s, e), lab in char_label.items():
                y[(starts < e) & (ends > s)] = lab
        rows.append(feats)
        labels.append(y)
    feats = np.concatenate(rows)
    y = np.concatenate(labels)
    n, k = feats.shape
    data = np.ones(n * k, dtype=np.float32)
    indptr = np.arange(0, n * k + 1, k)
    X = csr_matrix((data, feats.ravel(), indptr), shape=(n, N_BUCKETS))
    X.sum_duplicates()
    return X, y


def fit(X, y, c: float, o_weight: float) -> TaggerModel:  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    weights = {i: (o_weight if i == 0 else 1.0) for i in range(len(LABELS))}
    clf = LogisticRegression(C=c, max_iter=300, class_weight=weights, tol=1e-4)
    clf.fit(X, y)
    W = np.zeros((N_BUCKETS, len(LABELS)), dtype=np.float32)
    b = np.zeros(len(LABELS), dtype=np.float32)
    for row, cls in enumerate(clf.classes_):
        W[:, cls] = clf.coef_[row]
        b[cls] = clf.intercept_[row]
    return TaggerModel(W, b)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--physionet", type=Path, help="PhysioNet-format corpus directory")
    ap.add_argument("--synthetic", type=Path, action="append", default=[], help="annotated JSONL corpus")
    ap.add_argument("--folds", type=int, default=0, help="k-fold cross-validation by patient (0: skip)")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength")
    ap.add_argument("--o-weight", type=float, default=0.3, help="class weight of O (lower favours recall)")
    ap.add_argument("--thresholds", default="0.2,0.3,0.4,0.5", help="P(PHI) thresholds to report")
    ap.add_argument("--out", type=Path, help="where to write the trained model (.npz)")
    args = ap.parse_args(argv)

    nlp = load_base_pipeline()
    real = list(read_corpus(args.physionet)) if args.physionet else []
    synthetic = [n for path in args.synthetic for n in read_corpus(path)]
    thresholds = [float(t) for t in args.thresholds.split(",")]
    features = TaggerModel(np.zeros((N_BUCKETS, len(LABELS))), np.zeros(len(LABELS))).features
    meta: dict = {
        "labels": list(LABELS),
        "n_buckets": N_BUCKETS,
        "c": args.c,
        "o_weight": args.o_weight,
        "training_notes": {"physionet": len(real), "synthetic": len(synthetic)},
    }

    if args.folds and real:
        patients = sorted({n.patient_id for n in real})
        random.Random(13).shuffle(patients)
        fold_of = {p: i % args.folds for i, p in enumerate(patients)}
        results: dict[float, list[dict]] = {t: [] for t in thresholds}
        for k in range(args.folds):
            t0 = time.time()
            train = [n for n in real if fold_of[n.patient_id] != k] + synthetic
            test = [n for n in real if fold_of[n.patient_id] == k]
            X, y = build_matrix(features, nlp, train)
            model = fit(X, y, args.c, args.o_weight)
            for t in thresholds:
                results[t].append(_counts(model, nlp, test, t))
            print(f"fold {k}: {len(test)} test notes, {time.time() - t0:.1f}s", file=sys.stderr)
        cv = {}
        for t in thresholds:
            covered = sum(r["covered"] for r in results[t])
            gold = sum(r["gold"] for r in results[t])
            tp = sum(r["tp"] for r in results[t])
            pred = sum(r["pred"] for r in results[t])
            cv[str(t)] = {"full_cover_recall": covered / gold, "token_precision": tp / max(pred, 1)}
            print(f"cv threshold {t}: recall {covered / gold:.4f} ({covered}/{gold}), "
                  f"token precision {tp / max(pred, 1):.4f}")
        meta["cross_validation"] = {"folds": args.folds, "by": "patient", "scores": cv}

    if args.out:
        X, y = build_matrix(features, nlp, real + synthetic)
        model = fit(X, y, args.c, args.o_weight)
        model.meta = meta
        model.save(args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


def _counts(model: TaggerModel, nlp, notes: Sequence[Note], threshold: float) -> dict:  # type: ignore[no-untyped-def]
    scoped = [
        Note(n.note_id, n.patient_id, n.text, tuple(s for s in n.gold if s.entity_type in TAGGER_CATEGORIES))
        for n in notes
    ]
    preds = [
        [Span(s.start, s.end, s.label, s.score, "tagger") for s in model.predict_spans(doc, threshold)]
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
