"""Dump every detected span and every anonymized text, to prove a refactoring changed nothing.

    python tools/dump_detections.py ../shared/data/physionet-deid-dev --generated 8000 \
        --seed 5 -o /tmp/before.jsonl

Run it before and after a change and compare the digests it prints (or the files): the
same digest means every span (offsets, type, recognizer, score) and every anonymized
text under each anonymization variant is identical.  The variants cover the operator
choices and policies (Safe Harbor surrogates, strict, bare years shifted, tag, mask),
all with one fixed test key.

The dump holds note text (the anonymized text, and the PhysioNet notes' surrogate PHI):
write it to a scratch location, never into the repository or a report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deid.anonymization.deidentifier import Deidentifier
from deid.anonymization.keys import SecretKey
from deid.config import AnonymizationConfig, DeidConfig
from deid.detection.detector import Detector
from deid.evaluation.corpora import read_corpus

TEST_KEY = SecretKey(b"deidflow-dump-detections-fixed-test-key")
"""A fixed, public key: the dump must be reproducible, and it is not for real data."""

VARIANTS: dict[str, AnonymizationConfig] = {
    "safe_harbor": AnonymizationConfig(),
    "strict": AnonymizationConfig(policy="strict"),
    "shift_years": AnonymizationConfig(keep_bare_years=False),
    "tag": AnonymizationConfig(default_mode="tag"),
    "mask": AnonymizationConfig(default_mode="mask"),
}


def notes(corpus: Path | None, generated: int, seed: int) -> Iterator[tuple[str, str, str]]:
    """``(note_key, patient_id, text)`` for the corpus, then ``generated`` synthetic notes."""
    if corpus is not None:
        for note in read_corpus(corpus):
            yield f"{corpus.name}/{note.patient_id}/{note.note_id}", note.patient_id, note.text
    if generated:
        from sample_data.generate import iter_notes

        for obj in iter_notes(generated, seed=seed):
            yield f"generated/{obj['note_id']}", str(obj["patient_id"]), obj["text"]


def dump(corpus: Path | None, generated: int, seed: int, out: Any) -> dict[str, str]:
    """Write one JSON line per note; return a SHA-256 per section and overall."""
    records = list(notes(corpus, generated, seed))
    detector = Detector()
    deidentifiers = {
        name: Deidentifier(DeidConfig(anonymization=anon), key=TEST_KEY, detector=detector)
        for name, anon in VARIANTS.items()
    }
    digests = {name: hashlib.sha256() for name in ("inputs", "spans", *VARIANTS, "all")}
    texts = (text for _, _, text in records)
    for (note_key, patient_id, text), spans in zip(
        records, detector.detect_batch(texts), strict=True
    ):
        digests["inputs"].update(json.dumps([note_key, patient_id, text]).encode())
        row: dict[str, Any] = {
            "note": note_key,
            "spans": [[s.start, s.end, s.entity_type, s.recognizer, repr(s.score)] for s in spans],
        }
        digests["spans"].update(json.dumps(row["spans"]).encode())
        for name, deid in deidentifiers.items():
            deidentified = deid.deidentify(text, patient_id, spans)
            part = {"text": deidentified.text, "meta": deidentified.metadata()}
            row[name] = part
            digests[name].update(json.dumps(part, ensure_ascii=False).encode())
        line = json.dumps(row, ensure_ascii=False, sort_keys=True)
        digests["all"].update(line.encode() + b"\n")
        if out is not None:
            out.write(line + "\n")
    result = {name: d.hexdigest() for name, d in digests.items()}
    result["notes"] = str(len(records))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, nargs="?", help="annotated corpus (PhysioNet dir)")
    parser.add_argument("--generated", type=int, default=0, help="synthetic notes to add")
    parser.add_argument("--seed", type=int, default=5, help="seed of the synthetic notes")
    parser.add_argument("-o", "--output", type=Path, help="write the dump here (JSONL)")
    args = parser.parse_args(argv)
    if args.output is None:
        digests = dump(args.corpus, args.generated, args.seed, None)
    else:
        with args.output.open("w", encoding="utf-8") as fh:
            digests = dump(args.corpus, args.generated, args.seed, fh)
    json.dump(digests, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
