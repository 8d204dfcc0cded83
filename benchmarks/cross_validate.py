"""Held-out-style accuracy of the whole detector: k-fold cross-validation by patient.

For each fold the PHI tagger is retrained on the other folds' patients (plus synthetic
notes), and the full detector (rules + tagger) is evaluated on the fold's patients,
whom it has never seen.  ``deidflow evaluate`` on the development split uses the
shipped tagger, which was trained on that split; this script is the honest number.

    python benchmarks/cross_validate.py ../shared/data/physionet-deid-dev \
        --synthetic-n 3000 --folds 5 --json benchmarks/results/cross_validate.json

It also reports recall on "unseen" gold spans, whose text never occurs among the
training folds' gold spans (what a new hospital's names look like to the model).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from deid.config import DetectionConfig
from deid.detection.detector import Detector
from deid.detection.nlp import load_base_pipeline
from deid.evaluation.corpora import Note, read_corpus
from deid.evaluation.folds import patient_folds
from deid.evaluation.metrics import evaluate
from tools.train_tagger import synthetic_notes, train_model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", type=Path, help="annotated corpus (PhysioNet folder or JSONL)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument(
        "--synthetic-n", type=int, default=3000, help="synthetic training notes (0: none)"
    )
    ap.add_argument("--json", type=Path, help="write results here as JSON")
    ap.add_argument(
        "--show-misses",
        action="store_true",
        help="developer view: print missed spans WITH text (shows PHI!)",
    )
    args = ap.parse_args(argv)

    notes = list(read_corpus(args.corpus))
    synthetic = synthetic_notes(args.synthetic_n)
    nlp = load_base_pipeline()
    fold_of = patient_folds(notes, args.folds)
    all_notes: list[Note] = []
    all_preds = []
    unseen_notes: list[Note] = []
    unseen_preds = []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.folds):
            train = [n for n in notes if fold_of[n.patient_id] != k]
            test = [n for n in notes if fold_of[n.patient_id] == k]
            model_path = Path(tmp) / f"fold{k}.npz"
            train_model(train, synthetic, nlp=nlp).save(model_path)
            detector = Detector(DetectionConfig(tagger_model=model_path))
            preds = list(detector.detect_batch(n.text for n in test))
            all_notes += test
            all_preds += preds
            # Measurement only: which held-out spans have text never seen among training spans.
            seen = {n.text[s.start : s.end].lower() for n in train for s in n.gold}
            for note, p in zip(test, preds, strict=True):
                gold = tuple(s for s in note.gold if note.text[s.start : s.end].lower() not in seen)
                unseen_notes.append(Note(note.note_id, note.patient_id, note.text, gold))
                unseen_preds.append(p)
            print(f"fold {k + 1}/{args.folds} done ({time.time() - t0:.0f}s)", file=sys.stderr)
    report = evaluate(all_notes, all_preds)
    unseen = evaluate(unseen_notes, unseen_preds)
    print(report.format_text())
    print(
        f"\nUnseen-text gold spans: full-cover recall {unseen.full_cover_recall:.3f} "
        f"({unseen.to_dict()['counts']['full_cover']}/{unseen.to_dict()['counts']['gold_spans']})"
    )
    if args.show_misses:
        from deid.evaluation.metrics import misses_with_context

        for line in misses_with_context(all_notes, all_preds):
            print(line)
        print("\nMost frequent false-positive strings (recognizer):")
        for (text, rec), count in _false_positives(all_notes, all_preds).most_common(60):
            print(f"  {count:4d}  {text!r}  {rec}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "folds": args.folds,
            "by": "patient",
            "synthetic_notes": len(synthetic),
            "overall": _no_misses(report.to_dict()),
            "unseen": _no_misses(unseen.to_dict()),
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _false_positives(notes, preds):  # type: ignore[no-untyped-def]
    from collections import Counter

    fp: Counter = Counter()
    for note, spans in zip(notes, preds, strict=True):
        for sp in spans:
            if not any(sp.start < g.end and g.start < sp.end for g in note.gold):
                fp[(note.text[sp.start : sp.end], sp.recognizer)] += 1
    return fp


def _no_misses(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "misses"}


if __name__ == "__main__":
    sys.exit(main())
