"""Throughput of detect + anonymize and of the whole pipeline (read -> Parquet), with memory.

Two stages, each in its own process so every figure belongs to one stage:

* ``anonymize``: ``deid.anonymization.deidentifier.Deidentifier.deidentify_batch`` over every note (load
  time apart); on the PhysioNet corpus the full-cover recall of the applied spans is
  given beside the speed (``deid.evaluation.metrics``);
* ``pipeline``: ``deidflow run CONFIG`` end to end, once per task runner and
  ``--repeat`` (``thread``: one core; ``dask``: a local cluster of ``--workers``
  processes), runners alternating so load from other jobs hits both alike.  Its process
  tree is sampled (psutil, when installed) for each process's peak RSS and CPU time, by
  role (``flow``, ``prefect_server``, ``dask_worker``); the machine's CPU time outside
  the tree and the 1-minute load average during the run show how shared the machine
  was.  The flow's log timestamps split its wall time into start-up (to the first
  finished batch), per-window detection and flow-side work (validate + stage, while the
  workers wait) and the tail (seal, gate, publish, audit).  Without psutil only the
  largest finished child's peak RSS is known (``RUSAGE_CHILDREN``).

Inputs: the PhysioNet development corpus converted to JSONL (note_id, patient_id, text)
and ``--generated N`` synthetic notes (``sample_data.generate``).  Only counts, timings,
rates and memory are printed or written; never note text.

    .venv/bin/python benchmarks/pipeline_speed.py /work/shared/data/physionet-deid-dev \\
        --generated 10000 --json benchmarks/results/pipeline_speed.json
    .venv/bin/python benchmarks/pipeline_speed.py --no-dev --no-anonymize \\
        --generated 10000 --repeat 2 --json /tmp/scaling.json   # scaling only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2
REPO = Path(__file__).resolve().parent.parent
DEV = Path("/work/shared/data/physionet-deid-dev")
BENCH_KEY = "pipeline-speed-benchmark-key-not-secret-0123456789"  # synthetic runs only
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MIB = 1024 * 1024


# --- inputs ---------------------------------------------------------------------------


def write_dev_jsonl(corpus: Path, path: Path) -> int:
    """The PhysioNet corpus as pipeline input (note_id, patient_id, text); returns notes."""
    from deid.evaluation.corpora import read_physionet

    count = 0
    with path.open("w", encoding="utf-8") as out:
        for note in read_physionet(corpus):
            # PhysioNet numbers notes per patient: qualify them, or most would be DUPLICATE_ID.
            note_id = f"{note.patient_id}-{note.note_id}"
            row = {"note_id": note_id, "patient_id": note.patient_id, "text": note.text}
            out.write(json.dumps(row) + "\n")
            count += 1
    return count


def write_generated_jsonl(n: int, path: Path) -> int:
    from sample_data.generate import iter_notes, write_jsonl

    # Without the gold spans: a site's extract has none, and the input fingerprint would
    # otherwise serialise ~40 span objects per note.
    notes = ({k: v for k, v in note.items() if k != "spans"} for note in iter_notes(n, seed=0))
    return write_jsonl(notes, path)


def input_size(path: Path) -> tuple[int, int]:
    """Notes and UTF-8 bytes of note text in a JSONL input."""
    notes = text_bytes = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            notes += 1
            text_bytes += len(json.loads(line)["text"].encode("utf-8"))
    return notes, text_bytes


# --- stage: detect + anonymize (runs in a child process) -------------------------------


def anonymize_stage(input_path: Path, corpus: Path | None) -> dict[str, Any]:
    """Time ``deidentify_batch`` over the input; recall against ``corpus`` gold if given."""
    started = time.perf_counter()
    from deid.anonymization.deidentifier import Deidentifier
    from deid.config import DeidConfig
    from deid.spans import Span

    deidentifier = Deidentifier(DeidConfig())
    list(deidentifier.deidentify_batch([("Seen by Dr. Smith on 3/4.", "p0")]))  # warm-up
    load_s = time.perf_counter() - started
    records = [(r["text"], r["patient_id"]) for r in map(json.loads, input_path.open())]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    predictions = [
        [Span(s.orig_start, s.orig_end, s.entity_type) for s in result.spans]
        for result in deidentifier.deidentify_batch(records)
    ]
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    out: dict[str, Any] = {
        "load_s": round(load_s, 2),
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if corpus is not None:
        from deid.evaluation.corpora import read_physionet
        from deid.evaluation.metrics import evaluate

        report = evaluate(list(read_physionet(corpus)), predictions)
        out["full_cover_recall"] = report.full_cover_recall
    return out


def pinned_to(cpu: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins a child (and what it starts) to ``cpu``; ``None``: unpinned."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def run_anonymize(
    input_path: Path, corpus: Path | None, env: dict[str, str], cpu: int | None = None
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--stage-anonymize", str(input_path)]
    if corpus is not None:
        cmd += ["--recall-corpus", str(corpus)]
    done = subprocess.run(
        cmd,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=pinned_to(cpu),
    )
    if done.returncode != 0:
        raise SystemExit(f"anonymize stage failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- stage: the pipeline end to end ---------------------------------------------------


class TreeSampler:
    """Peak RSS and CPU time per process of a process tree, sampled every ``interval`` s.

    Also the machine's busy CPU time (to tell how much went to other jobs) and the
    1-minute load average while the tree runs.  Needs psutil.
    """

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self._psutil = psutil
        self.peaks: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.roles: dict[int, str] = {}
        self.peak_total = 0
        self.load: list[float] = []
        self._cpu0 = self._busy()
        self.machine_busy_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)
        self._thread.start()

    def _busy(self) -> float:
        times = self._psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def _role(self, proc: Any) -> str:
        if proc.pid == self._root.pid:
            return "flow"
        try:
            cmd = " ".join(proc.cmdline())
        except self._psutil.Error:
            return "other"
        if "uvicorn" in cmd and "prefect.server" in cmd:
            return "prefect_server"
        if "spawn_main" in cmd:  # distributed's Nanny spawns each worker process
            return "dask_worker"
        return "other"

    def _sample(self, interval: float) -> None:
        ticks = 0
        while not self._stop.is_set():
            try:
                procs = [self._root, *self._root.children(recursive=True)]
            except self._psutil.Error:
                return
            total = 0
            for proc in procs:
                try:
                    with proc.oneshot():
                        rss = proc.memory_info().rss
                        times = proc.cpu_times()
                except self._psutil.Error:
                    continue
                if proc.pid not in self.roles:
                    self.roles[proc.pid] = self._role(proc)
                total += rss
                self.peaks[proc.pid] = max(self.peaks.get(proc.pid, 0), rss)
                self.cpu[proc.pid] = times.user + times.system
            self.peak_total = max(self.peak_total, total)
            if ticks % max(1, round(1 / interval)) == 0:
                self.load.append(os.getloadavg()[0])
            ticks += 1
            self._stop.wait(interval)

    def stop(self) -> None:
        self.machine_busy_s = self._busy() - self._cpu0
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        """Per role: processes, peak RSS of each (MiB), CPU seconds; plus machine figures."""
        by_role: dict[str, dict[str, Any]] = {}
        for pid, role in self.roles.items():
            entry = by_role.setdefault(role, {"processes": 0, "peak_rss_mib": [], "cpu_s": 0.0})
            entry["processes"] += 1
            entry["peak_rss_mib"].append(round(self.peaks.get(pid, 0) / MIB, 1))
            entry["cpu_s"] += self.cpu.get(pid, 0.0)
        for entry in by_role.values():
            entry["peak_rss_mib"].sort(reverse=True)
            entry["cpu_s"] = round(entry["cpu_s"], 1)
        tree_cpu = sum(self.cpu.values())
        return {
            "processes": by_role,
            "tree_cpu_s": round(tree_cpu, 1),
            "other_jobs_cpu_s": round(max(0.0, self.machine_busy_s - tree_cpu), 1),
            "load_average_1min": {
                "min": round(min(self.load), 2) if self.load else None,
                "mean": round(statistics.fmean(self.load), 2) if self.load else None,
                "max": round(max(self.load), 2) if self.load else None,
            },
        }


# ``09:40:08.438 | INFO    | Task run 'deidentify-batch-0' - Finished in state Completed()``
_LOG_LINE = re.compile(
    r"^(\d\d):(\d\d):(\d\d\.\d+) \| \w+ +\| (?:Task run '([a-z-]+?)(?:-[0-9a-f]+)?'"
    r" - Finished in state Completed|Flow run '[^']*' - (Beginning flow run|Finished in state))"
)


def phases(stderr: str) -> dict[str, Any] | None:
    """The flow's wall time split by its log timestamps (task names, never log text).

    ``startup_s``: flow start to the first finished batch (task runner start, worker
    imports, model load, first batch); per window, ``detect`` runs from the previous
    window's staging to its last finished batch, and ``flow_side`` from then to its
    staging (validate + stage: the workers wait); ``tail_s``: last staging to flow end.
    """
    events: list[tuple[float, str]] = []
    for line in stderr.splitlines():
        m = _LOG_LINE.match(line)
        if not m:
            continue
        hours, minutes, seconds, task, flow_event = m.groups()
        t = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        if events and t < events[-1][0] - 43200:  # past midnight
            t += 86400
        name = task or ("flow-begin" if flow_event.startswith("Beginning") else "flow-end")
        events.append((t, name))
    begin = next((t for t, n in events if n == "flow-begin"), None)
    end = next((t for t, n in reversed(events) if n == "flow-end"), None)
    stages = [t for t, n in events if n == "stage-window"]
    batches = [t for t, n in events if n == "deidentify-batch"]
    if begin is None or end is None or not stages or not batches:
        return None
    detect = flow_side = 0.0
    previous = None
    for staged in stages:
        done = [t for t in batches if (previous is None or t > previous) and t <= staged]
        if done and previous is not None:  # the first window is start-up
            detect += max(done) - previous
            flow_side += staged - max(done)
        previous = staged
    return {
        "startup_s": round(batches[0] - begin, 1),
        "first_window_s": round(stages[0] - begin, 1),
        "windows": len(stages),
        "later_windows_detect_s": round(detect, 1),
        "later_windows_flow_side_s": round(flow_side, 1),
        "tail_s": round(end - stages[-1], 1),
    }


def run_pipeline(
    input_path: Path,
    runner: str,
    workers: int,
    work: Path,
    env: dict[str, str],
    cpu: int | None = None,
) -> dict[str, Any]:
    """``deidflow run`` with ``runner`` as a subprocess: wall time, rate, peak RSS."""
    out_dir = work / f"out-{input_path.stem}-{runner}"
    config = work / f"{input_path.stem}-{runner}.yaml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "source": {"kind": "files", "path": str(input_path)},
                "output": {"dir": str(out_dir)},
                "quarantine_dir": str(work / "quarantine"),
                "runtime": {"task_runner": runner, "workers": workers},
            }
        )
    )
    deidflow = Path(sys.executable).with_name("deidflow")
    cmd = [str(deidflow), "run", "--verbose", str(config)]  # phases() reads the INFO logs
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=pinned_to(cpu),  # the Prefect server it starts inherits the pinning
    )
    try:
        sampler: TreeSampler | None = TreeSampler(proc.pid)
    except ImportError:
        sampler = None
    _, stderr = proc.communicate()
    wall = time.perf_counter() - started
    if sampler is not None:
        sampler.stop()
    if proc.returncode != 0:  # deidflow's messages are PHI-safe: last line only
        tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        raise SystemExit(f"deidflow run ({runner}) failed: exit {proc.returncode} {tail}")
    summary = json.loads((out_dir / "run_summary.json").read_text())
    result: dict[str, Any] = {
        "runner": runner,
        "workers": workers,
        "pinned_cpu": cpu,
        "process_wall_s": round(wall, 2),
        "flow_wall_s": summary["wall_seconds"],
        "rows_out": summary["rows_out"],
    }
    result["phases"] = phases(stderr)
    if sampler is not None:
        peaks = sorted(sampler.peaks.values(), reverse=True)
        result["peak_rss_mib_per_process"] = [round(p / MIB, 1) for p in peaks if p > 50 * MIB]
        result["peak_rss_mib_max_process"] = round(peaks[0] / MIB, 1) if peaks else None
        result["peak_rss_mib_tree"] = round(sampler.peak_total / MIB, 1)
        result.update(sampler.summary())
    else:
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result["peak_rss_mib_max_process"] = round(children / 1024, 1)
    return result


# --- driver -----------------------------------------------------------------------------


def rates(notes: int, text_bytes: int, seconds: float) -> dict[str, float]:
    return {
        "notes_per_s": round(notes / seconds, 1),
        "mb_per_min": round(text_bytes / 1e6 / seconds * 60, 2),
    }


def measure(
    name: str, path: Path, corpus: Path | None, args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    env = {**os.environ, **THREAD_ENV, "DEIDFLOW_KEY": BENCH_KEY, "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)  # the temporary server, as `deidflow run` gets by default
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    notes, text_bytes = input_size(path)
    entry: dict[str, Any] = {"notes": notes, "text_mb": round(text_bytes / 1e6, 2)}
    if not args.no_anonymize:
        anon = run_anonymize(path, corpus, env, args.one_core)
        anon.update(rates(notes, text_bytes, anon["seconds"]))
        entry["detect_anonymize"] = anon
        _print(name, "detect+anonymize", anon)
    entry["pipeline"] = []
    for _ in range(args.repeat):  # alternate runners: a burst of load hits both alike
        for runner in args.runners.split(","):
            workers = 1 if runner == "thread" else args.workers
            cpu = args.one_core if runner == "thread" else None
            result = run_pipeline(path, runner, workers, work, env, cpu)
            result.update(rates(notes, text_bytes, result["flow_wall_s"]))
            result["process_notes_per_s"] = round(notes / result["process_wall_s"], 1)
            entry["pipeline"].append(result)
            _print(name, f"pipeline/{runner}x{workers}", result)
    by_runner: dict[str, list[float]] = {}
    for r in entry["pipeline"]:
        by_runner.setdefault(r["runner"], []).append(r["notes_per_s"])
    entry["median_notes_per_s"] = {k: statistics.median(v) for k, v in by_runner.items()}
    if "thread" in by_runner and "dask" in by_runner:
        medians = entry["median_notes_per_s"]
        entry["dask_speedup"] = round(medians["dask"] / medians["thread"], 2)
        print(f"{name:>10} dask speed-up (medians) {entry['dask_speedup']}x", flush=True)
    if "thread" in by_runner and "detect_anonymize" in entry:
        # The end-to-end target: one core's pipeline >= 80 % of detect + anonymize.
        ratio = entry["median_notes_per_s"]["thread"] / entry["detect_anonymize"]["notes_per_s"]
        entry["thread_pipeline_vs_detect_anonymize"] = round(ratio, 2)
        print(f"{name:>10} thread pipeline / detect+anonymize {ratio:.2f}", flush=True)
    return entry


def _print(name: str, stage: str, figures: dict[str, Any]) -> None:
    keys = ("notes_per_s", "mb_per_min", "peak_rss_mib", "peak_rss_mib_max_process")
    shown = ", ".join(f"{k}={figures[k]}" for k in (*keys, "full_cover_recall") if k in figures)
    if "processes" in figures:
        roles = figures["processes"]
        shown += ", " + ", ".join(
            f"{role}: n={v['processes']} rss={v['peak_rss_mib']} cpu={v['cpu_s']}s"
            for role, v in sorted(roles.items())
            if role != "other"
        )
        shown += f", other_jobs_cpu={figures['other_jobs_cpu_s']}s"
        shown += f", load1={figures['load_average_1min']}"
    if figures.get("phases"):
        shown += f", phases={figures['phases']}"
    print(f"{name:>10} {stage:<22} {shown}", flush=True)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def environment() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": commit or None,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEV, help="PhysioNet corpus")
    parser.add_argument("--generated", type=int, default=10_000, help="synthetic notes (0: none)")
    parser.add_argument("--no-dev", action="store_true", help="skip the PhysioNet corpus")
    parser.add_argument("--runners", default="thread,dask", help="task runners to time")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--repeat", type=int, default=1, help="pipeline runs per runner")
    parser.add_argument(
        "--no-anonymize", action="store_true", help="skip the detect + anonymize stage"
    )
    parser.add_argument(
        "--one-core",
        type=int,
        metavar="CPU",
        help="pin detect + anonymize and the thread runner's whole run (flow process and "
        "Prefect server) to this CPU: the one-core figures; Dask runs stay unpinned",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--stage-anonymize", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--recall-corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage_anonymize:  # child process: one stage, one JSON line
        print(json.dumps(anonymize_stage(args.stage_anonymize, args.recall_corpus)))
        return 0

    results: dict[str, Any] = {"schema_version": SCHEMA_VERSION, **environment(), "inputs": {}}
    with tempfile.TemporaryDirectory(prefix="deidflow-bench-") as tmp:
        work = Path(tmp)
        if not args.no_dev:
            dev = work / "physionet-dev.jsonl"
            write_dev_jsonl(args.corpus, dev)
            results["inputs"]["physionet_dev"] = measure("dev", dev, args.corpus, args, work)
        if args.generated:
            gen = work / f"generated-{args.generated}.jsonl"
            write_generated_jsonl(args.generated, gen)
            name = f"generated_{args.generated}"
            results["inputs"][name] = measure(name, gen, None, args, work)
    results["load_average_after"] = os.getloadavg()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
