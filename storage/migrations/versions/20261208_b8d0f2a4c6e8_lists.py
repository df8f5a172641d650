"""lists: a practitioner's named subsets of the accounts she follows, each its own timeline

Revision ID: b8d0f2a4c6e8
Revises: a7c9e1f3b5d7
Create Date: 2026-12-08 13:00:00.000000

`lists` holds each list (its owner, title, which replies it shows, whether its members leave
the home timeline), `list_members` the accounts in it (storage.models.lists).
"""

import sqlalchemy as sa
from alembic import op

revision = 'b8d0f2a4c6e8'
down_revision = 'a7c9e1f3b5d7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lists',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('owner_id', sa.BigInteger(), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('replies_policy', sa.String(length=16), nullable=False),
        sa.Column('exclusive', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_lists_owner_id', 'lists', ['owner_id'])
    op.create_table(
        'list_members',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('list_id', sa.BigInteger(), nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['list_id'], ['lists.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('list_id', 'actor_id', name='uq_list_members_pair'),
    )
    op.create_index('ix_list_members_actor_id', 'list_members', ['actor_id'])


def downgrade() -> None:
    op.drop_index('ix_list_members_actor_id', table_name='list_members')
    op.drop_table('list_members')
    op.drop_index('ix_lists_owner_id', table_name='lists')
    op.drop_table('lists')
