"""PostgreSQL source: a table or query, streamed through a server-side cursor.

Rows arrive in a fixed order (watermark column, then note ID) so reruns see the same
sequence.  In incremental mode only rows whose watermark is strictly greater than the
previous successful run's are pulled; rows with a NULL watermark are therefore read
by the first run only.  The watermark column must grow monotonically as rows are
committed (a serial or an insert timestamp), or late commits with older values are
missed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pipelines.config import PostgresSource
from pipelines.records import RawRecord
from pipelines.sources import RecordSource
from schemas.notes import ColumnMapping


class PostgresRecordSource(RecordSource):
    """Reads ``source.table`` or ``source.query`` in batches of ``source.batch_size``."""

    def __init__(
        self, source: PostgresSource, columns: ColumnMapping, previous_watermark: Any = None
    ) -> None:
        self.source = source
        self.columns = columns
        self.previous_watermark = previous_watermark if source.incremental else None
        self.watermark: Any = self.previous_watermark

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "postgres",
            "relation": self.source.table or "query",
            "incremental": self.source.incremental,
            "watermark_column": self.source.watermark_column,
        }

    def statement(self) -> tuple[sql.Composed, dict[str, Any]]:
        """The SELECT this source runs, with its parameters."""
        if self.source.table is not None:
            relation: sql.Composable = sql.Identifier(*self.source.table.split("."))
        else:
            # The query comes from the operator's config file, like the table name.
            relation = sql.SQL("({})").format(sql.SQL(self.source.query or ""))
        note_id = sql.Identifier("src", self.columns.note_id)
        params: dict[str, Any] = {}
        where: sql.Composable = sql.SQL("")
        order: list[sql.Composable] = [note_id]
        if self.source.watermark_column:
            wm = sql.Identifier("src", self.source.watermark_column)
            order.insert(0, wm)
            if self.previous_watermark is not None:
                where = sql.SQL(" WHERE {} > %(watermark)s").format(wm)
                params["watermark"] = self.previous_watermark
        stmt = sql.SQL("SELECT * FROM {} AS src{} ORDER BY {}").format(
            relation, where, sql.SQL(", ").join(order)
        )
        return stmt, params

    def records(self) -> Iterator[RawRecord]:
        dsn = os.environ.get(self.source.dsn_env)
        if not dsn:
            raise RuntimeError(f"environment variable {self.source.dsn_env} (the DSN) is not set")
        stmt, params = self.statement()
        wm_column = self.source.watermark_column
        rowno = 0
        with psycopg.connect(dsn) as conn:
            conn.read_only = True
            # A named cursor lives on the server: only one batch is in memory at a time.
            with conn.cursor(name="deidflow_source", row_factory=dict_row) as cur:
                cur.itersize = self.source.batch_size
                cur.execute(stmt, params)
                while rows := cur.fetchmany(self.source.batch_size):
                    for row in rows:
                        rowno += 1
                        if wm_column:
                            self._advance_watermark(row.get(wm_column))
                        yield RawRecord(f"postgres:row {rowno}", row)

    def _advance_watermark(self, value: Any) -> None:
        # Rows arrive ordered by the watermark (NULLs last), so the last non-NULL is the max.
        if value is not None:
            self.watermark = watermark_to_json(value)


def watermark_to_json(value: Any) -> int | str:
    """A watermark value in a JSON-safe form PostgreSQL can compare against again.

    Integers stay integers; timestamps, dates and numerics become ISO / decimal strings,
    which psycopg sends untyped so the server casts them to the column's type.
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
