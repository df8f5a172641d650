"""announcements (with dismissals and reactions), custom emojis, and the app a local post came from

Revision ID: c17a0b1c2d3e
Revises: c17d0b1c2d3e
Create Date: 2026-12-06 23:00:00.000000

`announcements` are admins' notices to every user; `announcement_dismissals` and
`announcement_reactions` are each user's. `custom_emojis` holds ours (`domain` empty: a file
under the media directory) and peers' (`domain` their host: the image URL their Emoji tags gave),
unique per shortcode and domain. `objects.application_id` is the OAuth app that posted a local
post (Mastodon's status `application`); no foreign key, so that SQLite adds it in place: a
post whose app was deleted shows none.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c17a0b1c2d3e'
down_revision = 'c17d0b1c2d3e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'announcements',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=True),
        sa.Column('ends_at', sa.DateTime(), nullable=True),
        sa.Column('all_day', sa.Boolean(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'announcement_dismissals',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('announcement_id', sa.BigInteger(), nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('announcement_id', 'actor_id', name='uq_announcement_dismissals'),
    )
    op.create_index('ix_announcement_dismissals_actor_id', 'announcement_dismissals', ['actor_id'])
    op.create_table(
        'announcement_reactions',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('announcement_id', sa.BigInteger(), nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('announcement_id', 'actor_id', 'name', name='uq_announcement_reactions'),
    )
    op.create_table(
        'custom_emojis',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('shortcode', sa.String(length=64), nullable=False),
        sa.Column('domain', sa.String(length=255), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=True),
        sa.Column('file_name', sa.String(length=255), nullable=True),
        sa.Column('static_file_name', sa.String(length=255), nullable=True),
        sa.Column('mime_type', sa.String(length=64), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=True),
        sa.Column('visible_in_picker', sa.Boolean(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('shortcode', 'domain', name='uq_custom_emojis_shortcode_domain'),
    )
    # in place, no batch: SQLite keeps the table's triggers
    op.add_column('objects', sa.Column('application_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('objects', 'application_id')  # SQLite 3.35+ drops it in place, keeping the triggers
    op.drop_table('custom_emojis')
    op.drop_table('announcement_reactions')
    op.drop_index('ix_announcement_dismissals_actor_id', 'announcement_dismissals')
    op.drop_table('announcement_dismissals')
    op.drop_table('announcements')
