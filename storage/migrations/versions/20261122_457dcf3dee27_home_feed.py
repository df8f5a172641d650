"""home feed

Revision ID: 457dcf3dee27
Revises: 8e38217a1afa
Create Date: 2026-11-22 12:07:32.446872
"""

import sqlalchemy as sa
from alembic import op

revision = '457dcf3dee27'
down_revision = '8e38217a1afa'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_objects_live_actor_id", "objects", ["actor_id", "id"],
                    sqlite_where=sa.text("deleted_at IS NULL"), postgresql_where=sa.text("deleted_at IS NULL"))
    op.create_table('home_feed',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('boost', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner_id', 'item_id', name='uq_home_feed_owner_item')
    )
    with op.batch_alter_table('home_feed', schema=None) as batch_op:
        batch_op.create_index('ix_home_feed_owner_author', ['owner_id', 'author_id'], unique=False)



def downgrade() -> None:
    op.drop_index("ix_objects_live_actor_id", table_name="objects")
    with op.batch_alter_table('home_feed', schema=None) as batch_op:
        batch_op.drop_index('ix_home_feed_owner_author')

    op.drop_table('home_feed')
