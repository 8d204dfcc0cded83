"""Crash safety: SIGKILL the pipeline at random points, re-run, get the same bytes.

Each kill targets a phase (extraction, detection, validation, staging, sealing, the
quarantine commit, publishing, the manifest, the swap, the run summary): the test
waits until the run's trace shows the k-th event of that phase, sleeps a random
fraction of the gap to the next event, and sends SIGKILL.  Right after the kill the
output directory must hold either the dataset it held before (shards + manifest) or
the complete new one, nothing in between; after a re-run the output directory and the
quarantine must be byte-identical to an uninterrupted run (``run_summary.json`` and the audit report carry
wall times and the Prefect run ID by design: their counts are compared instead).
Half the kills hit a fresh output directory, half one that already holds the dataset.

Runs are forked from a warm process (``zygote.py``) so that a kill costs seconds, not
the ~15 s of imports a fresh ``deidflow run`` needs; ``--runslow`` also checks that a
fresh ``deidflow run`` gives the same bytes.  Default: 3 kills; ``--runslow``: 30.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

from pipelines.config import QUARANTINE_SUFFIX
from pipelines.output.manifest import MANIFEST_NAME, verify_output
from pipelines.output.shards import LOCK_NAME, SHARD_NAME
from sample_data.generate import iter_notes
from tests.paths import REPO
from tests.prefect_harness import STARTUP_TIMEOUT_S
from tests.reliability.support import DEIDFLOW, PrefectServer, base_env, run_cli, write_jsonl

KEY = "crash-safety-test-key-0123456789abcdef"
N_NOTES = 100
MAX_CHARS = 20_000
SEED = 20261122
DEFAULT_PHASES = ("extract", "validate", "publish")
ALL_PHASES = (
    "extract",
    "detect",
    "validate",
    "stage",
    "seal",
    "quarantine",
    "publish",
    "manifest",
    "swap",
    "summary",
)
SLOW_ROUNDS = 3  # kills per phase with --runslow: 30
VARIES = {"run_summary.json", "audit_report.json", "audit_report.html"}
SUMMARY_COUNTS = (
    "rows_in",
    "rows_out",
    "quarantined",
    "quarantined_by_reason",
    "duplicates_removed",
    "phi_by_type",
    "rows_by_split",
    "shards_written",
    "shard_bytes",
    "run_id",
)


def _records() -> list[dict | bytes]:
    notes = list(iter_notes(N_NOTES, seed=3))
    bad: list[dict | bytes] = [
        {"patient_id": "px", "text": "no note id"},
        {"note_id": "bad-empty", "patient_id": "px", "text": "  \n "},
        {"note_id": "bad-nul", "patient_id": "px", "text": "seen\x00today"},
        b'{"note_id": "bad-bytes", "patient_id": "px", "text": "caf\xe9"}\n',
        {"note_id": "bad-big", "patient_id": "px", "text": "x " * MAX_CHARS},
        b'{"note_id": "bad-json", "patient_id": \n',
        {**notes[5], "text": notes[5]["text"] + " amended"},  # same ID, other text
        notes[7],  # exact duplicate
    ]
    records: list[dict | bytes] = list(notes)
    for i, rec in enumerate(bad):  # spread over the windows
        records.insert(10 + i * (N_NOTES // len(bad)), rec)
    return records


def _config(path: Path, source: Path, out: Path) -> Path:
    config = {
        "source": {"kind": "files", "path": str(source), "batch_size": 8},
        "output": {"dir": str(out), "target_shard_rows": 40, "row_group_rows": 8},
        "limits": {"max_note_chars": MAX_CHARS},
        "runtime": {"workers": 1, "window_batches": 2},
        "validation": {"max_quarantine_fraction": 0.2},  # 7 bad records of 108 on purpose
    }
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


class Zygote:
    """Client of ``tests/reliability/zygote.py``."""

    def __init__(self, env: dict[str, str], config: Path, log: Path) -> None:
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.zygote", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            cwd=REPO,
            text=True,
        )

    def _message(self) -> dict:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            assert line, "zygote exited"
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue  # a library printed something

    def wait_ready(self) -> None:
        assert self._message().get("ready")

    def start(self, config: Path, trace: Path, log: Path) -> int:
        assert self.proc.stdin is not None
        request = {"config": str(config), "trace": str(trace), "log": str(log)}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return int(self._message()["pid"])

    def wait_exit(self) -> int:
        return int(self._message()["exit"])

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"quit": True}) + "\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def read_trace(path: Path) -> list[tuple[float, str]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        t, _, name = line.partition(" ")
        events.append((float(t), name))
    return events


@dataclass
class Rig:
    root: Path
    zygote: Zygote
    env: dict[str, str]
    crash_source: Path
    reference: Path
    reference_quarantine: Path
    reference_trace: list[tuple[float, str]]
    runs: int = 0

    def config(self, source: Path, out: Path) -> Path:
        self.runs += 1
        return _config(self.root / f"config-{self.runs}.yaml", source, out)

    def start(self, source: Path, out: Path) -> tuple[int, Path]:
        trace = self.root / f"trace-{self.runs + 1}.txt"
        log = self.root / f"run-{self.runs + 1}.log"
        return self.zygote.start(self.config(source, out), trace, log), trace

    def run(self, source: Path, out: Path) -> int:
        self.start(source, out)
        return self.zygote.wait_exit()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp("crash")
    server = PrefectServer(root).start()
    records = _records()
    ref_source, crash_source = (
        root / "ref-src" / "notes.jsonl",
        root / "crash-src" / "notes.jsonl",
    )
    for source in (ref_source, crash_source):  # same bytes, each with its own quarantine
        source.parent.mkdir()
        write_jsonl(source, records)
    env = server.client_env(root / "client-home", DEIDFLOW_KEY=KEY)
    zygote = Zygote(env, _config(root / "warm.yaml", ref_source, root / "unused"), root / "z.log")
    try:
        server.wait_ready()
        zygote.wait_ready()
        rig = Rig(root, zygote, env, crash_source, root / "ref-out", Path(), [])
        _, trace = rig.start(ref_source, rig.reference)
        assert zygote.wait_exit() == 0, (root / f"run-{rig.runs}.log").read_text()[-3000:]
        rig.reference_trace = read_trace(trace)
        rig.reference_quarantine = ref_source.parent / f"notes.jsonl{QUARANTINE_SUFFIX}"
        yield rig
    finally:
        zygote.close()
        server.stop()


# --- checks -----------------------------------------------------------------------------


def _visible(directory: Path) -> dict[str, bytes]:
    """Files a consumer sees: everything but hidden files and the lock."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def _summary_counts(directory: Path) -> dict:
    summary = json.loads((directory / "run_summary.json").read_text())
    return {k: summary[k] for k in SUMMARY_COUNTS}


