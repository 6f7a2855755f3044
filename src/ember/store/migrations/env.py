"""Alembic environment: Ember always hands it an open connection (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from ember.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run Ember's migrations through `ember db upgrade`, not bare alembic")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
