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
from pipelines.config import (
    FORMAT_BY_SUFFIX,
    FhirSource,
    FilesSource,
    PipelineConfig,
    PostgresSource,
    SqlSource,
)
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
    elif isinstance(config.source, FhirSource):
        _check_fhir(config)
    else:
        _check_sql(config)
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
    if isinstance(config.source, FilesSource | FhirSource) and config.source.path is not None:
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
    if source.path is not None and source.path.is_dir():
        return "txt"
    if source.url is not None and source.url.endswith("/"):
        return "txt"
    suffix = source.suffix
    if suffix in FORMAT_BY_SUFFIX:
        return FORMAT_BY_SUFFIX[suffix]
    hint = "; TSV is not read: save it as CSV" if suffix == ".tsv" else ""
    raise InputError(
        f"cannot tell the format of {source.name} from its suffix {suffix or '(none)'!r}",
        FORMATS_TODO + hint,
    )


def _check_files(config: PipelineConfig) -> None:
    source = config.source
    assert isinstance(source, FilesSource)
    if source.url is not None:
        _check_remote_file(config, source)
        return
    path = source.local_path()
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


def _check_fhir(config: PipelineConfig) -> None:
    """A FHIR export: it exists and is readable, holds ``*.ndjson``/``*.json`` files whose
    first lines are FHIR resources (JSON objects with a ``resourceType``), and no
    ``columns:`` mapping is set (FHIR fields map by the standard)."""
    from pipelines.sources.fhir import FhirRecordSource

    source = config.source
    assert isinstance(source, FhirSource)
    if config.columns.model_fields_set:
        raise UsageError(
            "columns: does not apply to a fhir source (its fields map by the FHIR standard)",
            "remove the columns: section",
        )
    if source.url is not None:
        remote_object(source.url, source.storage_options, folder_ok=True)
    elif not source.local_path().exists():
        raise InputError(f"input {source.path} does not exist", "check the path")
    reader = FhirRecordSource(source, config.limits.max_note_chars)
    try:
        files = [(n, o) for n, o in reader.files() if n.endswith((".ndjson", ".json"))]
    except OSError as err:
        raise InputError(
            f"cannot read input folder {source.location}: {err.strerror or type(err).__name__}",
            f"check its permissions (deidflow runs as uid {os.getuid()})",
        ) from None
    if not files and source.path is not None and source.path.is_file():
        raise InputError(
            f"input {source.name} is not a FHIR export file (*.ndjson or *.json)",
            "give the export folder, or an .ndjson / Bundle .json file",
        )
    has_records = False
    for name, opener in files:
        try:
            with opener() as fh:
                head = fh.read(PEEK_BYTES)
        except OSError as err:
            raise InputError(
                f"cannot read {name} in {source.location}: {err.strerror or type(err).__name__}",
                f"check its permissions (deidflow runs as uid {os.getuid()})",
            ) from None
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if not first:
            continue
        has_records = True
        if first != b"{":
            raise InputError(
                f"{name} in {source.location} does not hold FHIR JSON",
                "a FHIR export holds NDJSON (one resource a line) or Bundle JSON files",
            )
        if name.endswith(".ndjson"):
            line = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None  # a line longer than the peek, or one bad line: the run decides
            if isinstance(obj, dict) and "resourceType" not in obj:
                raise InputError(
                    f"{name}: its first line is JSON but not a FHIR resource (no resourceType)",
                    "is it a FHIR export? JSON Lines notes are read with --format jsonl",
                )
    _require_records(config, has_records, f"FHIR export {source.location}")


def _check_remote_file(config: PipelineConfig, source: FilesSource) -> None:
    """A file at an fsspec URL: the package, the credentials, the object, its columns."""
    url = str(source.url)
    fmt = file_format(source)
    if fmt == "txt":
        raise InputError(
            f"input {url} is a folder, and .txt folders are read from local paths only",
            "give one JSONL, CSV or Parquet object, or copy the folder locally",
        )
    fs, path = remote_object(url, source.storage_options)
    with _remote_opened(fs, path, url) as fh:
        peek = {"jsonl": _peek_jsonl, "csv": _peek_csv, "parquet": _peek_parquet}[fmt]
        # The text peeks read at most PEEK_BYTES: fetched once, read from memory.
        head = fh if fmt == "parquet" else io.BytesIO(fh.read(PEEK_BYTES))
        present, has_records = peek(head, Path(source.name))
    if present is not None:
        _require_columns(config.columns, present, source.name, _column_word(fmt))
    _require_records(config, has_records, f"input {url}")


