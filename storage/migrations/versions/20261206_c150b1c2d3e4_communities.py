"""communities: Group actors hosted here, their moderators and bans

Revision ID: c150b1c2d3e4
Revises: c17c0b1c2d3e
Create Date: 2026-12-06 23:00:00.000000

A community is a `Group` row of `actors`; `communities` holds its policy (who may join, who
may post, institution-only), `community_moderators` and `community_bans` who moderates it and
who may not join it. Membership is the group's follows.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c150b1c2d3e4'
down_revision = 'c17c0b1c2d3e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'communities',
        sa.Column('actor_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('join_policy', sa.Enum('open', 'approval', 'invite', name='joinpolicy', native_enum=False,
                                         length=16), nullable=False),
        sa.Column('posting', sa.Enum('members', 'moderators', name='postingpolicy', native_enum=False,
                                     length=16), nullable=False),
        sa.Column('local_only', sa.Boolean(), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=True),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('actor_id'),
    )
    for table in ('community_moderators', 'community_bans'):
        op.create_table(
            table,
            sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column('community_id', sa.BigInteger(), nullable=False),
            sa.Column('actor_id', sa.BigInteger(), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(['community_id'], ['actors.id'], ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id'),
            sa.UniqueConstraint('community_id', 'actor_id', name=f'uq_{table}_pair'),
        )
        op.create_index(f'ix_{table}_actor_id', table, ['actor_id'], unique=False)


def downgrade() -> None:
    op.drop_table('community_bans')
    op.drop_table('community_moderators')
    op.drop_table('communities')
