"""Copy-forward near-duplicate removal: how many variants it removes, how many other notes
it takes with them, what it costs, and whether its memory stays flat.

Corpus: ``--notes`` generated clinical notes (``sample_data``: seven note types sharing
templates, whole patients in order).  Of the emitted notes, ~20 % are copy-forward
variants of an earlier note of the same patient with 1–10 % of its lines added, removed
or edited (at least one line; sources with at least 10 lines, so one line is at most
10 %), and ~1 % exact copies; the rest are originals.  The notes go through what the flow
does with them, in order: the exact check (``pipelines.output.dedup.Deduplicator``), then
``signature`` and ``NearDuplicateIndex.check`` (``pipelines.output.near_duplicates``) with
the default settings.  Generated text is already PHI-free, so it is used as is; in a run
the signatures are taken after de-identification, whose surrogates are the same for every
note of a patient (a copy stays a copy).

Cost: CPU seconds (``time.process_time``: the machine may be shared, wall time says
little) per note of signature + index, against the CPU per note of de-identification
(``Deidentifier.deidentify_batch`` on ``--deid-notes`` generated notes), which is what a
run spends per note with near-duplicate removal off (reading, validation and writing
add a little more, so the ratio below is a lower bound on the real one).  Memory: RSS of
this process at each ``--every`` notes, with the index's SQLite file size.

    DEIDFLOW_KEY=$(openssl rand -hex 32) python benchmarks/near_duplicates.py --notes 100000 \\
        --json benchmarks/results/near_duplicates.json

``--pipeline N`` measures the speed target on the real pipeline instead: the same corpus
(N notes, same mix) written as JSONL and run through ``deidflow run`` (thread runner, one
worker, the temporary Prefect server it starts) with ``near_duplicates.enabled`` on and
off, alternating ``--rounds`` times (on, off, then off, on, ...: drift in the machine's
load hits both alike).  Per run: CPU seconds of the whole process tree (``deidflow`` and
every child it waited for, the Prefect server included: ``RUSAGE_CHILDREN``), wall time
beside it, and the run summary's counts.  Speed with near-duplicate removal on relative
to off = CPU off / CPU on (totals over the rounds).  The figures are merged into
``--json`` under ``pipeline_on_vs_off``, keeping what is there.

    python benchmarks/near_duplicates.py --pipeline 5000 --rounds 2 \\
        --json benchmarks/results/near_duplicates.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
BENCH_KEY = "near-duplicates-benchmark-key-not-secret-0123456789"  # generated notes only
VARIANT_SHARE = 0.20
EXACT_SHARE = 0.01
_WORD = re.compile(r"\w+")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def edit_lines(text: str, rng: random.Random, filler: list[str]) -> str:
    """``text`` with 1–10 % of its lines (at least one) added, removed or edited."""
    lines = text.splitlines()
    changes = max(1, round(rng.uniform(0.01, 0.10) * len(lines)))
    for _ in range(changes):
        op = rng.choice(("add", "remove", "edit"))
        at = rng.randrange(len(lines))
        if op == "add":
            lines.insert(at, rng.choice(filler))
        elif op == "remove" and len(lines) > 1:
            del lines[at]
        else:
            words = lines[at].split(" ")
            for _ in range(min(3, max(1, len(words) // 4))):
                words[rng.randrange(len(words))] = rng.choice(filler).split(" ")[0]
            lines[at] = " ".join(words)
    return "\n".join(lines)


def corpus(n: int, seed: int) -> Iterator[tuple[str, str, str]]:
    """``(kind, patient_id, text)``: kind is original, variant or exact."""
    from sample_data.generate import iter_notes

    rng = random.Random(seed)
    filler: list[str] = []
    patient, earlier = None, []
    base = iter_notes(n, seed=seed)
    emitted = 0
    while emitted < n:
        draw = rng.random()
        long_ones = [t for t in earlier if len(t.splitlines()) >= 10]
        if draw < VARIANT_SHARE and long_ones:
            text = edit_lines(rng.choice(long_ones), rng, filler)
            earlier.append(text)  # a later copy may be forwarded from this one
            yield "variant", patient or "", text
        elif draw < VARIANT_SHARE + EXACT_SHARE and earlier:
            yield "exact", patient or "", rng.choice(earlier)
        else:
            note = next(base, None)
            if note is None:
                base = iter_notes(n, seed=seed + emitted + 1)
                continue
            if note["patient_id"] != patient:
                patient, earlier = note["patient_id"], []
            earlier.append(note["text"])
            lines = [x for x in note["text"].splitlines() if len(x.split()) >= 4]
            if lines and len(filler) < 5000:
                filler.append(rng.choice(lines))
            elif lines:
                filler[rng.randrange(len(filler))] = rng.choice(lines)
            yield "original", note["patient_id"], note["text"]
        emitted += 1


def deid_cpu_per_note(n: int, seed: int) -> float:
    """CPU seconds per note of detect + anonymize (what a run spends without near-dups)."""
    from deid.anonymization.deidentifier import Deidentifier
    from sample_data.generate import iter_notes

    deid = Deidentifier()
    notes = [(x["text"], x["patient_id"]) for x in iter_notes(n + 50, seed=seed + 99)]
    list(deid.deidentify_batch(notes[:50]))  # warm-up: models and caches
    t0 = time.process_time()
    for start in range(50, len(notes), 256):
        list(deid.deidentify_batch(notes[start : start + 256]))
    return (time.process_time() - t0) / n


def write_corpus(n: int, seed: int, path: Path) -> Counter[str]:
    """The benchmark corpus as pipeline input (note_id, patient_id, text); kinds emitted."""
    kinds: Counter[str] = Counter()
    with path.open("w", encoding="utf-8") as out:
        for i, (kind, patient, text) in enumerate(corpus(n, seed), 1):
            kinds[kind] += 1
            out.write(json.dumps({"note_id": f"n{i}", "patient_id": patient, "text": text}))
            out.write("\n")
    return kinds


def run_config(input_path: Path, work: Path, name: str, near_duplicates: bool) -> Path:
    """A ``deidflow run`` config: thread runner, one worker, near-duplicates on or off."""
    config = work / f"{name}.yaml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "source": {"kind": "files", "path": str(input_path)},
                "output": {"dir": str(work / f"out-{name}")},
                "quarantine_dir": str(work / f"quarantine-{name}"),
                "runtime": {"task_runner": "thread", "workers": 1},
                "near_duplicates": {"enabled": near_duplicates},
            }
        )
    )
    return config


def run_pipeline(config: Path, out_dir: Path) -> dict[str, Any]:
    """``deidflow run config``: CPU seconds of it and its children, wall time, counts."""
    env = {**os.environ, "DEIDFLOW_KEY": os.environ.get("DEIDFLOW_KEY") or BENCH_KEY}
    env.pop("PREFECT_API_URL", None)  # the temporary server, as `deidflow run` gets by default
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    deidflow = Path(sys.executable).with_name("deidflow")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    done = subprocess.run(
        [str(deidflow), "run", str(config)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:  # deidflow's messages are PHI-safe (and the notes generated)
        tail = done.stderr.strip().splitlines()[-1:]
        raise SystemExit(f"deidflow run failed: exit {done.returncode} {tail}")
    summary = json.loads((out_dir / "run_summary.json").read_text())
    counts = {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)}
    return {
        "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
        "wall_s": round(wall, 2),
        "counts": counts,
    }


def pipeline_on_vs_off(n: int, seed: int, rounds: int) -> dict[str, Any]:
    """Whole ``deidflow run`` with near-duplicate removal on and off, alternating."""
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        input_path = work / "notes.jsonl"
        kinds = write_corpus(n, seed, input_path)
        for r in range(rounds):
            order = (True, False) if r % 2 == 0 else (False, True)
            for on in order:
                name = f"round{r}-{'on' if on else 'off'}"
                result = run_pipeline(run_config(input_path, work, name, on), work / f"out-{name}")
                runs.append({"round": r, "near_duplicates": on, **result})
                print(
                    f"{name}: CPU {result['cpu_s']} s, wall {result['wall_s']} s",
                    file=sys.stderr,
                    flush=True,
                )
    total = {
        side: {
            key: round(sum(x[key] for x in runs if x["near_duplicates"] is on), 2)
            for key in ("cpu_s", "wall_s")
        }
        for side, on in (("on", True), ("off", False))
    }
    return {
        "notes": n,
        "corpus": dict(kinds),
        "rounds": rounds,
        "runner": "thread, 1 worker",
        "runs": runs,
        "total": total,
        "speed_on_vs_off_cpu": round(total["off"]["cpu_s"] / total["on"]["cpu_s"], 4),
        "speed_on_vs_off_wall": round(total["off"]["wall_s"] / total["on"]["wall_s"], 4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--notes", type=int, default=100_000)
    ap.add_argument("--every", type=int, default=10_000, help="RSS sample interval (notes)")
    ap.add_argument("--deid-notes", type=int, default=400, help="notes timed for de-id CPU")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--threshold", type=float, help="near_duplicates.threshold (default: config's)")
    ap.add_argument("--shingle-words", type=int, help="near_duplicates.shingle_words")
    ap.add_argument("--scope", choices=("corpus", "patient"), help="near_duplicates.scope")
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--pipeline",
        type=int,
        metavar="N",
        help="instead: `deidflow run` on N generated notes with near-duplicates on vs off",
    )
    ap.add_argument("--rounds", type=int, default=2, help="on/off pairs with --pipeline")
    args = ap.parse_args(argv)
    if args.pipeline:
        measured = pipeline_on_vs_off(args.pipeline, args.seed, args.rounds)
        measured["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        measured["machine"] = {"cpus": os.cpu_count(), "shared": True}
        measured["command"] = "python benchmarks/near_duplicates.py " + " ".join(
            argv or sys.argv[1:]
        )
        merged = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
        merged["pipeline_on_vs_off"] = measured
        if args.json:
            args.json.write_text(json.dumps(merged, indent=2) + "\n")
        print(json.dumps(measured, indent=2))
        return 0

    from pipelines.config import NearDuplicateConfig
    from pipelines.output.dedup import Deduplicator, Verdict
    from pipelines.output.near_duplicates import NearDuplicateIndex, signature
    from schemas.notes import NoteRecord

    overrides = {
        "threshold": args.threshold,
        "shingle_words": args.shingle_words,
        "scope": args.scope,
    }
    settings = NearDuplicateConfig(**{k: v for k, v in overrides.items() if v is not None})
    emitted: Counter[str] = Counter()
    removed: Counter[str] = Counter()  # (kind, reason)
    memory: list[dict[str, Any]] = []
    cpu_sig = cpu_index = cpu_gen = 0.0
    rss_start = rss_mb()
    with tempfile.TemporaryDirectory() as scratch:
        dedup = Deduplicator(scratch)
        index = NearDuplicateIndex(
            threshold=settings.threshold, num_perm=settings.num_perm, directory=scratch
        )
        t = time.process_time()
        for i, (kind, patient, text) in enumerate(corpus(args.notes, args.seed), 1):
            t1 = time.process_time()
            cpu_gen += t1 - t
            emitted[kind] += 1
            if dedup.check(NoteRecord(f"n{i}", patient, text)) is not Verdict.NEW:
                removed[f"{kind}:exact"] += 1
            else:
                sig = signature(text, words=settings.shingle_words, num_perm=settings.num_perm)
                t2 = time.process_time()
                cpu_sig += t2 - t1
                if index.check(sig, patient if settings.scope == "patient" else ""):
                    removed[f"{kind}:near_duplicate"] += 1
                cpu_index += time.process_time() - t2
            t = time.process_time()
            if i % args.every == 0 or i == args.notes:
                memory.append(
                    {
                        "notes": i,
                        "rss_mb": round(rss_mb(), 1),
                        "index_file_mb": round(index.file_bytes() / 2**20, 1),
                    }
                )
                print(f"{i:,} notes: RSS {memory[-1]['rss_mb']} MB", file=sys.stderr)
        index.close()
        dedup.close()
    notes_checked = args.notes
    timed = args.deid_notes and os.environ.get("DEIDFLOW_KEY")
    deid_cpu = deid_cpu_per_note(args.deid_notes, args.seed) if timed else None
    near_cpu = (cpu_sig + cpu_index) / notes_checked
    variants = emitted["variant"]
    variants_removed = removed["variant:near_duplicate"] + removed["variant:exact"]
    originals_removed = removed["original:near_duplicate"] + removed["original:exact"]
    result: dict[str, Any] = {
        "benchmark": "near_duplicates",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "shared": True},
        "settings": settings.model_dump(),
        "notes": dict(emitted),
        "removed": dict(sorted(removed.items())),
        "variants_removed_share": round(variants_removed / variants, 4) if variants else None,
        "exact_copies_removed_share": round(
            (removed["exact:exact"] + removed["exact:near_duplicate"]) / emitted["exact"], 4
        )
        if emitted["exact"]
        else None,
        "other_notes_removed_share": round(originals_removed / emitted["original"], 5),
        "other_notes_removed_as_near_duplicates_share": round(
            removed["original:near_duplicate"] / emitted["original"], 5
        ),
        "cpu_seconds_per_note": {
            "signature": round(cpu_sig / notes_checked, 6),
            "index": round(cpu_index / notes_checked, 6),
            "deidentify": round(deid_cpu, 6) if deid_cpu is not None else None,
        },
        "speed_with_near_duplicates_vs_without": (
            round(deid_cpu / (deid_cpu + near_cpu), 4) if deid_cpu else None
        ),
        "memory": memory,
        "rss_start_mb": round(rss_start, 1),
        "command": "python benchmarks/near_duplicates.py " + " ".join(argv or sys.argv[1:]),
    }
    text = json.dumps(result, indent=2) + "\n"
    if args.json:
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
