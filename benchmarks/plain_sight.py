"""Plain sight: do name and place surrogates read like the real thing?

On an annotated corpus (default: the PhysioNet development split), every gold name and
place span is replaced through the real ``Deidentifier`` (fixed benchmark key, Safe
Harbor policy, surrogate mode) and the surrogate is read back from the output. Then:

* **AUC**: a character n-gram classifier (TF-IDF over 1-4 character n-grams, logistic
  regression, 5-fold stratified cross-validation) tells the distinct (case-folded)
  original strings from the distinct surrogates; ROC AUC per type (names, places,
  hospitals). 0.5 means the surrogates cannot be told from the originals by spelling.
* **sex agreement**: among names whose original first name has a clear sex (Census 2020,
  at least 90 % of holders one sex), the share whose surrogate first name clearly has the
  same sex.
* **real places**: among spans that are a city or county of the gazetteers, the share
  whose surrogate is one too (each comma-separated part a place, county or state).
* **invented tokens**: share of name/place surrogates holding a word of two or more
  letters that is no word of any lexicon (names, places, hospital and unit words).
* **throughput**: CPU seconds per note to anonymize the corpus with its gold spans
  (detection excluded), best of ``--rounds`` rounds; with ``--baseline DIR`` (another
  checkout's root) the two trees run in alternating rounds, so a shared machine's load
  hits both alike.

    DEIDFLOW_KEY=unused .venv/bin/python benchmarks/plain_sight.py \\
        /work/shared/data/physionet-deid-dev --label after --baseline /tmp/base

Writes ``benchmarks/results/plain_sight.json`` (one entry per ``--label``); prints figures
only, never a note or span string.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BENCH_KEY = "plain-sight-benchmark-key-0001"
DEFAULT_CORPUS = Path("/work/shared/data/physionet-deid-dev")
RESULTS = Path(__file__).parent / "results" / "plain_sight.json"

NAME_CATEGORIES = {"HCPName", "PTName", "RelativeProxyName", "PTNameInitial"}
PLACE_CATEGORIES = {"Location"}
OTHER_TYPES = {"Date": "DATE", "Phone": "PHONE_NUMBER", "Age": "AGE", "Other": "ID_NUMBER"}
INNER_PASSES = 5
"""Timed passes per process (each with a fresh Deidentifier); the fastest counts."""
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


@dataclass(frozen=True)
class Pair:
    group: str  # names | places | hospitals
    original: str
    surrogate: str


def gold_entity(category: str, value: str) -> str | None:
    """The entity type a gold span is handed to the Deidentifier as."""
    if category in NAME_CATEGORIES:
        return "PERSON"
    if category in PLACE_CATEGORIES:
        return "HOSPITAL" if _is_hospital(value) else "LOCATION"
    return OTHER_TYPES.get(category)


def _is_hospital(value: str) -> bool:
    from deid.lexicons import hospital_word_kinds

    kinds = hospital_word_kinds()
    return any(kinds.get(w.casefold()) == "institution" for w in _WORD.findall(value))


def _group(entity_type: str) -> str | None:
    return {"PERSON": "names", "LOCATION": "places", "HOSPITAL": "hospitals"}.get(entity_type)


def typed_spans(note) -> list:  # type: ignore[no-untyped-def]
    from deid.spans import Span

    spans = []
    for s in note.gold:
        entity_type = gold_entity(s.entity_type, note.text[s.start : s.end])
        if entity_type is not None:
            spans.append(Span(s.start, s.end, entity_type, 1.0, "gold"))
    return spans


def surrogate_pairs(notes: Sequence) -> list[Pair]:  # type: ignore[type-arg]
    """(original, surrogate) of every gold name and place span, through the Deidentifier."""
    from deid.anonymization.deidentifier import Deidentifier
    from deid.anonymization.keys import SecretKey

    deid = Deidentifier(key=SecretKey.from_text(BENCH_KEY))
    pairs = []
    for note in notes:
        result = deid.deidentify(note.text, note.patient_id, typed_spans(note))
        for sp in result.spans:
            group = _group(sp.entity_type)
            if group is None or sp.operator == "keep":
                continue
            original = note.text[sp.orig_start : sp.orig_end]
            pairs.append(Pair(group, original, result.text[sp.start : sp.end]))
    return pairs


def classifier_auc(originals: Iterable[str], surrogates: Iterable[str], seed: int = 0) -> dict:
    """Cross-validated ROC AUC of a character n-gram classifier, on distinct strings.

    Strings are compared case-folded and each counted once: the question is whether a
    surrogate is spelled like a real name or place. (Counted per occurrence, or per case
    variant, an original repeated across patients -- "GH", "gh" -- would land in several
    folds while its surrogates, keyed per patient, differ: the classifier would learn
    the repetition, not the spelling.)"""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    orig = sorted({" ".join(o.casefold().split()) for o in originals})
    surr = sorted({" ".join(s.casefold().split()) for s in surrogates})
    texts, labels = orig + surr, [0] * len(orig) + [1] * len(surr)
    folds = min(5, len(orig), len(surr))
    if folds < 2:
        return {"auc": None, "originals": len(orig), "surrogates": len(surr)}
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=1.0),
    )
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(model, texts, labels, cv=cv, method="predict_proba")[:, 1]
    return {
        "auc": round(float(roc_auc_score(labels, proba)), 3),
        "originals": len(orig),
        "surrogates": len(surr),
    }


# ---------------------------------------------------------------- lexicon checks


def _name_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if len(w) > 1]


def clear_sex(word: str) -> str | None:
    from deid.lexicons import first_name

    record = first_name(word)
    return record.sex if record is not None else None


def first_name_token(text: str) -> str | None:
    """The first name of a name span: its first full word when the span has two or
    more, or its only word when that is far more common as a first name than a surname."""
    from deid.anonymization.surrogates.names import TITLES
    from deid.lexicons import first_name, surname

    words = [w for w in _name_words(text) if w.casefold().rstrip(".") not in TITLES]
    if "," in text or not words:
        return None  # "Last, First": leave the order question out
    if len(words) == 1:
        fn, sn = first_name(words[0]), surname(words[0])
        if fn is None or (sn is not None and sn.people >= fn.people):
            return None
    return words[0]


def sex_agreement(pairs: Sequence[Pair]) -> dict:
    agree = total = 0
    for p in pairs:
        if p.group != "names":
            continue
        orig_first = first_name_token(p.original)
        if orig_first is None or (sex := clear_sex(orig_first)) is None:
            continue
        surr_words = [w for w in _name_words(p.surrogate)]
        orig_words = [w for w in _name_words(p.original)]
        idx = orig_words.index(orig_first)
        total += 1
        if len(surr_words) == len(orig_words) and clear_sex(surr_words[idx]) == sex:
            agree += 1
    return {"agreement": round(agree / total, 3) if total else None, "names": total}


@cache
def _place_keys() -> frozenset[str]:
    from deid import lexicons

    keys = set(lexicons.us_places()) | set(lexicons.us_counties()) | set(lexicons.us_states())
    keys |= set(lexicons.foreign_cities()) | set(lexicons.countries())
    keys |= {s.code.lower() for s in lexicons.us_states().values()}
    return frozenset(keys)


def is_real_place(text: str) -> bool:
    from deid.lexicons import place_key

    parts = [place_key(p) for p in text.split(",") if p.strip()]
    return bool(parts) and all(
        p in _place_keys() or re.sub(r" \d{5}(?:-\d{4})?$", "", p) in _place_keys() for p in parts
    )


def real_places(pairs: Sequence[Pair]) -> dict:
    total = real = 0
    for p in pairs:
        if p.group != "places" or not is_real_place(p.original):
            continue
        total += 1
        real += is_real_place(p.surrogate)
    return {"share": round(real / total, 3) if total else None, "places": total}


@cache
def lexicon_words() -> frozenset[str]:
    """Every word of every lexicon (lower-case letters and apostrophes)."""
    from deid import lexicons

    words: set[str] = set(lexicons.surnames()) | set(lexicons.first_names())
    words |= lexicons.extra_first_names()
    words |= set(lexicons.hospital_words())
    words |= {w for key in lexicons.hospital_forms() for w in key.split()}  # "gbmc", "st"
    try:  # titles, unit and street words the surrogates keep or use
        from deid.anonymization.surrogates.vocabulary import all_words
    except ImportError:  # the tree before the plain-sight surrogates
        from deid.anonymization.surrogates.names import TITLES
        from deid.anonymization.surrogates.places import GENERIC_WORDS

        words |= TITLES | GENERIC_WORDS
    else:
        words |= all_words()
    for table in (lexicons.us_places(), lexicons.foreign_cities(), lexicons.countries()):
        for key in table:
            words.update(key.split())
    for county in lexicons.us_counties():
        words.update(county.split())
    for state in lexicons.us_states().values():
        words.update(lexicons.place_key(state.name).split())
        words.add(state.code.lower())
    return frozenset(words)


def invented(text: str) -> bool:
    from deid.lexicons import name_key

    known = lexicon_words()
    for word in _name_words(text):
        low = word.casefold()
        if low in known or name_key(word) in known or low.rstrip("'s") in known:
            continue
        if low.endswith("'s") and (low[:-2] in known or name_key(low[:-2]) in known):
            continue
        return True
    return False


def invented_share(pairs: Sequence[Pair]) -> dict:
    out = {}
    for group in ("names", "places", "hospitals"):
        mine = [p for p in pairs if p.group == group]
        bad = sum(invented(p.surrogate) for p in mine)
        out[group] = {"share": round(bad / len(mine), 4) if mine else None, "surrogates": len(mine)}
    return out


# ---------------------------------------------------------------- throughput


def time_anonymization(corpus: Path, rounds: int) -> list[float]:
    """CPU seconds per note for each round: a fresh Deidentifier (empty surrogate cache)
    after a warm-up pass over the same notes, so one-time work (loading lexicon tables,
    building per-state samplers) is left out as it is in a long-running worker."""
    from deid.anonymization.deidentifier import Deidentifier
    from deid.anonymization.keys import SecretKey
    from deid.evaluation.corpora import read_corpus

    notes = list(read_corpus(corpus))
    spans = [typed_spans(n) for n in notes]
    warm = Deidentifier(key=SecretKey.from_text(BENCH_KEY))
    for n, s in zip(notes, spans, strict=True):  # load every lexicon table first
        warm.deidentify(n.text, n.patient_id, s)
    out = []
    for _ in range(rounds):
        deid = Deidentifier(key=SecretKey.from_text(BENCH_KEY))
        t0 = time.process_time()
        for n, s in zip(notes, spans, strict=True):
            deid.deidentify(n.text, n.patient_id, s)
        out.append((time.process_time() - t0) / len(notes))
    return out


def _timing_run(root: Path, corpus: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(root), DEIDFLOW_KEY=BENCH_KEY)
    cmd = [sys.executable, str(Path(__file__).resolve()), str(corpus), "--timing-only"]
    done = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def throughput(corpus: Path, rounds: int, baseline: Path | None) -> dict:
    here = Path(__file__).resolve().parent.parent
    current: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        if baseline is not None:
            base.append(_timing_run(baseline, corpus))
        current.append(_timing_run(here, corpus))
    out = {"cpu_s_per_note": round(min(current), 6), "rounds": rounds}
    if baseline is not None:
        out["baseline_cpu_s_per_note"] = round(min(base), 6)
        out["ratio"] = round(min(current) / min(base), 3)
        out["median_ratio"] = round(statistics.median(current) / statistics.median(base), 3)
    return out


# ---------------------------------------------------------------- main


def run(corpus: Path, rounds: int, baseline: Path | None) -> dict:
    from deid.evaluation.corpora import read_corpus

    notes = list(read_corpus(corpus))
    pairs = surrogate_pairs(notes)
    auc = {
        group: classifier_auc(
            (p.original for p in pairs if p.group == group),
            (p.surrogate for p in pairs if p.group == group),
        )
        for group in ("names", "places", "hospitals")
    }
    return {
        "corpus": corpus.name,
        "notes": len(notes),
        "spans": {g: sum(p.group == g for p in pairs) for g in ("names", "places", "hospitals")},
        "auc": auc,
        "sex_agreement": sex_agreement(pairs),
        "real_places": real_places(pairs),
        "invented_tokens": invented_share(pairs),
        "throughput": throughput(corpus, rounds, baseline) if rounds else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--label", default="current", help="key of this run in the results file")
    ap.add_argument("--rounds", type=int, default=3, help="timing rounds (0: no timing)")
    ap.add_argument("--baseline", type=Path, help="root of a checkout to time against")
    ap.add_argument("--json", type=Path, default=RESULTS)
    ap.add_argument("--timing-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.timing_only:
        print(min(time_anonymization(args.corpus, INNER_PASSES)))
        return 0
    figures = run(args.corpus, args.rounds, args.baseline)
    print(json.dumps(figures, indent=2))
    results = json.loads(args.json.read_text()) if args.json.exists() else {}
    results[args.label] = figures
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
