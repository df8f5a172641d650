"""account moves: the account a peer's account moved to

Revision ID: e3a5c7e9b1d3
Revises: d0f2b4c6e8a1
Create Date: 2026-12-08 16:00:00.000000

`actors.moved_to_id` names the account an account moved to, once its Move was taken (the new
account naming the old among its aliases): the client API shows it as the account's `moved`.
"""

import sqlalchemy as sa
from alembic import op

revision = 'e3a5c7e9b1d3'
down_revision = 'd0f2b4c6e8a1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('actors', sa.Column('moved_to_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # not a batch (which copies the table, and trips the triggers that name it): SQLite 3.35 and
    # PostgreSQL drop a column in place
    op.execute("ALTER TABLE actors DROP COLUMN moved_to_id")
