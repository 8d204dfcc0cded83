"""Clinical-question benchmark: does PHI survive de-identification of short questions?

Generates N short "clinical questions" (``sample_data``: one or two sentences of the kind
people type into a health assistant or patient portal, about a third PHI-free), runs the
real detector and ``Deidentifier`` (surrogate mode, default Safe Harbor policy) and
reports:

- **leak share**: gold PHI values that still occur verbatim in the output text (as a
  whole token, case-sensitive), overall and by category; a value that also occurs in its
  question outside every gold span is not counted (it is not evidence of a leak), nor is
  an age of 90 written as Safe Harbor's "90+";
- **PHI-free unchanged**: share of PHI-free questions whose output equals the input;
- detection accuracy on the set (``deid.evaluation.metrics.evaluate``: full-cover recall, token precision);
- timing (load, detect, anonymize; a shared machine makes these rough).

Targets (issue 19): leak share <= 0.3 %, PHI-free unchanged >= 90 %.

    .venv/bin/python benchmarks/clinical_questions.py \\
        --json benchmarks/results/clinical_questions.json

The questions come from seed ``SEED`` (1019).  The tagger's synthetic training notes use
seed 7 (``tools/train_tagger.synthetic_notes``, also what ``cross_validate.py`` trains
on), and the tests use seeds 0-9: never train on seed 1019, or this stops measuring
generalisation.  ``--corpus`` measures an annotated JSONL file instead (PHI-free =
records without spans).

Output holds counts, rates, shapes and timings only.  ``--show-misses`` (developer view)
prints leaked values and altered PHI-free questions WITH their text.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deid.anonymization.deidentifier import KEEP, Deidentifier, DeidResult
from deid.anonymization.keys import SecretKey
from deid.config import DeidConfig
from deid.evaluation.corpora import Note, read_corpus
from deid.evaluation.metrics import evaluate
from deid.spans import Span

REPO = Path(__file__).resolve().parent.parent
SEED = 1019
N_QUESTIONS = 1000
TARGET_MAX_LEAK_SHARE = 0.003
TARGET_MIN_PHI_FREE_UNCHANGED = 0.90
# A fixed, public benchmark key so that runs are reproducible; it protects nothing.
BENCHMARK_KEY = SecretKey.from_text("deidflow benchmark key: clinical questions (not a secret)")
SCHEMA_VERSION = 1
AGE_LABEL = "AGE"
SAFE_HARBOR_AGE_FLOOR = "90"  # generalised ages read "90+"


# --- the question set --------------------------------------------------------------------


def generated_questions(n: int, seed: int) -> list[Note]:
    """``n`` questions from ``sample_data`` as annotated notes."""
    from sample_data.generate import iter_questions

    return [
        Note(
            str(q["note_id"]),
            str(q["patient_id"]),
            q["text"],
            tuple(Span(s["start"], s["end"], s["label"], 1.0, "gold") for s in q["spans"]),
            note_type=q["note_type"],
            note_date=q["note_date"],
        )
        for q in iter_questions(n, seed)
    ]


# --- leak measurement --------------------------------------------------------------------


def _outside_gold(note: Note) -> str:
    """The note's text with every gold span replaced by a NUL (a token boundary)."""
    out, pos = [], 0
    for g in sorted(note.gold):
        out += [note.text[pos : g.start], "\0"]
        pos = max(pos, g.end)
    out.append(note.text[pos:])
    return "".join(out)


def _occurs(value: str, text: str, before: str = "", after: str = "") -> bool:
    """``value`` occurs in ``text`` as a whole token: no letter or digit on either side,
    unless the value was glued to one in its question (``before``/``after``: "94F")."""
    left = re.escape(before) if before else r"(?<![^\W_])"
    right = f"(?={re.escape(after)})" if after else r"(?![^\W_])"
    return re.search(left + re.escape(value) + right, text) is not None


