"""The few SQL constructs that differ between SQLite and PostgreSQL, chosen in one place."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ember.store.pg_insert import CopyInsert

IN_LIST_CHUNK = 500

# Inserts rows (tuples in a fixed column order), skipping stored ones; returns how many were new.
RowInserter = Callable[[Connection, Sequence[tuple[Any, ...]]], int]


def chunks(items: Sequence[Any], size: int = IN_LIST_CHUNK) -> Iterable[Sequence[Any]]:
    """Cut a long IN list into pieces that stay under every dialect's bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignore(dialect_name: str, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the dialect."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"no INSERT ... ON CONFLICT for {dialect_name}")


def row_inserter(engine: Engine, table: sa.Table, columns: tuple[str, ...]) -> RowInserter:
    """The dialect's fastest INSERT ... ON CONFLICT DO NOTHING for many rows of plain tuples.

    For the hot statements (the span insert), where SQLAlchemy's per-row parameter processing
    would cost as much as the database's own work. PostgreSQL: binary COPY into a staging table
    and one INSERT ... SELECT (store/pg_insert.py). SQLite: the compiled statement's text run
    with executemany on the tuples (sqlite3 sums the rows each execution inserted).
    """
    if engine.dialect.name == "postgresql":
        return CopyInsert(table, columns)
    compiled = insert_ignore(engine.dialect.name, table).compile(
        dialect=engine.dialect, column_keys=list(columns)
    )
    if not compiled.positional or tuple(compiled.positiontup or ()) != columns:
        raise NotImplementedError(f"no positional bulk insert for {engine.dialect.name}")
    sql = str(compiled.string)

    def insert(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        return int(conn.exec_driver_sql(sql, list(rows)).rowcount)

    return insert


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key for a name (a trace id, a project's session id)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_LOCK_IN_ORDER = sa.text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM "
    "(SELECT DISTINCT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS keys"
)


def serialize(conn: Connection, keys: Iterable[int]) -> None:
    """Hold these advisory locks until the transaction ends, taken in ascending order.

    Several Ember processes may write to one PostgreSQL database: the writes that touch the
    same trace (or session) take its lock first, so they run one after the other and roll-ups
    stay exact. Every transaction takes its trace locks before its session locks, each set in
    ascending order, so two writers can never wait for each other in a cycle. SQLite has a
    single writer per database (BEGIN IMMEDIATE) and needs none of this.
    """
    if conn.dialect.name != "postgresql":
        return
    ordered = sorted(set(keys))
    if ordered:
        conn.execute(_LOCK_IN_ORDER, {"keys": ordered})
