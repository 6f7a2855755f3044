"""The dialects' bulk insert (ember.store.dialects.row_inserter: COPY through a staging table on
PostgreSQL, executemany on SQLite), on every backend through the `database_url` fixture.

The storage contract's tests cover it through `write_spans`; these pin down the edges of the
PostgreSQL staging table: a transaction that rolls back takes the table's creation with it, and
two calls in one transaction must not see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ember.store import migrate
from ember.store.dialects import row_inserter
from ember.store.engine import create_engines
from ember.store.schema import projects
from ember.store.sql import SqlStore
from tests.store.conftest import NORMALIZER
from tests.store.test_contract import a_trace, assert_rollup, replace

COLUMNS = ("name", "description", "created_at")


@pytest.fixture
def writer(database_url: str) -> Iterator[Engine]:
    writer, readers = create_engines(database_url, "FULL")
    migrate.upgrade(writer)
    yield writer
    writer.dispose()
    readers.dispose()


def names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(projects.c.name).order_by(projects.c.name)).scalars())


def test_counts_only_new_rows_and_keeps_the_first_copy(writer: Engine) -> None:
    insert = row_inserter(writer, projects, COLUMNS)
    with writer.begin() as conn:
        assert insert(conn, [("a", "first", 1), ("b", None, 2)]) == 2
        # A second call in the same transaction: only "c" is new, and "a" keeps its first row.
        assert insert(conn, [("a", "second", 3), ("c", "x" * 10_000, 4)]) == 1
        assert insert(conn, []) == 0
    with writer.begin() as conn:
        assert insert(conn, [("c", None, 5), ("d", None, 6), ("d", None, 7)]) == 1
        description = conn.execute(
            sa.select(projects.c.description).where(projects.c.name == "a")
        ).scalar_one()
    assert description == "first"
    assert names(writer) == ["a", "b", "c", "d"]


def test_a_rolled_back_first_use_leaves_it_working(writer: Engine) -> None:
    """On PostgreSQL the first call creates the staging table inside the transaction; the
    rollback undoes that, and the next transaction on the same connection must still work."""
    insert = row_inserter(writer, projects, COLUMNS)
    with pytest.raises(RuntimeError, match="give up"), writer.begin() as conn:
        assert insert(conn, [("gone", None, 1)]) == 1
        raise RuntimeError("give up")
    with writer.begin() as conn:
        assert insert(conn, [("kept", None, 2), ("gone", None, 3)]) == 2
    assert names(writer) == ["gone", "kept"]


def test_a_store_whose_first_batch_fails_at_the_span_insert_keeps_working(
    writer: Engine, database_url: str
) -> None:
    """The first batch of a fresh store fails in the span insert itself (a value no integer
    column takes): nothing is stored, and the next batch on the same writer goes in."""
    _, readers = create_engines(database_url, "FULL")
    store = SqlStore(writer, readers, NORMALIZER.deriver)
    good = a_trace(3, project="bulk")
    poison = replace(a_trace(1, project="bulk")[0], otel_kind=2**70)
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver or database raises
        store.write_spans([*good, poison])
    assert store.count_spans() == 0
    assert store.write_spans(good) == 3
    assert store.write_spans([*good, poison._replace(otel_kind=1)]) == 1
    assert_rollup(store, good)
    readers.dispose()
