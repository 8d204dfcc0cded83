"""Is a worker's memory flat as the input grows?  Stream N notes, sample RSS as it goes.

The parts of a run whose state could grow with the input, in one process as in the
``thread`` runner: the flow's duplicate check (``pipelines.output.dedup.Deduplicator``) and a
worker's detect + anonymize (``deid.anonymization.deidentifier.Deidentifier.deidentify_batch``, the same
call the pipeline's mapped tasks make), over synthetic notes generated on the fly
(``sample_data``: every note new, with new names, numbers and dates, so spaCy's
vocabulary, the tokenizer cache and the surrogate caches see what a real stream would).
Nothing is kept: the outputs are counted and dropped.  RSS is read from /proc every
``--every`` notes; the JSON is rewritten at each checkpoint, so a long run that is
stopped still leaves its curve.

    python benchmarks/memory_scaling.py --notes 1000000 \
        --json benchmarks/results/memory_scaling.json

Needs DEIDFLOW_KEY (any value: surrogates are keyed).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from pipelines.output.dedup import Deduplicator


def rss_mb() -> float:
    """Current resident set size of this process, MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def heap_mb() -> dict[str, float]:
    """Where the memory is: glibc heap in use / free-but-kept, and Python's object blocks.

    Tells a leak (in-use or block count grows) from fragmentation (free grows).  Empty
    without glibc.
    """
    out: dict[str, float] = {"python_blocks": sys.getallocatedblocks()}
    try:
        mallinfo2 = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return out
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    out["malloc_in_use_mb"] = round((info.uordblks + info.hblkhd) / 2**20, 1)
    out["malloc_free_kept_mb"] = round(info.fordblks / 2**20, 1)
    return out


def cache_sizes(deid: Any) -> dict[str, int]:
    """Sizes of the state that outlives a memory zone (counts only): the tokenizer's learned
    chunks (capped), the vocabulary's permanent strings, the cells of spaCy's string and
    lexeme tables (``deid.detection._speedups.vocab_index``), and the tagger's word-class cache (capped)."""
    from deid.detection import wordclass
    from deid.detection._speedups.vocab_index import vocab_indexes

    detector = deid.detector
    sizes = dict(detector.nlp.tokenizer.sizes())
    strings_table, lexeme_table = vocab_indexes(detector.nlp.vocab)
    sizes["string_table_cells"] = strings_table.capacity
    sizes["lexeme_table_cells"] = lexeme_table.capacity
    sizes["name_likeness_words"] = wordclass.lexical_name_likeness.cache_info().currsize
    for _name, pipe in detector.nlp.pipeline:
        model = getattr(pipe, "model", None)
        features = getattr(model, "features", None)
        if features is not None:
            sizes["tagger_word_classes"] = len(features._lex_cache)
    return sizes


def records(
    n: int, seed: int, dedup: Deduplicator, dropped: Counter[str]
) -> Iterator[tuple[str, str]]:
    """Generated notes, through the flow's duplicate check (~3 in 10,000 are duplicates)."""
    from pipelines.output.dedup import Verdict
    from sample_data.generate import iter_notes
    from schemas.notes import NoteRecord

    for note in iter_notes(n, seed=seed):
        record = NoteRecord(note["note_id"], note["patient_id"], note["text"])
        verdict = dedup.check(record)
        if verdict is Verdict.NEW:
            yield record.text, record.patient_id
        else:
            dropped[verdict.value] += 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--notes", type=int, default=100_000, help="notes to stream (default 100k)")
    ap.add_argument("--every", type=int, default=10_000, help="RSS sample interval (notes)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="write results here (rewritten at each sample)")
    args = ap.parse_args(argv)
    if not os.environ.get("DEIDFLOW_KEY"):
        ap.error("set DEIDFLOW_KEY (any value) to run the anonymizer")

    from deid.anonymization.deidentifier import Deidentifier
    from pipelines.output.dedup import Deduplicator

    rss_start = rss_mb()
    t0 = time.perf_counter()
    deid = Deidentifier()
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    result: dict[str, object] = {
        "benchmark": "memory_scaling",
        "schema_version": 1,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "logical_cpus": os.cpu_count(),
        },
        "git_commit": _git_commit(),
        "settings": {"notes": args.notes, "every": args.every, "seed": args.seed},
        "rss_mb_before_load": round(rss_start, 1),
        "rss_mb_after_load": round(rss_loaded, 1),
        "load_s": round(load_s, 2),
        "samples": [],
    }
    samples: list[dict[str, float]] = result["samples"]  # type: ignore[assignment]
    chars = 0
    dropped: Counter[str] = Counter()
    t0 = time.perf_counter()
    c0 = time.process_time()

    def checkpoint(done: int, dedup: Deduplicator) -> None:
        sample = {
            "notes": done,
            "duplicates_removed": dropped["duplicate"],
            "rss_mb": round(rss_mb(), 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "wall_s": round(time.perf_counter() - t0, 1),
            "cpu_s": round(time.process_time() - c0, 1),
            "megabytes_out": round(chars / 1e6, 1),
            **cache_sizes(deid),
            "dedup_file_mb": round(dedup.file_bytes() / 2**20, 1),
            **heap_mb(),
        }
        samples.append(sample)
        print(
            f"{done:>9,} notes  RSS {sample['rss_mb']:7.1f} MB  peak {sample['peak_rss_mb']:7.1f}"
            f" MB  {done / max(sample['cpu_s'], 1e-9):6.1f} notes/s CPU",
            flush=True,
        )
        _summarise(result, samples)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=2) + "\n")

    with Deduplicator() as dedup:  # its scratch file is removed at the end
        notes = records(args.notes, args.seed, dedup, dropped)
        done = 0
        for done, out in enumerate(deid.deidentify_batch(notes, batch_size=256), start=1):
            chars += len(out.text)
            if done % args.every == 0:
                checkpoint(done, dedup)
        if not samples or samples[-1]["notes"] != done:
            checkpoint(done, dedup)  # the end (a few generated notes are duplicates)
    return 0


def _git_commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=Path(__file__).resolve().parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def _summarise(result: dict[str, object], samples: list[dict[str, float]]) -> None:
    first, last = samples[0], samples[-1]
    per_100k = 0.0
    if last["notes"] > first["notes"]:
        per_100k = (last["rss_mb"] - first["rss_mb"]) / (last["notes"] - first["notes"]) * 1e5
    result["summary"] = {
        "rss_mb_at_first_sample": first["rss_mb"],
        "rss_mb_at_last_sample": last["rss_mb"],
        "peak_rss_mb": last["peak_rss_mb"],
        "growth_mb_per_100k_notes": round(per_100k, 2),
        "notes_per_s_cpu": round(last["notes"] / max(last["cpu_s"], 1e-9), 1),
        "dedup_file_mb": last["dedup_file_mb"],
    }


if __name__ == "__main__":
    raise SystemExit(main())
