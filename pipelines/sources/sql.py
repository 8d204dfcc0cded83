"""SQL source: a table or query in any database SQLAlchemy reaches, streamed.

Rows arrive in a fixed order (watermark column, then note ID) so reruns see the same
sequence.  They are fetched with a server-side cursor where the driver has one
(``stream_results`` + ``yield_per``: PostgreSQL's named cursors, SQL Server and Oracle
cursors), ``batch_size`` rows at a time, so memory stays flat whatever the table's
size.  In incremental mode only rows whose watermark is strictly greater than the
previous successful run's are pulled; rows with a NULL watermark are therefore read by
the first run only.  The watermark column must grow monotonically as rows are committed
(a serial or an insert timestamp), or late commits with older values are missed.

The connection URL is built from the environment or a Prefect Secret block, never from
the config file alone (``engine_for``); error messages never show it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.sql.sqltypes import NullType

from pipelines.config import DatabaseSource, PostgresSource, SqlSource
from pipelines.exit_codes import UsageError
from pipelines.records import RawRecord
from pipelines.sources import RecordSource
from schemas.notes import ColumnMapping

CONNECT_TIMEOUT_S = 10
"""A server that does not answer fails the run after this long, not a TCP timeout."""


class SqlRecordSource(RecordSource):
    """Reads ``source.table`` or ``source.query`` in batches of ``source.batch_size``."""

    def __init__(
        self, source: DatabaseSource, columns: ColumnMapping, previous_watermark: Any = None
    ) -> None:
        self.source = source
        self.columns = columns
        self.previous_watermark = previous_watermark if source.incremental else None
        self.watermark: Any = self.previous_watermark

    def describe(self) -> dict[str, Any]:
        described = {
            "kind": self.source.kind,
            "relation": self.source.table or "query",
            "incremental": self.source.incremental,
            "watermark_column": self.source.watermark_column,
        }
        if isinstance(self.source, SqlSource):
            described["dialect"] = dialect_name(self.source)
        return described

    def records(self) -> Iterator[RawRecord]:
        engine = engine_for(self.source)
        stmt = select_rows(self.source, self.columns, self.previous_watermark)
        wm_column = self.source.watermark_column
        prefix = self.source.kind
        rowno = 0
        try:
            with engine.connect() as conn:
                options: dict[str, Any] = {
                    "stream_results": True,
                    "yield_per": self.source.batch_size,
                }
                if engine.dialect.name == "postgresql":
                    options["postgresql_readonly"] = True
                result = conn.execution_options(**options).execute(stmt)
                for partition in result.mappings().partitions():
                    for row in partition:
                        rowno += 1
                        fields = dict(row)
                        if wm_column:
                            self._advance_watermark(fields.get(wm_column))
                        yield RawRecord(f"{prefix}:row {rowno}", fields)
        finally:
            engine.dispose()

    def _advance_watermark(self, value: Any) -> None:
        # Rows arrive ordered by the watermark, so the last non-NULL is the max.
        if value is not None:
            self.watermark = watermark_to_json(value)


# --- statements -----------------------------------------------------------------------


def relation(source: DatabaseSource, *names: str) -> sa.Subquery | sa.TableClause:
    """The table or the query as ``src``, with ``names`` usable as its columns."""
    cols: list[sa.ColumnClause[Any]] = [sa.column(n) for n in dict.fromkeys(n for n in names if n)]
    if source.table is not None:
        schema, _, table = source.table.rpartition(".")
        return sa.table(table, *cols, schema=schema or None).alias("src")  # type: ignore[return-value]
    # The query comes from the operator's config file, like the table name.
    return sa.text(source.query or "").columns(*cols).subquery("src")


def _newer(src: Any, source: DatabaseSource, previous_watermark: Any) -> Any:
    """The incremental condition, or ``None``.  The bound value is untyped so the server
    casts an ISO string to the column's type (PostgreSQL, SQLite compare it as is)."""
    if not (source.watermark_column and previous_watermark is not None):
        return None
    value = sa.bindparam("watermark", previous_watermark, type_=NullType())
    return src.c[source.watermark_column] > value


def select_rows(
    source: DatabaseSource, columns: ColumnMapping, previous_watermark: Any = None
) -> sa.Select[Any]:
    """``SELECT * FROM src [WHERE wm > :watermark] ORDER BY wm, note_id``."""
    wm = source.watermark_column
    src = relation(source, columns.note_id, wm or "")
    stmt: sa.Select[Any] = sa.select(sa.literal_column("*")).select_from(src)
    condition = _newer(src, source, previous_watermark)
    if condition is not None:
        stmt = stmt.where(condition)
    order = [src.c[wm]] if wm else []
    return stmt.order_by(*order, src.c[columns.note_id])


