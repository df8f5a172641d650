"""inbox turns: fair order among peers, and an index of each actor's queued items

Revision ID: b7d3e5f1a2c4
Revises: 9e4b1a3c5d27
Create Date: 2026-12-06 05:00:00.000000

`turn` is an inbox item's place in the queue, stamped at intake by start-time fair queuing over
peers (federation.inbox.turns); items queued before this revision take turn 0, so they come
first, in id (arrival) order. The partial index lists each actor's still-queued items in
arrival order, which a claim reads to keep an actor's activities in order.
"""

import sqlalchemy as sa
from alembic import op

revision = 'b7d3e5f1a2c4'
down_revision = '9e4b1a3c5d27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('inbox_items', sa.Column('turn', sa.BigInteger(), nullable=False, server_default='0'))
    op.create_index('ix_inbox_items_state_turn', 'inbox_items', ['state', 'turn'])
    queued = sa.text("state = 'queued'")
    op.create_index('ix_inbox_items_queued_actor', 'inbox_items', ['actor_uri', 'id'],
                    sqlite_where=queued, postgresql_where=queued)


def downgrade() -> None:
    op.drop_index('ix_inbox_items_queued_actor', 'inbox_items')
    op.drop_index('ix_inbox_items_state_turn', 'inbox_items')
    op.drop_column('inbox_items', 'turn')
