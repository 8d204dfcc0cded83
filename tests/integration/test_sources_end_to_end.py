"""Every new source end to end through ``deidflow run``, against real servers on 127.0.0.1.

FHIR export (local folder and S3), SQL (a SQLite file, and the PostgreSQL server of the
session through ``kind: sql``), JSONL and Parquet objects in S3 (moto in server mode).
For each, the pipeline's guarantees: counts add up, a re-run is byte-identical, a
broken source publishes nothing and leaves the dataset as it was, and no note text
reaches the terminal.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from pipelines.exit_codes import ExitCode
from pipelines.output.manifest import read_manifest, verify_output
from sample_data.fhir import write_fhir_export
from tests.paths import SAMPLE

pytestmark = pytest.mark.integration

N = 12
NOTES = [json.loads(line) for line in SAMPLE.read_text().splitlines()[: N + 4]]
FIELDS = ("note_id", "patient_id", "text", "note_type", "note_date", "encounter_id")


def _job(folder: Path, source: dict[str, Any], **extra: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    job = {
        "source": source,
        "output": {"dir": "out"},
        "quarantine_dir": "quarantine",
        "validation": {"max_quarantine_fraction": 0.2},
        "deid": {"detection": {"use_tagger": False}},
        **extra,
    }
    path = folder / "job.yaml"
    path.write_text(json.dumps(job))  # JSON is YAML
    return path


def _run(job: Path, out: Path, capsys: pytest.CaptureFixture[str], code: int = 0) -> str:
    got = main(["run", "--no-progress", str(job), "--output", str(out)])
    captured = capsys.readouterr()
    terminal = captured.out + captured.err
    for note in NOTES:  # no note's text (its first line is distinctive) on the terminal
        first = note["text"].strip().splitlines()[0]
        assert first not in terminal
    assert got == code, terminal
    return terminal


def _published(out: Path) -> dict[str, bytes]:
    names = sorted(
        p for p in out.iterdir() if p.name.startswith("part-") or p.name == "manifest.json"
    )
    return {p.name: p.read_bytes() for p in names}


def _check_run(job: Path, capsys: pytest.CaptureFixture[str], rows_out: int) -> dict[str, Any]:
    """Run twice into two outputs: byte-identical shards and manifest; counts add up."""
    out = job.parent / "out"
    _run(job, out, capsys)
    _run(job, job.parent / "again", capsys)
    assert _published(out) == _published(job.parent / "again")
    manifest = read_manifest(out)
    assert manifest is not None and verify_output(out).ok
    counts = manifest.runs[-1].counts
    assert (
        counts.rows_in
        == counts.rows_out + counts.quarantined + counts.duplicates_removed + counts.skipped
    )
    assert counts.rows_out == rows_out
    return manifest.model_dump(mode="json")


def _refused(job: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken source after a good run: nothing published, the dataset unchanged."""
    out = job.parent / "out"
    before = _published(out)
    err = _run(job, out, capsys, ExitCode.NOT_PUBLISHED)
    assert "quarantined" in err
    assert _published(out) == before


# --- FHIR, local ----------------------------------------------------------------------


