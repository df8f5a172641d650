"""Full-text search over posts: the index, and the posts a viewer may see that match a query.

The index is the database's own and follows every write to `objects` (the migration
c16a0b1c2d3e makes it; c16b0a1b2c3d adds `objects.search_body` to a post's body: an article's
whole text, which its post shows only in part): on SQLite the FTS5 table `objects_fts`, filled by triggers, ranked by
bm25; on PostgreSQL the generated tsvector column `objects.search_vector` under a GIN index,
ranked by ts_rank. A post's content warning weighs more than its body. Words match whole (no
stemming, so a word is found in French and in English alike), case and accents aside; a quoted
phrase matches its words in a row.

What a viewer may see is the read rule of `federation.social.access.can_see`, written as SQL so
that a page is filled before the limit applies (as storage.accounts_api writes it for an
account's posts): public and unlisted posts; followers-only ones of authors the viewer follows;
those that mention the viewer; the viewer's own; never an institution-only post for an anonymous
viewer. Left out as well: authors the viewer blocks, mutes or is blocked by, authors on blocked
peers, and authors on limited peers unless the viewer follows them (search is pull, not push,
but a limited peer stays out of sight until one follows its people).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, literal_column, or_, select, table, text, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.accounts_api import OPEN, has_media
from storage.coverage import blocked_author, limited_author
from storage.models import (
    Actor,
    Block,
    Follow,
    FollowState,
    Mention,
    Mute,
    Object,
    Poll,
    Tag,
    Visibility,
)
from storage.text import fold

# what the migration adds that the models do not declare (tests/test_migrations.py leaves them out)
SQLITE_INDEX = "objects_fts"
SQLITE_INDEX_TABLES = frozenset({SQLITE_INDEX, *(f"{SQLITE_INDEX}_{part}" for part in
                                                 ("data", "idx", "content", "docsize", "config"))})
VECTOR_COLUMN = "search_vector"

ARTICLE_TYPES = ("Article", "Page")


@dataclass(frozen=True)
class PostSearch:
    """What to look for: every word and phrase of `words` (a phrase is several words, found in a
    row), and the filters. No words: the filtered posts, newest first."""

    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()          # lowercase, without '#': the post has every one
    author_id: int | None = None
    domain: str | None = None           # the author's instance (this one's authority for local posts)
    since: datetime | None = None       # published at or after
    until: datetime | None = None       # published before
    has_media: bool = False
    has_poll: bool = False
    articles_only: bool = False         # Article and Page objects
    # TODO(communities, issue 15): a community's posts once communities exist; until then no post
    # is in any community, so the filter finds nothing
    community: str | None = None


def _fts_phrase(words: str) -> str:
    """One FTS5 phrase: the words in double quotes (a quote inside doubled), so that no
    character of the user's text is FTS5 syntax."""
    return '"' + words.replace('"', '""') + '"'


def _ranked(dialect: str, query: Select, words: tuple[str, ...]) -> Select:
    """`query` narrowed to posts holding every word and phrase, best first, then newest."""
    if dialect == "sqlite":
        index = table(SQLITE_INDEX, literal_column("rowid"))
        ranked = (select(literal_column("rowid").label("id"), literal_column(f"bm25({SQLITE_INDEX}, 4.0, 1.0)")
                         .label("rank"))
                  .select_from(index)
                  .where(text(f"{SQLITE_INDEX} MATCH :match").bindparams(match=" ".join(map(_fts_phrase, words))))
                  .subquery("ranked"))
        return query.join(ranked, ranked.c.id == Object.id).order_by(ranked.c.rank, Object.id.desc())
    vector = literal_column(f"objects.{VECTOR_COLUMN}")
    tsquery = None
    for phrase in words:
        one = func.phraseto_tsquery(literal_column("'simple'::regconfig"), fold(phrase))
        tsquery = one if tsquery is None else tsquery.op("&&")(one)
    return query.where(vector.op("@@")(tsquery)).order_by(func.ts_rank(vector, tsquery).desc(), Object.id.desc())


def seen_by(viewer_id: int | None) -> ColumnElement:
    """SQL: the post (Object) is one `viewer_id` (a local user, or None: anonymous) may see in
    search, by the rules of the module docstring."""
    if viewer_id is None:
        return and_(Object.visibility.in_(OPEN), Object.local_only.is_(False), ~blocked_author(Object.actor_id),
                    ~limited_author(Object.actor_id))
    followed = select(Follow.followee_id).where(Follow.follower_id == viewer_id, Follow.state == FollowState.accepted)
    mentioned = select(Mention.object_id).where(Mention.actor_id == viewer_id)
    hidden = union(select(Block.target_id).where(Block.actor_id == viewer_id),
                   select(Block.actor_id).where(Block.target_id == viewer_id),
                   select(Mute.target_id).where(Mute.actor_id == viewer_id))
    return and_(
        or_(Object.visibility.in_(OPEN), Object.actor_id == viewer_id, Object.id.in_(mentioned),
            and_(Object.visibility == Visibility.private, Object.actor_id.in_(followed))),
        Object.actor_id.not_in(hidden), ~blocked_author(Object.actor_id),
        or_(~limited_author(Object.actor_id), Object.actor_id.in_(followed)),
    )


def _filtered(search: PostSearch) -> list[ColumnElement]:
    conditions: list[ColumnElement] = [Object.deleted_at.is_(None)]
    for tag in search.tags:
        conditions.append(exists().where(Tag.object_id == Object.id, Tag.name == tag))
    if search.author_id is not None:
        conditions.append(Object.actor_id == search.author_id)
    if search.domain is not None:
        conditions.append(Object.actor_id.in_(select(Actor.id).where(Actor.domain == search.domain.lower())))
    if search.since is not None:
        conditions.append(Object.published >= search.since)
    if search.until is not None:
        conditions.append(Object.published < search.until)
    if search.has_media:
        conditions.append(has_media())
    if search.has_poll:
        conditions.append(or_(Object.type == "Question", exists().where(Poll.object_id == Object.id)))
    if search.articles_only:
        conditions.append(Object.type.in_(ARTICLE_TYPES))
    if search.community is not None:
        conditions.append(false())  # see PostSearch.community
    return conditions


def _statement(dialect: str, search: PostSearch, viewer_id: int | None) -> Select:
    query = select(Object).where(*_filtered(search), seen_by(viewer_id))
    if not search.words:
        return query.order_by(Object.id.desc())
    return _ranked(dialect, query, search.words)


async def search_posts(session: AsyncSession, search: PostSearch, viewer_id: int | None, *,
                       limit: int, offset: int) -> list[Object]:
    """The posts `viewer_id` may see that match `search`, best first (then newest first)."""
    statement = _statement(session.bind.dialect.name, search, viewer_id)
    return list(await session.scalars(statement.offset(offset).limit(limit)))


async def like_scan(session: AsyncSession, word: str, viewer_id: int | None, *, limit: int) -> list[Object]:
    """Posts whose HTML holds `word`, by a LIKE scan of every post, newest first: what search
    did before the index, kept as the baseline bench/search.py measures it against."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    statement = select(Object).where(Object.deleted_at.is_(None), seen_by(viewer_id), or_(
        Object.content.ilike(f"%{escaped}%", escape="\\"), Object.summary.ilike(f"%{escaped}%", escape="\\")))
    return list(await session.scalars(statement.order_by(Object.id.desc()).limit(limit)))

