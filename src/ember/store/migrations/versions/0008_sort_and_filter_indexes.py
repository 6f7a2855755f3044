"""indexes for the listings' sorts and filters

Traces sorted by latency, cost, tokens or span count read 51 rows of an index instead of
sorting every trace of the project (the row id ends each index, as the keyset pages order by
it). Spans get a partial index on (project, user), for `user.id == ...`. On PostgreSQL, a GIN
index over the short attributes (jsonb_path_ops) serves `attr == value`, which the filter
compiler also writes as JSON containment (store/filters.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRACE_SORTS = {
    'ix_traces_latency': '(end_time - start_time)',
    'ix_traces_cost': 'cost',
    'ix_traces_tokens': 'total_tokens',
    'ix_traces_span_count': 'span_count',
}


def upgrade() -> None:
    for name, key in _TRACE_SORTS.items():
        op.create_index(name, 'traces', [sa.text('project_id'), sa.text(key), sa.text('id')])
    op.create_index(
        'ix_spans_user', 'spans', ['project_id', 'user_id', 'start_time'],
        sqlite_where=sa.text('user_id IS NOT NULL'),
        postgresql_where=sa.text('user_id IS NOT NULL'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            'CREATE INDEX ix_spans_attributes ON spans '
            'USING gin ((attributes::jsonb) jsonb_path_ops)'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_spans_attributes', 'spans')
    op.drop_index('ix_spans_user', 'spans')
    for name in _TRACE_SORTS:
        op.drop_index(name, 'traces')
