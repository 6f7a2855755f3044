"""trace roll-ups and sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 22:25:14.501969
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.String(), nullable=False),
    sa.Column('start_time', sa.BigInteger(), nullable=False),
    sa.Column('end_time', sa.BigInteger(), nullable=False),
    sa.Column('trace_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('prompt_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('completion_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('total_tokens', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('first_input', sa.String(), nullable=True),
    sa.Column('last_output', sa.String(), nullable=True),
    sa.Column('user_id', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('project_id', 'session_id', name=op.f('uq_sessions_project_id_session_id'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_project_id_start_time'), ['project_id', 'start_time'], unique=False)

    with op.batch_alter_table('traces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prompt_tokens', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('completion_tokens', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('total_tokens', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('root_span_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('root_start_time', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('root_name', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('root_span_kind', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('input_preview', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('output_preview', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('session_id', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('user_id', sa.String(), nullable=True))
        batch_op.create_index('ix_traces_session', ['project_id', 'session_id', 'start_time'], unique=False, sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))

    # Sessions are found through their traces now; the span-level index only cost inserts.
    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.drop_index('ix_spans_session')


def downgrade() -> None:
    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.create_index('ix_spans_session', ['project_id', 'session_id'], unique=False, sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))

    with op.batch_alter_table('traces', schema=None) as batch_op:
        batch_op.drop_index('ix_traces_session', sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))
        batch_op.drop_column('user_id')
        batch_op.drop_column('session_id')
        batch_op.drop_column('output_preview')
        batch_op.drop_column('input_preview')
        batch_op.drop_column('root_span_kind')
        batch_op.drop_column('root_name')
        batch_op.drop_column('root_start_time')
        batch_op.drop_column('root_span_id')
        batch_op.drop_column('total_tokens')
        batch_op.drop_column('completion_tokens')
        batch_op.drop_column('prompt_tokens')

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_project_id_start_time'))

    op.drop_table('sessions')
