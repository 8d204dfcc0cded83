"""Load time and memory of each lexicon loader, each measured in a fresh process.

    .venv/bin/python benchmarks/lexicon_load.py [--json benchmarks/results/lexicon_load.json]

Memory is the growth of the process's resident set (RSS) across the first call, and the
Python heap the loaded table holds (tracemalloc, measured in a second load after every
lexicon cache is emptied).
Time is the first call's wall time, and a second call's (the per-process cache). On a
shared machine the times are indicative only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

LOADERS = (
    "surnames",
    "first_names",
    "extra_first_names",
    "ambiguous",
    "us_places",
    "us_counties",
    "us_states",
    "countries",
    "foreign_cities",
    "zip_codes",
    "hospitals",
    "hospital_forms",
    "hospitals_by_name",
    "hospital_words",
)

_PROBE = """
import json, sys, time, tracemalloc
import deid.lexicons as L

def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

name = sys.argv[1]
loader = getattr(L, name)
rss0 = rss_kib()
t0 = time.perf_counter()
table = loader()
t1 = time.perf_counter()
loader()
t2 = time.perf_counter()
rss1 = rss_kib()
# The heap the table holds, measured apart (tracing slows loading several times), with
# every lexicon cache emptied first so that tables it builds on are counted too.
import gc, sys
for module in [m for n, m in sys.modules.items() if n.startswith("deid.lexicons")]:
    for value in vars(module).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
entries = len(table)
del table
gc.collect()
tracemalloc.start()
loader()
heap = tracemalloc.get_traced_memory()[0]
print(json.dumps({"loader": name, "entries": entries, "load_ms": round((t1 - t0) * 1000, 1),
                  "cached_call_us": round((t2 - t1) * 1e6, 1),
                  "rss_mib": round((rss1 - rss0) / 1024, 1), "heap_mib": round(heap / 2**20, 1)}))
"""


_ALL = _PROBE.replace("loader = getattr(L, name)", "loader = _all").replace(
    "import deid.lexicons as L",
    f"import deid.lexicons as L\ndef _all():\n    return [getattr(L, n)() for n in {LOADERS!r}]",
)


def measure(name: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, name], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    rows = [measure(name) for name in LOADERS]
    print(f"{'loader':<20}{'entries':>9}{'load ms':>9}{'RSS MiB':>9}{'heap MiB':>9}")
    for r in rows:
        print(
            f"{r['loader']:<20}{r['entries']:>9,}{r['load_ms']:>9}{r['rss_mib']:>9}{r['heap_mib']:>9}"
        )
    everything = subprocess.run(
        [sys.executable, "-c", _ALL, "all"], capture_output=True, text=True, check=True
    )
    total = json.loads(everything.stdout)
    print(
        f"{'all of them':<20}{'':>9}{total['load_ms']:>9}{total['rss_mib']:>9}{total['heap_mib']:>9}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"loaders": rows, "all": total}, f, indent=2)


if __name__ == "__main__":
    main()