def remote_object(url: str, options: dict[str, Any], *, folder_ok: bool = False) -> tuple[Any, str]:
    """The filesystem and path of ``url``, checked to exist (a file, or a folder if
    ``folder_ok``); credentials and the server are tried here, once."""
    from pipelines.sources._remote import filesystem

    fs, path = filesystem(url, options)
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise InputError(f"input {url} does not exist", "check the bucket and key") from None
    except PermissionError:
        raise InputError(
            f"access to {url} is denied", "check the credentials in the environment"
        ) from None
    except Exception as err:  # noqa: BLE001 - network, credentials: the type says which
        raise InputError(
            f"cannot reach {url} ({type(err).__name__}: {_first_line(err)})",
            "check the endpoint (storage_options.endpoint_url), the network and the "
            "credentials in the environment",
        ) from None
    if info.get("type") == "directory" and not folder_ok:
        raise InputError(f"input {url} is a folder, not a file", "give the object's full key")
    return fs, path


@contextmanager
def _remote_opened(fs: Any, path: str, url: str) -> Iterator[Any]:
    try:
        fh = fs.open(path, "rb")
    except OSError as err:
        raise InputError(
            f"cannot read input {url}: {type(err).__name__}", "check the credentials"
        ) from None
    with fh:
        yield fh


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


# --- databases (SQLAlchemy) -----------------------------------------------------------


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


def _check_sql(config: PipelineConfig) -> None:
    """The URL's variables, the server, the table or query (``LIMIT 0``: its columns,
    without reading a row, so no value can reach a message), the watermark column, and
    a first row unless an empty result is allowed."""
    import sqlalchemy as sa

    from pipelines.sources.sql import engine_for, password_of, relation

    source = config.source
    assert isinstance(source, SqlSource | PostgresSource)
    what = f"table {source.table}" if source.table else "source.query"
    if isinstance(source, PostgresSource):
        where = source.dsn_env
    else:
        where = source.url_env or (
            f"Secret {source.url_secret}" if source.url_secret else "source.url"
        )
    secret = password_of(source)
    try:
        engine = engine_for(source)
    except ImportError as err:
        raise UsageError(
            f"the database driver {err.name or ''} for {where} is not installed",
            "install it (e.g. pip install psycopg[binary], pyodbc, oracledb)",
        ) from None
    src = relation(source)
    try:
        try:
            conn = engine.connect()
        except sa.exc.SQLAlchemyError as err:
            raise InputError(
                f"the database in {where} does not answer: {_first_line(_orig(err), secret)}",
                "check host, port, database and user in the URL, and that the server is running",
            ) from None
        with conn:
            try:
                query: Any = sa.select(sa.literal_column("*")).select_from(src).limit(0)
                result: Any = conn.execute(query)
                present = [str(k) for k in result.keys()]  # noqa: SIM118 - a Result, not a dict
                result.close()
            except sa.exc.SQLAlchemyError as err:
                todo = (
                    "fix source.table (schema-qualified if needed: schema.table)"
                    if source.table
                    else "fix source.query"
                )
                raise InputError(f"invalid {what}: {_db_message(err, secret)}", todo) from None
            _require_columns(config.columns, present, what)
            if source.watermark_column and source.watermark_column not in present:
                raise InputError(
                    f"{what} has no column {source.watermark_column!r} "
                    f"(source.watermark_column); its columns: {', '.join(present)}",
                    "fix source.watermark_column",
                )
            if source.incremental or config.validation.allow_empty:
                return
            row = conn.execute(sa.select(sa.literal(1)).select_from(src).limit(1)).first()
            _require_records(config, row is not None, what)
    finally:
        engine.dispose()


def _orig(err: BaseException) -> BaseException:
    """The driver's own exception inside SQLAlchemy's (whose text adds the statement)."""
    return getattr(err, "orig", None) or err


def _db_message(err: BaseException, secret: Any) -> str:
    orig = _orig(err)
    diag = getattr(orig, "diag", None)  # psycopg: the server's primary message
    primary = getattr(diag, "message_primary", None)
    return primary or _first_line(orig, secret)


def _first_line(err: BaseException, secret: Any = None) -> str:
    text = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if secret:
        text = text.replace(str(secret), "***")
    return text


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
        thread); a FHIR export: ``FhirRecordSource.count`` (its resources, lines and files); a
    database: ``COUNT(*)`` through SQLAlchemy.  Any error gives ``None`` (the run itself reports
        real problems).
    """
    try:
        source = config.source
        if isinstance(source, SqlSource | PostgresSource):
            return _count_sql(source, previous_watermark)
        if isinstance(source, FhirSource):
            from pipelines.sources.fhir import FhirRecordSource

            return FhirRecordSource(source, config.limits.max_note_chars).count()
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


def _count_sql(source: SqlSource | PostgresSource, previous_watermark: Any) -> int | None:
    from pipelines.sources.sql import count_rows

    return count_rows(source, previous_watermark)
