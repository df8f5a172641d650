"""posts reached homes: whether a post has been added to its followers' home timelines

Revision ID: 9e4b1a3c5d27
Revises: 7c2d4e6f8a10
Create Date: 2026-12-06 03:05:00.000000

A remote post fetched before its own Create arrives (as a reply's parent, a boost's target) is
stored without home-feed rows; its Create must then add them, once. The flag tells that post
from one whose Create was already handled. Posts stored before this revision had their Create
handled (or were local), so they count as having reached homes.
"""

import sqlalchemy as sa
from alembic import op

revision = '9e4b1a3c5d27'
down_revision = '7c2d4e6f8a10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('objects', sa.Column('reached_homes', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    op.drop_column('objects', 'reached_homes')  # SQLite 3.35+ drops it in place, keeping the triggers
