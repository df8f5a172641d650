"""polls: options with their counts, and votes

Revision ID: c3f8a2d6e1b4
Revises: b7e1c4a9d2f0
Create Date: 2026-11-22 16:00:00.000000

A poll shares its post's id. Votes are unique per voter and option, so a redelivered vote
counts once; the counts are columns the votes increment.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c3f8a2d6e1b4'
down_revision = 'b7e1c4a9d2f0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('polls',
    sa.Column('object_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('multiple', sa.Boolean(), nullable=False),
    sa.Column('hide_totals', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('voters_count', sa.BigInteger(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('update_due_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('object_id')
    )
    op.create_index('ix_polls_open_expires_at', 'polls', ['expires_at'],
                    sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
    op.create_index('ix_polls_update_due_at', 'polls', ['update_due_at'],
                    sqlite_where=sa.text('update_due_at IS NOT NULL'),
                    postgresql_where=sa.text('update_due_at IS NOT NULL'))
    op.create_table('poll_options',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('votes_count', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['polls.object_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('object_id', 'position', name='uq_poll_options_poll_position')
    )
    op.create_table('poll_votes',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=False),
    sa.Column('choice', sa.BigInteger(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['object_id'], ['polls.object_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('object_id', 'actor_id', 'choice', name='uq_poll_votes_voter_choice'),
    sa.UniqueConstraint('uri')
    )
    op.create_index('ix_poll_votes_actor_id', 'poll_votes', ['actor_id'])


def downgrade() -> None:
    op.drop_index('ix_poll_votes_actor_id', table_name='poll_votes')
    op.drop_table('poll_votes')
    op.drop_table('poll_options')
    op.drop_index('ix_polls_update_due_at', table_name='polls')
    op.drop_index('ix_polls_open_expires_at', table_name='polls')
    op.drop_table('polls')
