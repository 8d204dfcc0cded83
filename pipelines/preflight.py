"""Checks a run makes before any Prefect server starts and before any note is read.

A wrong path, an unknown format, a column mapping that matches nothing, an unset DSN
variable or an output that cannot be replaced should cost a second and one line, not a
server start, a full read and a published empty dataset.  ``preflight`` looks at the
input itself, without the readers: a CSV header, a Parquet schema, the first JSONL
records, a ``.txt`` folder's first file, or a SQL ``cursor.description`` (``LIMIT 0``).
Each problem raises a ``pipelines.exit_codes.Failure`` whose message says what is wrong
and what to do; nothing is created or left behind.

``count_records`` gives the progress bar its total where that is cheap to know.
"""

from __future__ import annotations

import csv
import difflib
import fcntl
import io
import json
import os
import stat
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from deid.anonymization.keys import load_key
from pipelines.config import FORMAT_BY_SUFFIX, FilesSource, PipelineConfig, PostgresSource
from pipelines.exit_codes import InputError, OutputError, UsageError
from pipelines.output.shards import LOCK_NAME
from schemas.notes import OPTIONAL_FIELDS, REQUIRED_FIELDS, ColumnMapping

PEEK_RECORDS = 20
"""JSONL: the mapped fields must appear among the keys of the first this many records."""
PEEK_BYTES = 4 << 20
"""At most this much of a file is read by the checks (a giant first record is not parsed)."""
FORMATS_TODO = "pass --format jsonl, csv, parquet or txt (or set source.format)"


def preflight(config: PipelineConfig, *, cwd: Path | None = None) -> None:
    """Raise a ``Failure`` for the first thing that would make this run fail or mislead.

    In order: the key; the output (a directory or creatable, not the current directory,
    not inside the source, not a mount point, not locked by another run); the input
    (exists, readable, known format, mapped columns present, not empty unless
    ``validation.allow_empty`` or incremental; for PostgreSQL: the DSN variable, the
    server, the table or query); the Prefect API, if ``PREFECT_API_URL`` names one.
    """
    key = load_key(config.deid.anonymization)
    check_output(config, cwd=cwd)
    if isinstance(config.source, FilesSource):
        _check_files(config)
    else:
        _check_postgres(config)
    _check_incremental_output(config, key.fingerprint())
    check_prefect_api(required=False)


# --- output ---------------------------------------------------------------------------


def check_output(config: PipelineConfig, *, cwd: Path | None = None) -> None:
    """The output can be created and swapped, and replacing it harms nothing else."""
    out = Path(os.path.abspath(config.output.dir))
    real = out.resolve()
    here = (cwd or Path.cwd()).resolve()
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"output {out} is a file, not a directory",
            "choose a directory for --output (output.dir); it is created if missing",
        )
    if real == here or real in here.parents:
        which = "is the current directory" if real == here else "holds the current directory"
        raise OutputError(
            f"output {out} {which}",
            "publishing replaces the whole output directory: give a dedicated one, "
            "e.g. --output out/notes",
        )
    if isinstance(config.source, FilesSource):
        source = config.source.path.resolve()
        if real == source or source in real.parents:
            raise OutputError(
                f"output {out} is inside the source {config.source.path}",
                "write the output outside the source",
            )
        if real in source.parents:
            raise OutputError(
                f"the source {config.source.path} is inside the output {out}",
                "publishing replaces the output directory: move the source out of it, or "
                "choose another output",
            )
    quarantine = config.quarantine_path().resolve()
    if quarantine == real or real in quarantine.parents:
        raise OutputError(
            f"the quarantine {config.quarantine_path()} (raw PHI) would be inside the output {out}",
            "set quarantine_dir outside the output directory",
        )
    if out.exists() and os.path.ismount(real):
        raise OutputError(
            f"output {out} is a mount point, and deidflow publishes by swapping the output "
            "directory with a sibling",
            "use a directory inside it as the output",
        )
    _check_creatable(out, real)
    _check_not_locked(out, real)


def _check_creatable(out: Path, real: Path) -> None:
    """The next version is built beside the output: its parent must take a new directory."""
    anchor = real.parent if real.exists() else _nearest_existing(real)
    if not anchor.is_dir():
        raise OutputError(
            f"cannot create output {out}: {anchor} is a file", "choose another --output"
        )
    try:
        probe = tempfile.mkdtemp(prefix=".deidflow-probe-", dir=anchor)
    except OSError as err:
        raise OutputError(
            f"cannot create output {out}: making a directory in {anchor} failed "
            f"({err.strerror or type(err).__name__})",
            "choose a writable location (the next version is built beside the output)",
        ) from None
    os.rmdir(probe)


