"""hardening: refused knocks on peers, the health probe, dead inbox items

Revision ID: 5b1e0c7d9a21
Revises: c3f8a2d6e1b4
Create Date: 2026-12-05 17:30:00.000000

Peers keep what the last refused request from them was: when, to which route, why, signed with
which key, and whether its signature was checked; an index on their state serves the reads that
hide blocked peers. The health check rewrites its one row in
health_probes to prove the database takes writes. Inbox items gain the `dead` state; the state
column is a plain string, so no change is needed for it.
"""

import sqlalchemy as sa
from alembic import op

revision = '5b1e0c7d9a21'
down_revision = 'c3f8a2d6e1b4'
branch_labels = None
depends_on = None

PEER_COLUMNS = (
    ('last_refused_at', sa.DateTime()),
    ('last_refused_route', sa.String(length=255)),
    ('last_refusal_reason', sa.Text()),
    ('last_key_id', sa.String(length=2048)),
    ('signature_state', sa.String(length=16)),
)


def upgrade() -> None:
    with op.batch_alter_table('peers') as batch:
        for name, type_ in PEER_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.create_index('ix_peers_state', 'peers', ['state'])
    op.create_table('health_probes',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('health_probes')
    op.drop_index('ix_peers_state', table_name='peers')
    with op.batch_alter_table('peers') as batch:
        for name, _ in reversed(PEER_COLUMNS):
            batch.drop_column(name)
