"""CPU cost of the PHI tagger per note: model A against model B, alternating, one core.

The notes are tokenized once (spaCy's pipeline without the tagger); then each model tags
all of them in batches of 64, ``--reps`` times, A and B in turn, and the CPU time of the
process (``time.process_time``) is recorded per pass. Every pass builds a fresh feature
extractor, so its per-word lexicon cache starts empty, as it does for a worker that meets
notes with new names (the cold case); ``--warm`` keeps one extractor per model instead.
Counts and timings only: no note text is printed.

CPU time, not wall-clock, and A/B alternated: on a shared machine this is a relative
comparison of the two models, not a throughput figure (``detection_speed.py`` is that).

    .venv/bin/python benchmarks/tagger_cost.py ../shared/data/physionet-deid-dev \\
        --a old_model.npz --b deid/detection/tagger/phi_tagger.npz
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from deid.detection.nlp import load_base_pipeline  # noqa: E402
from deid.detection.tagger.features import FeatureExtractor  # noqa: E402
from deid.detection.tagger.model import TaggerModel  # noqa: E402
from deid.evaluation.corpora import read_corpus  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--a", type=Path, required=True, help="model file A")
    ap.add_argument("--b", type=Path, default=None, help="model file B (default: shipped)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threshold", type=float, default=0.3)
    ap.add_argument("--warm", action="store_true", help="keep each model's word cache")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    notes = [n.text for n in read_corpus(args.corpus)]
    nlp = load_base_pipeline()
    docs = list(nlp.pipe(notes, batch_size=64))
    models = {"a": TaggerModel.load(args.a), "b": TaggerModel.load(args.b)}
    ms: dict[str, list[float]] = {"a": [], "b": []}
    for _ in range(args.reps):
        for name, model in models.items():
            if not args.warm:
                model.features = FeatureExtractor(model.features.version)
            t0 = time.process_time()
            for i in range(0, len(docs), 64):
                model.predict_spans_batch(docs[i : i + 64], args.threshold)
            ms[name].append((time.process_time() - t0) * 1000 / len(docs))
    result = {
        "notes": len(docs),
        "reps": args.reps,
        "cache": "warm" if args.warm else "cold",
        **{
            name: {
                "model": str(getattr(args, name) or "shipped"),
                "kind": models[name].meta.get("model", "lr"),
                "features": models[name].features.version,
                "cpu_ms_per_note_median": round(statistics.median(v), 4),
                "cpu_ms_per_note_all": [round(x, 4) for x in v],
            }
            for name, v in ms.items()
        },
    }
    for name in ("a", "b"):
        r = result[name]
        print(
            f"{name}: {r['kind']}/{r['features']}  {r['cpu_ms_per_note_median']:.3f} ms CPU per note "
            f"(median of {args.reps}, {result['cache']} word cache)",
            file=sys.stderr,
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