def _dataset(directory: Path) -> dict[str, bytes]:
    """What a reader of the dataset sees: the shards and the manifest."""
    if not directory.exists():
        return {}
    return {
        name: blob
        for name, blob in _visible(directory).items()
        if SHARD_NAME.match(name) or name == MANIFEST_NAME
    }


def _assert_old_or_new(out: Path, before: dict[str, bytes], reference: Path) -> None:
    """Right after a kill: the dataset it held before, or the complete new one."""
    now = _dataset(out)
    assert now == before or now == _dataset(reference), (
        f"a reader would see a partial or mixed dataset after a kill: {sorted(now)} (names only)"
    )


def _differing(got: dict[str, bytes], ref: dict[str, bytes], skip: set[str]) -> list[str]:
    """Names of files that differ (by name only: contents are notes, not for test logs)."""
    names = set(got) | set(ref)
    return sorted(n for n in names - skip if got.get(n) != ref.get(n))


def _assert_same_as_reference(out: Path, rig: Rig) -> None:
    got, ref = _visible(out), _visible(rig.reference)
    assert sorted(got) == sorted(ref)
    assert _differing(got, ref, VARIES) == [], "differs from the uninterrupted run"
    assert _summary_counts(out) == _summary_counts(rig.reference)
    assert verify_output(out).ok
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert hidden == [LOCK_NAME], f"leftovers after the re-run: {hidden}"
    siblings = sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))
    assert siblings == [], f"staging or old versions left beside the output: {siblings}"
    table = pq.read_table(sorted(out.glob("data/*.parquet")))
    assert len(set(table.column("note_pseudonym").to_pylist())) == table.num_rows  # no duplicate
    quarantine = rig.crash_source.parent / f"notes.jsonl{QUARANTINE_SUFFIX}"
    assert _differing(_visible(quarantine), _visible(rig.reference_quarantine), set()) == []
    assert not list(quarantine.glob(".in-progress-*"))
    fd = os.open(out / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a run still held it
    finally:
        os.close(fd)


# --- kills ------------------------------------------------------------------------------


@dataclass
class Kill:
    phase: str
    occurrence: int
    delay_s: float
    fresh_dir: bool
    killed: bool = False
    at_s: float = 0.0
    """Seconds into the run when the kill was sent (target event + delay)."""
    last_event: str = ""
    """The last thing the run had started when it died."""
    exit: int = 0
    publishing_started: bool = False


def plan_kill(rng: random.Random, trace: list[tuple[float, str]], phase: str, fresh: bool) -> Kill:
    """Aim at a random occurrence of ``phase`` and a random point before the next event."""
    times = [t for t, name in trace]
    hits = [i for i, (_, name) in enumerate(trace) if name == phase]
    assert hits, f"phase {phase!r} never happened in the reference run"
    k = rng.randrange(len(hits))
    i = hits[k]
    gap = (times[i + 1] - times[i]) if i + 1 < len(times) else 0.05
    return Kill(phase, k, rng.uniform(0.0, 0.9 * min(gap, 2.0)), fresh)


def kill_run(rig: Rig, out: Path, kill: Kill) -> Kill:
    pid, trace = rig.start(rig.crash_source, out)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        events = read_trace(trace)
        if sum(1 for _, name in events if name == kill.phase) > kill.occurrence:
            time.sleep(kill.delay_s)
            try:
                os.kill(pid, signal.SIGKILL)
                kill.killed = True
            except ProcessLookupError:
                pass
            break
        if any(name.startswith("end") for _, name in events):
            break
        time.sleep(0.002)
    kill.exit = rig.zygote.wait_exit()
    events = read_trace(trace)
    kill.killed = kill.killed and kill.exit == -signal.SIGKILL
    if events:
        kill.last_event = events[-1][1]
        targets = [t for t, name in events if name == kill.phase]
        if len(targets) > kill.occurrence:
            kill.at_s = round(targets[kill.occurrence] + kill.delay_s, 3)
    kill.publishing_started = any(
        name in ("quarantine", "publish", "manifest", "swap") for _, name in events
    )
    return kill


def crash_and_recover(rig: Rig, kills: list[Kill]) -> list[Kill]:
    out = rig.root / "crash-out-0"
    for n, kill in enumerate(kills):
        if kill.fresh_dir:
            out = rig.root / f"crash-out-{n + 1}"
        before = _visible(out) if out.exists() else {}
        before_dataset = _dataset(out)
        kill_run(rig, out, kill)
        _assert_old_or_new(out, before_dataset, rig.reference)
        if before and not kill.publishing_started:
            changed = _differing(_visible(out), before, set())
            assert changed == [], "a killed run changed the published dataset"
        assert rig.run(rig.crash_source, out) == 0, f"re-run after kill {n} failed"
        _assert_same_as_reference(out, rig)
    return kills


def _plan(rng: random.Random, rig: Rig, phases: tuple[str, ...], rounds: int) -> list[Kill]:
    kills = []
    for r in range(rounds):
        for j, phase in enumerate(phases):
            fresh = (r * len(phases) + j) % 2 == 0
            kills.append(plan_kill(rng, rig.reference_trace, phase, fresh))
    return kills


def _report(kills: list[Kill], name: str, rig: Rig) -> None:
    path = rig.root / f"{name}.json"
    path.write_text(json.dumps([asdict(k) for k in kills], indent=1))
    landed = Counter(k.last_event.split(" ")[0] for k in kills if k.killed)
    print(f"\n{name}: {sum(k.killed for k in kills)}/{len(kills)} killed; last event: {landed}")
    print(f"  reference run {rig.reference_trace[-1][0]:.1f} s; details in {path}")
    for k in kills:
        print(
            f"  {k.phase:10} #{k.occurrence:<2} +{k.delay_s:.3f} s -> at {k.at_s:6.3f} s, "
            f"in {k.last_event:10} {'fresh dir' if k.fresh_dir else 'over a dataset'}, "
            f"exit {k.exit}"
        )


def _check_reference(rig: Rig) -> None:
    seen = {name for _, name in rig.reference_trace}
    assert set(ALL_PHASES) <= seen
    summary = json.loads((rig.reference / "run_summary.json").read_text())
    assert summary["quarantined"] == 7 and summary["duplicates_removed"] == 1
    assert summary["rows_out"] == N_NOTES  # the reused ID came after the original


def test_sigkill_then_rerun_gives_identical_output(rig: Rig) -> None:
    # One test, not several: ``pytest -n 2`` would build the rig on both workers.
    _check_reference(rig)
    rng = random.Random(SEED)
    kills = crash_and_recover(rig, _plan(rng, rig, DEFAULT_PHASES, rounds=1))
    _report(kills, "crash-default", rig)
    assert sum(k.killed for k in kills) >= 2, [asdict(k) for k in kills]


@pytest.mark.slow
def test_many_sigkills_across_every_phase(rig: Rig) -> None:
    _check_reference(rig)
    rng = random.Random(SEED + 1)
    kills = crash_and_recover(rig, _plan(rng, rig, ALL_PHASES, rounds=SLOW_ROUNDS))
    _report(kills, "crash-slow", rig)
    assert sum(k.killed for k in kills) >= 20, [asdict(k) for k in kills]


@pytest.mark.slow
def test_fresh_cli_process_gives_the_same_bytes(rig: Rig) -> None:
    out = rig.root / "cli-out"
    source_dir = rig.root / "cli-src"
    source_dir.mkdir()
    source = source_dir / "notes.jsonl"
    shutil.copy(rig.crash_source, source)
    done = run_cli(["run", str(rig.config(source, out)), "--no-progress"], rig.env)
    assert done.returncode == 0, done.stderr[-3000:]
    got, ref = _visible(out), _visible(rig.reference)
    assert _differing(got, ref, VARIES) == []


# --- the run's temporary Prefect server -------------------------------------------------


def _prefect_server_child(run: psutil.Process) -> tuple[psutil.Process, int] | None:
    """The run's temporary Prefect server (uvicorn serving Prefect's API) and its port."""
    for child in run.children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if "uvicorn" in cmd and "prefect.server.api.server:create_app" in cmd:
            return child, int(cmd[cmd.index("--port") + 1])
    return None


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def test_sigkill_of_a_run_stops_its_temporary_prefect_server(tmp_path: Path) -> None:
    """Without PREFECT_API_URL a run starts a temporary Prefect server; SIGKILL the run
    once that server answers, and the server must go too (Prefect's own stayed under
    init, ~250 MB, holding prefect.db).  The waits are hang guards, not speed bounds."""
    source = tmp_path / "src" / "notes.jsonl"
    source.parent.mkdir()
    write_jsonl(source, list(iter_notes(20, seed=5)))
    env = base_env(PREFECT_HOME=str(tmp_path / "prefect-home"), DEIDFLOW_KEY=KEY)
    assert "PREFECT_API_URL" not in env
    log = tmp_path / "run.log"
    args = ["run", "--input", str(source), "--output", str(tmp_path / "out"), "--no-progress"]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(DEIDFLOW), *args], env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO
        )
    server: psutil.Process | None = None
    try:
        run = psutil.Process(proc.pid)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            found = _prefect_server_child(run)
            if found is not None and _answers(found[1]):
                server = found[0]
                break
            time.sleep(0.2)
        assert server is not None, f"no server seen; run log: {log.read_text()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL  # killed mid-run, not finished
        _, alive = psutil.wait_procs([server], timeout=60)
        assert alive == [], "the temporary Prefect server outlived its run"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if server is not None and server.is_running():
            server.kill()