def _nearest_existing(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(path.anchor)


def _check_not_locked(out: Path, real: Path) -> None:
    lock = real / LOCK_NAME
    if not lock.is_file():
        return
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return  # the run itself will say what is wrong with it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except BlockingIOError:
        raise OutputError(
            f"another deidflow run is writing to {out}",
            "wait for it to finish, or choose another --output",
        ) from None
    finally:
        os.close(fd)


def _check_incremental_output(config: PipelineConfig, key_fingerprint: str) -> None:
    if not getattr(config.source, "incremental", False):
        return
    from pipelines.output.manifest import read_manifest

    try:
        manifest = read_manifest(config.output.dir) if config.output.dir.is_dir() else None
    except ValueError:  # another manifest version: the layout before data/
        raise OutputError(
            f"{config.output.dir} holds a dataset of an older deidflow output layout, and an "
            "incremental run appends to it",
            "run once without incremental (a full run) to rebuild it in the current layout",
        ) from None
    if manifest is None:
        return
    if (manifest.config_hash, manifest.key_fingerprint) != (
        config.config_hash(),
        key_fingerprint,
    ):
        raise OutputError(
            f"{config.output.dir} holds a dataset made with another config or key, and an "
            "incremental run appends to it",
            "use a new output directory, or a full (non-incremental) run",
        )


# --- files ----------------------------------------------------------------------------


def file_format(source: FilesSource) -> str:
    """The source's format (declared, or from the suffix; a folder is ``txt``)."""
    if source.format is not None:
        return source.format
    if source.path.is_dir():
        return "txt"
    suffix = source.path.suffix.lower()
    if suffix in FORMAT_BY_SUFFIX:
        return FORMAT_BY_SUFFIX[suffix]
    hint = "; TSV is not read: save it as CSV" if suffix == ".tsv" else ""
    raise InputError(
        f"cannot tell the format of {source.path.name} from its suffix {suffix or '(none)'!r}",
        FORMATS_TODO + hint,
    )


def _check_files(config: PipelineConfig) -> None:
    source = config.source
    assert isinstance(source, FilesSource)
    path = source.path
    if not path.exists():
        raise InputError(f"input {path} does not exist", "check the path")
    fmt = file_format(source)
    if fmt == "txt":
        has_records = _peek_txt(path)
    else:
        if path.is_dir():
            raise InputError(
                f"input {path} is a directory, not a {fmt} file",
                "give the file, or --format txt for a folder of .txt notes",
            )
        if not stat.S_ISREG(path.stat().st_mode):
            raise InputError(
                f"input {path} is not a regular file (a pipe or a device?)",
                "deidflow reads its input more than once: save it to a file first",
            )
        with _opened(path) as fh:
            peek = {"jsonl": _peek_jsonl, "csv": _peek_csv, "parquet": _peek_parquet}[fmt]
            present, has_records = peek(fh, path)
        if present is not None:
            _require_columns(config.columns, present, f"{path.name}", _column_word(fmt))
    _require_records(config, has_records, f"input {path}")


@contextmanager
def _opened(path: Path) -> Iterator[Any]:
    try:
        fh = path.open("rb")
    except OSError as err:
        raise InputError(
            f"cannot read input {path}: {err.strerror or type(err).__name__}",
            f"check its permissions (deidflow runs as uid {os.getuid()})",
        ) from None
    with fh:
        yield fh


def _column_word(fmt: str) -> str:
    return "field" if fmt == "jsonl" else "column"


def _peek_txt(root: Path) -> bool:
    if not root.is_dir():
        raise InputError(
            f"input {root} is not a directory, and a txt source is a folder of .txt notes",
            FORMATS_TODO,
        )
    try:
        for _dir, dirnames, filenames in os.walk(root, onerror=_raise):
            dirnames.sort()
            if any(f.endswith(".txt") and not f.startswith(".") for f in filenames):
                return True
    except OSError as err:
        raise InputError(
            f"cannot read input folder {err.filename or root}: {err.strerror}",
            f"check its permissions (deidflow runs as uid {os.getuid()})",
        ) from None
    return False


def _raise(err: OSError) -> None:
    raise err


def _peek_jsonl(fh: Any, path: Path) -> tuple[set[str] | None, bool]:
    """Keys of the first records (``None`` if none could be parsed), and whether any exists."""
    keys: set[str] = set()
    budget, lines, objects = PEEK_BYTES, 0, 0
    while lines < PEEK_RECORDS and budget > 0:
        line = fh.readline(budget)
        if not line:
            break
        budget -= len(line)
        if not line.strip():
            continue
        lines += 1
        if not line.endswith(b"\n") and budget <= 0:
            break  # a record larger than the peek: it exists, its keys stay unknown
        try:
            obj = json.loads(line.decode("utf-8", "replace").lstrip("\ufeff"))
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict):
            keys.update(str(k) for k in obj)
            objects += 1
    if lines and not objects and budget > 0:
        raise InputError(
            f"{path.name}: none of the first {lines} non-blank line(s) is a JSON object",
            "is it JSON Lines (one object per line)? Otherwise " + FORMATS_TODO,
        )
    return (keys if objects else None), lines > 0


