"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 21:18:27.341331
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('projects',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('description', sa.String(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('name', name=op.f('uq_projects_name'))
    )
    op.create_table('resources',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('fingerprint', sa.String(length=32), nullable=False),
    sa.Column('attributes', sa.Text(), nullable=False),
    sa.Column('attribute_types', sa.Text(), nullable=True),
    sa.Column('schema_url', sa.String(), server_default='', nullable=False),
    sa.Column('dropped_attributes_count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resources')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_resources_fingerprint'))
    )
    op.create_table('scopes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('fingerprint', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('version', sa.String(), nullable=False),
    sa.Column('attributes', sa.Text(), nullable=False),
    sa.Column('attribute_types', sa.Text(), nullable=True),
    sa.Column('schema_url', sa.String(), server_default='', nullable=False),
    sa.Column('dropped_attributes_count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scopes')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_scopes_fingerprint'))
    )
    op.create_table('spans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('trace_rowid', sa.BigInteger(), nullable=False),
    sa.Column('project_id', sa.BigInteger(), nullable=False),
    sa.Column('span_id', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('otel_kind', sa.SmallInteger(), nullable=False),
    sa.Column('span_kind', sa.String(), nullable=False),
    sa.Column('start_time', sa.BigInteger(), nullable=False),
    sa.Column('end_time', sa.BigInteger(), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=False),
    sa.Column('status_message', sa.String(), nullable=False),
    sa.Column('session_id', sa.String(), nullable=True),
    sa.Column('user_id', sa.String(), nullable=True),
    sa.Column('model_name', sa.String(), nullable=True),
    sa.Column('provider', sa.String(), nullable=True),
    sa.Column('prompt_tokens', sa.BigInteger(), nullable=True),
    sa.Column('completion_tokens', sa.BigInteger(), nullable=True),
    sa.Column('total_tokens', sa.BigInteger(), nullable=True),
    sa.Column('attributes', sa.Text(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('resource_id', sa.BigInteger(), nullable=False),
    sa.Column('scope_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spans'))
    )
    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spans_project_id_start_time'), ['project_id', 'start_time'], unique=False)
        batch_op.create_index('ix_spans_session', ['project_id', 'session_id'], unique=False, sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_spans_span_id'), ['span_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_spans_trace_rowid_span_id'), ['trace_rowid', 'span_id'], unique=True)

    op.create_table('traces',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('trace_id', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.BigInteger(), nullable=False),
    sa.Column('start_time', sa.BigInteger(), nullable=False),
    sa.Column('end_time', sa.BigInteger(), nullable=False),
    sa.Column('span_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error_count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traces')),
    sa.UniqueConstraint('trace_id', name=op.f('uq_traces_trace_id'))
    )
    with op.batch_alter_table('traces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_traces_project_id_start_time'), ['project_id', 'start_time'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('traces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_traces_project_id_start_time'))

    op.drop_table('traces')
    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spans_trace_rowid_span_id'))
        batch_op.drop_index(batch_op.f('ix_spans_span_id'))
        batch_op.drop_index('ix_spans_session', sqlite_where=sa.text('session_id IS NOT NULL'), postgresql_where=sa.text('session_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_spans_project_id_start_time'))

    op.drop_table('spans')
    op.drop_table('scopes')
    op.drop_table('resources')
    op.drop_table('projects')
