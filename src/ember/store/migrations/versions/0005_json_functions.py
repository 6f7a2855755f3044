"""PostgreSQL: ember_jsonb(text), a JSON parse that gives NULL instead of an error

Filters read keys of JSON held as text (the `metadata` attribute); text that is not valid JSON
must read as missing, not fail the query. SQLite has json_valid() for that; PostgreSQL 15 has
no non-raising cast, so this function catches the error. Nothing changes on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION ember_jsonb(document text) RETURNS jsonb
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
        BEGIN
            RETURN document::jsonb;
        EXCEPTION WHEN others THEN
            RETURN NULL;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP FUNCTION IF EXISTS ember_jsonb(text)')
