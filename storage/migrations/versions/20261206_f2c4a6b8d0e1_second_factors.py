"""second factors: a practitioner's TOTP secret and recovery codes; sign-ins waiting for a code

Revision ID: f2c4a6b8d0e1
Revises: e5a7c9d1f3b6
Create Date: 2026-12-06 20:00:00.000000

`second_factors` holds one TOTP secret per account (unconfirmed while she enrols) and the time
step of the last code accepted, so a code works once. `recovery_codes` keeps only SHA-256
digests. A web session opened by a password alone is `second_factor_pending` until its code
arrives, and signs no one in meanwhile.
"""

import sqlalchemy as sa
from alembic import op

revision = 'f2c4a6b8d0e1'
down_revision = 'e5a7c9d1f3b6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'second_factors',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id'),
    )
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_recovery_codes_account_id', 'recovery_codes', ['account_id'])
    with op.batch_alter_table('web_sessions') as batch:
        batch.add_column(sa.Column('second_factor_pending', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('web_sessions') as batch:
        batch.drop_column('second_factor_pending')
    op.drop_index('ix_recovery_codes_account_id', 'recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_table('second_factors')
