"""hashtags followed and featured

Revision ID: c17c0b1c2d3e
Revises: a4c6e8b0d2f3
Create Date: 2026-12-06 23:00:00.000000

`followed_tags`: the hashtags a local actor follows; the (name, actor) index finds a new post's
tag followers as it arrives. `featured_tags`: the hashtags she features on her profile.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c17c0b1c2d3e'
down_revision = 'a4c6e8b0d2f3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('followed_tags', 'featured_tags'):
        op.create_table(
            table,
            sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column('actor_id', sa.BigInteger(), nullable=False),
            sa.Column('name', sa.String(length=255), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id'),
            sa.UniqueConstraint('actor_id', 'name', name=f'uq_{table}_actor_name'),
        )
    op.create_index('ix_followed_tags_name_actor_id', 'followed_tags', ['name', 'actor_id'])


def downgrade() -> None:
    op.drop_index('ix_followed_tags_name_actor_id', 'followed_tags')
    op.drop_table('featured_tags')
    op.drop_table('followed_tags')