def leaked_spans(note: Note, output: str) -> list[Span]:
    """Gold spans whose value survives verbatim in ``output`` (an age of 90 in Safe
    Harbor's "90+" does not: that is the category every age over 89 becomes)."""
    outside = _outside_gold(note)
    text = note.text
    leaked = []
    for g in note.gold:
        value = text[g.start : g.end]
        before = text[g.start - 1] if g.start and text[g.start - 1].isalnum() else ""
        after = text[g.end] if g.end < len(text) and text[g.end].isalnum() else ""
        searched = output
        if g.entity_type == AGE_LABEL and value == SAFE_HARBOR_AGE_FLOOR:
            # Safe Harbor writes every age over 89 as "90+": "90" in it is the category
            # all such ages share, not this person's age surviving.
            searched = output.replace(SAFE_HARBOR_AGE_FLOOR + "+", "\0")
        if _occurs(value, searched, before, after) and not _occurs(value, outside, before, after):
            leaked.append(g)
    return leaked


def value_shape(value: str) -> str:
    """The value's shape, never its characters: "Springfield" -> "Xxxxx" (letter runs cut
    at 4; digits all kept, their count matters for identifiers)."""
    chars = [
        "X" if c.isupper() else "x" if c.isalpha() else "9" if c.isdigit() else c for c in value
    ]
    return re.sub(r"(X{4})X+|(x{4})x+", lambda m: m.group(m.lastindex or 0), "".join(chars))


def case_style(text: str) -> str:
    """ "lower" or "upper" if the whole question is typed so, else "mixed"."""
    if text == text.lower():
        return "lower"
    return "upper" if text == text.upper() else "mixed"


def word_before(note: Note, span: Span) -> str:
    """The word just before a gold span, lower-cased ("" at the start, "<PHI>" if any
    character of that word is inside a gold span): the context a detector had to go on."""
    head = note.text[: span.start].rstrip()
    match = re.search(r"\S+$", head)
    if match is None:
        return ""
    if any(g.start < match.end() and match.start() < g.end for g in note.gold):
        return "<PHI>"
    return match.group(0).lower()


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def measure(
    notes: Sequence[Note], predictions: Sequence[Sequence[Span]], results: Sequence[DeidResult]
) -> dict[str, Any]:
    """Leak, PHI-free and detection figures (counts, rates and shapes; no text)."""
    gold: Counter[str] = Counter()
    leaks: Counter[str] = Counter()
    leaked_detected = 0
    shapes: Counter[tuple[str, str, str]] = Counter()
    phi_free = unchanged = 0
    altered_by: Counter[str] = Counter()
    by_case: dict[str, Counter[str]] = {}
    for note, preds, result in zip(notes, predictions, results, strict=True):
        case = by_case.setdefault(case_style(note.text), Counter())
        if not note.gold:
            phi_free += 1
            case["phi_free"] += 1
            if result.text == note.text:
                unchanged += 1
                case["phi_free_unchanged"] += 1
            else:
                altered_by.update(s.entity_type for s in result.spans if s.operator != KEEP)
            continue
        gold.update(g.entity_type for g in note.gold)
        case["gold_values"] += len(note.gold)
        for g in leaked_spans(note, result.text):
            leaks[g.entity_type] += 1
            case["leaked"] += 1
            value = note.text[g.start : g.end]
            shapes[(g.entity_type, word_before(note, g), value_shape(value))] += 1
            leaked_detected += _covered(g, preds)
    report = evaluate(notes, predictions)
    detection = {k: v for k, v in report.to_dict().items() if k != "misses"}
    total_gold, total_leaked = sum(gold.values()), sum(leaks.values())
    return {
        "questions": {
            "total": len(notes),
            "with_phi": len(notes) - phi_free,
            "phi_free": phi_free,
        },
        "leak": {
            "gold_values": total_gold,
            "leaked": total_leaked,
            "share": _ratio(total_leaked, total_gold),
            "leaked_although_fully_detected": leaked_detected,
            "by_category": {
                cat: {"gold": n, "leaked": leaks[cat], "share": _ratio(leaks[cat], n)}
                for cat, n in sorted(gold.items(), key=lambda kv: (-kv[1], kv[0]))
            },
        },
        "phi_free": {
            "total": phi_free,
            "unchanged": unchanged,
            "share_unchanged": _ratio(unchanged, phi_free),
            "replaced_spans_in_altered_by_type": dict(altered_by.most_common()),
        },
        "by_case": {
            style: {
                "questions": sum(1 for n in notes if case_style(n.text) == style),
                "gold_values": c["gold_values"],
                "leaked": c["leaked"],
                "leak_share": _ratio(c["leaked"], c["gold_values"]),
                "phi_free": c["phi_free"],
                "phi_free_unchanged": c["phi_free_unchanged"],
                "phi_free_share_unchanged": _ratio(c["phi_free_unchanged"], c["phi_free"]),
            }
            for style, c in sorted(by_case.items())
        },
        "leak_shapes": [
            {"category": cat, "word_before": before, "shape": shape, "count": n}
            for (cat, before, shape), n in shapes.most_common()
        ],
        "detection": detection,
    }


