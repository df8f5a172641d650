"""invitations: sign-up links made by staff

Revision ID: a4c6e8b0d2f3
Revises: f3a8c1d5e7b2
Create Date: 2026-12-06 21:00:00.000000

`invitations` holds one row per link: its code (kept as is: staff read it back from the
console), who made it, when it expires, how many uses it allows and has had, and when it was
revoked.
"""

import sqlalchemy as sa
from alembic import op

revision = 'a4c6e8b0d2f3'
down_revision = 'f3a8c1d5e7b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invitations',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('note', sa.String(length=500), server_default='', nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('max_uses', sa.BigInteger(), nullable=True),
        sa.Column('uses', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )


def downgrade() -> None:
    op.drop_table('invitations')
