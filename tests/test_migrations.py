"""The Alembic migrations build exactly the schema that store/schema.py declares."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from ember.store import migrate
from ember.store.engine import create_engines
from ember.store.schema import metadata


def test_head_constant_matches_alembic() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())  # type: ignore[arg-type]
    assert script.get_current_head() == migrate.HEAD


def test_upgrade_builds_the_declared_schema(tmp_path: Path) -> None:
    writer, readers = create_engines(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert migrate.current_revision(writer) is None
        assert migrate.upgrade(writer) is True
        assert migrate.current_revision(writer) == migrate.HEAD
        assert migrate.upgrade(writer) is False  # already at head: nothing runs
        with writer.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        with readers.connect() as conn:
            mode = conn.execute(sa.text("PRAGMA journal_mode")).scalar()
        assert mode == "wal"
    finally:
        writer.dispose()
        readers.dispose()
