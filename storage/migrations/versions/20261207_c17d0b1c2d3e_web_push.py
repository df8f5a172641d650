"""web push: subscriptions, the queue of pushes, the instance's VAPID key

Revision ID: c17d0b1c2d3e
Revises: a4c6e8b0d2f3
Create Date: 2026-12-07 00:00:00.000000

`push_subscriptions` holds what a client app registered through /api/v1/push/subscription (one
per access token), `push_deliveries` the pushes waiting to go out (a queue with the deliveries'
states), and `vapid_keys` the instance's P-256 key pair that signs them (RFC 8292).
"""

import sqlalchemy as sa
from alembic import op

revision = 'c17d0b1c2d3e'
down_revision = 'a4c6e8b0d2f3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'push_subscriptions',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('token_id', sa.BigInteger(), nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=False),
        sa.Column('endpoint', sa.String(length=2048), nullable=False),
        sa.Column('p256dh', sa.String(length=128), nullable=False),
        sa.Column('auth', sa.String(length=64), nullable=False),
        sa.Column('alerts', sa.JSON(), nullable=False),
        sa.Column('policy', sa.String(length=16), nullable=False),
        sa.Column('standard', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['token_id'], ['oauth_tokens.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_id'),
    )
    op.create_index('ix_push_subscriptions_actor_id', 'push_subscriptions', ['actor_id'])
    op.create_table(
        'push_deliveries',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('subscription_id', sa.BigInteger(), nullable=False),
        sa.Column('notification_id', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'delivered', 'dead', 'cancelled')", name='ck_push_deliveries_state'),
        sa.ForeignKeyConstraint(['subscription_id'], ['push_subscriptions.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_push_deliveries_state_next', 'push_deliveries', ['state', 'next_attempt_at'])
    op.create_index('ix_push_deliveries_subscription_id', 'push_deliveries', ['subscription_id'])
    op.create_index('ix_push_deliveries_notification_id', 'push_deliveries', ['notification_id'])
    op.create_table(
        'vapid_keys',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('private_key_pem', sa.Text(), nullable=False),
        sa.Column('public_key', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('vapid_keys')
    op.drop_index('ix_push_deliveries_notification_id', table_name='push_deliveries')
    op.drop_index('ix_push_deliveries_subscription_id', table_name='push_deliveries')
    op.drop_index('ix_push_deliveries_state_next', table_name='push_deliveries')
    op.drop_table('push_deliveries')
    op.drop_index('ix_push_subscriptions_actor_id', table_name='push_subscriptions')
    op.drop_table('push_subscriptions')
