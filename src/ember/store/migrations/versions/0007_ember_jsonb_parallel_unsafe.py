"""PostgreSQL: ember_jsonb() is PARALLEL UNSAFE

Its EXCEPTION block starts a subtransaction, which PostgreSQL refuses inside a parallel query
("cannot start subtransactions during a parallel operation"). 0005 declared it PARALLEL SAFE,
so a metadata filter over a table big enough for a parallel scan failed; declaring it unsafe
keeps such queries serial. Nothing changes on SQLite.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 01:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER FUNCTION ember_jsonb(text) PARALLEL UNSAFE')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER FUNCTION ember_jsonb(text) PARALLEL SAFE')
