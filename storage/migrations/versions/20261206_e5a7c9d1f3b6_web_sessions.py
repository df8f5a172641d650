"""web sessions: a browser's sign-in to the web pages

Revision ID: e5a7c9d1f3b6
Revises: b7d3e5f1a2c4
Create Date: 2026-12-06 05:10:00.000000

The session cookie holds a random token; the table keeps only its SHA-256, with the account,
when it expires and whether it was revoked (signed out), so that any session can be ended from
the server side.
"""

import sqlalchemy as sa
from alembic import op

revision = 'e5a7c9d1f3b6'
down_revision = 'b7d3e5f1a2c4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_sessions',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('user_agent', sa.String(length=255), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_web_sessions_account_id', 'web_sessions', ['account_id'])


def downgrade() -> None:
    op.drop_index('ix_web_sessions_account_id', 'web_sessions')
    op.drop_table('web_sessions')