def count_rows(source: DatabaseSource, previous_watermark: Any = None) -> int | None:
    """``COUNT(*)`` of what ``records`` will read (the progress bar's total)."""
    src = relation(source, source.watermark_column or "")
    stmt = sa.select(sa.func.count()).select_from(src)
    condition = _newer(src, source, previous_watermark if source.incremental else None)
    if condition is not None:
        stmt = stmt.where(condition)
    engine = engine_for(source)
    try:
        with engine.connect() as conn:
            value = conn.execute(stmt).scalar()
    finally:
        engine.dispose()
    return int(value) if value is not None else None


# --- connections ----------------------------------------------------------------------


def dialect_name(source: SqlSource) -> str:
    """``postgresql``, ``sqlite``, ``mssql``...: the URL's dialect, without connecting."""
    if source.url is not None:
        return make_url(source.url).get_backend_name()
    try:
        return source_url(source).get_backend_name()
    except UsageError:
        return "unknown"


def source_url(source: SqlSource) -> URL:
    """The full URL: ``url`` (+ the password from ``password_env``), ``url_env`` or
    ``url_secret``.  A ``UsageError`` names a variable or block that is missing."""
    if source.url is not None:
        url = make_url(source.url)
        if source.password_env is not None:
            url = url.set(password=_env(source.password_env, "the database password"))
    elif source.url_env is not None:
        url = _parse(_env(source.url_env, "the database URL"), f"${source.url_env}")
    else:
        url = _parse(_secret(str(source.url_secret)), f"Secret block {source.url_secret}")
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3: the driver installed
    return url


def _env(name: str, what: str) -> str:
    value = os.environ.get(name, "")
    if not value.strip():
        raise UsageError(
            f"the environment variable {name} ({what}) is not set",
            f"export {name}=... before the run (secrets never go in the config file)",
        )
    return value


def _secret(name: str) -> str:
    try:
        from prefect.blocks.system import Secret

        block: Any = Secret.load(name)  # sync in sync code
        return str(block.get())
    except Exception as err:  # noqa: BLE001 - the block's value is never shown
        raise UsageError(
            f"cannot load the Prefect Secret block {name!r} ({type(err).__name__})",
            "create it (Blocks > Secret in the Prefect UI) on the server PREFECT_API_URL names",
        ) from None


def _parse(text: str, where: str) -> URL:
    try:
        return make_url(text.strip())
    except Exception:  # noqa: BLE001 - its message would quote the URL, password included
        raise UsageError(
            f"{where} does not hold a SQLAlchemy URL",
            "use dialect+driver://USER:PASSWORD@HOST:PORT/DATABASE, e.g. "
            "postgresql+psycopg://deid:...@db:5432/notes",
        ) from None


def engine_for(source: DatabaseSource) -> Engine:
    """An engine for the source; nothing is connected until it is used."""
    if isinstance(source, PostgresSource):
        from pipelines.preflight import require_dsn

        dsn = require_dsn(source)

        def connect() -> Any:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict, make_conninfo

            params = conninfo_to_dict(dsn)
            timeout = params.get("connect_timeout", CONNECT_TIMEOUT_S)
            return psycopg.connect(make_conninfo(dsn, connect_timeout=timeout))

        # Any libpq DSN (URL or key=value) works: psycopg parses it, not SQLAlchemy.
        return sa.create_engine("postgresql+psycopg://", creator=connect, poolclass=sa.NullPool)
    url = source_url(source)
    args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        args["connect_timeout"] = CONNECT_TIMEOUT_S
    return sa.create_engine(url, connect_args=args, poolclass=sa.NullPool)


def password_of(source: DatabaseSource) -> str | None:
    """The password in use (to mask it in an error message), if any."""
    try:
        if isinstance(source, PostgresSource):
            from psycopg.conninfo import conninfo_to_dict

            from pipelines.preflight import require_dsn

            password = conninfo_to_dict(require_dsn(source)).get("password")
            return None if password is None else str(password)
        return source_url(source).password
    except Exception:  # noqa: BLE001
        return None


def watermark_to_json(value: Any) -> int | str:
    """A watermark value in a JSON-safe form the database can compare against again.

    Integers stay integers; timestamps, dates and numerics become ISO / decimal strings,
    which are bound untyped so the server casts them to the column's type.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean column cannot be a watermark")
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"unsupported watermark type {type(value).__name__}")
