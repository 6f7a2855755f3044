"""annotations of spans, traces, sessions and documents

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('annotations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('target_kind', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.String(), nullable=False),
    sa.Column('document_position', sa.Integer(), server_default='-1', nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('label', sa.String(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('metadata', sa.Text(), server_default='{}', nullable=False),
    sa.Column('annotator_kind', sa.String(length=5), nullable=False),
    sa.Column('identifier', sa.String(), server_default='', nullable=False),
    sa.Column('source', sa.String(length=3), server_default='API', nullable=False),
    sa.Column('user_id', sa.String(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotations')),
    sa.UniqueConstraint('target_kind', 'target_id', 'name', 'identifier', 'document_position', name=op.f('uq_annotations_target_kind_target_id_name_identifier_document_position'))
    )


def downgrade() -> None:
    op.drop_table('annotations')
