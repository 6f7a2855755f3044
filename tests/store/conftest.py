"""The `store` fixture: an empty, migrated store of every backend in BACKENDS.

Add a backend by adding an opener to BACKENDS; every test in tests/store runs on each.
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

NORMALIZER = Normalizer(4 << 20, 32)


def _sqlite(path: Path) -> Store:
    writer, readers = create_engines(f"sqlite:///{path / 'ember.db'}", "FULL")
    migrate.upgrade(writer)
    return SqlStore(writer, readers, NORMALIZER.deriver)


BACKENDS: dict[str, Callable[[Path], Store]] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens the backend's store on one database; every store opened is closed afterwards."""
    opened: list[Store] = []

    def open_() -> Store:
        store = BACKENDS[request.param](tmp_path)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()
