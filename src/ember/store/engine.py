"""Engines for a database URL (SQLite or PostgreSQL): one for the writer, one pool for readers.

SQLite gets WAL (readers never block the writer), the configured `synchronous` level, and explicit
transactions: the writer opens them with BEGIN IMMEDIATE so it never has to upgrade a read lock;
readers are `query_only`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from ember.errors import SettingsError


def is_sqlite(url: str) -> bool:
    return normalize_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def normalize_url(url: str) -> sa.URL:
    """The SQLAlchemy URL Ember uses: `postgresql://` (or `postgres://`) means the psycopg 3
    driver, so users write the URL their other tools understand."""
    try:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    except sa.exc.ArgumentError as exc:
        raise SettingsError(f"database URL {url!r} is not valid: {exc}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(
            f"database URL {parsed.render_as_string(hide_password=True)!r}: Ember stores to "
            "SQLite (sqlite:///path) or PostgreSQL (postgresql://user@host/db)"
        )
    return parsed


def create_engines(url: str, synchronous: str = "FULL") -> tuple[Engine, Engine]:
    """(writer, readers) for `url`."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engines(parsed)
    path = _sqlite_path(url)
    if path is None:
        raise SettingsError("an in-memory SQLite database cannot be shared; give a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = sa.create_engine(url, pool_size=1, max_overflow=0)
    readers = sa.create_engine(url, pool_size=4, max_overflow=4)
    # Page caches are per connection: the writer's is large (its index pages are hot), the
    # readers' small, so memory stays bounded (64 + 8 x 16 MiB at most) however many reads run.
    _configure_sqlite(writer, synchronous, "BEGIN IMMEDIATE", query_only=False, cache_mib=64)
    _configure_sqlite(readers, synchronous, "BEGIN", query_only=True, cache_mib=16)
    return writer, readers


def _postgres_engines(url: sa.URL) -> tuple[Engine, Engine]:
    """PostgreSQL: one connection for this process's writer thread, a pool for readers.

    Several Ember processes may write to one database; the store serializes the writes that
    touch the same trace or session with transaction-scoped advisory locks (store/dialects.py).
    Connections are checked before use, so a database restart costs one retried request.
    """
    common: dict[str, Any] = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
    writer = sa.create_engine(url, pool_size=1, max_overflow=0, **common)
    readers = sa.create_engine(url, pool_size=4, max_overflow=4, **common)
    return writer, readers


def _configure_sqlite(
    engine: Engine, synchronous: str, begin: str, *, query_only: bool, cache_mib: int
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute(f"PRAGMA cache_size=-{cache_mib * 1024}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        if query_only:
            cursor.execute("PRAGMA query_only=1")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)
