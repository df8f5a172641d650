"""conversations: each user's threads of direct posts

Revision ID: d0f2b4c6e8a1
Revises: c9e1a3b5d7f9
Create Date: 2026-12-08 15:00:00.000000

`conversations` holds, for each local user and each thread of direct posts she is in with the
same people, a key of the thread's first stored post and those people, its newest direct post
and whether she has read it
(storage.models.conversations), for /api/v1/conversations. Threads from before this migration
appear with their next direct post.
"""

import sqlalchemy as sa
from alembic import op

revision = 'd0f2b4c6e8a1'
down_revision = 'c9e1a3b5d7f9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conversations',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('owner_id', sa.BigInteger(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('last_status_id', sa.BigInteger(), nullable=False),
        sa.Column('unread', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('owner_id', 'key', name='uq_conversations_owner_key'),
    )
    op.create_index('ix_conversations_owner_last', 'conversations', ['owner_id', 'last_status_id'])


def downgrade() -> None:
    op.drop_index('ix_conversations_owner_last', table_name='conversations')
    op.drop_table('conversations')
