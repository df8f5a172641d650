"""account notes: what a user wrote for herself about an account

Revision ID: f6b8d0a2c4e5
Revises: e3a5c7e9b1d3
Create Date: 2026-12-08 17:00:00.000000

`account_notes` holds a local user's private note about an account (POST
/api/v1/accounts/:id/note), shown to her alone as the Relationship's `note`.
"""

import sqlalchemy as sa
from alembic import op

revision = 'f6b8d0a2c4e5'
down_revision = 'e3a5c7e9b1d3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_notes',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('owner_id', sa.BigInteger(), nullable=False),
        sa.Column('target_id', sa.BigInteger(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['actors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['target_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('owner_id', 'target_id', name='uq_account_notes_pair'),
    )


def downgrade() -> None:
    op.drop_table('account_notes')
