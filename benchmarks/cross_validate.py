"""Held-out-style accuracy of the whole detector: k-fold cross-validation by patient,
plain and leave-names-out.

For each fold the PHI tagger is retrained on the other folds' patients (their notes, the
augmented copies of those notes, and synthetic notes), and the full detector (rules +
tagger) is evaluated on the fold's patients, whom it has never seen, twice:

* **plain**: the fold's notes as they are;
* **leave-names-out**: the same notes with every gold span replaced
  (``deid.detection.tagger.augment``): names and places by lexicon values that no training note (real, augmented or synthetic)
  holds in a gold span, in the note's case style and structure; dates, phones, ages and
  IDs by fresh values of the same format. The corpus reuses its surrogate names across
  patients, and the rules were written while reading it: this variant measures notes with
  people and places nobody has seen, as a new hospital's notes are.

``deidflow evaluate`` on the development split uses the shipped tagger, which was trained
on that split; these are the honest numbers.

    python benchmarks/cross_validate.py ../shared/data/physionet-deid-dev \\
        --json benchmarks/results/cross_validate.json

Both variants also report recall on "unseen" gold spans, whose text never occurs among
the training data's gold spans. Everything learned is re-derived per fold; the rules are
hand-written and cannot be (which is what leave-names-out is for). The tagger threshold
is reported as configured; ``--thresholds`` sweeps others over the same folds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deid.config import DetectionConfig
from deid.detection.detector import Detector
from deid.detection.nlp import load_base_pipeline
from deid.detection.tagger.augment import augment, gold_words, leave_names_out
from deid.detection.tagger.component import FACTORY, PhiTagger
from deid.detection.tagger.features import FeatureExtractor
from deid.evaluation.corpora import Note, read_corpus
from deid.evaluation.folds import patient_folds
from deid.evaluation.metrics import EvaluationReport, evaluate, misses_with_context
from deid.spans import Span
from tools.train_tagger import (
    Hyper,
    add_hyper_arguments,
    featurize,
    fit_hyper,
    hyper_from_args,
    note_weights,
    synthetic_notes,
)

VARIANTS = ("plain", "leave_names_out")


@dataclass
class _Collected:
    """Notes and predictions of one variant at one threshold, all folds."""

    notes: list[Note] = field(default_factory=list)
    preds: list[list[Span]] = field(default_factory=list)
    unseen: list[Note] = field(default_factory=list)  # the same notes, gold never seen in training

    def report(self) -> tuple[EvaluationReport, EvaluationReport]:
        return evaluate(self.notes, self.preds), evaluate(self.unseen, self.preds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", type=Path, help="annotated corpus (PhysioNet folder or JSONL)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument(
        "--synthetic-n", type=int, default=3000, help="synthetic training notes (0: none)"
    )
    add_hyper_arguments(ap)
    ap.add_argument(
        "--threshold",
        type=float,
        default=DetectionConfig().tagger_threshold,
        help="tagger threshold of the reported figures (default: the configured one)",
    )
    ap.add_argument(
        "--thresholds",
        default="0.25,0.3,0.4,0.45",
        help="also report these thresholds over the same folds (comma-separated; '' for none)",
    )
    ap.add_argument(
        "--only-fold",
        type=int,
        default=None,
        help="quick probe: run this one fold (0-based) only; figures then cover one fold",
    )
    ap.add_argument("--seed", type=int, default=0, help="augmentation and replacement seed")
    ap.add_argument("--json", type=Path, help="write results here as JSON")
    ap.add_argument(
        "--show-misses",
        choices=VARIANTS,
        help="developer view: print that variant's missed spans WITH text (shows PHI!)",
    )
    args = ap.parse_args(argv)

    hyper = hyper_from_args(args)
    thresholds = sorted({args.threshold, *(float(t) for t in args.thresholds.split(",") if t)})
    notes = list(read_corpus(args.corpus))
    synthetic = synthetic_notes(args.synthetic_n)
    t0 = time.time()
    nlp = load_base_pipeline()
    extractor = FeatureExtractor(hyper.features)
    augmented = augment(notes, hyper.variants, seed=args.seed)
    real_rows = featurize(extractor, nlp, notes)
    aug_rows = featurize(extractor, nlp, augmented)
    syn_rows = featurize(extractor, nlp, synthetic)
    print(f"features ready ({time.time() - t0:.0f}s)", file=sys.stderr)

    detector = Detector(DetectionConfig())
    tagger = detector.nlp.get_pipe(FACTORY)
    assert isinstance(tagger, PhiTagger)  # each fold swaps in its own model
    fold_of = patient_folds(notes, args.folds)
    collected = {(v, t): _Collected() for v in VARIANTS for t in thresholds}
    for k in range(args.folds):
        if args.only_fold is not None and k != args.only_fold:
            continue
        train = [i for i, n in enumerate(notes) if fold_of[n.patient_id] != k]
        train_aug = [i for i, n in enumerate(augmented) if fold_of[n.patient_id] != k]
        test = [n for n in notes if fold_of[n.patient_id] == k]
        rows = [real_rows[i] for i in train] + [aug_rows[i] for i in train_aug] + syn_rows
        weights = note_weights(hyper, len(train), len(train_aug), len(syn_rows))
        seen_notes = [notes[i] for i in train] + [augmented[i] for i in train_aug] + synthetic
        tagger.model = fit_hyper(rows, weights, hyper, seen_notes)
        tests = {
            "plain": test,
            "leave_names_out": leave_names_out(test, gold_words(seen_notes), seed=1000 + k),
        }
        seen = {n.text[s.start : s.end].lower() for n in seen_notes for s in n.gold}
        for t in thresholds:
            tagger.threshold = t
            for variant, fold_notes in tests.items():
                preds = list(detector.detect_batch(n.text for n in fold_notes))
                c = collected[(variant, t)]
                c.notes += fold_notes
                c.preds += preds
                c.unseen += [_unseen(n, seen) for n in fold_notes]
        print(f"fold {k + 1}/{args.folds} done ({time.time() - t0:.0f}s)", file=sys.stderr)

    reports = {v: collected[(v, args.threshold)].report() for v in VARIANTS}
    print(_side_by_side(reports, hyper, args.threshold))
    if len(thresholds) > 1:
        print("\nThreshold sweep (full-cover recall / token precision):")
        for t in thresholds:
            cells = []
            for v in VARIANTS:
                r, _ = collected[(v, t)].report()
                cells.append(f"{v} {r.full_cover_recall:.3f} / {r.token_precision:.3f}")
            print(f"  {t:.2f}  " + "   ".join(cells))
    if args.show_misses:
        c = collected[(args.show_misses, args.threshold)]
        for line in misses_with_context(c.notes, c.preds):
            print(line)
        print("\nMost frequent false-positive strings (recognizer):")
        for (text, rec), count in _false_positives(c.notes, c.preds).most_common(60):
            print(f"  {count:4d}  {text!r}  {rec}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "folds": args.folds,
            "by": "patient",
            "synthetic_notes": len(synthetic),
            "training": {**hyper.__dict__, "seed": args.seed},
            "tagger_threshold": args.threshold,
            **{
                v: {"overall": _no_misses(r.to_dict()), "unseen": _no_misses(u.to_dict())}
                for v, (r, u) in reports.items()
            },
            "threshold_sweep": {
                str(t): {
                    v: {
                        "full_cover_recall": collected[(v, t)].report()[0].full_cover_recall,
                        "token_precision": collected[(v, t)].report()[0].token_precision,
                    }
                    for v in VARIANTS
                }
                for t in thresholds
            },
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _unseen(note: Note, seen: set[str]) -> Note:
    gold = tuple(s for s in note.gold if note.text[s.start : s.end].lower() not in seen)
    return Note(note.note_id, note.patient_id, note.text, gold)


def _side_by_side(
    reports: dict[str, tuple[EvaluationReport, EvaluationReport]], hyper: Hyper, threshold: float
) -> str:
    plain, lno = reports["plain"], reports["leave_names_out"]
    lines = [
        f"Training: {hyper.variants} augmented copies per note (weight {hyper.augmented_weight}), "
        f"real weight {hyper.real_weight}, synthetic weight {hyper.synthetic_weight}, "
        f"features {hyper.features}, model {hyper.model}; "
        f"tagger threshold {threshold}",
        "",
        f"{'':<28} {'plain':>22} {'leave-names-out':>22}",
    ]

    def row(name: str, a: str, b: str) -> None:
        lines.append(f"{name:<28} {a:>22} {b:>22}")

    def recall(r: EvaluationReport) -> str:
        lo, hi = r.full_cover_ci
        return f"{r.full_cover_recall or 0:.3f} [{lo:.3f}-{hi:.3f}]"

    row("Gold spans", str(plain[0].gold_spans), str(lno[0].gold_spans))
    row("Full-cover recall [95% CI]", recall(plain[0]), recall(lno[0]))
    row("Token precision", _fmt(plain[0].token_precision), _fmt(lno[0].token_precision))
    row(
        "Unseen-text recall (n)",
        f"{_fmt(plain[1].full_cover_recall)} ({plain[1].gold_spans})",
        f"{_fmt(lno[1].full_cover_recall)} ({lno[1].gold_spans})",
    )
    lines += ["", "Per category (full-cover recall, covered/gold):"]
    cats = sorted(plain[0].per_category, key=lambda c: -plain[0].per_category[c].gold)
    for cat in cats:
        cells = []
        for r, _ in (plain, lno):
            s = r.per_category.get(cat)
            cells.append(f"{_fmt(s.full_cover_recall)} ({s.full_cover}/{s.gold})" if s else "-")
        row(f"  {cat}", *cells)
    return "\n".join(lines)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _false_positives(notes: Sequence[Note], preds: Sequence[Sequence[Span]]) -> Counter:
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
