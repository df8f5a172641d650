"""scheduled statuses: posts kept until the time their author chose

Revision ID: c9e1a3b5d7f9
Revises: b8d0f2a4c6e8
Create Date: 2026-12-08 14:00:00.000000

`scheduled_statuses` holds a post asked for later (POST /api/v1/statuses with `scheduled_at`):
its author, when, the draft as she asked for it, her app's Idempotency-Key and a worker's claim
while it publishes it (storage.models.scheduled); an upload names the scheduled post that holds
it (`media.scheduled_id`), which no other post may take and the media sweep leaves alone.
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
        sa.Column('idempotency_key', sa.String(length=255), nullable=True),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_scheduled_statuses_actor_id', 'scheduled_statuses', ['actor_id'])
    op.create_index('ix_scheduled_statuses_due', 'scheduled_statuses', ['scheduled_at', 'claimed_until'])
    op.add_column('media', sa.Column('scheduled_id', sa.BigInteger(), nullable=True))
    op.create_index('ix_media_scheduled_id', 'media', ['scheduled_id'])


def downgrade() -> None:
    op.drop_index('ix_media_scheduled_id', table_name='media')
    with op.batch_alter_table('media') as batch:
        batch.drop_column('scheduled_id')
    op.drop_index('ix_scheduled_statuses_due', table_name='scheduled_statuses')
    op.drop_index('ix_scheduled_statuses_actor_id', table_name='scheduled_statuses')
    op.drop_table('scheduled_statuses')
