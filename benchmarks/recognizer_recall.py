"""Recall, false positives and speed of the date / age / phone recognizers on PhysioNet.

Runs the recognizers of ``deid.detection.recognizers.patterns.dates``, ``.ages`` and ``.phones`` directly
(no spaCy, no other recognizer) over the PhysioNet deid development notes and reports,
as JSON on stdout:

* full-cover recall per gold category (Date, DateYear, Phone, Age): a gold span counts
  as found when every alphanumeric character of it lies inside a kept prediction;
* false positives: kept predictions of each entity type that overlap no gold span;
* throughput (CPU time of this process, best of ``--repeats`` passes): notes/s and
  milliseconds per kB of note text.

Only counts, note IDs and offsets are printed, never note text.

    .venv/bin/python benchmarks/recognizer_recall.py [--corpus DIR] [--threshold 0.5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import deid  # noqa: F401  (offline environment settings before presidio loads)
from deid.detection.recognizers.patterns import ages, dates, phones
from deid.evaluation.corpora import Note, read_physionet
from deid.spans import KIND_KEY

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "physionet-deid-dev"
CATEGORIES = ("Date", "DateYear", "Phone", "Age")


def fully_covered(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Every alphanumeric character of text[start:end] lies inside some span."""
    return all(any(s <= i < e for s, e in spans) for i in range(start, end) if text[i].isalnum())


def kind_of(result: object) -> str:
    """The recognizer's own kind hint (a DateKind, a phone's "local", ...), for grouping."""
    meta = getattr(result, "recognition_metadata", None) or {}
    return str(meta.get(KIND_KEY, "-"))


def evaluate(notes: list[Note], threshold: float, repeats: int = 3) -> dict[str, object]:
    """Recall, false positives and throughput of the recognizers over ``notes``."""
    recognizers = [cls() for mod in (dates, ages, phones) for cls in mod.RECOGNIZERS]
    predictions: list[list] = []
    elapsed = float("inf")
    for _ in range(repeats):  # CPU time, best of a few passes: the machine is shared
        started = time.process_time()
        predictions = [
            [r for rec in recognizers for r in rec.analyze(n.text, rec.supported_entities)]
            for n in notes
        ]
        elapsed = min(elapsed, time.process_time() - started)

    total, found = Counter[str](), Counter[str]()
    kept, false_pos, false_pos_by_kind = Counter[str](), Counter[str](), Counter[str]()
    misses: dict[str, list[list[object]]] = defaultdict(list)
    for note, results in zip(notes, predictions, strict=True):
        results = [r for r in results if r.score >= threshold]
        covered = [(r.start, r.end) for r in results]
        for g in note.gold:
            if g.entity_type not in CATEGORIES:
                continue
            total[g.entity_type] += 1
            if fully_covered(note.text, g.start, g.end, covered):
                found[g.entity_type] += 1
            else:
                misses[g.entity_type].append([note.patient_id, note.note_id, g.start, g.end])
        for r in results:
            kept[r.entity_type] += 1
            if not any(r.start < g.end and g.start < r.end for g in note.gold):
                false_pos[r.entity_type] += 1
                false_pos_by_kind[f"{r.entity_type}/{kind_of(r)}"] += 1

    text_kb = sum(len(n.text) for n in notes) / 1000
    return {
        "threshold": threshold,
        "notes": len(notes),
        "recall_full_cover": {
            c: {"gold": total[c], "found": found[c], "recall": round(found[c] / total[c], 4)}
            for c in CATEGORIES
            if total[c]
        },
        "predicted_kept": dict(kept),
        "false_positives": dict(false_pos),
        "false_positives_by_kind": dict(false_pos_by_kind),
        "misses": dict(misses),
        "speed": {
            "cpu_seconds": round(elapsed, 3),
            "notes_per_s": round(len(notes) / elapsed, 1),
            "ms_per_kb": round(1000 * elapsed / text_kb, 4),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts")
    args = parser.parse_args()
    notes = list(read_physionet(args.corpus))
    print(json.dumps(evaluate(notes, args.threshold, args.repeats), indent=2))


if __name__ == "__main__":
    main()