def _peek_csv(fh: Any, path: Path) -> tuple[list[str] | None, bool]:
    text = fh.read(PEEK_BYTES).decode("utf-8", "replace").lstrip("\ufeff")
    rows = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(rows, None)
        if header is None or not any(cell.strip() for cell in header):
            return None, False
        has_row = any(any(cell.strip() for cell in row) for row in rows)
    except csv.Error:
        has_row = True  # a row the reader cannot end within the peek: it exists
    return header, has_row


def _peek_parquet(fh: Any, path: Path) -> tuple[list[str], bool]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(fh)
    except (pa.ArrowException, OSError):
        raise InputError(f"{path.name} is not a readable Parquet file", FORMATS_TODO) from None
    return list(meta.schema_arrow.names), meta.metadata.num_rows > 0


def _require_columns(
    columns: ColumnMapping, present: Collection[str], where: str, word: str = "column"
) -> None:
    """Every required field's column, and every optional one mapped to another name, is
    present (an optional field under its own name may be absent: it is then empty)."""
    explicit = {f for f in columns.model_fields_set if getattr(columns, f) != f}
    wanted = [*REQUIRED_FIELDS, *(f for f in OPTIONAL_FIELDS if f in explicit)]
    missing = [(f, getattr(columns, f)) for f in wanted if getattr(columns, f) not in present]
    if not missing:
        return
    shown = ", ".join(_shown(c) for c in list(present)[:12]) or "none"
    if len(present) > 12:
        shown += f", ... ({len(present)} in all)"
    parts = []
    for field, column in missing:
        mapped = f" (columns.{field})" if field in explicit else ""
        close = difflib.get_close_matches(column, [str(c) for c in present], n=1)
        hint = f", did you mean {_cut(close[0])!r}?" if close else ""
        parts.append(f"{_cut(column)!r}{mapped}{hint}")
    plural = "s" if len(missing) > 1 else ""
    raise InputError(
        f"{where} has no {word}{plural} {', '.join(parts)}; its {word}s: {shown}",
        "map each field to one of its columns with --column FIELD=COLUMN "
        "(e.g. --column text=body) or `columns:` in the config",
    )


def _cut(name: Any, limit: int = 40) -> str:
    text = str(name)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(name: Any) -> str:
    """A column name in a list: cut if long, quoted if blanks around it would hide."""
    text = _cut(name)
    return repr(text) if text != text.strip() or not text else text


def _require_records(config: PipelineConfig, has_records: bool, what: str) -> None:
    if has_records or config.validation.allow_empty or getattr(config.source, "incremental", False):
        return
    raise InputError(
        f"{what} holds no records",
        "check the export; pass --allow-empty (validation.allow_empty) to publish an empty "
        "dataset on purpose",
    )


# --- PostgreSQL -----------------------------------------------------------------------


def require_dsn(source: PostgresSource) -> str:
    """The DSN from ``source.dsn_env``; a ``UsageError`` naming the variable if unset."""
    dsn = os.environ.get(source.dsn_env, "")
    if not dsn.strip():
        raise UsageError(
            f"the environment variable {source.dsn_env} (source.dsn_env: the database DSN) "
            "is not set",
            f"export {source.dsn_env}=postgresql://USER@HOST:5432/DBNAME "
            "(keep passwords in ~/.pgpass or PGPASSWORD)",
        )
    return dsn


def _connect(source: PostgresSource) -> Any:
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
    except ImportError:
        raise UsageError(
            "a postgres source needs psycopg, which is not installed",
            "pip install 'deidflow[postgres]'",
        ) from None
    dsn = require_dsn(source)
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        # Its message may quote the DSN, password included: not shown.
        raise UsageError(
            f"the environment variable {source.dsn_env} does not hold a valid PostgreSQL DSN",
            "use postgresql://USER@HOST:PORT/DBNAME or 'host=... dbname=...'",
        ) from None
    if "connect_timeout" not in params:
        dsn = make_conninfo(dsn, connect_timeout=10)  # a server that does not answer: 10 s
    try:
        conn = psycopg.connect(dsn)
    except psycopg.Error as err:
        raise InputError(
            f"the database in {source.dsn_env} does not answer: "
            f"{_first_line(err, params.get('password'))}",
            "check host, port, database and user in the DSN, and that the server is running",
        ) from None
    conn.read_only = True  # BEGIN READ ONLY: the checks cannot change anything
    return conn


