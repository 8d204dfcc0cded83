"""The key: never written anywhere, and no key means no data read.

A recognisable 64-hex-digit key runs the pipeline (with a record that gets quarantined),
then the key is searched for, as text, as
the bytes it spells in hex, upper-case, and in base64 of either, in every output file
(shards included), the quarantine, the logs and console output, the Prefect database
and Prefect's home.  Without a key, the run must stop before the source is opened:
in-process the source reader is spied on; from the command line the source is a FIFO,
which would block forever if anything opened it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
from pathlib import Path

import pytest

from deid.anonymization.keys import MissingKeyError
from pipelines.config import PipelineConfig
from pipelines.run import run_pipeline
from tests.conftest import PREFECT_TEST_HOME
from tests.paths import SAMPLE
from tests.reliability.support import base_env, files_under, run_cli, sqlite_text

KEY = "5eed" * 16  # 64 hex digits, recognisable in any dump


def key_forms() -> list[bytes]:
    raw = bytes.fromhex(KEY)
    text = KEY.encode()
    forms = [text, text.upper(), raw, raw.hex().encode(), text.hex().encode()]
    forms += [base64.b64encode(b) for b in (text, raw)]
    forms += [base64.urlsafe_b64encode(b) for b in (text, raw)]
    return forms


def _config(source: Path, out: Path) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(source), "batch_size": 4},
            "output": {"dir": str(out)},
            "deid": {"detection": {"use_tagger": False}},
            "validation": {"max_quarantine_fraction": 0.2},  # 1 empty note of 9 on purpose
        }
    )


def _source(directory: Path, n: int = 8) -> Path:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)[:n]
    lines.append(b'{"note_id": "q", "patient_id": "p", "text": ""}\n')  # quarantined
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "notes.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def test_the_key_is_never_written(
    prefect_harness: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture,
) -> None:
    monkeypatch.setenv("DEIDFLOW_KEY", KEY)
    source = _source(tmp_path / "src")
    out = tmp_path / "out"
    with caplog.at_level(logging.DEBUG):
        summary = run_pipeline(_config(source, out))
    assert summary.rows_out == 8 and summary.quarantined == 1
    captured = capfd.readouterr()
    places: list[tuple[str, bytes]] = [
        ("log records", caplog.text.encode()),
        ("stdout", captured.out.encode()),
        ("stderr", captured.err.encode()),
    ]
    places += [(f"file {p.name}", p.read_bytes()) for p in files_under(tmp_path)]
    places += [(f"prefect {p.name}", p.read_bytes()) for p in files_under(PREFECT_TEST_HOME)]
    places += [(f"db {p.name}", p.read_bytes()) for p in files_under(prefect_harness.parent)]
    places += [(f"db {col}", val.encode()) for col, val in sqlite_text(prefect_harness)]
    assert any(b"deidentify-batch-0" in blob for _, blob in places)  # the DB was scanned
    assert any(p.suffix == ".parquet" for p in out.iterdir())
    found = sorted({where for where, blob in places for form in key_forms() if form in blob})
    assert found == [], f"the key appears in: {found}"
    fingerprint = json.loads((out / "manifest.json").read_text())["key_fingerprint"]
    assert fingerprint == summary.key_fingerprint and len(fingerprint) == 16


def test_without_a_key_the_source_is_never_opened(
    prefect_harness: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.sources.files import FileRecordSource

    monkeypatch.delenv("DEIDFLOW_KEY", raising=False)
    opened: list[str] = []
    monkeypatch.setattr(FileRecordSource, "__init__", lambda *a, **k: opened.append("init"))
    monkeypatch.setattr(FileRecordSource, "records", lambda *a, **k: opened.append("read"))
    flow_runs_before = _flow_runs(prefect_harness)
    with pytest.raises(MissingKeyError, match="DEIDFLOW_KEY"):
        run_pipeline(_config(_source(tmp_path / "src"), tmp_path / "out"))
    assert opened == []
    assert _flow_runs(prefect_harness) == flow_runs_before  # stopped before Prefect started
    assert not (tmp_path / "out").exists()


def _flow_runs(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute("select count(*) from flow_run").fetchone()[0])
    finally:
        con.close()


def test_cli_without_a_key_exits_before_reading_a_fifo_source(tmp_path: Path) -> None:
    fifo = tmp_path / "notes.jsonl"
    os.mkfifo(fifo)  # opening it for reading blocks until a writer comes: none will
    done = run_cli(
        ["run", "--input", str(fifo), "--output", str(tmp_path / "out"), "--no-progress"],
        env=base_env(PREFECT_HOME=str(tmp_path / "prefect-home")),
        timeout=120,
    )
    assert done.returncode == 2
    assert "no de-identification key" in done.stderr and "DEIDFLOW_KEY" in done.stderr
    assert not (tmp_path / "out").exists()
