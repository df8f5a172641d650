"""account counters kept by triggers

Revision ID: b7e1c4a9d2f0
Revises: 457dcf3dee27
Create Date: 2026-11-22 14:00:00.000000

Each actor keeps its followers, following and statuses counts and its newest status id, so an
account entity is read, not counted: counting an author's statuses on every rendering costs in
proportion to how much they have posted. Triggers keep the counts, so no write path (outbox,
inbox handlers, cascading deletes, bulk inserts) can forget to.
"""

import sqlalchemy as sa
from alembic import op

revision = 'b7e1c4a9d2f0'
down_revision = '457dcf3dee27'
branch_labels = None
depends_on = None

COUNTERS = ("followers_count", "following_count", "statuses_count")

# SQLite: one trigger per event. A row counts while it is live (objects) or accepted (follows);
# an UPDATE takes the old row's share away and adds the new row's.
SQLITE_TRIGGERS = {
    "trg_objects_counts_insert": """
        CREATE TRIGGER trg_objects_counts_insert AFTER INSERT ON objects WHEN NEW.deleted_at IS NULL
        BEGIN
            UPDATE actors SET statuses_count = statuses_count + 1,
                last_status_id = max(coalesce(last_status_id, 0), NEW.id) WHERE id = NEW.actor_id;
        END""",
    "trg_objects_counts_delete": """
        CREATE TRIGGER trg_objects_counts_delete AFTER DELETE ON objects WHEN OLD.deleted_at IS NULL
        BEGIN
            UPDATE actors SET statuses_count = statuses_count - 1 WHERE id = OLD.actor_id;
        END""",
    "trg_objects_counts_update": """
        CREATE TRIGGER trg_objects_counts_update AFTER UPDATE OF deleted_at, actor_id ON objects
        BEGIN
            UPDATE actors SET statuses_count = statuses_count - 1
                WHERE id = OLD.actor_id AND OLD.deleted_at IS NULL;
            UPDATE actors SET statuses_count = statuses_count + 1
                WHERE id = NEW.actor_id AND NEW.deleted_at IS NULL;
        END""",
    "trg_follows_counts_insert": """
        CREATE TRIGGER trg_follows_counts_insert AFTER INSERT ON follows WHEN NEW.state = 'accepted'
        BEGIN
            UPDATE actors SET followers_count = followers_count + 1 WHERE id = NEW.followee_id;
            UPDATE actors SET following_count = following_count + 1 WHERE id = NEW.follower_id;
        END""",
    "trg_follows_counts_delete": """
        CREATE TRIGGER trg_follows_counts_delete AFTER DELETE ON follows WHEN OLD.state = 'accepted'
        BEGIN
            UPDATE actors SET followers_count = followers_count - 1 WHERE id = OLD.followee_id;
            UPDATE actors SET following_count = following_count - 1 WHERE id = OLD.follower_id;
        END""",
    "trg_follows_counts_update": """
        CREATE TRIGGER trg_follows_counts_update AFTER UPDATE OF state, follower_id, followee_id ON follows
        BEGIN
            UPDATE actors SET followers_count = followers_count - 1
                WHERE id = OLD.followee_id AND OLD.state = 'accepted';
            UPDATE actors SET following_count = following_count - 1
                WHERE id = OLD.follower_id AND OLD.state = 'accepted';
            UPDATE actors SET followers_count = followers_count + 1
                WHERE id = NEW.followee_id AND NEW.state = 'accepted';
            UPDATE actors SET following_count = following_count + 1
                WHERE id = NEW.follower_id AND NEW.state = 'accepted';
        END""",
}

# PostgreSQL: one function per table, the same rules.
POSTGRESQL_FUNCTIONS = {
    "objects": """
        CREATE FUNCTION rounds_objects_counts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
                UPDATE actors SET statuses_count = statuses_count - 1 WHERE id = OLD.actor_id;
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
                UPDATE actors SET statuses_count = statuses_count + 1,
                    last_status_id = greatest(coalesce(last_status_id, 0), NEW.id) WHERE id = NEW.actor_id;
            END IF;
            RETURN NULL;
        END $$""",
    "follows": """
        CREATE FUNCTION rounds_follows_counts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'accepted' THEN
                UPDATE actors SET followers_count = followers_count - 1 WHERE id = OLD.followee_id;
                UPDATE actors SET following_count = following_count - 1 WHERE id = OLD.follower_id;
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.state = 'accepted' THEN
                UPDATE actors SET followers_count = followers_count + 1 WHERE id = NEW.followee_id;
                UPDATE actors SET following_count = following_count + 1 WHERE id = NEW.follower_id;
            END IF;
            RETURN NULL;
        END $$""",
}
POSTGRESQL_TRIGGERS = {
    "objects": "AFTER INSERT OR DELETE OR UPDATE OF deleted_at, actor_id",
    "follows": "AFTER INSERT OR DELETE OR UPDATE OF state, follower_id, followee_id",
}

BACKFILL = """
    UPDATE actors SET
        followers_count = (SELECT count(*) FROM follows
                           WHERE follows.followee_id = actors.id AND follows.state = 'accepted'),
        following_count = (SELECT count(*) FROM follows
                           WHERE follows.follower_id = actors.id AND follows.state = 'accepted'),
        statuses_count = (SELECT count(*) FROM objects
                          WHERE objects.actor_id = actors.id AND objects.deleted_at IS NULL),
        last_status_id = (SELECT max(objects.id) FROM objects
                          WHERE objects.actor_id = actors.id AND objects.deleted_at IS NULL)
"""


def upgrade() -> None:
    for name in COUNTERS:
        op.add_column("actors", sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.add_column("actors", sa.Column("last_status_id", sa.BigInteger(), nullable=True))
    op.execute(BACKFILL)
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
        return
    for table, function in POSTGRESQL_FUNCTIONS.items():
        op.execute(function)
        op.execute(f"CREATE TRIGGER trg_{table}_counts {POSTGRESQL_TRIGGERS[table]} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION rounds_{table}_counts()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for table in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP TRIGGER trg_{table}_counts ON {table}")
            op.execute(f"DROP FUNCTION rounds_{table}_counts()")
    with op.batch_alter_table("actors") as batch_op:
        for name in (*COUNTERS, "last_status_id"):
            batch_op.drop_column(name)