def _covered(g: Span, preds: Sequence[Span]) -> bool:
    return any(p.start <= g.start and g.end <= p.end for p in preds)


# --- running -----------------------------------------------------------------------------


def run(notes: Sequence[Note]) -> tuple[list[list[Span]], list[DeidResult], dict[str, Any]]:
    """Detect, then anonymize the detected spans; returns predictions, results, timings."""
    from deid.detection.detector import Detector

    t0 = time.perf_counter()
    detector = Detector(DeidConfig().detection)
    detector.detect("Warm-up: seen at the clinic on 3/4.")
    load_s = time.perf_counter() - t0
    deid = Deidentifier(DeidConfig(), key=BENCHMARK_KEY, detector=detector)
    t1, c1 = time.perf_counter(), time.process_time()
    predictions = list(detector.detect_batch(n.text for n in notes))
    t2, c2 = time.perf_counter(), time.process_time()
    records = ((n.text, n.patient_id) for n in notes)
    results = list(deid.deidentify_batch(records, spans=predictions))
    t3, c3 = time.perf_counter(), time.process_time()
    n = max(len(notes), 1)
    timing = {
        "load_s": round(load_s, 2),
        "detect_s": round(t2 - t1, 3),
        "anonymize_s": round(t3 - t2, 3),
        "detect_cpu_s": round(c2 - c1, 3),
        "anonymize_cpu_s": round(c3 - c2, 3),
        "notes_per_s": round(n / max(t3 - t1, 1e-9), 1),
        "notes_per_cpu_s": round(n / max(c3 - c1, 1e-9), 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    return predictions, results, timing


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    return {
        "commit": commit or None,
        "deid_dirty": bool(git("status", "--porcelain", "--", "deid")) if commit else None,
    }


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:.2f} %" if pct else f"{x:.3f}"


def format_table(result: dict[str, Any]) -> str:
    """A readable summary (counts, rates, shapes; no text)."""
    q, leak, free, det = (
        result["questions"],
        result["leak"],
        result["phi_free"],
        result["detection"],
    )
    t, targets = result["timing"], result["targets"]
    lines = [
        f"{q['total']} questions ({q['with_phi']} with PHI, {q['phi_free']} PHI-free), "
        f"{result['settings']['source']}",
        "",
        f"PHI values leaked verbatim   {_fmt(leak['share'], True):>9}  "
        f"{leak['leaked']} / {leak['gold_values']}  (target <= "
        f"{100 * TARGET_MAX_LEAK_SHARE:.1f} %: {'met' if targets['leak_met'] else 'NOT met'})",
        f"PHI-free questions unchanged {_fmt(free['share_unchanged'], True):>9}  "
        f"{free['unchanged']} / {free['total']}  (target >= "
        f"{100 * TARGET_MIN_PHI_FREE_UNCHANGED:.0f} %: "
        f"{'met' if targets['phi_free_met'] else 'NOT met'})",
        f"Full-cover recall            {_fmt(det['full_cover_recall']):>9}  "
        f"{det['counts']['full_cover']} / {det['counts']['gold_spans']}",
        f"Token precision              {_fmt(det['token_precision']):>9}  "
        f"tp {det['counts']['token_tp']}, fp {det['counts']['token_fp']}",
        "",
        f"{'Category':<16} {'Gold':>5} {'Leaked':>6} {'Share':>8}  {'Recall':>6}",
    ]
    per_cat = det["per_category"]
    for cat, row in leak["by_category"].items():
        recall = per_cat.get(cat, {}).get("full_cover_recall")
        lines.append(
            f"{cat:<16} {row['gold']:>5} {row['leaked']:>6} {_fmt(row['share'], True):>8}  "
            f"{_fmt(recall):>6}"
        )
    lines += ["", f"{'Case style':<12} {'Questions':>9} {'Leaked':>14} {'PHI-free unchanged':>20}"]
    for style, c in result["by_case"].items():
        leaked = f"{c['leaked']}/{c['gold_values']}"
        kept = f"{c['phi_free_unchanged']}/{c['phi_free']}"
        lines.append(f"{style:<12} {c['questions']:>9} {leaked:>14} {kept:>20}")
    if free["replaced_spans_in_altered_by_type"]:
        altered = ", ".join(
            f"{k} {v}" for k, v in free["replaced_spans_in_altered_by_type"].items()
        )
        lines += ["", f"Replaced in altered PHI-free questions: {altered}"]
    if result["leak_shapes"]:
        lines += ["", "Leaked value shapes (category, word before, shape, count):"]
        for row in result["leak_shapes"][:25]:
            before = row["word_before"] or "(start)"
            lines.append(f"  {row['category']:<15} {before:<14} {row['shape']:<22} {row['count']}")
    lines += [
        "",
        f"Timing: load {t['load_s']} s; detect {t['detect_s']} s + anonymize "
        f"{t['anonymize_s']} s = {t['notes_per_s']} questions/s wall, "
        f"{t['notes_per_cpu_s']} per CPU-second (load average {t['loadavg'][0]})",
    ]
    return "\n".join(lines)


def show_misses(notes: Sequence[Note], results: Sequence[DeidResult]) -> None:
    """Developer view: leaked values and altered PHI-free questions, WITH TEXT (PHI!)."""
    print("\n--- leaked values (developer view: shows PHI) ---")
    for note, result in zip(notes, results, strict=True):
        for g in leaked_spans(note, result.text):
            value = note.text[g.start : g.end]
            print(f"{note.note_id} {g.entity_type:<15} {value!r}  in: {note.text!r}")
    print("\n--- altered PHI-free questions (developer view) ---")
    for note, result in zip(notes, results, strict=True):
        if not note.gold and result.text != note.text:
            print(f"{note.note_id}\n  in:  {note.text!r}\n  out: {result.text!r}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=N_QUESTIONS, help="questions to generate (1000)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"generator seed ({SEED})")
    ap.add_argument(
        "--corpus", type=Path, help="measure this annotated JSONL instead of generating"
    )
    ap.add_argument("--json", type=Path, help="write results here as JSON")
    ap.add_argument(
        "--show-misses",
        action="store_true",
        help="developer view: print leaked values and altered PHI-free questions (shows PHI!)",
    )
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error(f"--n must be at least 1, got {args.n}")
    if args.corpus:
        notes = list(read_corpus(args.corpus))
        source = f"corpus {args.corpus.name}"
    else:
        notes = generated_questions(args.n, args.seed)
        source = f"sample_data.generate.iter_questions(n={args.n}, seed={args.seed})"
    predictions, results, timing = run(notes)
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "settings": {
            "source": source,
            "policy": DeidConfig().anonymization.policy,
            "mode": DeidConfig().anonymization.default_mode,
            "key_fingerprint": BENCHMARK_KEY.fingerprint(),
        },
        **measure(notes, predictions, results),
        "timing": timing,
        "git": _git(),
        "python": platform.python_version(),
    }
    result["targets"] = {
        "max_leak_share": TARGET_MAX_LEAK_SHARE,
        "min_phi_free_unchanged": TARGET_MIN_PHI_FREE_UNCHANGED,
        "leak_met": (result["leak"]["share"] or 0.0) <= TARGET_MAX_LEAK_SHARE,
        "phi_free_met": (result["phi_free"]["share_unchanged"] or 1.0)
        >= TARGET_MIN_PHI_FREE_UNCHANGED,
    }
    print(format_table(result))
    if args.show_misses:
        show_misses(notes, results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
