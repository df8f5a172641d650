"""articles: Markdown articles, their earlier versions, community review, and alerts

Revision ID: c16b0a1b2c3d
Revises: c16a0b1c2d3e
Create Date: 2026-12-07 02:00:00.000000

- `articles` (an article: its Markdown source, whole rendered body, review state, version, who
  validated it; `object_id` is its post once published) and `article_versions` (the versions an
  edit replaced).
- `communities.articles_require_approval`: a moderator approves each article first.
- `followed_tags.notify` and `follows.notify` (a community's membership): alerts of new articles.
- `objects.search_body`: more HTML a post is found by (an article's whole body; its post's
  content is only its title, summary and link). The search index takes it with the body: on
  SQLite the triggers of `objects_fts` are made again to read it; on PostgreSQL the generated
  `objects.search_vector` is made again with it (the table is rewritten once), and its GIN index.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c16b0a1b2c3d'
down_revision = 'c16a0b1c2d3e'
branch_labels = None
depends_on = None

# as the revision c16a0b1c2d3e folds accents
ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUYY"


def _words(column: str) -> str:
    return f"translate(regexp_replace(coalesce({column}, ''), '<[^>]*>', ' ', 'g'), '{ACCENTED}', '{PLAIN}')"


def _vector(body: str) -> str:
    return ("CASE WHEN deleted_at IS NULL THEN"
            f" setweight(to_tsvector('simple'::regconfig, {_words('summary')}), 'A')"
            f" || setweight(to_tsvector('simple'::regconfig, {body}), 'B') END")


def _indexed(body: str) -> str:
    return ("INSERT INTO objects_fts (rowid, summary, body)"
            f" SELECT new.id, rounds_search_text(new.summary), {body} WHERE new.deleted_at IS NULL;")


def _triggers(body: str, columns: str) -> dict[str, str]:
    return {
        "trg_objects_fts_insert": f"CREATE TRIGGER trg_objects_fts_insert AFTER INSERT ON objects BEGIN {_indexed(body)} END",
        "trg_objects_fts_update": (
            f"CREATE TRIGGER trg_objects_fts_update AFTER UPDATE OF {columns} ON objects BEGIN"
            f" DELETE FROM objects_fts WHERE rowid = old.id; {_indexed(body)} END"),
    }


# before (as c16a0b1c2d3e made them) and after this revision
OLD_VECTOR = _vector(_words('content'))
NEW_VECTOR = _vector(f"{_words('content')} || ' ' || {_words('search_body')}")
OLD_TRIGGERS = _triggers("rounds_search_text(new.content)", "content, summary, deleted_at")
NEW_TRIGGERS = _triggers("rounds_search_text(new.content) || ' ' || rounds_search_text(coalesce(new.search_body, ''))",
                         "content, summary, deleted_at, search_body")
STATES = "state IN ('draft', 'in_review', 'published')"


def upgrade() -> None:
    op.create_table(
        'articles',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('author_id', sa.BigInteger(), nullable=False),
        sa.Column('object_id', sa.BigInteger(), nullable=True),
        sa.Column('community_id', sa.BigInteger(), nullable=True),
        sa.Column('local', sa.Boolean(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=True),
        sa.Column('references', sa.JSON(), nullable=True),
        sa.Column('visibility', sa.Enum('public', 'unlisted', 'private', 'direct', name='visibility',
                                        native_enum=False, length=16), nullable=False),
        sa.Column('local_only', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('state', sa.Enum('draft', 'in_review', 'published', name='articlestate', native_enum=False,
                                   length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('change_note', sa.Text(), nullable=False),
        sa.Column('review_note', sa.Text(), nullable=False),
        sa.Column('validated_by_id', sa.BigInteger(), nullable=True),
        sa.Column('validated_at', sa.DateTime(), nullable=True),
        sa.Column('validated_version', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint(STATES, name='ck_articles_state'),
        sa.ForeignKeyConstraint(['author_id'], ['actors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['object_id'], ['objects.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['community_id'], ['actors.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['validated_by_id'], ['actors.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('object_id'),
    )
    op.create_index('ix_articles_author_id_id', 'articles', ['author_id', 'id'], unique=False)
    op.create_index('ix_articles_community_id_state', 'articles', ['community_id', 'state'], unique=False)
    op.create_table(
        'article_versions',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('article_id', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('references', sa.JSON(), nullable=True),
        sa.Column('change_note', sa.Text(), nullable=False),
        sa.Column('made_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('article_id', 'version', name='uq_article_versions_article_version'),
    )
    # in place, no batch: SQLite keeps the tables' triggers (objects' search index)
    op.add_column('communities', sa.Column('articles_require_approval', sa.Boolean(), server_default=sa.false(),
                                           nullable=False))
    op.add_column('followed_tags', sa.Column('notify', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('follows', sa.Column('notify', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('objects', sa.Column('search_body', sa.Text(), nullable=True))
    _reindex(OLD_TRIGGERS, NEW_TRIGGERS, NEW_VECTOR)


def _reindex(old: dict[str, str], new: dict[str, str], vector: str) -> None:
    """The search index made again to read `vector`'s (or the triggers') columns. On SQLite no
    row changes (search_body is NULL until an article's post has one): only the triggers."""
    if op.get_bind().dialect.name == "sqlite":
        for name in old:
            op.execute(f"DROP TRIGGER {name}")
        for statement in new.values():
            op.execute(statement)
        return
    op.execute("DROP INDEX ix_objects_search_vector")
    op.execute("ALTER TABLE objects DROP COLUMN search_vector")
    op.execute(f"ALTER TABLE objects ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({vector}) STORED")
    op.execute("CREATE INDEX ix_objects_search_vector ON objects USING gin (search_vector)")


def downgrade() -> None:
    _reindex(NEW_TRIGGERS, OLD_TRIGGERS, OLD_VECTOR)
    op.drop_column('objects', 'search_body')  # SQLite 3.35+ drops it in place, keeping the triggers
    op.drop_column('follows', 'notify')
    op.drop_column('followed_tags', 'notify')
    op.drop_column('communities', 'articles_require_approval')
    op.drop_table('article_versions')
    op.drop_table('articles')
