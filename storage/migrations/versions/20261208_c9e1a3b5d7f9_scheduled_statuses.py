"""scheduled statuses: posts kept until the time their author chose

Revision ID: c9e1a3b5d7f9
Revises: b8d0f2a4c6e8
Create Date: 2026-12-08 14:00:00.000000

`scheduled_statuses` holds a post asked for later (POST /api/v1/statuses with `scheduled_at`):
its author, when, the draft as she asked for it, its uploads (kept from the media sweep) and a
worker's claim while it publishes it (storage.models.scheduled).
"""

import sqlalchemy as sa
from alembic import op

revision = 'c9e1a3b5d7f9'
down_revision = 'b8d0f2a4c6e8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scheduled_statuses',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=False),
        sa.Column('scheduled_at', sa.DateTime(), nullable=False),
        sa.Column('draft', sa.JSON(), nullable=False),
        sa.Column('media_ids', sa.JSON(), nullable=False),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_scheduled_statuses_actor_id', 'scheduled_statuses', ['actor_id'])
    op.create_index('ix_scheduled_statuses_due', 'scheduled_statuses', ['scheduled_at', 'claimed_until'])


def downgrade() -> None:
    op.drop_index('ix_scheduled_statuses_due', table_name='scheduled_statuses')
    op.drop_index('ix_scheduled_statuses_actor_id', table_name='scheduled_statuses')
    op.drop_table('scheduled_statuses')
