"""The `store` fixture: an empty, migrated store of every backend in BACKENDS (SQLite, and a
real PostgreSQL server the tests start: tests/postgres.py).

Add a backend by adding to BACKENDS; every test in tests/store runs on each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ember.ingest.normalize import Normalizer
from ember.store import migrate
from ember.store.base import Store
from ember.store.engine import create_engines
from ember.store.sql import SqlStore
from tests.postgres import PostgresServer

NORMALIZER = Normalizer(4 << 20, 32)


def _open(url: str) -> Store:
    writer, readers = create_engines(url, "FULL")
    migrate.upgrade(writer)
    return SqlStore(writer, readers, NORMALIZER.deriver)


def _sqlite_url(request: pytest.FixtureRequest, path: Path) -> str:
    return f"sqlite:///{path / 'ember.db'}"


def _postgres_url(request: pytest.FixtureRequest, path: Path) -> str:
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


# name -> a new, empty database's URL for one test
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], str]] = {
    "sqlite": _sqlite_url,
    "postgresql": _postgres_url,
}


@pytest.fixture(params=sorted(BACKENDS))
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend, for one test."""
    return BACKENDS[request.param](request, tmp_path)


@pytest.fixture
def open_store(database_url: str) -> Iterator[Callable[[], Store]]:
    """Opens a store on the test's database; every store opened is closed afterwards."""
    opened: list[Store] = []

    def open_() -> Store:
        store = _open(database_url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()
