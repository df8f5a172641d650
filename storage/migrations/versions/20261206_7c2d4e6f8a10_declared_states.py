"""declared states: the state columns of follows, inbox items and deliveries hold only declared states

Revision ID: 7c2d4e6f8a10
Revises: 5b1e0c7d9a21
Create Date: 2026-12-06 02:10:00.000000

storage/states.py declares each queue-like table's states and moves; the columns are plain
strings, so until now the database took any value. A CHECK constraint per column makes a state
no declaration names impossible to write, whoever writes it. The states are written out here,
as they are at this revision: a later state is added by a later migration.

SQLite cannot add a constraint to a table: the batch copies the table into a new one, which
loses the table's triggers (the follows' account counters), so they are made again after it.
"""

import sqlalchemy as sa
from alembic import op

revision = '7c2d4e6f8a10'
down_revision = '5b1e0c7d9a21'
branch_labels = None
depends_on = None

STATES = {
    'follows': ('pending', 'accepted', 'rejected', 'undone'),
    'inbox_items': ('queued', 'done', 'ignored', 'failed', 'dead', 'discarded'),
    'deliveries': ('queued', 'delivered', 'dead', 'cancelled'),
}


def constraint_name(table: str) -> str:
    return f'ck_{table}_state'


def condition(states: tuple[str, ...]) -> str:
    return "state IN (" + ", ".join(f"'{state}'" for state in states) + ")"


def upgrade() -> None:
    for table, states in STATES.items():
        triggers = _sqlite_triggers(table)
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(constraint_name(table), condition(states))
        _recreate(triggers)


def downgrade() -> None:
    for table in reversed(STATES):
        triggers = _sqlite_triggers(table)
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(constraint_name(table), type_='check')
        _recreate(triggers)


def _sqlite_triggers(table: str) -> list[str]:
    """The statements that made `table`'s triggers (SQLite; PostgreSQL alters the table in place)."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return []
    rows = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"),
                        {'table': table})
    return [sql for sql, in rows]


def _recreate(triggers: list[str]) -> None:
    for statement in triggers:
        op.execute(statement)