def test_fhir_export_end_to_end(
    prefect_harness: Path, tmp_path: Path, deid_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = write_fhir_export(N, 0, tmp_path / "export", unusable=True)
    assert summary.unusable == 1
    job = _job(tmp_path / "job", {"kind": "fhir", "path": str(tmp_path / "export")})
    manifest = _check_run(job, capsys, rows_out=N - 1)
    counts = manifest["runs"][-1]["counts"]
    assert counts["quarantined_by_reason"] == {"UNSUPPORTED_CONTENT": 1}
    assert counts["skipped_by_reason"]["NOT_A_NOTE"] >= 1  # Patient, Binary resources
    assert manifest["source"] == {"kind": "fhir", "name": "export", "watermark": None}
    lines = (tmp_path / "job" / "quarantine").glob("quarantine-*.jsonl")
    assert [json.loads(x)["reason"] for f in lines for x in f.read_text().splitlines()] == [
        "UNSUPPORTED_CONTENT"
    ]

    # The CLI shortcut reads the same export.
    out = tmp_path / "cli-out"
    code = main(
        [
            "run",
            "--no-progress",
            "--input",
            str(tmp_path / "export"),
            "--format",
            "fhir",
            "--output",
            str(out),
            "--max-quarantine-fraction",
            "0.2",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (read_manifest(out) or pytest.fail("no manifest")).rows == N - 1

    # Every note a PDF now: nothing published, the dataset unchanged.
    for path in (tmp_path / "export").glob("*.ndjson"):
        path.write_text(
            path.read_text()
            .replace('"text/plain', '"application/pdf')
            .replace('"text/html', '"application/pdf')
            .replace('"text/rtf', '"application/pdf')
        )
    _refused(job, capsys)


# --- SQL: SQLite file, PostgreSQL server --------------------------------------------------


def _sqlite(path: Path, rows: list[dict[str, Any]], start: int = 0) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS notes (doc_id TEXT PRIMARY KEY, person_id TEXT, body TEXT,"
            " note_type TEXT, note_date TEXT, encounter_id TEXT, seq INTEGER)"
        )
        db.executemany(
            "INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?)",
            [tuple(r[f] for f in FIELDS) + (start + i,) for i, r in enumerate(rows)],
        )


SQL_COLUMNS = {"note_id": "doc_id", "patient_id": "person_id", "text": "body"}


def test_sqlite_source_full_incremental_and_refused(
    prefect_harness: Path, tmp_path: Path, deid_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "notes.db"
    _sqlite(db, NOTES[:N])
    source = {"kind": "sql", "url": f"sqlite:///{db}", "table": "notes", "batch_size": 5}
    job = _job(tmp_path / "job", source, columns=SQL_COLUMNS)
    manifest = _check_run(job, capsys, rows_out=N)
    assert manifest["source"]["kind"] == "sql" and manifest["source"]["dialect"] == "sqlite"

    # Incremental by a watermark: the second run appends only the new rows.
    inc = _job(
        tmp_path / "inc",
        {**source, "watermark_column": "seq", "incremental": True},
        columns=SQL_COLUMNS,
    )
    _run(inc, tmp_path / "inc" / "out", capsys)
    _sqlite(db, NOTES[N : N + 3], start=N)
    _run(inc, tmp_path / "inc" / "out", capsys)
    inc_manifest = read_manifest(tmp_path / "inc" / "out")
    assert inc_manifest is not None
    assert [r.counts.rows_in for r in inc_manifest.runs] == [N, 3]
    assert inc_manifest.source.watermark == N + 2

    # The text column mapped to a date column: every note NOT_TEXT, nothing published.
    job.write_text(job.read_text().replace('"text": "body"', '"text": "seq"'))
    _refused(job, capsys)


def test_sql_source_on_postgresql_with_the_url_in_the_environment(
    postgres_dsn: str,
    prefect_harness: Path,
    tmp_path: Path,
    deid_key: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS e2e_notes")
        conn.execute(
            "CREATE TABLE e2e_notes (doc_id text, person_id text, body text, note_type text,"
            " note_date date, encounter_id text, seq int)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO e2e_notes VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [tuple(r[f] for f in FIELDS) + (i,) for i, r in enumerate(NOTES[:N])],
            )
    monkeypatch.setenv("NOTES_DB_URL", postgres_dsn)  # postgresql:// -> the psycopg driver
    source = {"kind": "sql", "url_env": "NOTES_DB_URL", "query": "SELECT * FROM e2e_notes"}
    job = _job(tmp_path / "job", source, columns=SQL_COLUMNS)
    manifest = _check_run(job, capsys, rows_out=N)
    assert manifest["source"]["dialect"] == "postgresql"

    monkeypatch.delenv("NOTES_DB_URL")
    err = _run(job, tmp_path / "job" / "out", capsys, ExitCode.USAGE)
    assert err.startswith(
        "deidflow: the environment variable NOTES_DB_URL (the database URL) is not set"
    )


# --- object storage (moto S3 server) ------------------------------------------------------


@pytest.fixture
def bucket(s3_endpoint: str) -> Iterator[str]:
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)
    name = f"notes-{abs(hash(s3_endpoint)) % 10_000}"
    if not fs.exists(name):
        fs.mkdir(name)
    yield name


def _put(s3_endpoint: str, key: str, data: bytes) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)
    with fs.open(key, "wb") as fh:
        fh.write(data)
    fs.invalidate_cache()


def _s3_source(kind: str, url: str, endpoint: str) -> dict[str, Any]:
    return {"kind": kind, "path": url, "storage_options": {"endpoint_url": endpoint}}


def test_jsonl_and_parquet_objects_in_s3(
    s3_endpoint: str,
    bucket: str,
    prefect_harness: Path,
    tmp_path: Path,
    deid_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [{f: n[f] for f in FIELDS} for n in NOTES[:N]]
    _put(
        s3_endpoint,
        f"{bucket}/in/notes.jsonl",
        "".join(json.dumps(r) + "\n" for r in rows).encode(),
    )
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    _put(s3_endpoint, f"{bucket}/in/notes.parquet", sink.getvalue().to_pybytes())

    for name in ("notes.jsonl", "notes.parquet"):
        url = f"s3://{bucket}/in/{name}"
        job = _job(tmp_path / name, _s3_source("files", url, s3_endpoint))
        manifest = _check_run(job, capsys, rows_out=N)
        assert manifest["source"]["name"] == name

    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)
    assert sorted(fs.find(bucket)) == [f"{bucket}/in/notes.jsonl", f"{bucket}/in/notes.parquet"]

    # Every record without its text now: nothing published, the dataset unchanged, and
    # nothing written to the bucket.
    _put(
        s3_endpoint,
        f"{bucket}/in/notes.jsonl",
        "".join(json.dumps({**r, "text": " "}) + "\n" for r in rows).encode(),
    )
    _refused(tmp_path / "notes.jsonl" / "job.yaml", capsys)
    assert sorted(fs.find(bucket)) == [f"{bucket}/in/notes.jsonl", f"{bucket}/in/notes.parquet"]


def test_fhir_export_in_s3(
    s3_endpoint: str,
    bucket: str,
    prefect_harness: Path,
    tmp_path: Path,
    deid_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import s3fs

    write_fhir_export(N, 1, tmp_path / "export", unusable=True)
    for path in sorted((tmp_path / "export").iterdir()):
        _put(s3_endpoint, f"{bucket}/fhir/{path.name}", path.read_bytes())
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)
    objects = sorted(fs.find(f"{bucket}/fhir"))
    job = _job(tmp_path / "job", _s3_source("fhir", f"s3://{bucket}/fhir/", s3_endpoint))
    manifest = _check_run(job, capsys, rows_out=N - 1)
    assert manifest["source"] == {"kind": "fhir", "name": "fhir", "watermark": None}
    # The unusable note's resource (raw PHI) is in the local quarantine, not the bucket.
    [quarantine] = (tmp_path / "job" / "quarantine").glob("quarantine-*.jsonl")
    assert json.loads(quarantine.read_text())["reason"] == "UNSUPPORTED_CONTENT"
    assert sorted(fs.find(f"{bucket}/fhir")) == objects


def test_a_remote_source_needs_a_local_quarantine(
    tmp_path: Path, deid_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            "--no-progress",
            "--input",
            "s3://bucket/notes.jsonl",
            "--output",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert "--quarantine-dir" in err and len(err.splitlines()) == 1
    job = tmp_path / "job.yaml"
    job.write_text("source: {kind: files, path: 's3://bucket/notes.jsonl'}\noutput: {dir: out}\n")
    assert main(["run", "--no-progress", str(job)]) == ExitCode.USAGE
    assert "local 'quarantine_dir'" in capsys.readouterr().err


def test_sql_url_from_a_prefect_secret_block(prefect_harness: Path, tmp_path: Path) -> None:
    from prefect.blocks.system import Secret

    from pipelines.config import SqlSource
    from pipelines.exit_codes import UsageError
    from pipelines.sources.sql import SqlRecordSource, source_url

    db = tmp_path / "notes.db"
    _sqlite(db, NOTES[:3])
    Secret(value=f"sqlite:///{db}").save("deidflow-test-notes-url", overwrite=True)
    source = SqlSource(kind="sql", url_secret="deidflow-test-notes-url", table="notes")
    assert source_url(source).database == str(db)
    columns = {"note_id": "doc_id", "patient_id": "person_id", "text": "body"}
    from schemas.notes import ColumnMapping

    records = list(SqlRecordSource(source, ColumnMapping(**columns)).records())
    assert [r.fields["doc_id"] for r in records] == [n["note_id"] for n in NOTES[:3]]
    with pytest.raises(UsageError, match="Secret block 'no-such-block'"):
        source_url(SqlSource(kind="sql", url_secret="no-such-block", table="notes"))
