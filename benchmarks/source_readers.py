"""Do the new sources keep pace and stay flat?  FHIR reader speed; SQL and S3 memory.

* ``fhir``: notes per CPU-second of the FHIR reader over a generated Bulk Data export
  whose notes are all base64 text/plain attachments (``deidflow sample --format fhir``),
  read *and* checked (``check_record``), on one core.  Target: >= 2,000 notes/s.
* ``memory``: peak RSS of a process that streams N notes through a source and
  ``check_record`` (nothing kept), for N = 10,000 and 200,000: SQLite file, PostgreSQL
  (when ``--pg-dsn`` names a server), JSONL and FHIR NDJSON in S3 (a ``moto_server``
  process on 127.0.0.1, so the bucket's bytes are not in the measured process).  Target:
  the 200k peak within 10 % of the 10k peak.  Notes are the sample's, repeated under new
  IDs (the readers' memory does not depend on the text's content).

CPU time is measured, not wall time; on a shared machine both still vary, so the JSON
records the load average.

    python benchmarks/source_readers.py --json benchmarks/results/source_readers.json \
        [--pg-dsn postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "notes.jsonl"
FIELDS = ("note_id", "patient_id", "text", "note_type", "note_date", "encounter_id")
SIZES = (10_000, 200_000)
SINGLE_PUT = 2 << 30


def _notes(n: int) -> Iterator[dict[str, Any]]:
    base = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    for i in range(n):
        note = base[i % len(base)]
        yield {**{f: note[f] for f in FIELDS}, "note_id": f"n{i:07d}", "seq": i}


# --- FHIR reader speed ----------------------------------------------------------------


def fhir_speed(n: int, repeats: int) -> dict[str, Any]:
    from pipelines.config import FhirSource
    from pipelines.quarantine import check_record
    from pipelines.sources.fhir import FhirRecordSource
    from sample_data.fhir import write_fhir_export
    from schemas.notes import ColumnMapping, NoteRecord

    with tempfile.TemporaryDirectory() as tmp:
        write_fhir_export(n, 0, tmp, plain_only=True)
        size = sum(p.stat().st_size for p in Path(tmp).glob("*.ndjson"))
        source = FhirSource(kind="fhir", path=Path(tmp))
        runs = []
        for _ in range(repeats):
            reader = FhirRecordSource(source, 200_000)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            notes = 0
            for raw in reader.records():
                if raw.skipped is None:
                    notes += isinstance(check_record(raw, ColumnMapping(), 200_000), NoteRecord)
            runs.append((time.process_time() - cpu0, time.perf_counter() - wall0))
    cpu = min(r[0] for r in runs)
    return {
        "notes": notes,
        "export_mb": round(size / 2**20, 1),
        "cpu_seconds_best": round(cpu, 3),
        "notes_per_cpu_second": round(notes / cpu),
        "wall_seconds_best": round(min(r[1] for r in runs), 3),
        "repeats": repeats,
        "target_notes_per_second": 2000,
    }


# --- memory: one child process per (source, N) ------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    """Stream the source in this process; report RSS after the imports, the highest RSS
    sampled while reading (every 500 records), and the process's peak."""
    from pipelines.config import PipelineConfig
    from pipelines.quarantine import check_record
    from pipelines.sources import open_source
    from schemas.notes import NoteRecord

    config = PipelineConfig.model_validate(spec)
    source = open_source(config)
    baseline = _rss_mb()
    highest = baseline
    cpu0 = time.process_time()
    notes = 0
    for i, raw in enumerate(source.records()):
        if raw.skipped is None:
            notes += isinstance(check_record(raw, config.columns, 200_000), NoteRecord)
        if i % 500 == 0:
            highest = max(highest, _rss_mb())
    highest = max(highest, _rss_mb())
    return {
        "notes": notes,
        "rss_after_imports_mb": round(baseline, 1),
        "rss_max_while_reading_mb": round(highest, 1),
        "read_growth_mb": round(highest - baseline, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_seconds": round(time.process_time() - cpu0, 2),
    }


def _measure(spec: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _docref(note: dict[str, Any]) -> dict[str, Any]:
    """A DocumentReference holding ``note`` as a base64 text/plain attachment."""
    data = base64.b64encode(note["text"].encode()).decode()
    return {
        "resourceType": "DocumentReference",
        "id": note["note_id"],
        "subject": {"reference": f"Patient/{note['patient_id']}"},
        "date": note["note_date"],
        "type": {"coding": [{"code": note["note_type"]}]},
        "content": [{"attachment": {"contentType": "text/plain", "data": data}}],
    }


def _spec(source: dict[str, Any], tmp: Path) -> dict[str, Any]:
    return {
        "source": source,
        "output": {"dir": str(tmp / "out")},
        "quarantine_dir": str(tmp / "q"),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory(pg_dsn: str | None, parts: set[str], save: Any) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        # SQLite
        rows: dict[str, Any] = {}
        for n in SIZES if "sqlite" in parts else ():
            db = tmp / f"notes{n}.db"
            with sqlite3.connect(db) as conn:
                conn.execute(
                    "CREATE TABLE notes (note_id TEXT, patient_id TEXT, text TEXT, note_type TEXT,"
                    " note_date TEXT, encounter_id TEXT, seq INTEGER)"
                )
                conn.executemany(
                    "INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (tuple(r[f] for f in (*FIELDS, "seq")) for r in _notes(n)),
                )
            source = {
                "kind": "sql",
                "url": f"sqlite:///{db}",
                "table": "notes",
                "watermark_column": "seq",
            }
            rows[str(n)] = _measure(_spec(source, tmp))
        if rows:
            results["sql_sqlite"] = rows
            save(results)
        # PostgreSQL
        if pg_dsn and "postgresql" in parts:
            import psycopg

            rows = {}
            for n in SIZES:
                with psycopg.connect(pg_dsn, autocommit=True) as conn:
                    conn.execute("DROP TABLE IF EXISTS bench_notes")
                    conn.execute(
                        "CREATE TABLE bench_notes (note_id text, patient_id text, text text,"
                        " note_type text, note_date date, encounter_id text, seq int)"
                    )
                    with conn.cursor().copy("COPY bench_notes FROM STDIN") as copy:
                        for r in _notes(n):
                            copy.write_row(tuple(r[f] for f in (*FIELDS, "seq")))
                source = {
                    "kind": "sql",
                    "url_env": "BENCH_PG_URL",
                    "table": "bench_notes",
                    "watermark_column": "seq",
                }
                rows[str(n)] = _measure(_spec(source, tmp), {"BENCH_PG_URL": pg_dsn})
            results["sql_postgresql"] = rows
            save(results)
        # S3 (moto_server in its own process)
        if "s3" in parts:
            results.update(_s3(tmp))
    for rows in results.values():
        small = rows[str(SIZES[0])]["rss_max_while_reading_mb"]
        large = rows[str(SIZES[-1])]["rss_max_while_reading_mb"]
        rows["growth"] = round(large / small - 1, 3)
        rows["within_10_percent"] = large <= 1.10 * small
    return results


def _s3(tmp: Path) -> dict[str, Any]:
    import s3fs

    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    creds = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(creds)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        fs = s3fs.S3FileSystem(endpoint_url=endpoint)
        fs.mkdir("bench")
        out: dict[str, Any] = {"s3_jsonl": {}, "s3_fhir": {}}
        for n in SIZES:
            # One PUT (a block larger than the object): moto's multipart completion failed
            # (HTTP 500) on a 300 MB upload.
            with fs.open(f"bench/notes{n}.jsonl", "wb", block_size=SINGLE_PUT) as fh:
                for r in _notes(n):
                    fh.write((json.dumps(r) + "\n").encode())
            source = {
                "kind": "files",
                "url": f"s3://bench/notes{n}.jsonl",
                "storage_options": {"endpoint_url": endpoint},
            }
            out["s3_jsonl"][str(n)] = _measure(_spec(source, tmp))
            with fs.open(
                f"bench/fhir{n}/DocumentReference.ndjson", "wb", block_size=SINGLE_PUT
            ) as fh:
                for r in _notes(n):
                    fh.write((json.dumps(_docref(r)) + "\n").encode())
            source = {
                "kind": "fhir",
                "url": f"s3://bench/fhir{n}/",
                "storage_options": {"endpoint_url": endpoint},
            }
            out["s3_fhir"][str(n)] = _measure(_spec(source, tmp))
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--fhir-notes", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-dsn", help="PostgreSQL DSN for the SQL memory check")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--parts", default="sqlite,postgresql,s3", help="memory checks to run (comma-separated)"
    )
    parser.add_argument(
        "--sizes", default="10000,200000", help="note counts compared (first vs last)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global SIZES
    SIZES = tuple(int(x) for x in args.sizes.split(","))
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return
    result: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "note": "shared machine: other jobs ran at the same time; CPU seconds, not wall",
        },
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "fhir_reader": fhir_speed(args.fhir_notes, args.repeats),
    }
    print(json.dumps(result["fhir_reader"]), file=sys.stderr)

    def save(partial: dict[str, Any]) -> None:
        if args.json:
            args.json.write_text(json.dumps({**result, "memory": partial}, indent=2) + "\n")

    if not args.skip_memory:
        result["memory"] = memory(args.pg_dsn, set(args.parts.split(",")), save)
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2) + "\n"
    if args.json:
        args.json.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
