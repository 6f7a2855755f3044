"""PostgreSQL's bulk insert: binary COPY into a temporary staging table, then one set-based
INSERT ... SELECT ... ON CONFLICT DO NOTHING.

Why: the span insert is the writer's hot statement. Through SQLAlchemy, a multi-row INSERT with a
dict per row spent almost all of the writer's time in Python: SQLAlchemy processed every
parameter, and psycopg parsed a statement with 23 placeholders per row whose text changed with
every batch size, so it was never cached. With COPY, psycopg's C code packs each row of plain
tuples into PostgreSQL's binary format, and both statements have a fixed text, so the Python
cost per row is a few microseconds and the rest is PostgreSQL's own work (bench/README.md).

Contract (the same as `insert_ignore` with executemany): rows are tuples in `columns` order; a
row whose unique keys are already stored is skipped (the first copy wins); the call returns how
many rows were new. It runs inside the caller's transaction, so the batch stays atomic.

The staging table is a temporary table: private to the connection (replicas never see each
other's), emptied by the INSERT that reads it, and truncated at every commit as a second guard.
It is declared with `CREATE ... IF NOT EXISTS` on every call because a transaction that rolls
back also undoes a CREATE it ran; that costs one round trip per batch, not per row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


class CopyInsert:
    """Inserts rows of one table's `columns` through COPY; see the module's docstring."""

    def __init__(self, table: sa.Table, columns: Sequence[str]) -> None:
        quote = _DIALECT.identifier_preparer.quote
        ddl_types = [table.c[name].type.compile(dialect=_DIALECT) for name in columns]
        stage = quote(f"ember_stage_{table.name}")
        names = ", ".join(quote(name) for name in columns)
        definitions = ", ".join(
            f"{quote(name)} {ddl}" for name, ddl in zip(columns, ddl_types, strict=True)
        )
        self.create_sql = (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({definitions}) "
            "ON COMMIT DELETE ROWS"
        )
        self.copy_sql = f"COPY {stage} ({names}) FROM STDIN (FORMAT BINARY)"
        # The CTE empties the staging table in the same statement, so two calls in one
        # transaction never see each other's rows.
        self.insert_sql = (
            f"WITH staged AS (DELETE FROM {stage} RETURNING {names}) "
            f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM staged "
            "ON CONFLICT DO NOTHING"
        )
        # Binary COPY needs each column's type on the client: "VARCHAR(16)" -> "varchar".
        self.copy_types = [re.sub(r"\(.*\)", "", ddl).strip().lower() for ddl in ddl_types]

    def __call__(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert `rows` in `conn`'s transaction, skipping stored ones; return how many were new."""
        if not rows:
            return 0
        driver_connection: Any = conn.connection.driver_connection
        with driver_connection.cursor() as cursor:
            cursor.execute(self.create_sql)
            with cursor.copy(self.copy_sql) as copy:
                copy.set_types(self.copy_types)
                for row in rows:
                    copy.write_row(row)
            cursor.execute(self.insert_sql)
            # An INSERT's row count is the rows it inserted; conflicts skipped are not counted.
            return int(cursor.rowcount)
