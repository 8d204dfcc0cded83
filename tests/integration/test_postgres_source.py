"""The PostgreSQL source against a real server: batches, order, mapping, incremental runs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pipelines.cli import main
from pipelines.config import PipelineConfig, PostgresSource
from pipelines.exit_codes import ExitCode, OutputError, UsageError
from pipelines.output.manifest import MANIFEST_NAME, read_manifest, verify_output
from pipelines.output.shards import SHARD_NAME
from pipelines.quarantine import check_record
from pipelines.records import Reason
from pipelines.run import run_pipeline
from pipelines.sources.sql import SqlRecordSource
from pipelines.tasks.prepare import IncompatibleOutput
from schemas.notes import ColumnMapping, NoteRecord
from tests.paths import SAMPLE

pytestmark = pytest.mark.integration

MAPPING = ColumnMapping(
    note_id="doc_id", patient_id="person_id", text="body", note_type="kind", note_date="written_on"
)
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
N_NOTES = 12


def _insert(conn: psycopg.Connection, rows: list[tuple]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO clinical_notes (doc_id, person_id, body, kind, written_on, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )


def _sample_rows(start: int, n: int) -> list[tuple]:
    notes = [json.loads(line) for line in SAMPLE.read_text().splitlines()[start : start + n]]
    return [
        (
            n["note_id"],
            n["patient_id"],
            n["text"],
            n["note_type"],
            n["note_date"],
            T0 + dt.timedelta(minutes=start + i),
        )
        for i, n in enumerate(notes)
    ]


@pytest.fixture
def notes_table(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``clinical_notes`` (source-specific column names) with sample notes and one bad row."""
    monkeypatch.setenv("DEIDFLOW_PG_DSN", postgres_dsn)
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS clinical_notes")
        conn.execute(
            "CREATE TABLE clinical_notes (doc_id text PRIMARY KEY, person_id text, body text,"
            " kind text, written_on date, updated_at timestamptz)"
        )
        _insert(conn, _sample_rows(0, N_NOTES))
        _insert(conn, [("empty-1", "p9", "  ", None, None, T0 + dt.timedelta(minutes=N_NOTES))])
        yield postgres_dsn


def _source(**overrides: object) -> PostgresSource:
    fields = {"kind": "postgres", "table": "public.clinical_notes", "batch_size": 5}
    return PostgresSource.model_validate({**fields, **overrides})


def test_reads_in_order_with_mapping_and_watermark(notes_table: str) -> None:
    src = SqlRecordSource(_source(watermark_column="updated_at"), MAPPING)
    records = list(src.records())
    assert len(records) == N_NOTES + 1
    checked = [check_record(r, MAPPING, 100_000) for r in records]
    assert all(isinstance(c, NoteRecord) for c in checked[:N_NOTES])
    assert checked[-1].reason is Reason.EMPTY_TEXT
    sample_ids = [row[0] for row in _sample_rows(0, N_NOTES)]
    assert [c.note_id for c in checked[:N_NOTES]] == sample_ids
    assert isinstance(checked[0].note_date, dt.date)
    assert src.watermark == (T0 + dt.timedelta(minutes=N_NOTES)).isoformat()


def test_incremental_statement_pulls_only_newer_rows(notes_table: str) -> None:
    cut = (T0 + dt.timedelta(minutes=9)).isoformat()
    src = SqlRecordSource(_source(watermark_column="updated_at", incremental=True), MAPPING, cut)
    assert [r.fields["doc_id"] for r in src.records()][-1] == "empty-1"
    assert len(list(src.records())) == N_NOTES - 9
    query = SqlRecordSource(
        _source(table=None, query="SELECT * FROM clinical_notes WHERE kind = 'nursing_note'"),
        MAPPING,
    )
    kinds = {r.fields["kind"] for r in query.records()}
    assert kinds == {"nursing_note"}


def test_missing_dsn_names_the_variable_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEIDFLOW_PG_DSN", raising=False)
    with pytest.raises(UsageError, match="DEIDFLOW_PG_DSN"):
        list(SqlRecordSource(_source(), MAPPING).records())


def _pipeline(tmp_path: Path) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "source": {
                "kind": "postgres",
                "table": "clinical_notes",
                "watermark_column": "updated_at",
                "incremental": True,
                "batch_size": 4,
            },
            "columns": MAPPING.model_dump(),
            "output": {"dir": str(tmp_path / "out")},
            "quarantine_dir": str(tmp_path / "pg.deidflow-quarantine-RESTRICTED"),
            "runtime": {"workers": 1},
            "deid": {"detection": {"use_tagger": False}},
            "validation": {"max_quarantine_fraction": 0.1},  # the one empty row of 13
        }
    )


