"""filters and notification policy: filters v2, grouped notifications, what a practitioner lets through

Revision ID: c17b0b1c2d3e
Revises: c17a0b1c2d3e
Create Date: 2026-12-06 23:30:00.000000

`filters` with their `filter_keywords` and `filter_statuses` are a practitioner's content filters.
`notifications` gain `group_key` (the group a notification joins in /api/v2/notifications; NULL,
as for every notification written before this revision, is a group of its own) and `filtered`
(held back by the recipient's policy). `notification_policies` holds a practitioner's policy
(no row: the defaults), `notification_requests` one row per sender whose notifications the
policy held back.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c17b0b1c2d3e'
down_revision = 'c17a0b1c2d3e'
branch_labels = None
depends_on = None


def _action(name: str, default: str) -> sa.Column:
    return sa.Column(name, sa.Enum('accept', 'filter', 'drop', name='policyaction', native_enum=False, length=8),
                     server_default=default, nullable=False)


def upgrade() -> None:
    op.create_table(
        'filters',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=False),
        sa.Column('title', sa.String(length=256), nullable=False),
        sa.Column('contexts', sa.String(length=64), nullable=False),
        sa.Column('action', sa.Enum('warn', 'hide', 'blur', name='filteraction', native_enum=False, length=8),
                  nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_filters_actor_id', 'filters', ['actor_id'])
    op.create_table(
        'filter_keywords',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('filter_id', sa.BigInteger(), nullable=False),
        sa.Column('keyword', sa.String(length=512), nullable=False),
        sa.Column('whole_word', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['filter_id'], ['filters.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_filter_keywords_filter_id', 'filter_keywords', ['filter_id'])
    op.create_table(
        'filter_statuses',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('filter_id', sa.BigInteger(), nullable=False),
        sa.Column('object_id', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['filter_id'], ['filters.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('filter_id', 'object_id'),
    )
    op.create_index('ix_filter_statuses_object_id', 'filter_statuses', ['object_id'])
    op.create_table(
        'notification_policies',
        sa.Column('actor_id', sa.BigInteger(), autoincrement=False, nullable=False),
        _action('for_not_following', 'accept'),
        _action('for_not_followers', 'accept'),
        _action('for_new_accounts', 'accept'),
        _action('for_private_mentions', 'accept'),
        _action('for_limited_accounts', 'accept'),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('actor_id'),
    )
    op.create_table(
        'notification_requests',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('recipient_id', sa.BigInteger(), nullable=False),
        sa.Column('from_actor_id', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.Enum('pending', 'dismissed', 'accepted', name='requeststate', native_enum=False,
                                   length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['recipient_id'], ['actors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['from_actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('recipient_id', 'from_actor_id'),
    )
    op.add_column('notifications', sa.Column('group_key', sa.String(length=64), nullable=True))
    op.add_column('notifications', sa.Column('filtered', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_notifications_recipient_id_group_key', 'notifications', ['recipient_id', 'group_key'])


def downgrade() -> None:
    op.drop_index('ix_notifications_recipient_id_group_key', table_name='notifications')
    op.drop_column('notifications', 'filtered')
    op.drop_column('notifications', 'group_key')
    op.drop_table('notification_requests')
    op.drop_table('notification_policies')
    op.drop_index('ix_filter_statuses_object_id', table_name='filter_statuses')
    op.drop_table('filter_statuses')
    op.drop_index('ix_filter_keywords_filter_id', table_name='filter_keywords')
    op.drop_table('filter_keywords')
    op.drop_index('ix_filters_actor_id', table_name='filters')
    op.drop_table('filters')
