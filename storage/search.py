"""Full-text search over posts: the index, and the posts a viewer may see that match a query.

The index is the database's own and follows every write to `objects` (the migration
c16a0b1c2d3e makes it; c16b0a1b2c3d adds `objects.search_body` to a post's body: an article's
whole text, which its post shows only in part): on SQLite the FTS5 table `objects_fts`, filled by triggers, ranked by
bm25; on PostgreSQL the generated tsvector column `objects.search_vector` under a GIN index,
ranked by ts_rank. A post's content warning weighs more than its body. Words match whole (no
stemming, so a word is found in French and in English alike), case and accents aside; a quoted
phrase matches its words in a row.

Only the newest matches are ranked: the decision to know. Ranking scores every match it ranks,
and a word found in one post in eight (12,000 matches among 100,000 posts) cost 66 ms on SQLite
and 76 ms on PostgreSQL when every match was ranked before the limit. So the newest `RANKED`
(500) matches are taken from the index first, before the read rule: FTS5 walks its posting list
backwards and stops there; PostgreSQL, planning this step on its own estimates, walks the
primary key back for a common word and reads the GIN index for a rare one, or a phrase (with
the read rule's subqueries in the same step it guessed them selective and read every match). Of those, the
posts the viewer may see come first, best first (then newest); then every older match the
viewer may see, newest first. So every page is full and no post comes twice or goes missing,
however many of the ranked matches the viewer may not see (they only leave fewer ranked). The
trade-off: for a word in more than 500 posts, an older post that would rank higher comes after
the newer ones; a query specific to a topic has fewer matches, and all of them are ranked.

What a viewer may see is the read rule of `federation.social.access.can_see`, written as SQL so
that a page is filled before the limit applies (as storage.accounts_api writes it for an
account's posts): public and unlisted posts; followers-only ones of authors the viewer follows;
those that mention the viewer; the viewer's own; never an institution-only post for an anonymous
viewer. Left out as well: authors the viewer blocks, mutes or is blocked by, authors on blocked
peers, and authors on limited peers unless the viewer follows them (search is pull, not push,
but a limited peer stays out of sight until one follows its people).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.accounts_api import OPEN, has_media
from storage.coverage import blocked_author, limited_author
from storage.models import (
    Actor,
    Announce,
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

# how many of the newest matches are ranked (the module docstring says why)
RANKED = 500


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
    community_id: int | None = None     # posts the community (a Group, here or elsewhere) announced


def _fts_phrase(words: str) -> str:
    """One FTS5 phrase: the words in double quotes (a quote inside doubled), so that no
    character of the user's text is FTS5 syntax."""
    return '"' + words.replace('"', '""') + '"'


def _newest_matches(dialect: str, search: PostSearch) -> Select:
    """The posts holding every word and phrase of `search` and passing its filters, newest first,
    before the read rule: their `id` and what ranks them (SQLite: `rank`, bm25, lower is better;
    PostgreSQL: `vector`, for ts_rank). The read rule stays out so that each database plans
    this part on its own estimates: walking the newest posts back for a common word, the index
    for a rare one."""
    filters = _filtered(search)
    if dialect == "sqlite":
        rowid = literal_column(f"{SQLITE_INDEX}.rowid")
        match = text(f"{SQLITE_INDEX} MATCH :match").bindparams(match=" ".join(map(_fts_phrase, search.words)))
        statement = (select(rowid.label("id"), literal_column(f"bm25({SQLITE_INDEX}, 4.0, 1.0)").label("rank"))
                     .select_from(table(SQLITE_INDEX, literal_column("rowid"))).where(match))
        if filters:  # (a deleted post has left the index)
            statement = statement.join(Object, Object.id == rowid).where(*filters)
        # FTS5 walks its posting list backwards and stops at the limit; bm25 is computed for
        # the rows returned only
        return statement.order_by(rowid.desc())
    vector = literal_column(f"objects.{VECTOR_COLUMN}")  # NULL once deleted
    # PostgreSQL estimates one word well (its statistics count words), a phrase or several words
    # poorly (it multiplies, and a phrase's words are seldom in a row): walking the newest posts
    # back would then read the whole table for a few matches. So only one word may be walked
    # back to; anything else takes the index, and a sort of its matches
    one_word = len(search.words) == 1 and fold(search.words[0]).isalnum()
    return (select(Object.id, vector.label("vector")).where(vector.op("@@")(_tsquery(search.words)), *filters)
            .order_by(Object.id.desc() if one_word else (Object.id + 0).desc()))


def _tsquery(words: tuple[str, ...]) -> ColumnElement:
    """PostgreSQL: every word and phrase, as one tsquery."""
    tsquery = None
    for phrase in words:
        one = func.phraseto_tsquery(literal_column("'simple'::regconfig"), fold(phrase))
        tsquery = one if tsquery is None else tsquery.op("&&")(one)
    return tsquery


def _candidates(dialect: str, search: PostSearch, size: int):
    """The newest `size` matches, before the read rule: those ranked."""
    return _newest_matches(dialect, search).limit(size).subquery("candidates")


def _ranked_page(dialect: str, search: PostSearch, viewer_id: int | None, size: int, *, offset: int, limit: int
                 ) -> Select:
    """Of the newest `size` matches, those `viewer_id` may see, best first, then newest: the
    posts from `offset` to `offset + limit`."""
    candidates = _candidates(dialect, search, size)
    rank = candidates.c.rank if dialect == "sqlite" else -func.ts_rank(candidates.c.vector, _tsquery(search.words))
    page = (select(Object.id, rank.label("rank")).join(candidates, candidates.c.id == Object.id)
            .where(seen_by(viewer_id)).order_by(rank, Object.id.desc()).offset(offset).limit(limit).subquery("page"))
    return select(Object).join(page, page.c.id == Object.id).order_by(page.c.rank, Object.id.desc())