def test_full_then_incremental_runs_append_only_new_rows(
    notes_table: str,
    prefect_harness: Path,
    tmp_path: Path,
    deid_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _pipeline(tmp_path)
    out = config.output.dir
    first = run_pipeline(config)
    assert (first.rows_in, first.rows_out, first.quarantined) == (N_NOTES + 1, N_NOTES, 1)

    with psycopg.connect(notes_table, autocommit=True) as conn:
        _insert(conn, _sample_rows(N_NOTES + 1, 3))
    second = run_pipeline(config)
    assert (second.rows_in, second.rows_out) == (3, 3)
    manifest = read_manifest(out)
    assert manifest is not None
    names = [s.name for s in manifest.shards]  # the first run's shards renumbered, one appended
    assert all(SHARD_NAME.match(n) for n in names) and len(names) >= 4
    assert [r.shards for r in manifest.runs][0] == [
        n for n in names if n not in manifest.runs[1].shards
    ]
    assert manifest.rows == N_NOTES + 3
    assert [r.counts.rows_in for r in manifest.runs] == [N_NOTES + 1, 3]
    assert manifest.source.watermark == (T0 + dt.timedelta(minutes=N_NOTES + 3)).isoformat()
    assert verify_output(out).ok

    before = (out / MANIFEST_NAME).read_bytes()
    third = run_pipeline(config)
    assert third.rows_in == 0
    assert (out / MANIFEST_NAME).read_bytes() == before

    monkeypatch.setenv("DEIDFLOW_KEY", "another-key-entirely-0123456789")
    with pytest.raises(OutputError, match="another config or key"):
        run_pipeline(config)  # found by the preflight, before any row is read
    with pytest.raises(IncompatibleOutput):
        run_pipeline(config, checked=True)  # and by the run itself


JOB = """\
source: {{kind: postgres, table: {table}}}
columns: {{note_id: doc_id, patient_id: person_id, text: {text}, note_date: written_on}}
output: {{dir: out}}
quarantine_dir: quarantine
validation: {{max_quarantine_fraction: 0.1}}
deid: {{detection: {{use_tagger: false}}}}
"""


def _published(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_bad_mapping_after_a_good_run_leaves_the_dataset_byte_identical(
    notes_table: str,
    prefect_harness: Path,
    tmp_path: Path,
    deid_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue #16: ``columns.text: bodyy`` after a good run replaced the dataset with an
    empty one and quarantined every note as EMPTY_TEXT.  Now: one line, nothing changes."""
    monkeypatch.chdir(tmp_path)
    job = tmp_path / "job.yaml"

    def run(table: str = "clinical_notes", text: str = "body") -> tuple[int, str]:
        job.write_text(JOB.format(table=table, text=text))
        code = main(["run", "--no-progress", str(job)])
        return code, capsys.readouterr().err

    assert run() == (0, "")
    before = _published(tmp_path / "out")
    assert json.loads(before["manifest.json"])["rows"] == N_NOTES
    quarantine = sorted(p.name for p in (tmp_path / "quarantine").iterdir())

    code, err = run(text="bodyy")
    assert code == ExitCode.INPUT
    assert err.startswith(
        "deidflow: table clinical_notes has no column 'bodyy' (columns.text), did you mean "
        "'body'?; its columns: doc_id, person_id, body, kind, written_on, updated_at — "
    )
    code, err = run(table="clinical_notez")
    assert code == ExitCode.INPUT
    assert err.startswith(
        'deidflow: invalid table clinical_notez: relation "clinical_notez" does not exist — '
    )
    code, err = run(text="written_on")  # a column, but no text in it: all NOT_TEXT
    assert code == ExitCode.NOT_PUBLISHED
    assert f"{N_NOTES + 1} of {N_NOTES + 1} records were quarantined" in err
    assert len(err.splitlines()) == 1

    assert _published(tmp_path / "out") == before
    assert sorted(p.name for p in (tmp_path / "quarantine").iterdir()) == quarantine


def test_the_database_is_checked_before_prefect_starts(
    notes_table: str, tmp_path: Path, deid_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No Prefect harness here: these fail in the preflight, before a server is needed."""
    job = tmp_path / "job.yaml"
    job.write_text(
        "source: {kind: postgres, query: 'SELECT doc_id AS note_id, person_id AS patient_id, "
        "bodyy AS text FROM clinical_notes'}\noutput: {dir: out}\nquarantine_dir: q\n"
    )
    assert main(["run", "--no-progress", str(job)]) == ExitCode.INPUT
    err = capsys.readouterr().err
    assert err.startswith('deidflow: invalid source.query: column "bodyy" does not exist — ')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml"]
