"""hashtags followed and featured; quote posts

Revision ID: c17c0b1c2d3e
Revises: c17b0b1c2d3e
Create Date: 2026-12-06 23:00:00.000000

`followed_tags`: the hashtags a local actor follows; the (name, actor) index finds a new post's
tag followers as it arrives. `featured_tags`: the hashtags she features on her profile.
`quotes`: a post quoting another (FEP-044f), by the quoting post's id, with the quoted author's
answer (its states: storage.states.QUOTES); `objects.quote_policy`: who may quote a post.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c17c0b1c2d3e'
down_revision = 'c17b0b1c2d3e'
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
    op.create_table(
        'quotes',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('uri', sa.String(length=2048), nullable=False),
        sa.Column('object_id', sa.BigInteger(), nullable=True),
        sa.Column('quoted_uri', sa.String(length=2048), nullable=False),
        sa.Column('quoted_id', sa.BigInteger(), nullable=True),
        sa.Column('state', sa.Enum('pending', 'accepted', 'rejected', 'revoked', name='quotestate',
                                   native_enum=False, length=16), nullable=False),
        sa.Column('approval_uri', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'accepted', 'rejected', 'revoked')", name='ck_quotes_state'),
        sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['quoted_id'], ['objects.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uri'),
        sa.UniqueConstraint('object_id'),
        sa.UniqueConstraint('approval_uri'),
    )
    op.create_index('ix_quotes_quoted_id_id', 'quotes', ['quoted_id', 'id'])
    op.add_column('objects', sa.Column('quote_policy', sa.String(length=16), nullable=True))  # in place: triggers stay


def downgrade() -> None:
    op.drop_column('objects', 'quote_policy')  # SQLite 3.35+ drops it in place, keeping the triggers
    op.drop_index('ix_quotes_quoted_id_id', 'quotes')
    op.drop_table('quotes')
    op.drop_index('ix_followed_tags_name_actor_id', 'followed_tags')
    op.drop_table('featured_tags')
    op.drop_table('followed_tags')
