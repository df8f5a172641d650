"""queue claims read their rows in claim order from an index

Revision ID: d2a4c6e8f0b1
Revises: c16c0b1c2d3e
Create Date: 2026-12-07 06:00:00.000000

A claim takes a queue's due rows in its order and stops at its limit (storage.leases); for that
an index must give the rows in that whole order, or SQLite (which has no statistics here) reads
and sorts every due row first:
- deliveries and push deliveries are claimed in id order: (state, id, next_attempt_at), the due
  time last so that rows deferred (a peer backing off) are skipped in the index. Their claim
  was planned on (state, next_attempt_at) and sorted the whole due backlog (14 ms per claim of
  100 over 30,000 queued deliveries, 0.23 ms now), and an outcome recorded by ids, guarded by
  the state, read every queued row through it (10 ms per outcome there; it seeks its rows by
  (state, id) now). (state, next_attempt_at) stays, for the oldest due row (storage.health).
- queued inbox items are claimed in (turn, id) order: (state, turn) becomes (state, turn, id);
  the ties of a turn were sorted, each row's `raw` copied into the sorter (0.48 -> 0.33 ms per
  window of 100 over a 3,000-item backlog).
PostgreSQL, which plans with statistics, did not sort the backlog, and takes the new indexes too.
"""

from alembic import op

revision = 'd2a4c6e8f0b1'
down_revision = 'c16c0b1c2d3e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_deliveries_state_id_next', 'deliveries', ['state', 'id', 'next_attempt_at'])
    op.create_index('ix_push_deliveries_state_id_next', 'push_deliveries', ['state', 'id', 'next_attempt_at'])
    op.drop_index('ix_inbox_items_state_turn', 'inbox_items')
    op.create_index('ix_inbox_items_state_turn_id', 'inbox_items', ['state', 'turn', 'id'])


def downgrade() -> None:
    op.drop_index('ix_inbox_items_state_turn_id', 'inbox_items')
    op.create_index('ix_inbox_items_state_turn', 'inbox_items', ['state', 'turn'])
    op.drop_index('ix_push_deliveries_state_id_next', 'push_deliveries')
    op.drop_index('ix_deliveries_state_id_next', 'deliveries')
