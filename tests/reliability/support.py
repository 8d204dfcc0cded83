"""Shared machinery of the reliability tests: a Prefect server the test owns, pipeline
subprocesses, inputs built from the PhysioNet dev split, and a scanner for PHI strings.

The scanner never prints a PHI string: hits are reported as (place, category, length).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick
import pytest
from wordfreq import zipf_frequency

from deid.evaluation.corpora import Note, read_physionet
from tests.paths import DEV_CORPUS, REPO
from tests.prefect_harness import STARTUP_TIMEOUT_S

BIN = Path(sys.executable).parent
DEIDFLOW = BIN / "deidflow"
ORDINARY_ZIPF = 3.5
"""A gold string whose every word is at least this frequent in English is not searched."""
MIN_NEEDLE_CHARS = 4

needs_dev_corpus = pytest.mark.skipif(not DEV_CORPUS.is_dir(), reason="dev corpus not available")


# --- processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    """The test process's environment without Prefect/key settings, plus offline hygiene."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_") and k not in ("DEIDFLOW_KEY", "PYTEST_CURRENT_TEST")
    }
    env.update(
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="",
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(REPO),
        PREFECT_LOGGING_COLORS="false",
    )
    env.update(extra)
    return env


class PrefectServer:
    """``prefect server start`` on a free port with a SQLite file this test owns."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "server-home"
        self.db = root / "prefect.db"
        self.port = free_port()
        self.log = root / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> PrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        env = base_env(
            PREFECT_HOME=str(self.home),
            PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{self.db}",
        )
        cmd = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1"]
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(
                [*cmd, "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stop() ends it and its children
            )
        return self

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None and self._proc.poll() is None, "server exited"
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("Prefect server did not start")

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)

    def client_env(self, home: Path, **extra: str) -> dict[str, str]:
        """Environment for a pipeline process that reports to this server."""
        home.mkdir(parents=True, exist_ok=True)
        return base_env(PREFECT_API_URL=self.api_url, PREFECT_HOME=str(home), **extra)


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def run_cli(args: list[str], env: dict[str, str], timeout: float = 600) -> Completed:
    """``deidflow ARGS`` (or ``python -m ...`` when ``args[0]`` is ``-m``) to completion."""
    cmd = [sys.executable, *args] if args[0] == "-m" else [str(DEIDFLOW), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout, cwd=REPO)
    return Completed(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def shared_once(
    factory: pytest.TempPathFactory, name: str, produce: Callable[[Path], dict[str, Any]]
) -> tuple[Path, dict[str, Any]]:
    """Run ``produce(directory)`` once per test session, even across xdist workers.

    CI runs ``pytest -n 2``, which may split a module's tests over both workers, each
    building the module's fixtures: an expensive one (minutes of pipeline runs) is made
    by the first worker, under a lock, and read back by the other from ``state.json``.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        root = factory.mktemp(name)
        return root, produce(root)
    root = factory.getbasetemp().parent / name  # the session's directory, shared by workers
    with open(f"{root}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = root / "state.json"
        if not state.exists():
            shutil.rmtree(root, ignore_errors=True)  # a worker that failed half-way
            root.mkdir()
            state.write_text(json.dumps(produce(root)))
        return root, json.loads(state.read_text())


# --- inputs ---------------------------------------------------------------------------


def dev_notes() -> list[Note]:
    return list(read_physionet(DEV_CORPUS))


def note_record(note: Note) -> dict[str, str]:
    """A dev-split note as a pipeline input record (``note_id`` = patient-note)."""
    return {
        "note_id": f"{note.patient_id}-{note.note_id}",
        "patient_id": note.patient_id,
        "text": note.text,
    }


def write_jsonl(path: Path, records: Iterable[dict | bytes]) -> Path:
    """One JSON object per line; ``bytes`` items are written as raw lines."""
    with path.open("wb") as fh:
        for rec in records:
            fh.write(rec if isinstance(rec, bytes) else json.dumps(rec).encode() + b"\n")
    return path


# --- PHI needles ----------------------------------------------------------------------


def is_ordinary(value: str) -> bool:
    """Every word is a frequent English word (digits never are)."""
    words = re.findall(r"\w+", value)
    return bool(words) and all(
        not any(c.isdigit() for c in w) and zipf_frequency(w.lower(), "en") >= ORDINARY_ZIPF
        for w in words
    )


def gold_strings(notes: Iterable[Note]) -> dict[str, str]:
    """Gold PHI strings worth searching for, mapped to their gold category."""
    out: dict[str, str] = {}
    for note in notes:
        for span in note.gold:
            value = note.text[span.start : span.end]
            if len(value.strip()) >= MIN_NEEDLE_CHARS and not is_ordinary(value):
                out.setdefault(value.strip(), span.entity_type)
    return out


@dataclass(frozen=True)
class Hit:
    """Where a PHI string was found: never the string itself."""

    place: str
    category: str
    length: int


_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


class Needles:
    """Finds any of many strings in text, only where they stand as whole tokens.

    A needle counts when the characters around it are not letters or digits, so a
    gold ``1992`` is not found inside a hex digest or a longer number; nor inside a
    UUID, whose groups stand between hyphens (one of Prefect's random IDs had the group
    ``-2093-``, a gold year: a coincidence of about 1 in 65,536 per ID, not a leak).
    """

    def __init__(self, strings: dict[str, str]) -> None:
        self.strings = strings
        self._auto = ahocorasick.Automaton()
        for value in strings:
            for form in {value, json.dumps(value)[1:-1]}:  # raw and JSON-escaped
                self._auto.add_word(form, (form, value))
        self._auto.make_automaton()

    def __len__(self) -> int:
        return len(self.strings)

    def find(self, text: str) -> set[str]:
        """The needles (original strings) present in ``text``."""
        found = set()
        for end, (form, value) in self._auto.iter(text):
            start = end - len(form) + 1
            before = text[start - 1] if start > 0 else " "
            after = text[end + 1] if end + 1 < len(text) else " "
            if not before.isalnum() and not after.isalnum() and not _in_uuid(text, start, end):
                found.add(value)
        return found

    def hits(self, place: str, text: str) -> list[Hit]:
        return [Hit(place, self.strings[v], len(v)) for v in sorted(self.find(text))]


def _in_uuid(text: str, start: int, end: int) -> bool:
    """Whether ``text[start : end + 1]`` lies inside a UUID (36 characters)."""
    window = max(0, start - 36)
    # finditer's positions are the string's, not the window's.
    return any(m.start() <= start and end < m.end() for m in _UUID.finditer(text, window, end + 37))


def as_text(blob: bytes) -> str:
    """Bytes as text for scanning: UTF-8 where valid, every other byte kept (latin-1)."""
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError:
        return blob.decode("latin-1")


def sqlite_text(db: Path) -> Iterator[tuple[str, str]]:
    """``(table.column, value)`` for every text or blob value in a SQLite database."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            cur = con.execute(f'select * from "{table}"')
            names = [d[0] for d in cur.description]
            for row in cur:
                for name, value in zip(names, row, strict=True):
                    if isinstance(value, bytes):
                        yield f"{table}.{name}", as_text(value)
                    elif isinstance(value, str):
                        yield f"{table}.{name}", value
    finally:
        con.close()


def files_under(root: Path, exclude: Iterable[Path] = ()) -> Iterator[Path]:
    skip = [p.resolve() for p in exclude]
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(path.resolve().is_relative_to(s) for s in skip):
            yield path
