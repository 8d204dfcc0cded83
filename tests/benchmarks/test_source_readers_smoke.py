"""Smoke test of benchmarks/source_readers.py: the FHIR speed part on 50 notes, and one
memory measurement (a child process streaming a small SQLite table).  No timing asserts."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

from tests.paths import REPO


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "source_readers", REPO / "benchmarks" / "source_readers.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fhir_speed_reads_every_note() -> None:
    result = _load().fhir_speed(50, 1)
    assert result["notes"] == 50
    assert result["notes_per_cpu_second"] > 0


def test_a_child_streams_a_sql_source(tmp_path: Path) -> None:
    script = _load()
    db = tmp_path / "n.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE notes (note_id TEXT, patient_id TEXT, text TEXT, note_type TEXT,"
            " note_date TEXT, encounter_id TEXT, seq INTEGER)"
        )
        conn.executemany(
            "INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tuple(r[f] for f in (*script.FIELDS, "seq")) for r in script._notes(30)),
        )
    source = {"kind": "sql", "url": f"sqlite:///{db}", "table": "notes"}
    measured = script._measure(script._spec(source, tmp_path))
    assert measured["notes"] == 30 and measured["rss_max_while_reading_mb"] > 0