def _seen_candidates(dialect: str, search: PostSearch, viewer_id: int | None, size: int) -> Select:
    """How many of the newest `size` matches `viewer_id` may see."""
    candidates = _candidates(dialect, search, size)
    return select(func.count()).select_from(Object).join(candidates, candidates.c.id == Object.id).where(
        seen_by(viewer_id))


def _older_page(dialect: str, search: PostSearch, viewer_id: int | None, size: int, *, offset: int, limit: int
                ) -> Select:
    """The matches older than the newest `size` that `viewer_id` may see, newest first: the posts
    from `offset` to `offset + limit`."""
    candidates = _candidates(dialect, search, size)
    newest = _newest_matches(dialect, search)
    older = (newest.with_only_columns(newest.selected_columns.id)  # nothing to rank here
             .where(newest.selected_columns.id < select(func.min(candidates.c.id)).scalar_subquery())
             .subquery("older"))
    # in the index's order (on SQLite, FTS5 then walks back from the bound and stops at the limit)
    return (select(Object).join(older, older.c.id == Object.id).where(seen_by(viewer_id))
            .order_by(older.c.id.desc()).offset(offset).limit(limit))


# the viewer of a search statement, bound when it runs (`_run`): the read rule's SQL is built once
VIEWER = bindparam("search_viewer", type_=BigInteger)


def seen_by(viewer_id: int | None) -> ColumnElement:
    """SQL: the post (Object) is one `viewer_id` (a local user, or None: anonymous) may see in
    search, by the rules of the module docstring. A statement holding it runs with
    `{VIEWER.key: viewer_id}` (`_run` passes it)."""
    return _seen_by(viewer_id is None)


@functools.cache
def _seen_by(anonymous: bool) -> ColumnElement:
    # built once per process: it is most of the cost of building a search statement
    if anonymous:
        return and_(Object.visibility.in_(OPEN), Object.local_only.is_(False), ~blocked_author(Object.actor_id),
                    ~limited_author(Object.actor_id))
    followed = select(Follow.followee_id).where(Follow.follower_id == VIEWER, Follow.state == FollowState.accepted)
    mentioned = select(Mention.object_id).where(Mention.actor_id == VIEWER)
    hidden = union(select(Block.target_id).where(Block.actor_id == VIEWER),
                   select(Block.actor_id).where(Block.target_id == VIEWER),
                   select(Mute.target_id).where(Mute.actor_id == VIEWER))
    return and_(
        or_(Object.visibility.in_(OPEN), Object.actor_id == VIEWER, Object.id.in_(mentioned),
            and_(Object.visibility == Visibility.private, Object.actor_id.in_(followed))),
        Object.actor_id.not_in(hidden), ~blocked_author(Object.actor_id),
        or_(~limited_author(Object.actor_id), Object.actor_id.in_(followed)),
    )


def _filtered(search: PostSearch) -> list[ColumnElement]:
    """The filters of `search`, as conditions on Object (not the words, nor whether it is deleted)."""
    conditions: list[ColumnElement] = []
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
    if search.community_id is not None:
        conditions.append(exists().where(Announce.object_id == Object.id, Announce.actor_id == search.community_id))
    return conditions


async def search_posts(session: AsyncSession, search: PostSearch, viewer_id: int | None, *,
                       limit: int, offset: int, ranked: int = RANKED) -> list[Object]:
    """The posts `viewer_id` may see that match `search`, from `offset` to `offset + limit`:
    first those of the newest `ranked` matches, best first (then newest); then the older ones,
    newest first. Without words, all newest first."""
    dialect = session.bind.dialect.name
    if not search.words:
        statement = select(Object).where(Object.deleted_at.is_(None), *_filtered(search), seen_by(viewer_id))
        return await _run(session, statement.order_by(Object.id.desc()).offset(offset).limit(limit), viewer_id)
    if dialect == "postgresql":
        # a plan for these words, not a generic one: after five runs of a prepared statement,
        # PostgreSQL may keep a plan that guessed the words rare (walking the index over every
        # match), whatever the words are
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    found = await _run(session, _ranked_page(dialect, search, viewer_id, ranked, offset=offset, limit=limit),
                       viewer_id)
    if len(found) == limit:
        return found
    # the ranked ones have run out: the older ones follow (none, if every match was ranked)
    if found:
        ranked_seen = offset + len(found)
    elif offset == 0:
        ranked_seen = 0
    else:
        ranked_seen = await session.scalar(_seen_candidates(dialect, search, viewer_id, ranked), {VIEWER.key: viewer_id})
    older = _older_page(dialect, search, viewer_id, ranked, offset=offset + len(found) - ranked_seen,
                        limit=limit - len(found))
    return found + await _run(session, older, viewer_id)


async def _run(session: AsyncSession, statement: Select, viewer_id: int | None) -> list[Object]:
    return list(await session.scalars(statement, {VIEWER.key: viewer_id}))


async def like_scan(session: AsyncSession, word: str, viewer_id: int | None, *, limit: int) -> list[Object]:
    """Posts whose HTML holds `word`, by a LIKE scan of every post, newest first: what search
    did before the index, kept as the baseline bench/search.py measures it against."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    statement = select(Object).where(Object.deleted_at.is_(None), seen_by(viewer_id), or_(
        Object.content.ilike(f"%{escaped}%", escape="\\"), Object.summary.ilike(f"%{escaped}%", escape="\\")))
    return await _run(session, statement.order_by(Object.id.desc()).limit(limit), viewer_id)

