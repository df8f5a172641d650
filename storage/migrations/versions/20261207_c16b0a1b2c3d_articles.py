"""articles: Markdown articles, their earlier versions, community review, and alerts

Revision ID: c16b0a1b2c3d
Revises: c16a0b1c2d3e
Create Date: 2026-12-07 02:00:00.000000

- `articles` (an article: its Markdown source, whole rendered body, review state, version, who
  validated it; `object_id` is its post once published) and `article_versions` (the versions an
  edit replaced).
- `communities.articles_require_approval`: a moderator approves each article first.
- `followed_tags.notify` and `follows.notify` (a community's membership): alerts of new articles.
- The search index of the articles' bodies (storage.search), kept by the database as the posts'
  one is: on SQLite an FTS5 table `articles_fts` (rowid = the article's post id, so only
  published articles are in it; columns summary = title and summary, body = the body's text),
  filled by triggers on `articles`; on PostgreSQL a generated tsvector `articles.search_vector`
  (title and summary weighted A, the body B; NULL while the article has no post) under a GIN index.
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


POSTGRESQL_VECTOR = (
    "CASE WHEN object_id IS NOT NULL THEN"
    f" setweight(to_tsvector('simple'::regconfig, {_words('title')} || ' ' || {_words('summary')}), 'A')"
    f" || setweight(to_tsvector('simple'::regconfig, {_words('content')}), 'B') END"
)
INDEXED = ("INSERT INTO articles_fts (rowid, summary, body)"
           " SELECT new.object_id, rounds_search_text(new.title || ' ' || new.summary), rounds_search_text(new.content)"
           " WHERE new.object_id IS NOT NULL;")
SQLITE_TRIGGERS = {
    "trg_articles_fts_insert": f"CREATE TRIGGER trg_articles_fts_insert AFTER INSERT ON articles BEGIN {INDEXED} END",
    "trg_articles_fts_update": (
        "CREATE TRIGGER trg_articles_fts_update AFTER UPDATE OF title, summary, content, object_id ON articles BEGIN"
        f" DELETE FROM articles_fts WHERE rowid = old.object_id; {INDEXED} END"),
    "trg_articles_fts_delete": (
        "CREATE TRIGGER trg_articles_fts_delete AFTER DELETE ON articles BEGIN"
        " DELETE FROM articles_fts WHERE rowid = old.object_id; END"),
}
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
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(summary, body,"
                   " tokenize = 'unicode61 remove_diacritics 2')")
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
        return
    op.execute(f"ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({POSTGRESQL_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE articles_fts")
    op.drop_column('follows', 'notify')
    op.drop_column('followed_tags', 'notify')
    op.drop_column('communities', 'articles_require_approval')
    op.drop_table('article_versions')
    op.drop_table('articles')
