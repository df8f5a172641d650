"""institution-only posts (objects.local_only) and the full-text search index of posts

Revision ID: c16a0b1c2d3e
Revises: c150b1c2d3e4
Create Date: 2026-12-07 00:00:00.000000

`objects.local_only` marks an institution-only post (added in place, false for every post
already there).

The search index follows every write to `objects`, whoever makes it (a local post, a remote
one, an edit, a deletion), because the database keeps it:
- SQLite: an FTS5 table `objects_fts` (rowid = objects.id; columns summary and body, the text of
  the HTML without markup by the SQL function `rounds_search_text`, which storage.db registers
  on every writer connection), filled by triggers on insert, on update of the text or of
  `deleted_at`, and on delete; a deleted post leaves it.
- PostgreSQL: a generated column `objects.search_vector` (tsvector, 'simple' configuration, the
  content warning weighted A and the body B, the markup stripped and the accents folded with
  translate(); NULL once the post is deleted) and a GIN index on it.
Neither is declared on the models (storage.search names them; tests/test_migrations.py leaves
them out of its comparison).
"""

import sqlalchemy as sa
from alembic import op

revision = 'c16a0b1c2d3e'
down_revision = 'c150b1c2d3e4'
branch_labels = None
depends_on = None

# as storage.text.ACCENTED and PLAIN at the time of this revision
ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUYY"


def _words(column: str) -> str:
    return f"translate(regexp_replace(coalesce({column}, ''), '<[^>]*>', ' ', 'g'), '{ACCENTED}', '{PLAIN}')"


POSTGRESQL_VECTOR = (
    "CASE WHEN deleted_at IS NULL THEN"
    f" setweight(to_tsvector('simple'::regconfig, {_words('summary')}), 'A')"
    f" || setweight(to_tsvector('simple'::regconfig, {_words('content')}), 'B') END"
)

INDEXED = ("INSERT INTO objects_fts (rowid, summary, body)"
           " SELECT new.id, rounds_search_text(new.summary), rounds_search_text(new.content)"
           " WHERE new.deleted_at IS NULL;")
SQLITE_TRIGGERS = {
    "trg_objects_fts_insert": f"CREATE TRIGGER trg_objects_fts_insert AFTER INSERT ON objects BEGIN {INDEXED} END",
    "trg_objects_fts_update": (
        "CREATE TRIGGER trg_objects_fts_update AFTER UPDATE OF content, summary, deleted_at ON objects BEGIN"
        f" DELETE FROM objects_fts WHERE rowid = old.id; {INDEXED} END"),
    "trg_objects_fts_delete": (
        "CREATE TRIGGER trg_objects_fts_delete AFTER DELETE ON objects BEGIN"
        " DELETE FROM objects_fts WHERE rowid = old.id; END"),
}


def upgrade() -> None:
    # in place, no batch: SQLite keeps the table's triggers
    op.add_column('objects', sa.Column('local_only', sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE objects_fts USING fts5(summary, body,"
                   " tokenize = 'unicode61 remove_diacritics 2')")
        op.execute("INSERT INTO objects_fts (rowid, summary, body) SELECT id, rounds_search_text(summary),"
                   " rounds_search_text(content) FROM objects WHERE deleted_at IS NULL")
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
        return
    op.execute(f"ALTER TABLE objects ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({POSTGRESQL_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_objects_search_vector ON objects USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE objects_fts")
    else:
        op.execute("DROP INDEX ix_objects_search_vector")
        op.execute("ALTER TABLE objects DROP COLUMN search_vector")
    op.drop_column('objects', 'local_only')  # SQLite 3.35+ drops it in place, keeping the triggers
