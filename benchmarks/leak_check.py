"""Leak check: which gold PHI strings survive de-identification verbatim?

Runs the default ``Deidentifier`` (real detector, surrogate mode, Safe Harbor policy)
over an annotated corpus and counts gold strings of three or more characters that
still occur in their note's output, unless the same string also occurs in that note
outside every gold span.  Bare years are reported apart: Safe Harbor keeps them.

    DEIDFLOW_KEY=... python benchmarks/leak_check.py ../shared/data/physionet-deid-dev

Prints counts by gold category (never the strings); ``--json`` writes them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from deid.anonymization.deidentifier import Deidentifier
from deid.evaluation.corpora import Note, read_corpus

MIN_LEN = 3
KEPT_BY_POLICY = {"DateYear"}  # gold category of bare years, which Safe Harbor keeps


def surviving_gold(note: Note, output: str, min_len: int = MIN_LEN) -> list[str]:
    """Gold categories of gold strings that survive verbatim in ``output``."""
    outside = note.text
    for s in sorted(note.gold, key=lambda s: -s.start):
        outside = outside[: s.start] + "\0" + outside[s.end :]
    found = []
    for s in note.gold:
        value = note.text[s.start : s.end]
        if len(value) >= min_len and value in output and value not in outside:
            found.append(s.entity_type)
    return found


def leak_counts(notes: Sequence[Note], outputs: Iterable[str]) -> tuple[Counter, Counter]:
    """(gold spans by category, surviving gold strings by category)."""
    gold: Counter = Counter()
    leaks: Counter = Counter()
    for note, out in zip(notes, outputs, strict=True):
        gold.update(s.entity_type for s in note.gold if s.end - s.start >= MIN_LEN)
        leaks.update(surviving_gold(note, out))
    return gold, leaks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    notes = list(read_corpus(args.corpus))
    deid = Deidentifier()
    t0 = time.time()
    outputs = [r.text for r in deid.deidentify_batch((n.text, n.patient_id) for n in notes)]
    elapsed = time.time() - t0
    gold, leaks = leak_counts(notes, outputs)
    leaked = sum(v for k, v in leaks.items() if k not in KEPT_BY_POLICY)
    kept = sum(v for k, v in leaks.items() if k in KEPT_BY_POLICY)
    print(
        f"{len(notes)} notes de-identified in {elapsed:.1f}s ({len(notes) / elapsed:.0f} notes/s)"
    )
    print(
        f"gold strings (>= {MIN_LEN} chars) surviving verbatim: {leaked} of {sum(gold.values())}"
        f" (+ {kept} bare years kept by Safe Harbor)"
    )
    for cat in sorted(gold):
        print(f"  {cat:20s} {leaks.get(cat, 0):4d} / {gold[cat]}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "notes": len(notes),
                    "gold": gold,
                    "surviving": leaks,
                    "leaked_excluding_bare_years": leaked,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
