"""admin console: the instance's run-time profile, and the moderator role

Revision ID: f3a8c1d5e7b2
Revises: f2c4a6b8d0e1
Create Date: 2026-12-06 20:00:00.000000

`instance_profile` holds one row: what admins change from the admin pages while the instance
runs (name, description, rules, registrations); a NULL name or description falls back to the
config file. `accounts.is_moderator` marks the users who look after users and queues.
"""

import sqlalchemy as sa
from alembic import op

revision = 'f3a8c1d5e7b2'
down_revision = 'f2c4a6b8d0e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'instance_profile',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('name', sa.String(length=255), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('rules', sa.Text(), server_default='', nullable=False),
        sa.Column('registrations', sa.String(length=16), server_default='closed', nullable=False),
        sa.Column('changed_by', sa.String(length=255), nullable=True),
        sa.Column('changed_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('is_moderator', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('is_moderator')
    op.drop_table('instance_profile')