def _first_line(err: BaseException, secret: Any = None) -> str:
    text = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if secret:
        text = text.replace(str(secret), "***")
    return text


def relation_sql(source: PostgresSource) -> Any:
    """The table or the query as a relation to select from (``... AS src``)."""
    from psycopg import sql

    if source.table is not None:
        return sql.Identifier(*source.table.split("."))
    return sql.SQL("({})").format(sql.SQL(source.query or ""))


def _check_postgres(config: PipelineConfig) -> None:
    from psycopg import Error, sql

    source = config.source
    assert isinstance(source, PostgresSource)
    relation = relation_sql(source)
    what = f"table {source.table}" if source.table else "source.query"
    with _connect(source) as conn, conn.cursor() as cur:
        try:
            # LIMIT 0: the columns, without reading a row (no value can reach a message).
            cur.execute(sql.SQL("SELECT * FROM {} AS src LIMIT 0").format(relation))
        except Error as err:
            primary = getattr(err.diag, "message_primary", None) or _first_line(err)
            todo = (
                "fix source.table (schema-qualified if needed: schema.table)"
                if source.table
                else "fix source.query"
            )
            raise InputError(f"invalid {what}: {primary}", todo) from None
        present = [d.name for d in cur.description or []]
        _require_columns(config.columns, present, what)
        if source.watermark_column and source.watermark_column not in present:
            raise InputError(
                f"{what} has no column {source.watermark_column!r} "
                f"(source.watermark_column); its columns: {', '.join(present)}",
                "fix source.watermark_column",
            )
        if source.incremental or config.validation.allow_empty:
            return
        cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} AS src)").format(relation))
        row = cur.fetchone()
        _require_records(config, bool(row and row[0]), what)


# --- Prefect --------------------------------------------------------------------------


def check_prefect_api(*, required: bool, timeout: float = 5.0) -> str | None:
    """The Prefect API URL if one is configured and answers; ``None`` if none is set.

    ``required``: no URL is an error too (``deidflow serve`` needs a lasting server).
    """
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        if required:
            raise UsageError(
                "PREFECT_API_URL is not set, and the deployments of `deidflow serve` would "
                "vanish with a temporary server",
                "start a server (`prefect server start --host 127.0.0.1`) and "
                "export PREFECT_API_URL=http://127.0.0.1:4200/api, or pass --temporary-server",
            )
        return None
    import httpx

    try:
        response = httpx.get(f"{str(url).rstrip('/')}/health", timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as err:
        reason = type(err).__name__
        if isinstance(err, httpx.HTTPStatusError):
            reason = f"HTTP {err.response.status_code}"
        raise UsageError(
            f"no Prefect server answers at PREFECT_API_URL={url} ({reason})",
            "start it (`prefect server start --host 127.0.0.1`), fix PREFECT_API_URL, or "
            "unset it"
            + (" and pass --temporary-server" if required else " to use a temporary server"),
        ) from None
    return str(url)


# --- the progress bar's total -----------------------------------------------------------


def count_records(config: PipelineConfig, previous_watermark: Any = None) -> int | None:
    """How many records the source holds, where cheap to know; ``None`` otherwise.

    Files: ``FileRecordSource.count`` (what the run's reader will yield, its rows_in,
    counted as that reader splits records and in the memory it is allowed: a 300 MB line
    is not read into memory to be counted; a CSV is parsed, meant for a background
    thread); PostgreSQL: ``COUNT(*)``.  Any error gives ``None`` (the run itself reports
    real problems).
    """
    try:
        source = config.source
        if isinstance(source, PostgresSource):
            return _count_postgres(source, previous_watermark)
        from pipelines.sources.files import FileRecordSource

        file_format(source)  # a format the run can read
        reader = FileRecordSource(
            source,
            config.columns,
            config.limits.max_note_chars,
            exclude=(config.quarantine_path(), config.output.dir),
        )
        return reader.count()
    except Exception:  # noqa: BLE001 - a total is a nicety; the run reports real problems
        return None


def _count_postgres(source: PostgresSource, previous_watermark: Any) -> int | None:
    from psycopg import sql

    where: Any = sql.SQL("")
    params: dict[str, Any] = {}
    if source.incremental and source.watermark_column and previous_watermark is not None:
        where = sql.SQL(" WHERE {} > %(watermark)s").format(
            sql.Identifier("src", source.watermark_column)
        )
        params["watermark"] = previous_watermark
    with _connect(source) as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT count(*) FROM {} AS src{}").format(relation_sql(source), where),
            params,
        )
        row = cur.fetchone()
    return int(row[0]) if row else None
