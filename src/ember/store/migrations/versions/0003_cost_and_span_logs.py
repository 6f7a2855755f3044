"""cost columns and span log records

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000

Spans stored before this revision keep a NULL cost: prices are applied as spans arrive.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('span_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('fingerprint', sa.String(length=32), nullable=False),
    sa.Column('trace_id', sa.String(length=32), nullable=False),
    sa.Column('span_id', sa.String(length=16), nullable=False),
    sa.Column('time_unix_nano', sa.BigInteger(), nullable=False),
    sa.Column('event_name', sa.String(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('scope_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_span_logs')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_span_logs_fingerprint'))
    )
    with op.batch_alter_table('span_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_span_logs_trace_id_span_id'), ['trace_id', 'span_id'], unique=False)

    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost', sa.BigInteger(), nullable=True))

    for table in ('traces', 'sessions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('cost', sa.BigInteger(), server_default='0', nullable=False))
            batch_op.add_column(sa.Column('unpriced_spans', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    for table in ('sessions', 'traces'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('unpriced_spans')
            batch_op.drop_column('cost')

    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.drop_column('cost')

    with op.batch_alter_table('span_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_span_logs_trace_id_span_id'))

    op.drop_table('span_logs')
